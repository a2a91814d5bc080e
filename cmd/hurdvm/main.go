// Command hurdvm is the kernel's main program: `make qemu` boots it. The
// kernel prints its banner, the memory map and the CPU; then this program
// shows the Go runtime living on the kernel's VM and runs a test task
// through the vm.h interface, with copy-on-write inheritance by a child.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	_ "hurdvm/kernel"
	"hurdvm/mm"
)

func stats(what string) mm.Stats {
	s := mm.ReadStats()
	fmt.Printf("  %-34s free %6d frames (%4d MiB)  runtime heap %6d frames  faults %6d  COW copies %d\n",
		what, s.FreeFrames, s.FreeFrames*mm.PageSize>>20, s.SharedFrames, s.PageFaults, s.COWCopies)
	return s
}

func main() {
	fmt.Printf("demo: Go %s, GOMAXPROCS %d, on the hurdvm VM\n", runtime.Version(), runtime.GOMAXPROCS(0))

	// Goroutines and a timer.
	var wg sync.WaitGroup
	sums := make([]int, 8)
	for g := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100000; i++ {
				sums[g] += i % (g + 1)
			}
		}()
	}
	wg.Wait()
	start := time.Now()
	time.Sleep(10 * time.Millisecond)
	fmt.Printf("demo: 8 goroutines done; slept 10ms in %v\n", time.Since(start).Round(time.Millisecond))

	// The runtime's heap is VM regions: watch the counters across a GC
	// that gives memory back.
	fmt.Println("demo: the Go heap on the VM")
	stats("at start")
	garbage := make([][]byte, 0, 64)
	for i := 0; i < 64; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += mm.PageSize {
			b[j] = 1 // fresh heap memory costs nothing until touched
		}
		garbage = append(garbage, b)
	}
	stats("after filling 64 MiB")
	runtime.KeepAlive(garbage)
	garbage = nil
	runtime.GC()
	debug.FreeOSMemory()
	stats("after GC and FreeOSMemory")

	// A test task: vm_allocate on demand, then a child inherits it
	// copy-on-write.
	fmt.Println("demo: a task and its child")
	parent, err := mm.NewTask()
	check(err)
	var addr uintptr
	check(run(parent, func() error {
		if err := mm.VMAllocate(&addr, 16*mm.PageSize, mm.VM_ZEROFILL, false); err != nil {
			return err
		}
		b := mm.Bytes(addr, 16*mm.PageSize)
		copy(b, "written by the parent")
		return nil
	}))
	fmt.Printf("  parent: vm_allocate 16 pages on demand at %#x\n", addr)
	before := stats("after the parent touched 1 page")
	child, err := parent.Fork()
	check(err)
	check(run(child, func() error {
		b := mm.Bytes(addr, 32)
		fmt.Printf("  child reads %q\n", string(b[:21]))
		copy(b, "written by the child ")
		return nil
	}))
	check(run(parent, func() error {
		fmt.Printf("  parent still reads %q\n", string(mm.Bytes(addr, 21)))
		return nil
	}))
	after := stats("after the child's write")
	fmt.Printf("  copy-on-write copies: %d\n", after.COWCopies-before.COWCopies)
	check(child.Destroy())
	check(parent.Destroy())
	stats("after destroying both")
	fmt.Println("demo: done")
}

func run(t *mm.Task, f func() error) error {
	var ferr error
	if err := t.Run(func() { ferr = f() }); err != nil {
		return err
	}
	return ferr
}

func check(err error) {
	if err != nil {
		fmt.Println("demo failed:", err)
		os.Exit(1)
	}
}
