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
	// The task window: what hurd_vm_allocate hands out in the kernel
	// program's tasks; a process's window: the lower half, less its first
	// 64 KiB and its top page (mm/layout.go).
	taskWindowStart    = mm.TaskWindowStart
	taskWindowEnd      = mm.TaskWindowEnd
	processWindowStart = mm.ProcessWindowStart
	processWindowEnd   = mm.ProcessWindowEnd

	// privateHalfEnd is the end of the lower half: below it an address
	// space is its own (every window is there), above it everything is
	// the kernel's and shared (inPrivateHalf).
	privateHalfEnd = 0x0000_8000_0000_0000

	maxSpaces   = 128
	kernelSpace = 0

	// runtimeReserve frames (4 MiB) are kept for the Go runtime's heap:
	// tasks exhausting memory get ENOMEM or SIGBUS first (mm.VM.Reserve).
	runtimeReserve = 1024
)

var (
	kernelVM mm.VM
	spaces   [maxSpaces]mm.AddressSpace
	// spaceLocks[i] guards spaces[i]: its region map, its page tables
	// (the kernel task's: the shared windows' too, which every space
	// links) and its counters (docs/DESIGN.md, "Locking").
	spaceLocks [maxSpaces]spinLock
	// slotLock guards slotTaken, the slots taskNew has chosen and not
	// yet made live (or given up).
	slotLock  spinLock
	slotTaken [maxSpaces]bool
)

// lockOf is the lock of address space as.
func lockOf(as *mm.AddressSpace) *spinLock {
	i := (uintptr(unsafe.Pointer(as)) - uintptr(unsafe.Pointer(&spaces[0]))) / unsafe.Sizeof(spaces[0])
	return &spaceLocks[i%maxSpaces]
}

// lockSpace takes the lock of as for this CPU; unlockSpace releases it.
func lockSpace(as *mm.AddressSpace) { lockOf(as).lock(thisCPU()) }

func unlockSpace(as *mm.AddressSpace) { lockOf(as).unlock() }

func vmInit() {
	kernelVM = mm.VM{Frames: &frames, Env: &pagingEnv, NoExecute: cpuFeatures.nx, Reserve: runtimeReserve,
		FrameError: vmFrameError,
		Spaces:     mm.SpaceTable{N: maxSpaces, TryLock: trySpace, Unlock: untrySpace}}
	// Every slot holds its Go pointers from now on: tasks are created and
	// destroyed in handler context, which must store none.
	spaces[kernelSpace].BindKernel(&kernelVM)
	for i := range spaces[1:] {
		spaces[1+i].Bind(&kernelVM)
	}
	if err := spaces[kernelSpace].Create(taskWindowStart, taskWindowEnd); err != nil {
		kernelPanicMsg("cannot make the kernel task's address space")
	}
	pagerInit()
}

// trySpace is the pager's way to the other sharers of a frame shared
// copy-on-write (mm.SpaceTable): task space i, locked if no CPU holds its
// lock (busy if another does: never waited for), nil if it is not a live
// task space or this CPU holds its lock already. That is the caller's own
// space, or one whose holder this CPU interrupted: the file server's copy
// out of a space's frame, under its lock, can fault in another task's
// space and evict there (mm's reclaim). Taking that lock again (it is
// recursive) could free the very frame the copy reads; left out, a sharer
// there leaves a reference unexplained and the page resident.
func trySpace(i int) (*mm.AddressSpace, bool) {
	if i <= kernelSpace || i >= maxSpaces {
		return nil, false
	}
	c := thisCPU()
	if spaceLocks[i].heldBy(c) {
		return nil, false
	}
	if !spaceLocks[i].tryLock(c) {
		return nil, true
	}
	if !spaces[i].PT.Live() {
		spaceLocks[i].unlock()
		return nil, false
	}
	return &spaces[i], false
}

// untrySpace releases what trySpace took.
func untrySpace(i int) { spaceLocks[i%maxSpaces].unlock() }

// vmFrameError: the allocator refused a frame the VM holds (a double free,
// a reference count gone wrong). Going on would corrupt memory.
func vmFrameError(pa mm.PhysAddr, err error) {
	frameErrorPanic("a VM", uint64(pa), err)
}

