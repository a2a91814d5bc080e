//go:build hurdvm

// Command regionbench measures the region map at scale inside the kernel:
// a task with 10, 1,000, 100,000 and 1,000,000 regions (one page each,
// three free pages between neighbours, made with VM_HERE in address
// order), and at each size the cost of what the VM does with the map:
//
//	refused    VMAllocate with VM_HERE over a region: the lookup alone
//	           (and the call's own cost), refused with EEXIST
//	fault      the first touch of a page of a region: the fault path's
//	           lookup, a frame, its zeroing, the mapping
//	here       VMAllocate of a page with VM_HERE in a gap
//	dealloc    VMDeallocate of such a page (its whole region)
//	anywhere   VMAllocate of 4 pages without VM_HERE: first fit, where
//	           no gap between the regions fits
//	destroy    Task.Destroy of the task, per region
//
// The operations go to regions spread over the map (index k*7919 mod n),
// in batches of up to 100, each figure the median of 7 batches. Under
// QEMU's -icount shift=0 (make bench-regions) one guest nanosecond is one
// instruction, so the figures count instructions: what the map's
// algorithms cost, without the host's caches (the README's host benchmark
// shows those). It prints a Markdown table and the growth from 1,000 to
// 1,000,000 regions, which should stay below 4×.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	_ "hurdvm/kernel"
	"hurdvm/mm"
)

const (
	page    = 4096
	batch   = 100
	samples = 7
)

var sizes = []int{10, 1_000, 100_000, 1_000_000}

var ops = []string{"refused", "fault", "here", "dealloc", "anywhere", "destroy"}

// results[op][size index]: instructions per operation.
var results = map[string][]float64{}

var start = time.Now()

func nanos() int64 { return int64(time.Since(start)) }

// clockCost is what an empty timed section measures (reading the clock
// is a system call): taken off every batch, which at 10 regions has only
// 10 operations to spread it over.
var clockCost = func() int64 {
	least := int64(1 << 62)
	for range 100 {
		t := nanos()
		least = min(least, nanos()-t)
	}
	return least
}()

func region(i int) uintptr { return mm.TaskWindowStart + uintptr(4*i)*page }
func gap(i int) uintptr    { return region(i) + 2*page }
func spread(k, n int) int  { return int(uint64(k) * 7919 % uint64(n)) }

func fail(what string, err error) {
	fmt.Printf("regionbench: %s: %v\n", what, err)
	os.Exit(1)
}

func alloc(a uintptr, size uintptr, flags uintptr) uintptr {
	if err := mm.VMAllocate(&a, size, flags, false); err != nil {
		fail(fmt.Sprintf("vm_allocate %#x", a), err)
	}
	return a
}

func dealloc(a, size uintptr) {
	if err := mm.VMDeallocate(a, size); err != nil {
		fail(fmt.Sprintf("vm_deallocate %#x", a), err)
	}
}

// median sorts xs (insertion sort) and returns the middle one.
func median(xs []float64) float64 {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
	return xs[len(xs)/2]
}

//go:noinline
func touch(a uintptr) { mm.Bytes(a, 1)[0] = 1 }

// quiet lets the Go runtime's sysmon settle before a measurement. sysmon
// polls every 20 µs (here 20,000 instructions) after it has had to
// preempt a goroutine that ran 10 ms without yielding, and each poll costs
// the thread it interrupts about 10,000 instructions; after 50 quiet polls
// it backs off, doubling its delay. The program yields between batches so
// that no preemption starts that again, and before each size it does
// about 2 million instructions of work the figures do not count.
func quiet() {
	for i := range 2_000 {
		if i%100 == 0 {
			runtime.Gosched()
		}
		a := region(0)
		_ = mm.VMAllocate(&a, page, mm.VM_HERE, false) // EEXIST
	}
}

