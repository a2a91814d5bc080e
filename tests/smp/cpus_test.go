//go:build hurdvm && hurdvmtest

// Package smp tests the kernel on several CPUs (issue 15): threads of
// the Go runtime on every CPU, a TLB shootdown when VMDeallocate removes a
// page another CPU is reading, and a fork while a thread of the parent
// writes on another CPU.
//
// It needs at least 4 CPUs: make test-qemu boots it with -smp 4 (as do
// qemuexec -smp 4 and HURDVM_SMP=4); booted with fewer, every test fails
// and says so. With -smp.no-shootdowns the tests that need shootdowns run
// with them turned off (kernel.SetShootdowns), to show that they fail
// then:
//
//	make test-qemu PKG=./tests/smp TESTFLAGS='-run Shoot|Fork -args -smp.no-shootdowns'
//
// QEMU's TCG keeps a software TLB per virtual CPU and does not watch the
// page tables, so a translation another CPU failed to shoot down stays
// usable there, as on a PC.
package smp

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"hurdvm/kernel"
	"hurdvm/mm"
)

// wantCPUs is how many CPUs the package needs.
const wantCPUs = 4

const page = mm.PageSize

var noShootdowns = flag.Bool("smp.no-shootdowns", false,
	"run the shootdown and fork tests with TLB shootdowns turned off, to see them fail")

// needCPUs fails the test unless the kernel runs on wantCPUs CPUs or more
// and the runtime uses them; it returns the kernel's count.
func needCPUs(t *testing.T) int {
	t.Helper()
	n := kernel.CPUCount()
	if n < wantCPUs {
		t.Fatalf("the kernel runs on %d CPU(s); tests/smp needs %d: boot it with -smp %d "+
			"(make test-qemu PKG=./tests/smp does it; or qemuexec -smp %d, or HURDVM_SMP=%d)",
			n, wantCPUs, wantCPUs, wantCPUs, wantCPUs)
	}
	if p := runtime.GOMAXPROCS(0); p < wantCPUs {
		t.Fatalf("GOMAXPROCS is %d on %d CPUs, want at least %d (sched_getaffinity's count)", p, n, wantCPUs)
	}
	return n
}

// shootdowns turns shootdowns off for the test when -smp.no-shootdowns
// asks for it; the returned function turns them back on.
func shootdowns(t *testing.T) (restore func()) {
	if !*noShootdowns {
		return func() {}
	}
	t.Log("TLB shootdowns are OFF (-smp.no-shootdowns): this test is expected to fail")
	was := kernel.SetShootdowns(false)
	return func() { kernel.SetShootdowns(was) }
}

// quiet stops the garbage collector for the test: no heap shootdowns
// beside the test's own, and, with shootdowns off, no heap page freed
// under another CPU's stale translation.
func quiet(t *testing.T) {
	runtime.GC()
	old := debug.SetGCPercent(-1)
	t.Cleanup(func() { debug.SetGCPercent(old) })
}

const sysGetcpu = 309

// getcpu is the CPU the calling thread runs on (getcpu(2)).
func getcpu() int {
	var cpu, node uint32
	if _, _, e := syscall.RawSyscall(sysGetcpu, uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0); e != 0 {
		panic("getcpu: " + e.Error())
	}
	return int(cpu)
}

// at is the memory at a task-window address, as an integer: regions are
// not Go memory.
func at(a uintptr) unsafe.Pointer { return unsafe.Add(nil, a) }

// waitLimit bounds every wait of these tests; only a broken kernel
// reaches it (a thread that never runs again), never a slow machine: the
// tests wait for events, not for times.
const waitLimit = 60 * time.Second

// waitFor spins, yielding, until cond holds; false if waitLimit passed
// first.
func waitFor(cond func() bool) bool {
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		runtime.Gosched()
	}
	return true
}

func TestCPUs(t *testing.T) {
	n := needCPUs(t)
	t.Logf("%d CPUs, GOMAXPROCS %d, runtime.NumCPU %d", n, runtime.GOMAXPROCS(0), runtime.NumCPU())
	if runtime.NumCPU() != n {
		t.Errorf("sched_getaffinity reports %d CPUs, the kernel runs %d", runtime.NumCPU(), n)
	}
	// The answer is a CPU of the machine on every thread.
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if c := getcpu(); c < 0 || c >= n {
				errs <- fmt.Sprintf("getcpu says CPU %d on a machine of %d", c, n)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestThreadsOnEveryCPU: as many spinning threads as CPUs (goroutines
// locked to their threads) run on every CPU of the machine, by getcpu.
func TestThreadsOnEveryCPU(t *testing.T) {
	n := needCPUs(t)
	var (
		seen     [64]atomic.Bool
		distinct atomic.Int32
		stop     atomic.Bool
		wrong    atomic.Int32 // a CPU number out of range, plus one
		wg       sync.WaitGroup
		perThr   = make([]map[int]bool, n)
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		perThr[i] = map[int]bool{}
		go func(mine map[int]bool) {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for !stop.Load() {
				c := getcpu()
				if c < 0 || c >= n {
					wrong.Store(int32(c) + 1)
					return
				}
				mine[c] = true
				if !seen[c].Swap(true) && distinct.Add(1) == int32(n) {
					stop.Store(true)
				}
			}
		}(perThr[i])
	}
	all := waitFor(stop.Load)
	stop.Store(true)
	wg.Wait()
	if w := wrong.Load(); w != 0 {
		t.Fatalf("getcpu said CPU %d on a machine of %d", w-1, n)
	}
	var cpus []int
	for c := 0; c < n; c++ {
		if seen[c].Load() {
			cpus = append(cpus, c)
		}
	}
	for i, m := range perThr {
		var l []int
		for c := range m {
			l = append(l, c)
		}
		sort.Ints(l)
		t.Logf("thread %d ran on CPUs %v", i, l)
	}
	if !all || len(cpus) < n {
		t.Fatalf("%d spinning threads ran on CPUs %v only, of %d (after %v)", n, cpus, n, waitLimit)
	}
}
