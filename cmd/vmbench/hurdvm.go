//go:build hurdvm

// The hurdvm side: the program is the kernel's main program, and besides
// the Linux system calls it measures the in-kernel path (mm.VMAllocate,
// mm.VMDeallocate, Task.Fork) inside a task.

package main

import (
	"os"

	_ "hurdvm/kernel"
	"hurdvm/mm"
)

// hurdvm's mmap does not populate (the Go runtime never asks it to):
// MAP_POPULATE is ignored, so the syscall path has no map_now figure.
const sysPopulates = false

// benchSyscallFork: hurdvm's Linux personality runs one process and has
// no fork(2); forking is Task.Fork, measured in benchKernel.
func benchSyscallFork() {}

// kaddr is where mm.VMAllocate writes the address: a global, so that
// taking its address allocates nothing.
var kaddr uintptr

var kernelOps = memOps{
	alloc: func(size uintptr, now bool) uintptr {
		if err := mm.VMAllocate(&kaddr, size, mm.VM_ZEROFILL, now); err != nil {
			fail("vm_allocate", err)
		}
		return kaddr
	},
	free: vmDeallocate,
}

func vmDeallocate(addr, size uintptr) {
	if err := mm.VMDeallocate(addr, size); err != nil {
		fail("vm_deallocate", err)
	}
}

// benchKernel runs the same benchmarks through the in-kernel calls, in a
// task of its own (as a program on a Hurd would), then fork: a task with
// 64 MiB touched is forked (timed from the kernel task), and the child
// writes every page (each a copy-on-write fault).
func benchKernel() {
	t, err := mm.NewTask()
	if err != nil {
		fail("new task", err)
	}
	run(t, func() {
		benchPairs("kernel", kernelOps, 1)
		benchPairs("kernel", kernelOps, 4)
		benchPairs("kernel", kernelOps, 16)
		benchBig("kernel", kernelOps, true)
	})

	var base uintptr
	run(t, func() {
		base = kernelOps.alloc(bigSize, false)
		touch(base, bigSize, 1)
	})
	for s := range forkSamples {
		t0 := nanos()
		child, err := t.Fork()
		t1 := nanos()
		if err != nil {
			fail("fork", err)
		}
		run(child, func() {
			t0 := nanos()
			touch(base, bigSize, 2)
			cowT[s] = float64(nanos()-t0) / bigPages
			check(base, bigSize, 2)
		})
		if err := child.Destroy(); err != nil {
			fail("destroy child", err)
		}
		forkT[s] = float64(t1-t0) / 1e3
	}
	run(t, func() { check(base, bigSize, 1) }) // the child's writes were its own
	if err := t.Destroy(); err != nil {
		fail("destroy task", err)
	}
	report("kernel/fork_64m", forkT[:], "us")
	report("kernel/cow_fault", cowT[:], "ns/page")
}

func run(t *mm.Task, f func()) {
	if err := t.Run(f); err != nil {
		fail("task", err)
	}
}

// exit ends the program, and with it the kernel (QEMU's isa-debug-exit).
func exit(code int) { os.Exit(code) }

// benchKernelIdle is benchBigIdle through the in-kernel calls, in a task.
func benchKernelIdle() {
	t, err := mm.NewTask()
	if err != nil {
		fail("new task", err)
	}
	run(t, func() { benchBigIdle("kernel", kernelOps, true) })
	if err := t.Destroy(); err != nil {
		fail("destroy task", err)
	}
}

// scaleOps are kernelOps for threads that allocate at once (kaddr is
// one for all).
var scaleOps = memOps{
	alloc: func(size uintptr, now bool) uintptr {
		var a uintptr
		if err := mm.VMAllocate(&a, size, mm.VM_ZEROFILL, now); err != nil {
			fail("vm_allocate", err)
		}
		return a
	},
	free: vmDeallocate,
}

// scaleKernel: threads are Task.Run on one task (each Run is a thread of
// its own in the task's address space); tasks are one task each.
func scaleKernel(n int) {
	one, err := mm.NewTask()
	if err != nil {
		fail("new task", err)
	}
	scaleThreads("threads", n, func(i int, f func()) { run(one, f) }, scaleOps)
	one.Destroy()
	tasks := make([]*mm.Task, n)
	for i := range tasks {
		if tasks[i], err = mm.NewTask(); err != nil {
			fail("new task", err)
		}
	}
	scaleThreads("tasks", n, func(i int, f func()) { run(tasks[i], f) }, scaleOps)
	for _, t := range tasks {
		t.Destroy()
	}
}
