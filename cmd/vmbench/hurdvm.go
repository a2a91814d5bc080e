//go:build hurdvm

// The hurdvm side: the program is the kernel's main program, and besides
// the Linux system calls it measures the in-kernel path (mm.VMAllocate,
// mm.VMDeallocate, Task.Fork) inside a task.

package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime/debug"
	"unsafe"

	"github.com/pierrec/lz4/v4"

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

// runProc: the process table is the Linux build's, run as a process
// (proc.go).
func runProc() {
	fmt.Println("vmbench: -proc is the Linux build's: run it as a process (qemuexec -process)")
	exit(2)
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

// pagerPath: on hurdvm the pager's figures are in a task, through
// mm.VMAllocate (the kernel task's memory is never evicted).
const pagerPath = "kernel"

// runPager runs the pager's benchmarks in a task of their own.
func runPager() {
	t, err := mm.NewTask()
	if err != nil {
		fail("new task", err)
	}
	fmt.Printf("INFO pager codec: %s\n", codecInfo())
	run(t, func() { benchPager(kernelOps) })
	if err := t.Destroy(); err != nil {
		fail("destroy task", err)
	}
	s := mm.ReadStats()
	fmt.Printf("INFO pager at the end: %d evictions, %d major faults, %d evictions refused, %d reclaims by faults, %d store errors\n",
		s.Evictions, s.MajorFaults, s.EvictFailures, s.Reclaims, s.StoreErrors)
}

// pagerStats are the VM's counters.
func pagerStats() pagerCounts {
	s := mm.ReadStats()
	return pagerCounts{evictions: s.Evictions, majors: s.MajorFaults, extra: [...]uint64{s.Reclaims, s.EvictFailures}}
}

// pagerExtra are more of the VM's counters, for the INFO lines: faults
// that evicted pages themselves (free frames short), and evictions the
// store refused.
var pagerExtra = [...]string{"Reclaims", "EvictFailures"}

// freeMemory is the free frames' bytes.
func freeMemory() uint64 { return mm.ReadStats().FreeFrames * pageSize }

// pinned holds what pin took: the kernel task's Go heap, which the pager
// never evicts.
var pinned []byte

// pin takes size bytes out of what the program may evict: a Go slice of
// the kernel's heap (the kernel task's memory stays resident), touched.
func pin(size uintptr) (release func()) {
	pinned = make([]byte, size)
	for i := 0; i < len(pinned); i += pageSize {
		pinned[i] = 1
	}
	return func() {
		pinned = nil
		debug.FreeOSMemory()
	}
}

// pagerMemInfo is the memory the program starts with, and the store.
func pagerMemInfo() string {
	s := mm.ReadStats()
	return fmt.Sprintf("free %d MiB (%d frames), store capacity %d MiB, pager: a one-hand clock", s.FreeFrames*pageSize>>20, s.FreeFrames, s.StoreCapacity>>20)
}

// storeInfo is the store's state.
func storeInfo() string {
	s := mm.ReadStats()
	return fmt.Sprintf("%d MiB of pages in %d MiB compressed, %d MiB of memory (mm.ReadStats)", s.StoreUncompressed>>20, s.StoreCompressed>>20, s.StoreFrames*pageSize>>20)
}

// codecPages are pages of the pager's data for codecInfo, and codecOut
// their decompressed copy.
var codecPages, codecOut [codecN*pageSize + pageSize]byte

const codecN = 32

// codecInfo is what LZ4 (github.com/pierrec/lz4/v4, the store's codec)
// costs on the benchmark's pages in this program: compressing and
// decompressing, in instructions under -icount, the average over
// codecN pages.
func codecInfo() string {
	base := uintptr(unsafe.Pointer(&codecPages[0]))
	base = (base + pageSize - 1) &^ (pageSize - 1)
	var sizes [codecN]int
	dst := make([]byte, codecN*pageSize*3/4) // the store's buffer: a block over 3/4 of a page is kept raw
	block := func(i int) []byte { return dst[i*pageSize*3/4 : (i+1)*pageSize*3/4] }
	for i := range codecN {
		fillPage(base + uintptr(i)*pageSize)
	}
	c := new(lz4.Compressor)
	c.CompressBlock(mem(base, pageSize), block(0)) // warm: the compressor's table, the stack
	t0 := nanos()
	for i := range codecN {
		sizes[i], _ = c.CompressBlock(mem(base+uintptr(i)*pageSize, pageSize), block(i))
	}
	t1 := nanos()
	for i := range codecN {
		lz4.UncompressBlock(block(i)[:max(sizes[i], 0)], codecOut[:pageSize])
	}
	t2 := nanos()
	total := 0
	for i := range codecN {
		total += sizes[i]
		n, err := lz4.UncompressBlock(block(i)[:max(sizes[i], 0)], codecOut[:pageSize])
		if sizes[i] <= 0 || err != nil || n != pageSize || !bytes.Equal(codecOut[:pageSize], mem(base+uintptr(i)*pageSize, pageSize)) {
			return "the codec failed on the benchmark's pages"
		}
	}
	return fmt.Sprintf("LZ4 (pierrec/lz4/v4) on this benchmark's pages, in this program: %d bytes a page (%.1f:1), compressing %d instructions, decompressing %d",
		total/codecN, float64(codecN*pageSize)/float64(total), (t1-t0)/codecN, (t2-t1)/codecN)
}
