//go:build hurdvm && hurdvmtest

// Package smp tests the VM's locking on several CPUs (docs/DESIGN.md,
// "Locking"): the same page faulted by every CPU at once, faults in
// separate address spaces that never wait for each other, and faults,
// deallocations and forks mixed across CPUs. It passes on one CPU too,
// where it checks the same results without the parallelism; make
// test-qemu runs it with -smp 4.
package smp

import (
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"hurdvm/kernel"
	"hurdvm/mm"
	"hurdvm/tests/internal/probe"
)

// words is the memory at addr, a task-window address the test allocated
// through the VM (not Go memory: the GC never sees it), as n words.
func words(addr uintptr, n int) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Add(nil, addr)), n)
}

// threads is how many threads the tests run at once: one a CPU, at
// least four (on fewer CPUs they take turns).
func threads() int { return max(4, runtime.NumCPU()) }

// quietSpinners is quiet with a P for every spinning thread and one for
// the rest.
func quietSpinners(t *testing.T) {
	quiet(t)
	oldProcs := runtime.GOMAXPROCS(threads() + 1)
	t.Cleanup(func() { runtime.GOMAXPROCS(oldProcs) })
}

// barrier is a spinning barrier for threads that run on CPUs of their
// own (a channel would put them to sleep and let the others run first).
type barrier struct {
	n     int32
	count atomic.Int32
	gen   atomic.Int32
}

func (b *barrier) wait() {
	g := b.gen.Load()
	if b.count.Add(1) == b.n {
		b.count.Store(0)
		b.gen.Add(1)
		return
	}
	for i := 0; b.gen.Load() == g; i++ {
		if i%4096 == 4095 {
			runtime.Gosched() // on fewer CPUs than threads: let the others get there
		}
	}
}

func newTask(t *testing.T) *mm.Task {
	t.Helper()
	task, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Destroy() })
	return task
}

// runAll runs f(i) for i < n, each in task (a thread of its own in the
// task's address space), all at once, and waits for them.
func runAll(t *testing.T, tasks []*mm.Task, n int, f func(i int)) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = tasks[i%len(tasks)].Run(func() { f(i) })
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("thread %d: %v", i, err)
		}
	}
}