// spaceFor returns the address space that decides about va for the current
// thread: the kernel task's for the heap window and the image's
// demand-zero BSS, which every space shares, the thread's own for the
// lower half (its window is there; outside it the space has no region),
// none elsewhere.
func spaceFor(va uint64) *mm.AddressSpace {
	switch {
	case va >= heapWindowStart && va < heapWindowEnd, va >= lazyBSSLo && va < lazyBSSHi:
		return &spaces[kernelSpace]
	case inPrivateHalf(va):
		return &spaces[thr(current()).space]
	}
	return nil
}

// inPrivateHalf reports whether va is in the lower half, the part of an
// address space that is its own: a change there concerns only the CPUs
// running that space, and a process's memory is there alone.
func inPrivateHalf(va uint64) bool { return va < privateHalfEnd }

// vmFault resolves a fault at va by the VM, under the lock of the address
// space that decides about va. notPresent says the page was not mapped at
// all (the error code's P bit clear): in a task's space the fault then
// most likely needs a fresh frame, which is taken and cleared before the
// lock (mm.FaultWith), so that the faults of one space on several CPUs
// hold its lock only for the tables.
func vmFault(va uint64, acc mm.Access, notPresent bool) mm.FaultResult {
	as := spaceFor(va)
	if as == nil {
		return mm.FaultNoRegion
	}
	var spare mm.PhysAddr
	if notPresent && as != &spaces[kernelSpace] {
		if pa, err := frames.AllocZeroed(0); err == nil {
			spare = pa
		}
	}
	lockSpace(as)
	res := as.FaultWith(uintptr(va), acc, &spare)
	unlockSpace(as)
	if spare != 0 {
		frames.Free(spare, 0) // another CPU mapped the page first
	}
	pagerNote() // memory short: wake the pager (pager.go)
	return res
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
		return errno(eEXIST)
	}
	return errno(eINVAL)
}

// vmSyscall serves mm.VMAllocate, mm.VMDeallocate and mm.ReadStats for the
// current thread's address space; the result is the mm.Errno (0 for nil).
func vmSyscall(nr, a0, a1, a2, a3 uint64) uint64 {
	as := &spaces[thr(current()).space]
	switch nr {
	case mm.SysVMAllocate:
		// *address is read and written: made present and writable once,
		// then copied both ways.
		if !userAccess(a0, 8, true) {
			return uint64(mm.EINVAL)
		}
		var va uintptr
		userCopy(uintptr(unsafe.Pointer(&va)), uintptr(a0), 8)
		// (No copy under the lock: a fault there could need it.)
		lockSpace(as)
		err := as.Allocate(&va, uintptr(a1), uintptr(a2), a3 != 0)
		unlockSpace(as)
		pagerNote() // map_now took frames, or found them short
		if err != nil {
			return uint64(mm.ErrnoOf(err))
		}
		if userCopy(uintptr(a0), uintptr(unsafe.Pointer(&va)), 8) != 0 {
			// The word was writable a moment ago (only another CPU or
			// a pager could take it away): undo rather than leak.
			lockSpace(as)
			as.Deallocate(va, uintptr(a1))
			unlockSpace(as)
			return uint64(mm.EINVAL)
		}
		return 0
	case mm.SysVMDeallocate:
		lockSpace(as)
		err := as.Deallocate(uintptr(a0), uintptr(a1))
		unlockSpace(as)
		if err != nil {
			return uint64(mm.ErrnoOf(err))
		}
		return 0
	case mm.SysVMStats:
		// Each space's regions under its lock; then the counters under
		// the kernel task's, which every operation that charges
		// SharedFrames holds: FreeFrames and SharedFrames agree.
		var regions uint64
		for i := range spaces {
			lockSpace(&spaces[i])
			regions += uint64(spaces[i].Regions.Len())
			unlockSpace(&spaces[i])
		}
		lockSpace(&spaces[kernelSpace])
		st := kernelVM.ReadStats()
		unlockSpace(&spaces[kernelSpace])
		st.KernelFrames = threadFramesTaken
		st.Regions = regions
		if a1 != uint64(unsafe.Sizeof(st)) || !copyOut(a0, bytesOf(&st)) {
			return uint64(mm.EINVAL)
		}
		return 0
	}
	return uint64(mm.EINVAL)
}
