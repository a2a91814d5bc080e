//go:build !hurdvm

package mm

// hostSpace is the address space the host versions of the API act on.
var hostSpace *AddressSpace

// SetHostSpace makes as the calling task's address space of VMAllocate,
// VMDeallocate and ReadStats on the host (tests over simulated memory).
func SetHostSpace(as *AddressSpace) { hostSpace = as }

func vmAllocate(address *uintptr, size, flags uintptr, mapNow bool) error {
	if hostSpace == nil {
		return EINVAL
	}
	return hostSpace.Allocate(address, size, flags, mapNow)
}

func vmDeallocate(address, size uintptr) error {
	if hostSpace == nil {
		return EINVAL
	}
	return hostSpace.Deallocate(address, size)
}

func readStats() Stats {
	if hostSpace == nil {
		return Stats{}
	}
	return hostSpace.vm.ReadStats()
}
