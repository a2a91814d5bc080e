//go:build hurdvm

// The VM in the kernel: the address spaces (the kernel task's, where the
// Go runtime lives, and the tasks'), the page-fault path, the runtime's
// mmap/munmap/madvise, and the system calls behind mm.VMAllocate,
// mm.VMDeallocate and mm.ReadStats. Handler context, except vmInit (kmain).

package kernel

import (
	"unsafe"

	"hurdvm/mm"
)

const (
	// The task window: what hurd_vm_allocate hands out, PML4 slots 128 to
	// 255, private to each address space (DESIGN.md section 4).
	taskWindowStart = 0x0000_4000_0000_0000
	taskWindowEnd   = 0x0000_8000_0000_0000

	maxSpaces   = 128
	kernelSpace = 0

	// runtimeReserve frames (4 MiB) are kept for the Go runtime's heap:
	// tasks exhausting memory get ENOMEM or SIGBUS first (mm.VM.Reserve).
	runtimeReserve = 1024
)

var (
	kernelVM mm.VM
	spaces   [maxSpaces]mm.AddressSpace
)

func vmInit() {
	kernelVM = mm.VM{Frames: &frames, Env: &pagingEnv, NoExecute: cpuFeatures.nx, Reserve: runtimeReserve,
		FrameError: vmFrameError}
	// Every slot holds its Go pointers from now on: tasks are created and
	// destroyed in handler context, which must store none.
	for i := range spaces {
		spaces[i].Bind(&kernelVM)
	}
	if err := spaces[kernelSpace].Create(taskWindowStart, taskWindowEnd); err != nil {
		kernelPanicMsg("cannot make the kernel task's address space")
	}
}

// vmFrameError: the allocator refused a frame the VM holds (a double free,
// a reference count gone wrong). Going on would corrupt memory.
func vmFrameError(pa mm.PhysAddr, err error) {
	frameErrorPanic("a VM", uint64(pa), err)
}

// spaceFor returns the address space that decides about va for the current
// thread: the kernel task's for the heap window and the image's
// demand-zero BSS, which every space shares, the thread's own for the task
// window, none elsewhere.
func spaceFor(va uint64) *mm.AddressSpace {
	switch {
	case va >= heapWindowStart && va < heapWindowEnd, va >= lazyBSSLo && va < lazyBSSHi:
		return &spaces[kernelSpace]
	case va >= taskWindowStart && va < taskWindowEnd:
		return &spaces[threads[current].space]
	}
	return nil
}

// vmFault resolves a fault at va by the VM.
func vmFault(va uint64, acc mm.Access) mm.FaultResult {
	as := spaceFor(va)
	if as == nil {
		return mm.FaultNoRegion
	}
	return as.Fault(uintptr(va), acc)
}

func accessOf(errorCode uint64) mm.Access {
	switch {
	case errorCode&pfFetch != 0:
		return mm.AccessExec
	case errorCode&pfWrite != 0:
		return mm.AccessWrite
	}
	return mm.AccessRead
}

// linuxErrno turns a VM error into the -errno of a Linux system call.
func linuxErrno(err error) uint64 {
	switch err {
	case nil:
		return 0
	case mm.ENOMEM:
		return errno(eNOMEM)
	case mm.EEXIST:
		return errno(17)
	}
	return errno(eINVAL)
}

// heapMap serves the runtime's mmap: anonymous memory in the heap window,
// at addr when MAP_FIXED, wherever the VM finds room otherwise.
func heapMap(addr, length, prot uint64, fixed bool) (uint64, uint64) {
	p := mm.Prot(0)
	if prot&1 != 0 {
		p |= mm.ProtRead
	}
	if prot&2 != 0 {
		p |= mm.ProtWrite
	}
	if prot&4 != 0 {
		p |= mm.ProtExec
	}
	length = roundUp(length, pageSize)
	a, err := spaces[kernelSpace].MapAnon(uintptr(addr), uintptr(length), p, fixed, true, heapWindowStart, heapWindowEnd)
	if err != nil {
		return 0, linuxErrno(err)
	}
	return uint64(a), 0
}

func heapUnmap(addr, length uint64) uint64 {
	return linuxErrno(spaces[kernelSpace].Unmap(uintptr(addr), uintptr(length), heapWindowStart, heapWindowEnd))
}

// heapDiscard serves madvise(MADV_DONTNEED, MADV_FREE) in the heap window.
func heapDiscard(addr, length uint64) uint64 {
	lo, hi := max(addr, heapWindowStart), min(addr+length, heapWindowEnd)
	if addr%pageSize != 0 {
		return errno(eINVAL)
	}
	if lo >= hi {
		return 0
	}
	return linuxErrno(spaces[kernelSpace].Discard(uintptr(lo), uintptr(hi-lo)))
}

// vmSyscall serves mm.VMAllocate, mm.VMDeallocate and mm.ReadStats for the
// current thread's address space; the result is the mm.Errno (0 for nil).
func vmSyscall(nr, a0, a1, a2, a3 uint64) uint64 {
	as := &spaces[threads[current].space]
	switch nr {
	case mm.SysVMAllocate:
		if !touchUser(a0, 8, true) {
			return uint64(mm.EINVAL)
		}
		addr := *(*uintptr)(at(a0))
		if err := as.Allocate(&addr, uintptr(a1), uintptr(a2), a3 != 0); err != nil {
			return uint64(err.(mm.Errno))
		}
		*(*uintptr)(at(a0)) = addr
		return 0
	case mm.SysVMDeallocate:
		if err := as.Deallocate(uintptr(a0), uintptr(a1)); err != nil {
			return uint64(err.(mm.Errno))
		}
		return 0
	case mm.SysVMStats:
		if a1 != uint64(unsafe.Sizeof(mm.Stats{})) || !touchUser(a0, a1, true) {
			return uint64(mm.EINVAL)
		}
		st := kernelVM.ReadStats()
		for i := range spaces {
			st.Regions += uint64(spaces[i].Regions.Len())
		}
		*(*mm.Stats)(at(a0)) = st
		return 0
	}
	return uint64(mm.EINVAL)
}
