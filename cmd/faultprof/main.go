//go:build hurdvm

// Command faultprof is the program make profile-fault single-steps with
// gdb (profile.py): a loop of first-touch page faults through the Linux
// personality's mmap, then, in a task of its own, a loop of in-kernel
// allocate+deallocate pairs of one page (mm.VMAllocate, mm.VMDeallocate);
// before those, mmap+munmap pairs of one page through the personality;
// after them, the fork of a task with 4 MiB touched and copy-on-write
// faults in the child; last, map_now of 2 MiB after the machine idled.
// profile.py counts the instructions of one of them by function.
package main

import (
	"syscall"
	"time"

	_ "hurdvm/kernel"
	"hurdvm/mm"
)

//go:noinline
func touch(p *byte) { *p = 1 }

// cowTouch is touch in a forked task: each store is a copy-on-write fault.
//
//go:noinline
func cowTouch(p *byte) { *p = 2 }

// kaddr is where VMAllocate writes: a global, so that nothing escapes.
var kaddr uintptr

//go:noinline
func pair() {
	if err := mm.VMAllocate(&kaddr, 4096, mm.VM_ZEROFILL, false); err != nil {
		panic(err)
	}
	if err := mm.VMDeallocate(kaddr, 4096); err != nil {
		panic(err)
	}
}

// syspair is pair through the Linux personality: mmap and munmap of a
// page, as RawSyscalls (as cmd/vmbench makes them).
//
//go:noinline
func syspair() {
	a, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_ANON|syscall.MAP_PRIVATE, ^uintptr(0), 0)
	if e != 0 {
		panic(e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_MUNMAP, a, 4096, 0); e != 0 {
		panic(e)
	}
}

// mapNow is an allocation of one 2 MiB page, backed and mapped at once.
//
//go:noinline
func mapNow() {
	if err := mm.VMAllocate(&kaddr, 2<<20, mm.VM_ZEROFILL, true); err != nil {
		panic(err)
	}
}

// fork is Task.Fork where gdb can find it.
//
//go:noinline
func fork(t *mm.Task) (*mm.Task, error) { return t.Fork() }

func main() {
	b, err := syscall.Mmap(-1, 0, 64<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(err)
	}
	for i := 0; i < 120; i++ {
		touch(&b[i*4096])
	}
	for range 300 {
		syspair()
	}
	t, err := mm.NewTask()
	if err != nil {
		panic(err)
	}
	if err := t.Run(func() {
		for range 300 {
			pair()
		}
	}); err != nil {
		panic(err)
	}
	// Copy-on-write: a task with 4 MiB touched, forked; the child writes.
	// At a 2 MiB boundary, so that fork copies whole page tables, as it
	// does for most of a large region.
	base := uintptr(mm.TaskWindowStart + 1<<30)
	if err := t.Run(func() {
		if err := mm.VMAllocate(&base, 4<<20, mm.VM_HERE, false); err != nil {
			panic(err)
		}
		for off := uintptr(0); off < 4<<20; off += 4096 {
			touch(&mm.Bytes(base+off, 1)[0])
		}
	}); err != nil {
		panic(err)
	}
	child, err := fork(t)
	if err != nil {
		panic(err)
	}
	if err := child.Run(func() {
		for off := uintptr(0); off < 4<<20; off += 4096 {
			cowTouch(&mm.Bytes(base+off, 1)[0])
		}
	}); err != nil {
		panic(err)
	}
	// map_now of 2 MiB after the machine idled (the free blocks cleared).
	if err := t.Run(func() {
		for range 3 {
			time.Sleep(100 * time.Millisecond)
			mapNow()
			if err := mm.VMDeallocate(kaddr, 2<<20); err != nil {
				panic(err)
			}
		}
	}); err != nil {
		panic(err)
	}
	println("faultprof done")
}
