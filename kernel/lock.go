//go:build hurdvm

// The kernel's locks. Handler context. docs/DESIGN.md, "Locking", says
// which lock guards what and in which order they are taken.
//
// The kernel lock: one lock, taken by every entry into the kernel's
// handler code on any CPU but the VM's (a page fault the VM resolves, the
// memory calls: trap.go) and released on the way out, serializes the
// scheduler and the personality as "interrupts off" did on one CPU.
//
// It is a spinning lock, taken with interrupts off, and recursive on one
// CPU (a page fault inside a system call enters again). A CPU spinning
// for it answers shootdown requests meanwhile (shootdown.go): the owner
// may be waiting for exactly that. docs/DESIGN.md, "Locking", says what
// runs outside it.

package kernel

import "sync/atomic"

var kernelLock struct {
	owner   atomic.Int32 // the CPU holding it, plus one; 0: free
	depth   int32        // the owner's nesting
	waiting atomic.Int32 // CPUs spinning for it
}

// kernelEnter takes the kernel lock for CPU c.
func kernelEnter(c *cpu) {
	me := c.index + 1
	if kernelLock.owner.Load() == me {
		kernelLock.depth++
		return
	}
	if !kernelLock.owner.CompareAndSwap(0, me) {
		kernelLock.waiting.Add(1)
		for !kernelLock.owner.CompareAndSwap(0, me) {
			for kernelLock.owner.Load() != 0 {
				shootdownAnswer(c)
				pause()
			}
		}
		kernelLock.waiting.Add(-1)
	}
	kernelLock.depth = 1
}

// kernelLeave releases one level of CPU c's hold on the kernel lock.
func kernelLeave(c *cpu) {
	if kernelLock.depth--; kernelLock.depth == 0 {
		kernelLock.owner.Store(0)
	}
}

// kernelHeld reports whether CPU c holds the kernel lock.
func kernelHeld(c *cpu) bool { return kernelLock.owner.Load() == c.index+1 }

// kernelLockWanted reports whether another CPU waits for the kernel lock:
// long work under it (the idle CPU's memory clearing) stops for it.
func kernelLockWanted() bool { return kernelLock.waiting.Load() != 0 }

// spinLock is a lock of handler code that runs with interrupts off (every
// trap does): the address spaces' locks (vm.go), the task table's.
// Recursive on one CPU, for a fault taken while the CPU holds the lock
// outside mm's code (the file server's copy into a page that went away:
// mm itself never faults, so a nested operation never finds the space
// half changed). A CPU spinning for it answers shootdowns, as one
// spinning for the kernel lock does: the holder may be waiting for
// exactly that. Waits counts the acquisitions that found another CPU
// holding it.
type spinLock struct {
	owner atomic.Int32 // the CPU holding it, plus one; 0: free
	depth int32        // the owner's nesting
	waits atomic.Uint64
}

// lock takes l for CPU c, and reports whether it had to wait.
func (l *spinLock) lock(c *cpu) bool {
	me := c.index + 1
	if l.owner.Load() == me {
		l.depth++
		return false
	}
	waited := false
	if !l.owner.CompareAndSwap(0, me) {
		waited = true
		l.waits.Add(1)
		for !l.owner.CompareAndSwap(0, me) {
			for l.owner.Load() != 0 {
				shootdownAnswer(c)
				pause()
			}
		}
	}
	l.depth = 1
	return waited
}

// tryLock takes l for CPU c if no other CPU holds it, and reports whether
// it did; it never waits (the pager, which holds a space's lock already,
// tries the other sharers' of a frame: no order between them is needed).
func (l *spinLock) tryLock(c *cpu) bool {
	me := c.index + 1
	if l.owner.Load() == me {
		l.depth++
		return true
	}
	if !l.owner.CompareAndSwap(0, me) {
		return false
	}
	l.depth = 1
	return true
}

// unlock releases one level of CPU c's hold on l.
func (l *spinLock) unlock() {
	if l.depth--; l.depth == 0 {
		l.owner.Store(0)
	}
}

// heldBy reports whether CPU c holds l.
func (l *spinLock) heldBy(c *cpu) bool { return l.owner.Load() == c.index+1 }
