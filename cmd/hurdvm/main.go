// Command hurdvm is the kernel's main program: `make qemu` boots it. The
// kernel prints its banner, the memory map and the CPU; then this program
// shows the Go runtime living on the kernel's VM, runs a test task
// through the vm.h interface, with copy-on-write inheritance by a child,
// and a task that uses twice the machine's memory through the pager
// (its pages go to the compressed store and come back intact).
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
	"unsafe"

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

	twiceTheMemory()
	fmt.Println("demo: done")
}

// twiceTheMemory runs a task that writes twice the machine's RAM and reads
// it back: "allocated on demand and multiplexed". The pages that do not
// fit leave RAM for the compressed store (evictions) and come back on
// their next access (major faults); the table shows mm.ReadStats as it
// goes. make qemu boots the demo with -m 128M and hurdvm.store=200%: the
// store's default capacity, half the RAM, would not hold the pages that do
// not fit.
func twiceTheMemory() {
	s0 := mm.ReadStats()
	ram := uintptr(s0.TotalFrames) * mm.PageSize
	size := 2 * ram &^ (1<<20 - 1)
	fmt.Printf("demo: a task using twice the machine's memory: %d MiB on %d MiB of RAM\n", size>>20, ram>>20)
	// What the machine can hold: the free frames, and what the store
	// takes beyond them (its capacity counts pages as they are).
	if room := uintptr(s0.FreeFrames)*mm.PageSize*3/4 + uintptr(s0.StoreCapacity); size > room {
		size = room &^ (1<<20 - 1)
		fmt.Printf("  (the store takes only %d MiB: %d MiB this time; boot with hurdvm.store=200%% for twice the RAM)\n",
			s0.StoreCapacity>>20, size>>20)
	}
	fmt.Printf("  store capacity %d MiB; each page written with data that compresses about 3:1\n", s0.StoreCapacity>>20)
	fmt.Println("  MiB:   done  free  evictions  major faults  stored  compressed   time")
	start := time.Now()
	line := func(what string, done uintptr) {
		s := mm.ReadStats()
		fmt.Printf("  %-5s %6d %5d %10d %13d %7d %11d %5.1fs\n", what, done>>20, s.FreeFrames*mm.PageSize>>20,
			s.Evictions-s0.Evictions, s.MajorFaults-s0.MajorFaults, s.StoreUncompressed>>20, s.StoreCompressed>>20,
			time.Since(start).Seconds())
	}
	task, err := mm.NewTask()
	check(err)
	var x uintptr
	bad := 0
	step := size / 4
	check(run(task, func() error {
		if err := mm.VMAllocate(&x, size, 0, false); err != nil {
			return err
		}
		for p := x; p < x+size; p += mm.PageSize {
			fill(p)
			if (p+mm.PageSize-x)%step == 0 {
				line("write", p+mm.PageSize-x)
			}
		}
		for p := x; p < x+size; p += mm.PageSize {
			if !filled(p) {
				bad++
			}
			if (p+mm.PageSize-x)%step == 0 {
				line("read", p+mm.PageSize-x)
			}
		}
		return nil
	}))
	s := mm.ReadStats()
	if bad != 0 {
		fmt.Printf("demo failed: %d of %d pages came back different\n", bad, size/mm.PageSize)
		os.Exit(1)
	}
	fmt.Printf("  every byte came back as written: %d pages, %d evictions, %d major faults\n",
		size/mm.PageSize, s.Evictions-s0.Evictions, s.MajorFaults-s0.MajorFaults)
	fmt.Printf("  (%d faults found memory short and evicted pages themselves; the pager's goroutine the rest)\n",
		s.Reclaims-s0.Reclaims)
	check(task.Destroy())
	s = mm.ReadStats()
	fmt.Printf("  the task destroyed: free %d MiB (%d at the start), store %d pages in %d frames\n",
		s.FreeFrames*mm.PageSize>>20, s0.FreeFrames*mm.PageSize>>20, s.StorePages, s.StoreFrames)
}

// fill writes the page at p with words derived from its address: a
// quarter of each 256 bytes pseudo-random, the rest one word repeated
// (about 3:1 under LZ4, as ordinary data).
func fill(p uintptr) {
	w := (*[mm.PageSize / 8]uint64)(unsafe.Pointer(&mm.Bytes(p, mm.PageSize)[0]))
	x := uint64(p)*0x9e3779b97f4a7c15 | 1
	for i := range w {
		if i%32 < 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			w[i] = x
		} else {
			w[i] = uint64(p) | uint64(i/32)
		}
	}
}

// filled reports whether the page at p holds what fill wrote.
func filled(p uintptr) bool {
	w := (*[mm.PageSize / 8]uint64)(unsafe.Pointer(&mm.Bytes(p, mm.PageSize)[0]))
	x := uint64(p)*0x9e3779b97f4a7c15 | 1
	for i := range w {
		want := uint64(p) | uint64(i/32)
		if i%32 < 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			want = x
		}
		if w[i] != want {
			return false
		}
	}
	return true
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
