//go:build hurdvm

// The kernel lock: one lock, taken by every entry into the kernel's
// handler code on any CPU and released on the way out, serializes the
// scheduler, the personality and the VM as "interrupts off" did on one
// CPU. Handler context.
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
