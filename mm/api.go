package mm

import "unsafe"

// The vm.h interface as Go functions, on the calling task's address space.
// In the kernel (build tag hurdvm) they enter the kernel through a system
// call of hurdvm's own, so that the VM runs in handler context, serialized
// with the page-fault handler, on the kernel's stack (api_kernel.go); on
// the host they act on the address space given to SetHostSpace, so the
// same tests can drive them over simulated memory (api_host.go).

// System call numbers of hurdvm's own (outside Linux's range).
const (
	SysVMAllocate   = 0x48560010
	SysVMDeallocate = 0x48560011
	SysVMStats      = 0x48560012
	// SysPagerRun is the pager goroutine's call into the kernel
	// (kernel/pager.go): a0 1: only below the low-water mark.
	SysPagerRun = 0x48560013
)

// VMAllocate is hurd_vm_allocate on the calling task's address space; nil
// on success. See AddressSpace.Allocate for what each vm.h sentence means.
func VMAllocate(address *uintptr, size, flags uintptr, mapNow bool) error {
	if address == nil {
		return EINVAL
	}
	return vmAllocate(address, size, flags, mapNow)
}

// VMDeallocate is hurd_vm_deallocate on the calling task's address space;
// nil on success.
func VMDeallocate(address, size uintptr) error {
	return vmDeallocate(address, size)
}

// ReadStats returns the kernel-wide counters.
func ReadStats() Stats { return readStats() }

func errnoOrNil(r uintptr) error {
	if r == 0 {
		return nil
	}
	return Errno(r)
}

// Bytes is the memory [addr, addr+size) of the calling task as a byte
// slice, for Go code to use the regions VMAllocate returns. Touching a page
// outside every region faults, as any access would.
//
// A read whose result is never used may be optimised away by the compiler,
// and its page fault with it: a test that touches memory to fault it in
// (or to see it fault) must use what it reads, e.g. by storing it in a
// package-level variable.
//
// Not inlined: Go 1.26's compiler panics (disjointTypes, in
// isInlinableMemmove) when it sees a copy into a slice whose pointer it can
// trace back to nil.
//
//go:noinline
func Bytes(addr, size uintptr) []byte {
	// unsafe.Add from nil, rather than converting the uintptr, says what
	// this is: an address, not a Go pointer that was hidden in an integer.
	return unsafe.Slice((*byte)(unsafe.Add(nil, addr)), size)
}