// TestSamePageFromEveryCPU: every thread (a CPU each) touches the same
// untouched page at the same moment, page after page. Each page gets
// exactly one frame (every thread translates it to the same one), every
// thread sees every other's writes, and the task counts exactly one fault
// a page.
func TestSamePageFromEveryCPU(t *testing.T) {
	needCPUs(t)
	quietSpinners(t)
	n := threads()
	const pages = 64
	task := newTask(t)
	var base uintptr
	if err := task.Run(func() {
		if err := mm.VMAllocate(&base, pages*page, 0, false); err != nil {
			panic(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	before, _ := task.Stats()
	locks0 := kernel.Locks()
	phys := make([][pages]uint64, n)
	mismatch := make([]int, n)
	b := &barrier{n: int32(n)}
	runAll(t, []*mm.Task{task}, n, func(i int) {
		for p := range pages {
			w := words(base+uintptr(p)*page, page/8)
			b.wait()
			// All at once: half the threads read first, half write.
			if i%2 == 0 {
				_ = atomic.LoadUint64(&w[i])
			}
			atomic.StoreUint64(&w[i], uint64(p)<<32|uint64(i)+1)
			phys[i][p] = kernel.Translate(uintptr(unsafe.Pointer(&w[0]))).Phys
			b.wait()
			for j := range n {
				if atomic.LoadUint64(&w[j]) != uint64(p)<<32|uint64(j)+1 {
					mismatch[i]++
				}
			}
		}
	})
	for i := range n {
		if mismatch[i] != 0 {
			t.Errorf("thread %d: %d words not what the other threads wrote", i, mismatch[i])
		}
		for p := range pages {
			if phys[i][p] != phys[0][p] || phys[i][p] == 0 {
				t.Fatalf("page %d: thread %d sees frame %#x, thread 0 %#x", p, i, phys[i][p], phys[0][p])
			}
		}
	}
	after, err := task.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if got := after.PageFaults - before.PageFaults; got != pages {
		t.Errorf("%d faults counted for %d pages touched by %d threads at once, want %d", got, pages, n, pages)
	}
	if after.ResidentPages != pages {
		t.Errorf("%d pages resident, want %d", after.ResidentPages, pages)
	}
	t.Logf("%d threads on %d CPUs, %d pages: %d faults; the space's lock found taken %d times",
		n, runtime.NumCPU(), pages, after.PageFaults-before.PageFaults, kernel.Locks().SpaceWaits[task.ID()]-locks0.SpaceWaits[task.ID()])
}

// TestSeparateSpacesNeverWait: one thread in each of four tasks faults in
// its own pages, all at once. No fault may take the kernel lock, and no
// fault may wait for an address-space lock: each space has one thread,
// and faults in different spaces share no lock but the frame allocator's
// lists, which a CPU reaches once per batch of frames (its contention is
// logged). These counts do not depend on how loaded the host is.
func TestSeparateSpacesNeverWait(t *testing.T) {
	needCPUs(t)
	quietSpinners(t)
	n := threads()
	const pages = 512
	tasks := make([]*mm.Task, n)
	bases := make([]uintptr, n)
	for i := range tasks {
		tasks[i] = newTask(t)
		if err := tasks[i].Run(func() {
			if err := mm.VMAllocate(&bases[i], pages*page, 0, false); err != nil {
				panic(err)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	locks0 := kernel.Locks()
	b := &barrier{n: int32(n)}
	bad := make([]int, n)
	runAll(t, tasks, n, func(i int) {
		b.wait()
		for p := range pages {
			w := words(bases[i]+uintptr(p)*page, 2)
			w[0], w[1] = uint64(i)<<32|uint64(p), ^uint64(p)
		}
		for p := range pages {
			w := words(bases[i]+uintptr(p)*page, 2)
			if w[0] != uint64(i)<<32|uint64(p) || w[1] != ^uint64(p) {
				bad[i]++
			}
		}
	})
	locks := kernel.Locks()
	for i, task := range tasks {
		st, err := task.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.PageFaults != pages || bad[i] != 0 {
			t.Errorf("task %d: %d faults for %d pages, %d pages not as written", i, st.PageFaults, pages, bad[i])
		}
		id := task.ID()
		if w := locks.SpaceWaits[id] - locks0.SpaceWaits[id]; w != 0 {
			t.Errorf("task %d (space %d): its faults waited for its lock %d times", i, id, w)
		}
	}
	if d := locks.FaultsLocked - locks0.FaultsLocked; d != 0 {
		t.Errorf("%d page faults took the kernel lock, want none", d)
	}
	t.Logf("%d tasks on %d CPUs, %d faults each: frame lists' lock contended %d times, caches' %d",
		n, locks.CPUs, pages, locks.FramesContended-locks0.FramesContended, locks.CacheContended-locks0.CacheContended)
}

// TestFaultsDeallocateForkMixed runs, in one task, writers that fault
// their own pages in and check every word they wrote, a thread that
// deallocates and allocates its own range again and again, and, beside
// them, forks of the task whose children are checked: every word a child
// sees is zero or was written to that very page (no frame of another page
// or task), and a child that writes its copy leaves the parent's alone.
// At the end every frame has come back.
func TestFaultsDeallocateForkMixed(t *testing.T) {
	needCPUs(t)
	quietSpinners(t)
	n := threads()
	const (
		pages  = 64 // per writer
		rounds = 40
		forks  = 12
	)
	start := mm.ReadStats()
	task := newTask(t)
	base := uintptr(0)
	size := uintptr(n+1) * pages * page
	if err := task.Run(func() {
		if err := mm.VMAllocate(&base, size, 0, false); err != nil {
			panic(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	tag := func(va uintptr) uint64 { return uint64(va/page) << 24 }
	var stop atomic.Bool
	bad := make([]string, n)
	var forkErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer stop.Store(true)
		for f := 0; f < forks; f++ {
			child, err := task.Fork()
			if err != nil {
				forkErr = err
				return
			}
			err = child.Run(func() {
				for va := base; va < base+size; va += page {
					var w []uint64
					if _, faulted := probe.Fault(func() { w = words(va, 4); atomic.LoadUint64(&w[0]) }); faulted {
						continue // deallocated at the fork's moment
					}
					for k := range w {
						if w[k] != 0 && w[k]&^0xffffff != tag(va) {
							panic("a child sees a word of another page")
						}
					}
					w[0] = 0xdead // its own copy
				}
			})
			if err == nil {
				err = child.Destroy()
			}
			if err != nil {
				forkErr = err
				return
			}
		}
	}()
	rng := rand.New(rand.NewSource(1))
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = rng.Int63()
	}
	runAll(t, []*mm.Task{task}, n, func(i int) {
		r := rand.New(rand.NewSource(seeds[i]))
		lo := base + uintptr(i)*pages*page
		for round := 0; round < rounds || !stop.Load(); round++ {
			if i == n-1 && round%3 == 0 {
				// The last thread's range goes and comes back.
				if err := mm.VMDeallocate(lo, pages*page); err != nil {
					bad[i] = "deallocate: " + err.Error()
					return
				}
				va := lo
				if err := mm.VMAllocate(&va, pages*page, mm.VM_HERE, false); err != nil {
					bad[i] = "allocate: " + err.Error()
					return
				}
			}
			for k := 0; k < pages/4; k++ {
				va := lo + uintptr(r.Intn(pages))*page
				w := words(va, 4)
				v := tag(va) | uint64(round)&0xffffff
				slot := r.Intn(4)
				w[slot] = v
				if w[slot] != v || w[0] != 0 && w[0]&^0xffffff != tag(va) {
					bad[i] = "a word not as written"
					return
				}
			}
			if round > 100*rounds {
				break
			}
		}
	})
	wg.Wait()
	for i, s := range bad {
		if s != "" {
			t.Errorf("thread %d: %s", i, s)
		}
	}
	if forkErr != nil {
		t.Fatal(forkErr)
	}
	if err := task.Destroy(); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	if got := mm.ReadStats(); probe.TaskFrames(got) != probe.TaskFrames(start) {
		t.Errorf("after destroying every task: %d frames available, %d before", probe.TaskFrames(got), probe.TaskFrames(start))
	}
}
