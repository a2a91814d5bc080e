//go:build hurdvm && hurdvmtest

package smp

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"hurdvm/kernel"
	"hurdvm/mm"
)

// TestShootdownCostOfDeallocate is issue 15's shootdown figure: a task
// deallocates 16 MiB it touched while three more of its threads run on
// the other CPUs, reading a page of their own in a loop (so that each
// CPU holds the task's address space loaded). It counts the shootdown
// IPIs the call sent, which must be one to each of those CPUs at most
// (and exactly that in one trial at least): the call's one shootdown covers the leaves and the page tables it
// frees (paging's clear: both are unlinked first, and the frames and
// tables go back only after every CPU has answered), and reports the
// call's time against the same call with
// no other thread of the task running (no IPI then: the other CPUs have
// other spaces loaded or idle). Times are wall time under TCG, the
// median of 3 calls each way: a figure to read, not to judge.
func TestShootdownCostOfDeallocate(t *testing.T) {
	needCPUs(t)
	quietSpinners(t)
	const size = 16 << 20 // (64 MiB takes 40 s at -smp 4 under TCG)
	const rounds = 3
	task := newTask(t)

	var stop, ready atomic.Int32
	var spinCPU [3]atomic.Int32
	spinners := func() (wait func()) {
		stop.Store(0)
		ready.Store(0)
		done := make(chan struct{}, 3)
		for k := range 3 {
			go func() {
				defer func() { done <- struct{}{} }()
				err := task.Run(func() {
					var a uintptr
					if err := mm.VMAllocate(&a, page, mm.VM_ZEROFILL, false); err != nil {
						panic(err)
					}
					p := (*byte)(at(a))
					*p = 1
					spinCPU[k].Store(int32(getcpu()))
					ready.Add(1)
					for stop.Load() == 0 {
						_ = *p
					}
					mm.VMDeallocate(a, page)
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		return func() {
			stop.Store(1)
			for range 3 {
				<-done
			}
		}
	}

	// one deallocation of size bytes touched: its time and the IPIs sent.
	one := func() (time.Duration, uint64, int) {
		var d time.Duration
		var sent uint64
		var cpu int
		err := task.Run(func() {
			var a uintptr
			if err := mm.VMAllocate(&a, size, mm.VM_ZEROFILL, false); err != nil {
				t.Fatal(err)
			}
			b := mm.Bytes(a, size)
			for off := 0; off < size; off += page {
				b[off] = 1
			}
			cpu = getcpu()
			s0 := kernel.ShootdownsSent()
			t0 := time.Now()
			if err := mm.VMDeallocate(a, size); err != nil {
				t.Fatal(err)
			}
			d = time.Since(t0)
			sent = kernel.ShootdownsSent() - s0
		})
		if err != nil {
			t.Fatal(err)
		}
		return d, sent, cpu
	}

	var alone, busy []time.Duration
	var aloneIPIs, busyIPIs []uint64
	for range rounds {
		d, sent, _ := one()
		alone, aloneIPIs = append(alone, d), append(aloneIPIs, sent)
	}
	counted := 0
	// The scheduler's placement is slow to settle when the host's
	// vCPUs are loaded: up to 20 tries for each trial counted (2 of 11
	// were placed right once in make cover beside three other runs).
	full := 0
	for trial := 0; counted < rounds && trial < 20*rounds; trial++ {
		wait := spinners()
		if !waitFor(func() bool { return ready.Load() == 3 }) {
			t.Fatal("the spinning threads did not start")
		}
		d, sent, cpu := one()
		wait()
		others := map[int32]bool{}
		for k := range spinCPU {
			if c := spinCPU[k].Load(); int(c) != cpu {
				others[c] = true
			}
		}
		if len(others) < 3 {
			// Two threads shared a CPU, or one ran where the
			// deallocation did: not the arrangement measured.
			t.Logf("trial %d: spinners on CPUs %d, %d, %d, the deallocation on CPU %d: not counted",
				trial, spinCPU[0].Load(), spinCPU[1].Load(), spinCPU[2].Load(), cpu)
			continue
		}
		counted++
		busy, busyIPIs = append(busy, d), append(busyIPIs, sent)
		// The threads were on 4 CPUs when they started; the timer may
		// have moved one onto another's CPU since (then fewer CPUs have
		// the space loaded), but never may a CPU get two IPIs.
		if sent > 3 || sent == 0 {
			t.Errorf("trial %d: the deallocation sent %d shootdown IPIs with the task running on 3 other CPUs, want one each (3) at most, and some", trial, sent)
		}
		if sent == 3 {
			full++
		}
	}
	if counted < rounds {
		t.Fatalf("only %d of %d trials had the threads on 4 different CPUs", counted, rounds)
	}
	if full == 0 {
		t.Errorf("no trial had the space loaded on all 3 other CPUs during the deallocation (IPIs %v): the figure is not the one asked for", busyIPIs)
	}
	med := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	t.Logf("deallocating 16 MiB touched: %v alone (IPIs %v), %v with the task on 3 other CPUs (IPIs %v): %.2fx",
		med(alone), aloneIPIs, med(busy), busyIPIs, float64(med(busy))/float64(med(alone)))
}
