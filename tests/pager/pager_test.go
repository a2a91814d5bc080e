//go:build hurdvm

// Package pager tests the pager (docs/DESIGN.md, "Pager") in the kernel:
// tasks use more memory than the machine has, their pages go to the
// compressed store and come back intact; fork, deallocation and
// destruction with evicted pages; a store full of incompressible data.
// make test boots it with -m 128M.
package pager

import (
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"hurdvm/kernel"
	"hurdvm/mm"
	"hurdvm/tests/internal/probe"
)

const page = mm.PageSize

// defaultCapacity is the store's capacity at boot.
var defaultCapacity uint64

// TestMain gives the store room for several times the machine's memory
// (its default, RAM/2, would not hold what TestPastMemory writes).
func TestMain(m *testing.M) {
	defaultCapacity = kernel.SetStoreCapacity(1 << 30)
	os.Exit(m.Run())
}

// fill writes the page at p with contents derived from its address and
// seed: a quarter of each 256-byte block pseudo-random, the rest one word
// repeated, about 3.5:1 under LZ4. random makes the whole page
// pseudo-random (incompressible).
func fill(p uintptr, seed uint64, random bool) {
	w := (*[page / 8]uint64)(unsafe.Pointer(&mm.Bytes(p, page)[0]))
	x := uint64(p)*0x9e3779b97f4a7c15 ^ seed | 1
	for i := range w {
		if random || i%32 < 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			w[i] = x
		} else {
			w[i] = seed<<32 | uint64(i/32)
		}
	}
}

// same reports whether the page at p holds what fill wrote.
func same(p uintptr, seed uint64) bool {
	w := (*[page / 8]uint64)(unsafe.Pointer(&mm.Bytes(p, page)[0]))
	x := uint64(p)*0x9e3779b97f4a7c15 ^ seed | 1
	for i := range w {
		if i%32 < 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			if w[i] != x {
				return false
			}
		} else if w[i] != seed<<32|uint64(i/32) {
			return false
		}
	}
	return true
}

// held is every frame the tasks can be missing: the free ones, and those
// the runtime, the kernel and the store hold.
func held(s mm.Stats) uint64 { return probe.TaskFrames(s) + s.StoreFrames }

// settled checks that the store is empty and every frame back after the
// tasks' end.
func settled(t *testing.T, start mm.Stats, what string) {
	t.Helper()
	s := mm.ReadStats()
	if s.StorePages != 0 || s.StoreRefs != 0 || s.StoreErrors != 0 {
		t.Fatalf("%s: store holds %d pages, %d references, %d errors", what, s.StorePages, s.StoreRefs, s.StoreErrors)
	}
	if held(s) != held(start) {
		runtime.GC()
		if s = mm.ReadStats(); held(s) != held(start) {
			t.Fatalf("%s: %d frames (free %d, store %d), want %d", what, held(s), s.FreeFrames, s.StoreFrames, held(start))
		}
	}
}

