//go:build hurdvm

package mm

import (
	"syscall"
	"unsafe"
)

// RawSyscall: the call never blocks, so the goroutine keeps its P, and a
// VM error comes back as the result (Hurd errnos are not Linux's -errno).

func vmAllocate(address *uintptr, size, flags uintptr, mapNow bool) error {
	now := uintptr(0)
	if mapNow {
		now = 1
	}
	r, _, _ := syscall.RawSyscall6(SysVMAllocate, uintptr(unsafe.Pointer(address)), size, flags, now, 0, 0)
	return errnoOrNil(r)
}

func vmDeallocate(address, size uintptr) error {
	r, _, _ := syscall.RawSyscall(SysVMDeallocate, address, size, 0)
	return errnoOrNil(r)
}

func readStats() Stats {
	var s Stats
	syscall.RawSyscall(SysVMStats, uintptr(unsafe.Pointer(&s)), unsafe.Sizeof(s), 0)
	return s
}
