// The scaling figures (vmbench -scale): page faults per second with N
// threads at once, N being the CPUs the machine has (runtime.NumCPU), on
// disjoint regions, in two arrangements:
//
//   - threads: one address space (one process on Linux, one task on
//     hurdvm), N threads, each touching every page of a region of its own;
//   - tasks: N address spaces (processes forked on Linux, tasks on
//     hurdvm), one thread each.
//
// Time is wall time (cmd/benchreport runs this without -icount, with
// QEMU's multi-threaded TCG): from the moment every thread is released to
// the moment the last one is done. N comes as the argument of -scale.
// Each figure is the median of
// scaleSamples samples; it prints
//
//	BENCH scale/MODE_faults_per_s VALUE faults/s
//
// and benchreport -scale divides each by the same figure on one CPU.

package main

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// A sample lasts about 100 ms on one CPU: with 8 MiB (13 ms) the host's
// scheduling of QEMU's vCPU threads decided the figures, one CPU's sample
// varying by 1.8 times between boots on an idle host.
const (
	scaleSamples = 9
	scalePages   = 16384 // per thread and sample: 64 MiB
	scaleSize    = scalePages * pageSize
)

var scaleT [scaleSamples]float64

// spinUntil spins until *flag is set (threads released together).
func spinUntil(flag *atomic.Uint32) {
	for flag.Load() == 0 {
	}
}

// scaleThreads times n threads of one address space, each faulting in a
// region of its own: run(i, f) runs f on thread i in that space; alloc
// and free get and give back a region there.
func scaleThreads(name string, n int, run func(i int, f func()), o memOps) {
	regions := make([]uintptr, n)
	for s := range scaleT {
		var ready atomic.Int32
		var done atomic.Int32
		var goAhead atomic.Uint32
		var t0, t1 atomic.Int64
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				run(i, func() {
					regions[i] = o.alloc(scaleSize, false)
					ready.Add(1)
					spinUntil(&goAhead)
					touch(regions[i], scaleSize, byte(i+1))
					if done.Add(1) == int32(n) {
						t1.Store(nanos())
					}
				})
			}()
		}
		for ready.Load() != int32(n) {
			runtime.Gosched()
		}
		t0.Store(nanos())
		goAhead.Store(1)
		wg.Wait()
		for i := range n {
			run(i, func() {
				check(regions[i], scaleSize, byte(i+1))
				o.free(regions[i], scaleSize)
			})
		}
		scaleT[s] = float64(n*scalePages) / (float64(t1.Load()-t0.Load()) / 1e9)
	}
	report("scale/"+name+"_faults_per_s", scaleT[:], "faults/s")
}

// benchScale runs the scaling figures of this kernel with n threads (the
// machine's CPUs: benchreport says how many, since hurdvm reports at
// least two to the runtime).
func benchScale(n int) {
	runtime.GOMAXPROCS(n + 1) // a P for every spinning thread, one for the rest
	fmt.Printf("INFO scale: %d CPUs, %d threads, %d pages each\n", n, n, scalePages)
	scaleKernel(n)
}
