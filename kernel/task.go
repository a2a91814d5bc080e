//go:build hurdvm

// Tasks: the system calls behind mm.NewTask, Task.Fork, Task.Run and
// Task.Destroy. A task is an address space: a slot of spaces with its own
// PML4, which links the kernel's shared PDPTs (image, heap window,
// physmap) and has a private task window. Handler context.

package kernel

import (
	"unsafe"

	"hurdvm/mm"
)

const taskErrBit = 1 << 63

func taskErr(err error) uint64 { return taskErrBit | uint64(mm.ErrnoOf(err)) }

// taskSyscall serves the task calls; see mm/task.go for the protocol.
func taskSyscall(nr, a0, a1, a2 uint64) uint64 {
	switch nr {
	case mm.SysTaskStats:
		if !liveTask(int64(a0)) {
			return taskErr(mm.EINVAL)
		}
		lockSpace(&spaces[a0])
		st := spaces[a0].Stats()
		unlockSpace(&spaces[a0])
		if a2 != uint64(unsafe.Sizeof(st)) || !copyOut(a1, bytesOf(&st)) {
			return taskErr(mm.EINVAL)
		}
		return 0
	case mm.SysTaskFault:
		t := thr(current())
		f := t.lastFault
		if a1 != uint64(unsafe.Sizeof(f)) || !copyOut(a0, bytesOf(&f)) {
			return taskErr(mm.EINVAL)
		}
		if t.lastFaultValid {
			return 1
		}
		return 0
	case mm.SysTaskNew:
		return taskNew(int64(a0), false)
	case mm.SysTaskEnter:
		return taskEnter(int64(a0))
	case mm.SysTaskDestroy:
		return taskDestroy(int64(a0))
	}
	return taskErr(mm.EINVAL)
}

// liveTask reports whether slot i is a live task of Go code in ring 0 (a
// process's space is not one: its pages carry U/S, which the kernel's
// own code never touches but through a process's system calls).
func liveTask(i int64) bool {
	return i > 0 && i < maxSpaces && spaces[i].PT.Live() && !spaces[i].User
}

// taskNew makes a task: empty (parent -1), or a copy-on-write fork of a
// live task. The kernel task is no parent: its regions are the Go heap,
// which every space shares already (mm.ErrNotATask keeps a zero mm.Task
// from asking). user makes an empty process's space (process.go): its
// pages carry U/S.
func taskNew(parent int64, user bool) uint64 {
	if parent != -1 && !liveTask(parent) {
		return taskErr(mm.EINVAL)
	}
	return taskMake(parent, user)
}

// taskMake is taskNew without its check of parent, which may be a
// process's space here: a process's fork (procfork.go) copies its own.
func taskMake(parent int64, user bool) uint64 {
	// A free slot, taken under slotLock; the new space is made under its
	// own lock, after the parent's (the lock order: a parent before its
	// child, which no one else can name yet).
	c := thisCPU()
	slot := -1
	slotLock.lock(c)
	for i := 1; i < maxSpaces; i++ {
		if !slotTaken[i] && !spaces[i].PT.Live() {
			slot = i
			slotTaken[i] = true
			break
		}
	}
	slotLock.unlock()
	if slot < 0 {
		return taskErr(mm.ENOMEM)
	}
	var pas *mm.AddressSpace
	if parent >= 0 {
		pas = &spaces[parent]
		lockSpace(pas)
	}
	as := &spaces[slot]
	lockSpace(as)
	// A process's task (user) owns the lower half; the kernel program's
	// tasks hand out the task window, as its own space does.
	lo, hi := uintptr(taskWindowStart), uintptr(taskWindowEnd)
	if user {
		lo, hi = processWindowStart, processWindowEnd
	}
	err := as.Create(lo, hi)
	as.User = user && err == nil
	if err == nil {
		// The shared kernel half: the same PDPTs as the kernel's tables.
		err = as.PT.ShareKernelHalf(kernelPT, sharedSlotFirst, sharedSlotLast)
		if err == nil {
			err = as.PT.ShareKernelHalf(kernelPT, physmapSlot, physmapSlot+physmapSlots-1)
		}
		if err == nil && pas != nil {
			err = pas.ForkInto(as)
		}
		if err != nil {
			as.Destroy()
		}
	}
	unlockSpace(as)
	if pas != nil {
		unlockSpace(pas)
	}
	slotLock.lock(c)
	slotTaken[slot] = false // live now, or free again
	slotLock.unlock()
	if err != nil {
		return taskErr(err)
	}
	return uint64(slot)
}

// taskEnter switches the calling thread to address space slot (0: back
// to the kernel task).
func taskEnter(slot int64) uint64 {
	if slot != kernelSpace && !liveTask(slot) {
		return taskErr(mm.EINVAL)
	}
	t := thr(current())
	t.space = int32(slot)
	t.cr3 = spaces[slot].PT.Root
	setCR3(thisCPU(), t.cr3)
	return 0
}

func taskDestroy(slot int64) uint64 {
	if !liveTask(slot) {
		return taskErr(mm.EINVAL)
	}
	for i := int32(1); i < threadHigh; i++ {
		if thr(i).state != threadFree && thr(i).space == int32(slot) {
			return taskErr(mm.EINVAL) // still running in it
		}
	}
	lockSpace(&spaces[slot])
	spaces[slot].Destroy()
	unlockSpace(&spaces[slot])
	return 0
}
