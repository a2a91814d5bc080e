// Context: handler. The spinlock of the frame allocator and of the
// allocator's per-CPU caches (frames.go).

package mm

import "sync/atomic"

// SpinLock is a test-and-test-and-set spinlock for code that runs with
// interrupts off (docs/DESIGN.md, "Locking"): no Go lock, no allocation,
// nothing a handler may not do. Its holder must not wait for another CPU
// while it holds it (no shootdown, no other spinlock but those the lock
// order allows), so a CPU spinning for it need not answer anything
// meanwhile: the wait is bounded by the holder's work. Contended counts
// the acquisitions that found it taken.
type SpinLock struct {
	v         atomic.Uint32
	Contended atomic.Uint64
}

// Lock takes the lock, spinning while another CPU holds it.
//
//go:nosplit
func (l *SpinLock) Lock() {
	if l.v.CompareAndSwap(0, 1) {
		return
	}
	l.Contended.Add(1)
	for {
		for l.v.Load() != 0 {
			spinPause()
		}
		if l.v.CompareAndSwap(0, 1) {
			return
		}
	}
}

// Unlock releases the lock.
//
//go:nosplit
func (l *SpinLock) Unlock() { l.v.Store(0) }

// Held reports whether some CPU holds the lock.
//
//go:nosplit
func (l *SpinLock) Held() bool { return l.v.Load() != 0 }