// measure runs the batch operations at n regions inside the task.
func measure(n int, si int) {
	k := min(batch, n)
	var t [samples]float64
	timed := func(op string, prepare, f, undo func(j int)) {
		for s := range samples {
			for j := range k {
				if prepare != nil {
					prepare(s*k + j)
				}
			}
			runtime.Gosched() // see quiet
			t0 := nanos()
			for j := range k {
				f(s*k + j)
			}
			t[s] = float64(nanos()-t0-clockCost) / float64(k)
			for j := range k {
				if undo != nil {
					undo(s*k + j)
				}
			}
		}
		results[op][si] = median(t[:])
	}
	timed("refused", nil, func(j int) {
		a := region(spread(j, n))
		if err := mm.VMAllocate(&a, page, mm.VM_HERE, false); err != mm.EEXIST {
			fail("VM_HERE over a region", err)
		}
	}, nil)
	// Each batch touches regions not touched before: afterwards they are
	// deallocated and allocated again, untouched.
	timed("fault", nil, func(j int) { touch(region(spread(j, n))) }, func(j int) {
		a := region(spread(j, n))
		dealloc(a, page)
		alloc(a, page, mm.VM_HERE)
	})
	timed("here", nil, func(j int) { alloc(gap(spread(j, n)), page, mm.VM_HERE) },
		func(j int) { dealloc(gap(spread(j, n)), page) })
	timed("dealloc", func(j int) { alloc(gap(spread(j, n)), page, mm.VM_HERE) },
		func(j int) { dealloc(gap(spread(j, n)), page) }, nil)
	var got [batch]uintptr
	timed("anywhere", nil, func(j int) {
		got[j%k] = alloc(0, 4*page, mm.VM_ZEROFILL)
		if got[j%k] <= region(n-1) {
			fail("first fit", fmt.Errorf("placed at %#x, inside the map", got[j%k]))
		}
	}, func(j int) { dealloc(got[j%k], 4*page) })
}

func main() {
	runtime.GC()
	debug.SetGCPercent(-1)
	for _, op := range ops {
		results[op] = make([]float64, len(sizes))
	}
	fmt.Printf("regionbench: %s, instructions per operation under -icount shift=0 (guest ns); reading the clock: %d, taken off\n", runtime.Version(), clockCost)
	// A first round at the smallest size, not reported: the boot's own
	// work (the kernel's goroutines starting, the first tables of the
	// task window) lands there, not in the figures.
	for si, n := range append([]int{sizes[0]}, sizes...) {
		si--
		t, err := mm.NewTask()
		if err != nil {
			fail("new task", err)
		}
		t0 := time.Now()
		if err := t.Run(func() {
			for i := range n {
				alloc(region(i), page, mm.VM_HERE)
				if i%1_000 == 999 {
					runtime.Gosched() // see quiet
				}
				if i%100_000 == 99_999 {
					fmt.Printf("regionbench: %d of %d regions made\n", i+1, n)
				}
			}
			quiet()
			measure(n, max(si, 0))
		}); err != nil {
			fail("task", err)
		}
		d0 := nanos()
		if err := t.Destroy(); err != nil {
			fail("destroy", err)
		}
		results["destroy"][max(si, 0)] = float64(nanos()-d0) / float64(n)
		fmt.Printf("regionbench: %d regions measured (%v of guest time)\n", n, time.Since(t0).Round(time.Millisecond))
	}

	fmt.Printf("\n| operation | instructions per | %s | growth 1,000 → 1,000,000 |\n", header())
	fmt.Printf("| --- | --- |%s ---: |\n", repeat(" ---: |", len(sizes)))
	worst := 0.0
	for _, op := range ops {
		fmt.Printf("| %s | %s |", op, unit(op))
		for si := range sizes {
			fmt.Printf(" %s |", comma(results[op][si]))
		}
		g := results[op][len(sizes)-1] / results[op][1]
		worst = max(worst, g)
		mark := "✓"
		if g >= 4 {
			mark = "✗"
		}
		fmt.Printf(" %.2f× %s |\n", g, mark)
	}
	fmt.Printf("\nregionbench: the largest growth from 1,000 to 1,000,000 regions is %.2f× (target < 4×)\n", worst)
	os.Exit(0)
}

func unit(op string) string {
	if op == "destroy" {
		return "region"
	}
	return "operation"
}

func header() string {
	s := ""
	for i, n := range sizes {
		if i > 0 {
			s += " | "
		}
		s += comma(float64(n)) + " regions"
	}
	return s
}

func repeat(s string, n int) string {
	r := ""
	for range n {
		r += s
	}
	return r
}

// comma formats x rounded, with thousands separators.
func comma(x float64) string {
	v := int64(x + 0.5)
	s := fmt.Sprint(v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