func TestPastMemory(t *testing.T) {
	start := mm.ReadStats()
	task, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	size := uintptr(start.FreeFrames*3/2) * page
	bad, pages := 0, 0
	err = task.Run(func() {
		var x uintptr
		if err := mm.VMAllocate(&x, size, 0, false); err != nil {
			panic(err)
		}
		for p := x; p < x+size; p += page {
			fill(p, 1, false)
			pages++
		}
		for round := 0; round < 2; round++ {
			for p := x; p < x+size; p += page {
				if !same(p, 1) {
					bad++
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	s := mm.ReadStats()
	t.Logf("%d MiB written on a machine with %d MiB free: %d evictions, %d major faults, %d reclaims by faults; store %d MiB in %d MiB",
		size>>20, start.FreeFrames>>8, s.Evictions-start.Evictions, s.MajorFaults-start.MajorFaults, s.Reclaims-start.Reclaims,
		s.StoreUncompressed>>20, s.StoreCompressed>>20)
	if bad != 0 {
		t.Fatalf("%d of %d page reads came back different", bad, 2*pages)
	}
	if s.MajorFaults == start.MajorFaults {
		t.Fatal("no major fault")
	}
	if err := task.Destroy(); err != nil {
		t.Fatal(err)
	}
	settled(t, start, "after the task's end")
}

// run runs f in task, failing the test on a fault.
func run(t *testing.T, task *mm.Task, f func()) {
	t.Helper()
	if err := task.Run(f); err != nil {
		t.Fatal(err)
	}
}

// evictedTask is a new task with a region of n pages at x, written with
// seed and then evicted, every one.
func evictedTask(t *testing.T, n uintptr, seed uint64) (task *mm.Task, x uintptr) {
	t.Helper()
	task, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	run(t, task, func() {
		if err := mm.VMAllocate(&x, n*page, 0, false); err != nil {
			panic(err)
		}
		for i := uintptr(0); i < n; i++ {
			fill(x+i*page, seed, false)
		}
	})
	if k := kernel.EvictTask(task.ID()); k != int(n) {
		t.Fatalf("evicted %d pages of %d", k, n)
	}
	return task, x
}

func TestForkEvicted(t *testing.T) {
	start := mm.ReadStats()
	const n = 256
	parent, x := evictedTask(t, n, 1)
	child, err := parent.Fork()
	if err != nil {
		t.Fatal(err)
	}
	if s := mm.ReadStats(); s.StoreRefs-s.StorePages < n {
		t.Fatalf("after fork: %d pages, %d references in the store", s.StorePages, s.StoreRefs)
	}
	check := func(task *mm.Task, seed func(i uintptr) uint64) { t.Helper(); checkPages(t, task, x, n, seed) }
	pseed := func(i uintptr) uint64 { return 1 }
	cseed := func(i uintptr) uint64 { return 1 }
	for round := uint64(0); round < 3; round++ {
		check(child, cseed)
		check(parent, pseed)
		// Each side writes half of the pages, its own half.
		r := round
		run(t, parent, func() {
			for i := uintptr(0); i < n; i += 2 {
				fill(x+i*page, 10+r, false)
			}
		})
		run(t, child, func() {
			for i := uintptr(1); i < n; i += 2 {
				fill(x+i*page, 20+r, false)
			}
		})
		p0, c0 := pseed, cseed
		pseed = func(i uintptr) uint64 {
			if i%2 == 0 {
				return 10 + r
			}
			return p0(i)
		}
		cseed = func(i uintptr) uint64 {
			if i%2 == 1 {
				return 20 + r
			}
			return c0(i)
		}
		kernel.EvictTask(parent.ID())
		kernel.EvictTask(child.ID())
	}
	check(child, cseed)
	check(parent, pseed)
	if err := child.Destroy(); err != nil {
		t.Fatal(err)
	}
	if err := parent.Destroy(); err != nil {
		t.Fatal(err)
	}
	settled(t, start, "after both ends")
}

func TestDeallocateEvicted(t *testing.T) {
	start := mm.ReadStats()
	const n = 512
	task, x := evictedTask(t, n, 7)
	before := mm.ReadStats().StorePages
	run(t, task, func() {
		// Partial and multiple deallocation over evicted pages.
		if err := mm.VMDeallocate(x+16*page, 100*page); err != nil {
			panic(err)
		}
		if err := mm.VMDeallocate(x+200*page, 8*page); err != nil {
			panic(err)
		}
	})
	if got := mm.ReadStats().StorePages; got != before-108 {
		t.Fatalf("deallocating 108 evicted pages: %d pages stored, want %d", got, before-108)
	}
	bad := 0
	run(t, task, func() {
		for i := uintptr(0); i < n; i++ {
			if i >= 16 && i < 116 || i >= 200 && i < 208 {
				continue
			}
			if !same(x+i*page, 7) {
				bad++
			}
		}
		// VM_ZEROFILL over what was evicted: a fresh region is zeros.
		y := x + 16*page
		if err := mm.VMAllocate(&y, 100*page, mm.VM_HERE|mm.VM_ZEROFILL, false); err != nil {
			panic(err)
		}
		for _, b := range mm.Bytes(y, 100*page) {
			if b != 0 {
				bad++
				break
			}
		}
	})
	if bad != 0 {
		t.Fatalf("%d pages wrong", bad)
	}
	kernel.EvictTask(task.ID())
	if err := task.Destroy(); err != nil {
		t.Fatal(err)
	}
	settled(t, start, "after the task's end")
}

// TestIncompressiblePastMemory: random data past memory. Evicting it gains
// nothing (the store keeps it in a frame as it is), and with the store
// small (1 MiB) it fills and refuses pages: the task gets its fault,
// map_now ENOMEM, everything comes back and the kernel lives. (At 16 MiB
// the store never filled here: the task ran out of frames first, with 2
// MiB stored, so the full store went untested.)
func TestIncompressiblePastMemory(t *testing.T) {
	const capacity = 1 << 20
	old := kernel.SetStoreCapacity(capacity)
	defer kernel.SetStoreCapacity(old)
	start := mm.ReadStats()
	task, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	size := uintptr(start.FreeFrames) * page * 2
	pages := 0
	err = task.Run(func() {
		var x uintptr
		if err := mm.VMAllocate(&x, size, 0, false); err != nil {
			panic(err)
		}
		for p := x; p < x+size; p += page {
			fill(p, 3, true)
			pages++
		}
	})
	var fault *mm.TaskFault
	if !errors.As(err, &fault) {
		t.Fatalf("writing random data past memory ended with %v, want the task's fault", err)
	}
	s := mm.ReadStats()
	t.Logf("the task wrote %d MiB of %d before its fault; store %d KiB (%d compressed) of %d, %d evictions refused",
		pages>>8, size>>20, s.StoreUncompressed>>10, s.StoreCompressed>>10, capacity>>10, s.EvictFailures-start.EvictFailures)
	if s.StoreUncompressed+page <= capacity || s.EvictFailures == start.EvictFailures {
		t.Errorf("the store did not fill: %d of %d bytes held, %d evictions refused", s.StoreUncompressed, capacity, s.EvictFailures-start.EvictFailures)
	}
	run(t, task, func() {
		var y uintptr
		if err := mm.VMAllocate(&y, uintptr(start.FreeFrames)*page, 0, true); err != mm.ENOMEM {
			panic("map_now with memory and store full: " + errString(err))
		}
	})
	if err := task.Destroy(); err != nil {
		t.Fatal(err)
	}
	settled(t, start, "after the task's end")
	// The kernel lives: a task works again.
	again, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	run(t, again, func() {
		var x uintptr
		if err := mm.VMAllocate(&x, 64*page, 0, false); err != nil {
			panic(err)
		}
		fill(x, 1, false)
		if !same(x, 1) {
			panic("a page reads back wrong")
		}
	})
	if err := again.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// checkPages fails the test unless each of the n pages at x in task holds
// what fill wrote there with seed(i), i the page's index.
func checkPages(t *testing.T, task *mm.Task, x, n uintptr, seed func(i uintptr) uint64) {
	t.Helper()
	bad := 0
	run(t, task, func() {
		for i := uintptr(0); i < n; i++ {
			if !same(x+i*page, seed(i)) {
				bad++
			}
		}
	})
	if bad != 0 {
		t.Fatalf("task %d: %d pages wrong", task.ID(), bad)
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// zero reports whether the page at p is all zeros.
func zero(p uintptr) bool {
	w := (*[page / 8]uint64)(unsafe.Pointer(&mm.Bytes(p, page)[0]))
	for _, v := range w {
		if v != 0 {
			return false
		}
	}
	return true
}

// TestWorkingSetFourThreads: four threads of one task read and write
// random pages of a working set of 1.5 times the free memory, each its own
// quarter of the pages, checked against a record of what each page was
// last written with, while the pager and the faults evict.
func TestWorkingSetFourThreads(t *testing.T) {
	start := mm.ReadStats()
	task, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	n := uintptr(start.FreeFrames * 3 / 2)
	seeds := make([]uint64, n) // 0: never written (a zero page)
	var x uintptr
	run(t, task, func() {
		if err := mm.VMAllocate(&x, n*page, 0, false); err != nil {
			panic(err)
		}
		// Fill most of it first, so that the random part thrashes.
		for i := uintptr(0); i < n; i += 1 + i%3/2 {
			seeds[i] = uint64(i%7 + 1)
			fill(x+i*page, seeds[i], false)
		}
	})
	const threads, ops = 4, 3000
	var wg sync.WaitGroup
	bad := make([]int, threads)
	errs := make([]error, threads)
	for k := 0; k < threads; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(k), 16))
			errs[k] = task.Run(func() {
				for op := 0; op < ops; op++ {
					i := uintptr(rng.Uint64N(uint64(n/threads)))*threads + uintptr(k)
					if i >= n {
						continue
					}
					p := x + i*page
					if seeds[i] == 0 && !zero(p) || seeds[i] != 0 && !same(p, seeds[i]) {
						bad[k]++
					}
					if rng.IntN(2) == 0 {
						seeds[i] = uint64(100*k+op) + 1
						fill(p, seeds[i], false)
					}
				}
			})
		}()
	}
	wg.Wait()
	for k := range errs {
		if errs[k] != nil {
			t.Fatalf("thread %d: %v", k, errs[k])
		}
		if bad[k] != 0 {
			t.Fatalf("thread %d: %d pages read back different", k, bad[k])
		}
	}
	s := mm.ReadStats()
	t.Logf("%d pages (%d MiB on %d MiB free), %d random accesses: %d evictions, %d major faults",
		n, n>>8, start.FreeFrames>>8, threads*ops, s.Evictions-start.Evictions, s.MajorFaults-start.MajorFaults)
	if err := task.Destroy(); err != nil {
		t.Fatal(err)
	}
	settled(t, start, "after the task's end")
}

// TestSameEvictedPageFromFourThreads: four threads read one evicted page
// at once; the space's lock serializes their faults, and the page comes
// back once: one major fault, one frame.
func TestSameEvictedPageFromFourThreads(t *testing.T) {
	task, x := evictedTask(t, 1, 9)
	for round := 0; round < 20; round++ {
		before := mm.ReadStats().MajorFaults
		var wg sync.WaitGroup
		bad := make([]bool, 4)
		for k := range bad {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := task.Run(func() { bad[k] = !same(x, 9) }); err != nil {
					bad[k] = true
				}
			}()
		}
		wg.Wait()
		for k := range bad {
			if bad[k] {
				t.Fatalf("round %d: thread %d read the page wrong", round, k)
			}
		}
		if got := mm.ReadStats().MajorFaults - before; got != 1 {
			t.Fatalf("round %d: %d major faults for one page, want 1", round, got)
		}
		if k := kernel.EvictTask(task.ID()); k != 1 {
			t.Fatalf("round %d: evicted %d pages, want 1", round, k)
		}
	}
	if err := task.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// pollingFlag turns the pager's wake-on-demand off for TestPagerStartsAtOnce,
// which then fails: the goroutine polls as before it.
var pollingFlag = flag.Bool("pager.polling", false, "TestPagerStartsAtOnce with wake-on-demand off (the pager polls; the test is expected to fail)")

// TestPagerStartsAtOnce: a task that takes free frames below the pager's
// low-water mark does not wait for a poll: the fault that crossed the mark
// woke the pager's goroutine (wake-on-demand), which looks at the free
// frames before the task has taken many more pages. The task goes on
// touching pages after the crossing, one at a time, and counts those it
// touched before the goroutine's look: a count, not a time, so that a host
// that stalls QEMU (TCG, a busy machine) stalls both sides alike. On one
// CPU the goroutine runs before the crossing fault returns (0 pages).
// Polling (every 10 ms once free frames are short), the task touches
// hundreds of pages first. Five trials, each after the goroutine has
// slept 150 ms (a poller's longest period is 100 ms); the kernel also
// measures the time from the fault to the look. On several CPUs the
// goroutine runs beside the task, on a CPU the wake kicks out of its idle
// loop: under TCG that is another vCPU thread the host must schedule
// (milliseconds on a busy 2-core host, hundreds of pages), so there the
// test only reports what it saw.
func TestPagerStartsAtOnce(t *testing.T) {
	if *pollingFlag {
		old := kernel.SetPagerPolling(true)
		defer kernel.SetPagerPolling(old)
		t.Log("wake-on-demand is OFF (-pager.polling): this test is expected to fail")
	}
	low, high := kernel.PagerMarks()
	wakes0 := kernel.PagerWakes().Wakes
	const trials = 5
	// limit is the pages the task may touch after the crossing before
	// the look; it stops at after (the reserve, where its own faults
	// would evict, is high-low pages below the mark).
	const limit, after = 32, 256
	var counts []int
	var latencies []time.Duration
	for trial := 0; trial < trials; trial++ {
		time.Sleep(150 * time.Millisecond)
		start := mm.ReadStats()
		if start.FreeFrames < 2*high {
			t.Fatalf("trial %d: %d frames free, want at least %d (twice the high-water mark)", trial, start.FreeFrames, 2*high)
		}
		looks := kernel.PagerWakes().Looks
		task, err := mm.NewTask()
		if err != nil {
			t.Fatal(err)
		}
		touched, past := 0, -1
		run(t, task, func() {
			n := uintptr(start.FreeFrames)
			var x uintptr
			if err := mm.VMAllocate(&x, n*page, 0, false); err != nil {
				panic(err)
			}
			// Touch pages until free frames are below the low-water
			// mark (checked every 8 pages: ReadStats is a system
			// call that locks every space), then one at a time until
			// the goroutine looked.
			for p := x; p < x+n*page && past < after; p += page {
				fill(p, 5, false)
				touched++
				if past >= 0 {
					if kernel.PagerWakes().Looks != looks {
						break
					}
					past++
				} else if touched%8 == 0 && mm.ReadStats().FreeFrames < low {
					if past = 0; kernel.PagerWakes().Looks != looks {
						break
					}
				}
			}
		})
		w := kernel.PagerWakes()
		s := mm.ReadStats()
		if w.Looks == looks {
			// Not yet: the task stopped at after.
			past, w.Latency = after, -1
		}
		t.Logf("trial %d: %d pages touched; %d after the crossing before the pager's goroutine looked, %v after the fault that crossed (kernel's clock; -1: not yet); %d evictions, %d by faults short of memory",
			trial, touched, past, w.Latency.Round(time.Microsecond), s.Evictions-start.Evictions, s.Reclaims-start.Reclaims)
		counts, latencies = append(counts, past), append(latencies, w.Latency)
		if err := task.Destroy(); err != nil {
			t.Fatal(err)
		}
		settled(t, start, "after the task's end")
	}
	t.Logf("low-water mark %d frames, high %d; pages touched after the crossing before the pager looked: %v; time to the look %v; %d wakes by a note",
		low, high, counts, latencies, kernel.PagerWakes().Wakes-wakes0)
	if kernel.CPUCount() > 1 {
		t.Logf("%d CPUs: not checked (see the test's comment)", kernel.CPUCount())
		return
	}
	for trial, c := range counts {
		// -1: the task never saw free frames below the mark.
		if c > limit {
			t.Errorf("trial %d: the task touched %d pages after free frames fell below the low-water mark before the pager looked, want at most %d", trial, c, limit)
		}
	}
}

// TestEvictSharedPages: pages a fork shares copy-on-write are evicted too,
// from every sharer at once (one slot, a reference each): a task writes n
// pages and forks; evicting the parent takes all n (the shared ones are
// not skipped) and the child keeps none resident either; both sides read
// their data back (a major fault each, each side's own copy), then each
// writes its own and reads its own, through more evictions. Then the
// pager's clock, memory short, takes freshly shared pages that neither
// side uses. Every frame and store slot comes back.
func TestEvictSharedPages(t *testing.T) {
	start := mm.ReadStats()
	const n = 256
	parent, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	var x uintptr
	run(t, parent, func() {
		if err := mm.VMAllocate(&x, n*page, 0, false); err != nil {
			panic(err)
		}
		for i := uintptr(0); i < n; i++ {
			fill(x+i*page, 1, false)
		}
	})
	child, err := parent.Fork()
	if err != nil {
		t.Fatal(err)
	}
	// A CPU that holds the child's lock already (the file server's copy
	// out of the child's frame, faulting in the parent's space) must not
	// evict the frames they share: the copy may be reading one.
	if k := kernel.EvictTaskHolding(parent.ID(), child.ID()); k != 0 {
		t.Fatalf("evicting the parent while this CPU holds the child's lock took %d shared pages, want 0", k)
	}
	before := mm.ReadStats()
	if k := kernel.EvictTask(parent.ID()); k != n {
		t.Fatalf("evicting the parent took %d of the %d pages it shares copy-on-write with its child, want all", k, n)
	}
	s := mm.ReadStats()
	if s.StorePages-before.StorePages != n || s.StoreRefs-before.StoreRefs != 2*n || s.SharedEvictions-before.SharedEvictions != n {
		t.Fatalf("after evicting %d shared pages: %d pages, %d references stored, %d shared evictions; want %d, %d, %d",
			n, s.StorePages-before.StorePages, s.StoreRefs-before.StoreRefs, s.SharedEvictions-before.SharedEvictions, n, 2*n, n)
	}
	for _, task := range []*mm.Task{parent, child} {
		if st, err := task.Stats(); err != nil || st.ResidentPages != 0 {
			t.Fatalf("task %d: %d pages resident after its shared pages were evicted (%v)", task.ID(), st.ResidentPages, err)
		}
	}
	check := func(task *mm.Task, seed func(i uintptr) uint64) { t.Helper(); checkPages(t, task, x, n, seed) }
	one := func(uintptr) uint64 { return 1 }
	m0 := mm.ReadStats().MajorFaults
	check(child, one)
	check(parent, one)
	if got := mm.ReadStats().MajorFaults - m0; got != 2*n {
		t.Fatalf("%d major faults for %d shared pages read by 2 sides, want %d", got, n, 2*n)
	}
	// Each side writes its own half, then both are evicted again.
	run(t, parent, func() {
		for i := uintptr(0); i < n; i += 2 {
			fill(x+i*page, 10, false)
		}
	})
	run(t, child, func() {
		for i := uintptr(1); i < n; i += 2 {
			fill(x+i*page, 20, false)
		}
	})
	kernel.EvictTask(parent.ID())
	kernel.EvictTask(child.ID())
	check(parent, func(i uintptr) uint64 { return 1 + 9*uint64(1-i%2) })
	check(child, func(i uintptr) uint64 { return 1 + 19*uint64(i%2) })

	// The clock: pages shared afresh (a grandchild), used by no one,
	// with memory short for the pager: it evicts them from both.
	if err := child.Destroy(); err != nil {
		t.Fatal(err)
	}
	run(t, parent, func() {
		for i := uintptr(0); i < n; i++ {
			fill(x+i*page, 3, false)
		}
	})
	late, err := parent.Fork()
	if err != nil {
		t.Fatal(err)
	}
	before = mm.ReadStats()
	old := kernel.SetPagerLow(before.TotalFrames)
	deadline := time.Now().Add(5 * time.Second)
	for mm.ReadStats().SharedEvictions-before.SharedEvictions < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	kernel.SetPagerLow(old)
	if got := mm.ReadStats().SharedEvictions - before.SharedEvictions; got < n {
		t.Fatalf("the pager's clock, memory short, evicted %d of %d pages shared copy-on-write in 5 s", got, n)
	}
	three := func(uintptr) uint64 { return 3 }
	check(late, three)
	check(parent, three)
	for _, task := range []*mm.Task{late, parent} {
		if err := task.Destroy(); err != nil {
			t.Fatal(err)
		}
	}
	settled(t, start, "after the tasks' end")
}
