// Package probe holds what the in-kernel test packages share: catching a
// fault as a value, and the frame count the VM must conserve.
package probe

import (
	"runtime/debug"

	"hurdvm/mm"
)

// Fault runs f and reports whether it faulted, and at which address. Other
// panics go on.
func Fault(f func()) (addr uintptr, faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			addr, faulted = e.Addr(), true
		}
	}()
	f()
	return 0, false
}

// TaskFrames is what vm_allocate regions and tasks can still get: the free
// frames plus those the Go runtime's heap holds, which it takes and gives
// back on its own beside a test, plus those the kernel took for its own
// records (a thread the runtime starts meanwhile). It changes only by what
// the test's regions and tasks hold.
func TaskFrames(s mm.Stats) uint64 { return s.FreeFrames + Held(s) }

// Held is what the Go runtime's heap and the kernel's own records hold.
func Held(s mm.Stats) uint64 { return s.SharedFrames + s.KernelFrames }
