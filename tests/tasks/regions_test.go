//go:build hurdvm

package tasks

import (
	"testing"
	"time"

	"hurdvm/mm"
	"hurdvm/tests/internal/probe"
)

// The region map scales (issue 12): a task builds 100,000 regions; an
// allocation and deallocation beside them costs about what it costs beside
// 1,000 (every change is O(log n) in the region map's B+tree); the task is
// forked and the child, with its 100,000 regions, destroyed in one pass;
// 10,000 regions are deallocated one by one, in an order that jumps over
// the map, and the rest in one call. The sorted array the tree replaced
// moved every region after the change point on each change (a task's
// allocate+deallocate at the front of its window cost 90 times more beside
// 100,000 regions than beside 1,000) and took 42-88 s to destroy such a
// task under TCG. The bounds are loose (TCG on a shared host); the
// figures are logged.
func TestHundredThousandRegions(t *testing.T) {
	quiet(t)
	start := mm.ReadStats()
	const n, spread = 100_000, 10_000
	base := uintptr(mm.TaskWindowStart)
	// Region i is page 4+2i: one page, a one-page gap after it (no two
	// touch, so none merge); pages 0-3 stay free for the front pairs.
	regionAt := func(i int) uintptr { return base + uintptr(4+2*i)*page }
	front := base + page

	var err error
	// build allocates regions [from, to) with VM_HERE.
	build := func(from, to int) {
		for i := from; i < to && err == nil; i++ {
			a := regionAt(i)
			err = mm.VMAllocate(&a, page, mm.VM_HERE, false)
		}
	}
	// pairs is the least time of an allocate+deallocate of one page at
	// the front of the window (VM_HERE, so the map's first leaf changes),
	// over 5 rounds of 100.
	pairs := func() time.Duration {
		least := time.Duration(1 << 62)
		for range 5 {
			t0 := time.Now()
			for range 100 {
				a := front
				if err = mm.VMAllocate(&a, page, mm.VM_HERE, false); err != nil {
					return 0
				}
				if err = mm.VMDeallocate(a, page); err != nil {
					return 0
				}
			}
			least = min(least, time.Since(t0)/100)
		}
		return least
	}

	task := newTask(t)
	var build1k, build99k, dealloc, deallocRest, fork, destroyChild time.Duration
	var pairSmall, pairBig time.Duration
	touched := 0
	run(t, task, func() {
		t0 := time.Now()
		build(0, 1000)
		build1k = time.Since(t0)
		pairSmall = pairs()
		t0 = time.Now()
		build(1000, n)
		build99k = time.Since(t0)
		pairBig = pairs()
		// Faults find their region among 100,000: touch every 100th.
		for i := 0; i < n && err == nil; i += 100 {
			mm.Bytes(regionAt(i), 1)[0] = byte(i) | 1
			touched++
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	// A child with the 100,000 regions, destroyed whole.
	t0 := time.Now()
	child, ferr := task.Fork()
	fork = time.Since(t0)
	if ferr != nil {
		t.Fatal(ferr)
	}
	if st, err := child.Stats(); err != nil || st.Regions != n {
		t.Fatalf("the child: %+v, %v", st, err)
	}
	t0 = time.Now()
	destroy(t, child)
	destroyChild = time.Since(t0)

	run(t, task, func() {
		// Deallocate regions one by one, in an order that jumps over the
		// map, then the rest in one call.
		t0 := time.Now()
		for k := 0; k < spread && err == nil; k++ {
			err = mm.VMDeallocate(regionAt(k*7919%n), page)
		}
		dealloc = time.Since(t0)
		if err != nil {
			return
		}
		t0 = time.Now()
		err = mm.VMDeallocate(base, uintptr(4+2*n)*page)
		deallocRest = time.Since(t0)
	})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := task.Stats(); err != nil || st.Regions != 0 || st.ResidentPages != 0 {
		t.Fatalf("after deallocating every region: %+v, %v", st, err)
	}
	destroy(t, task)

	t.Logf("%d regions built in %v (%v each: %v each for the first 1,000); "+
		"allocate+deallocate at the front %v beside 1,000 regions, %v beside 100,000 (x%.2f); %d faults among them; "+
		"fork %v, the child destroyed in %v; %d deallocated one by one in %v (%v each), the other %d in one call in %v",
		n, build1k+build99k, (build1k+build99k)/n, build1k/1000, pairSmall, pairBig, float64(pairBig)/float64(pairSmall),
		touched, fork, destroyChild, spread, dealloc, dealloc/spread, n-spread, deallocRest)
	if build1k+build99k > 30*time.Second || dealloc > 10*time.Second || deallocRest > 2*time.Second {
		t.Errorf("building %d regions took %v, deallocating %d of them one by one %v and the rest %v: it should take seconds",
			n, build1k+build99k, spread, dealloc, deallocRest)
	}
	if destroyChild > 2*time.Second {
		t.Errorf("destroying a task with %d regions took %v, want well under a second", n, destroyChild)
	}
	if pairBig > 10*pairSmall {
		t.Errorf("allocate+deallocate beside 100,000 regions %v, beside 1,000 %v: it should barely grow", pairBig, pairSmall)
	}
	if got := probe.TaskFrames(mm.ReadStats()); got != probe.TaskFrames(start) {
		t.Errorf("%d frames available after the tasks, want %d", got, probe.TaskFrames(start))
	}
}
