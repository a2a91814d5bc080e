//go:build hurdvm

// Package stress beats on the VM in the kernel: the vmmodel operation
// generator, seeded, against real tasks (several at once, the garbage
// collector running beside them), with the model checking every result
// and every byte read. make test runs a few thousand operations; make
// soak runs it for as long as asked (-stress.duration). The seed is printed
// so a failure can be replayed with -stress.seed.
//
// The pager evicts the tasks' pages meanwhile (-stress.evict, on unless
// turned off): its low-water mark is put above the machine's memory, so it
// acts as on a machine with none to spare and evicts every task page that
// stays unused for a lap of its clock, and each round ends by evicting
// every task's pages before its last reads, which check every byte the
// model says the tasks hold. Every round must see pages of the model's
// tasks evicted, a witness task's data go through the store and come back
// intact (witness), and end with the store empty and every frame back.
package stress

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"hurdvm/kernel"
	"hurdvm/mm"
	"hurdvm/mm/vmmodel"
	"hurdvm/tests/internal/probe"
)

var (
	seedFlag     = flag.Uint64("stress.seed", 0, "seed of the operation sequence (0: from the clock)")
	opsFlag      = flag.Int("stress.ops", 2000, "operations per round")
	durationFlag = flag.Duration("stress.duration", 0, "keep running rounds for this long (make soak)")
	evictFlag    = flag.Bool("stress.evict", true, "the pager evicts the tasks' pages in every round (its low-water mark above the machine's memory)")
)

const (
	window    = mm.TaskWindowStart
	windowEnd = 0x0000_8000_0000_0000
	span      = 8 << 20
	maxTasks  = 4
)

// worker runs operations inside one task: a goroutine in Task.Run for the
// task's whole life, taking closures from a channel, so that each
// operation costs no thread creation.
type worker struct {
	task *mm.Task
	ops  chan func()
	done chan error
}

func startWorker(task *mm.Task) *worker {
	w := &worker{task: task, ops: make(chan func()), done: make(chan error, 1)}
	go func() {
		w.done <- task.Run(func() {
			for f := range w.ops {
				f()
			}
		})
	}()
	return w
}

// do runs f in the task and waits for it.
func (w *worker) do(f func()) {
	finished := make(chan struct{})
	w.ops <- func() { defer close(finished); f() }
	<-finished
}

// access reads or writes one byte in the task, reporting a fault instead
// of panicking.
func (w *worker) access(addr uintptr, write bool, v byte) (got byte, fault bool) {
	w.do(func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(interface{ Addr() uintptr }); !ok {
					panic(r)
				}
				fault = true
			}
		}()
		b := mm.Bytes(addr, 1)
		if write {
			b[0] = v
		}
		got = b[0]
	})
	return
}

// readAll reads the bytes at addrs in the task, in one visit, each read's
// fault reported instead of panicking.
func (w *worker) readAll(addrs []uintptr) []readResult {
	got := make([]readResult, len(addrs))
	w.do(func() {
		for i, a := range addrs {
			got[i] = readOne(a)
		}
	})
	return got
}

type readResult struct {
	v     byte
	fault bool
}

func readOne(a uintptr) (r readResult) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(interface{ Addr() uintptr }); !ok {
				panic(p)
			}
			r.fault = true
		}
	}()
	r.v = mm.Bytes(a, 1)[0]
	return r
}

func (w *worker) stop(t *testing.T) {
	close(w.ops)
	if err := <-w.done; err != nil {
		t.Fatalf("task worker: %v", err)
	}
	if err := w.task.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// held is what regions and tasks can still get (probe.TaskFrames) plus
// what the pager's store holds: it changes only by what the tasks hold.
func held(s mm.Stats) uint64 { return probe.TaskFrames(s) + s.StoreFrames }

// counts are what rounds did.
type counts struct {
	ops, faults       int    // operations checked; faults taken (and expected by the model)
	evictions, majors uint64 // pages evicted; evicted pages brought back
	inRound           uint64 // pages of the model's tasks the pager evicted during the operations
	shared            uint64 // of the evictions, frames shared copy-on-write (from every sharer at once)
}

func (c *counts) add(d counts) {
	c.ops, c.faults = c.ops+d.ops, c.faults+d.faults
	c.evictions, c.majors = c.evictions+d.evictions, c.majors+d.majors
	c.inRound += d.inRound
	c.shared += d.shared
}

// round runs n operations from seed and checks everything; at the end
// every task is destroyed, and every frame and store slot must be back.
// With -stress.evict the round must have seen pages evicted and brought
// back.
func round(t *testing.T, seed uint64, n int) (c counts) {
	start := mm.ReadStats()
	ops, faults := 0, 0
	defer func() { c.ops, c.faults = ops, faults }()
	model := vmmodel.New(window, windowEnd, vmmodel.Errors{Inval: mm.EINVAL, Exist: mm.EEXIST, NoSpace: mm.ENOSPC})
	gen := &vmmodel.Generator{Src: rand.New(rand.NewPCG(seed, 0x5eed)), WindowStart: window, Span: span}
	var workers []*worker
	var ids []int
	next := 0
	newTask := func(task *mm.Task) {
		workers = append(workers, startWorker(task))
		ids = append(ids, next)
		next++
	}
	first, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	newTask(first)
	model.NewTask(0)
	var wit *witness
	if *evictFlag {
		wit = startWitness(t, seed)
	}
	var recent []uintptr
	fail := func(op vmmodel.Op, format string, args ...any) {
		t.Fatalf("seed %d op %d %v: %s", seed, ops, op, fmt.Sprintf(format, args...))
	}
	for ops = 0; ops < n; ops++ {
		op := gen.Next()
		if len(workers) == 0 {
			op.Kind = vmmodel.OpNewTask
		}
		if op.Kind == vmmodel.OpRead && op.Value%2 == 1 && len(recent) > 0 {
			op.Addr = recent[int(op.Value)%len(recent)]
		}
		i := op.Task % max(len(workers), 1)
		switch op.Kind {
		case vmmodel.OpNewTask:
			if len(workers) < maxTasks {
				task, err := mm.NewTask()
				if err != nil {
					fail(op, "%v", err)
				}
				newTask(task)
				model.NewTask(ids[len(ids)-1])
			}
		case vmmodel.OpFork:
			if len(workers) < maxTasks {
				child, err := workers[i].task.Fork()
				if err == mm.ENOMEM {
					break
				}
				if err != nil {
					fail(op, "fork: %v", err)
				}
				newTask(child)
				model.Fork(ids[i], ids[len(ids)-1])
			}
		case vmmodel.OpDestroy:
			workers[i].stop(t)
			model.Destroy(ids[i])
			workers = append(workers[:i], workers[i+1:]...)
			ids = append(ids[:i], ids[i+1:]...)
		case vmmodel.OpAllocate:
			got := op.Addr
			var err error
			workers[i].do(func() { err = mm.VMAllocate(&got, op.Size, op.Flags, op.MapNow) })
			if err == mm.ENOMEM {
				break
			}
			want, werr := model.Allocate(ids[i], op.Addr, op.Size, op.Flags, op.MapNow)
			if err != werr || (err == nil && got != want) {
				fail(op, "got (%#x, %v), model says (%#x, %v)", got, err, want, werr)
			}
		case vmmodel.OpDeallocate:
			var err error
			workers[i].do(func() { err = mm.VMDeallocate(op.Addr, op.Size) })
			if err == mm.ENOMEM {
				break
			}
			if werr := model.Deallocate(ids[i], op.Addr, op.Size); err != werr {
				fail(op, "got %v, model says %v", err, werr)
			}
		case vmmodel.OpRead, vmmodel.OpWrite:
			write := op.Kind == vmmodel.OpWrite
			v, fault := workers[i].access(op.Addr, write, op.Value)
			if fault {
				faults++
			}
			var wv byte
			var wfault bool
			if write {
				wfault, wv = model.Write(ids[i], op.Addr, op.Value), op.Value
				if len(recent) == 64 {
					recent = recent[1:]
				}
				recent = append(recent, op.Addr)
			} else {
				wv, wfault = model.Read(ids[i], op.Addr)
			}
			if fault != wfault || (!fault && v != wv) {
				fail(op, "got %#x (fault %v), model says %#x (fault %v)", v, fault, wv, wfault)
			}
		}
	}
	// What the pager evicted of the model's tasks in the round: all it
	// evicted, less the witness's pages.
	var inRound uint64
	if wit != nil {
		st, err := wit.task.Stats()
		if err != nil {
			t.Fatal(err)
		}
		inRound = mm.ReadStats().Evictions - start.Evictions - st.Evictions
	}
	if *evictFlag {
		// Every task's pages out before the last reads (those the
		// pager's clock has not taken yet, shared ones excepted): what
		// the tasks wrote comes back by major faults, checked below.
		for _, w := range workers {
			kernel.EvictTask(w.task.ID())
		}
	}
	// The last reads: the bytes recently written, in every task (a
	// fault where a task has no region), and every byte the model says
	// each task holds.
	for k, w := range workers {
		addrs := append([]uintptr(nil), recent...)
		for a := range model.Tasks[ids[k]].Bytes {
			addrs = append(addrs, a)
		}
		slices.Sort(addrs)
		got := w.readAll(addrs)
		for j, a := range addrs {
			want, wfault := model.Read(ids[k], a)
			if v, fault := got[j].v, got[j].fault; fault != wfault || (!fault && v != want) {
				t.Fatalf("seed %d, after %d ops, task %d byte %#x: %#x (fault %v), model says %#x (fault %v)",
					seed, ops, ids[k], a, v, fault, want, wfault)
			}
		}
	}
	if wit != nil {
		wit.finish(t, seed)
	}
	for _, w := range workers {
		w.stop(t)
	}
	// The runtime's heap moves beside us; everything else must be back.
	// Its frees can lag a collection: retry once after one.
	if got := held(mm.ReadStats()); got != held(start) {
		runtime.GC()
		if got = held(mm.ReadStats()); got != held(start) {
			t.Fatalf("seed %d: %d frames available after destroying every task, want %d", seed, got, held(start))
		}
	}
	end := mm.ReadStats()
	if end.StorePages != 0 || end.StoreRefs != 0 || end.StoreErrors != start.StoreErrors {
		t.Fatalf("seed %d: after destroying every task the store holds %d pages, %d references; %d store errors in the round",
			seed, end.StorePages, end.StoreRefs, end.StoreErrors-start.StoreErrors)
	}
	c.evictions, c.majors = end.Evictions-start.Evictions, end.MajorFaults-start.MajorFaults
	c.shared = end.SharedEvictions - start.SharedEvictions
	if *evictFlag && inRound == 0 {
		t.Fatalf("seed %d: the pager was to evict in every round, and it evicted no page of the model's tasks during this one", seed)
	}
	c.inRound = inRound
	return c
}

// witnessPages is the size of the witness's region.
const witnessPages = 64

// A witness is a task beside the model's, in every round with eviction: it
// writes witnessPages pages of data at the round's start (each page's words
// derived from its address and the seed) and leaves them; at the round's
// end they are evicted (those the pager has not taken), read back, and must
// hold what was written, each brought back by a major fault. So every
// round sends data through the store and back, whatever the generator
// made of the model's tasks (whose bytes may all be gone by the end, and
// whose pages may be zero or shared).
type witness struct {
	*worker
	x uintptr
}

func witnessWord(p uintptr, seed uint64, i int) uint64 {
	return uint64(p)*0x9e3779b97f4a7c15 ^ seed ^ uint64(i)*0x2545f4914f6cdd1d
}

func startWitness(t *testing.T, seed uint64) *witness {
	task, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	w := &witness{worker: startWorker(task)}
	w.do(func() {
		if err = mm.VMAllocate(&w.x, witnessPages*mm.PageSize, 0, false); err != nil {
			return
		}
		for p := w.x; p < w.x+witnessPages*mm.PageSize; p += mm.PageSize {
			words := (*[mm.PageSize / 8]uint64)(unsafe.Pointer(&mm.Bytes(p, mm.PageSize)[0]))
			for i := 0; i < len(words); i += 4 { // three words of four repeat: it compresses
				words[i] = witnessWord(p, seed, i)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// finish evicts the witness's pages, reads them back, checks them and ends
// the task.
func (w *witness) finish(t *testing.T, seed uint64) {
	kernel.EvictTask(w.task.ID())
	bad := 0
	w.do(func() {
		for p := w.x; p < w.x+witnessPages*mm.PageSize; p += mm.PageSize {
			words := (*[mm.PageSize / 8]uint64)(unsafe.Pointer(&mm.Bytes(p, mm.PageSize)[0]))
			for i := range words {
				want := uint64(0)
				if i%4 == 0 {
					want = witnessWord(p, seed, i)
				}
				if words[i] != want {
					bad++
					break
				}
			}
		}
	})
	st, err := w.task.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 || st.MajorFaults < witnessPages {
		t.Fatalf("seed %d: the witness's %d pages, evicted: %d read back wrong, %d major faults (want %d)", seed, witnessPages, bad, st.MajorFaults, witnessPages)
	}
	w.stop(t)
}

// churn keeps the garbage collector busy until stop is closed.
func churn(stop chan struct{}, wg *sync.WaitGroup, allocated *atomic.Int64) {
	defer wg.Done()
	var keep [][]byte
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		b := make([]byte, 16<<10+i%64<<10)
		b[len(b)-1] = byte(i)
		keep = append(keep, b)
		if len(keep) > 64 {
			keep = keep[32:]
		}
		allocated.Add(int64(len(b)))
		if i%4 == 0 {
			time.Sleep(time.Millisecond) // a steady load, not a flood
		}
	}
}

func TestRandomizedAgainstModel(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -stress.seed=%d)", seed, seed)
	s0 := mm.ReadStats()
	if *evictFlag {
		// Free frames are never above the machine's: the pager never
		// stops.
		old := kernel.SetPagerLow(s0.TotalFrames)
		defer kernel.SetPagerLow(old)
		t.Logf("the pager evicts in every round (its low-water mark %d frames, the machine's memory; -stress.evict=false turns that off)", s0.TotalFrames)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var allocated atomic.Int64
	wg.Add(2)
	go churn(stop, &wg, &allocated)
	go churn(stop, &wg, &allocated)
	gcs := func() uint32 { var m runtime.MemStats; runtime.ReadMemStats(&m); return m.NumGC }
	gc0 := gcs()
	begin := time.Now()
	var total counts
	rounds := 0
	fewest := counts{evictions: ^uint64(0), majors: ^uint64(0), inRound: ^uint64(0)} // the fewest of a round
	report := begin.Add(10 * time.Second)                                            // a long soak says where it is
	for {
		c := round(t, seed+uint64(rounds), *opsFlag)
		total.add(c)
		fewest.evictions, fewest.majors = min(fewest.evictions, c.evictions), min(fewest.majors, c.majors)
		fewest.inRound = min(fewest.inRound, c.inRound)
		rounds++
		now := time.Now()
		if now.Sub(begin) >= *durationFlag {
			break
		}
		if now.After(report) {
			t.Logf("%v: %d rounds, %d operations checked, %d faults, %d evictions, %d major faults; %v to go",
				now.Sub(begin).Round(time.Second), rounds, total.ops, total.faults, total.evictions, total.majors,
				(*durationFlag - now.Sub(begin)).Round(time.Second))
			report = now.Add(10 * time.Second)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d rounds, %d operations checked against the model, %d faults taken and survived, %d pages evicted (%d of the model's tasks by the pager during the operations; %d frames shared copy-on-write) and %d brought back by major faults (a round at least %d, %d and %d), %d MiB churned by the GC workload, %d GCs, in %v",
		rounds, total.ops, total.faults, total.evictions, total.inRound, total.shared, total.majors, fewest.evictions, fewest.inRound, fewest.majors,
		allocated.Load()>>20, gcs()-gc0, time.Since(begin).Round(time.Millisecond))
	// At the end: the store is empty, every frame is back (the rounds
	// checked each), and the store never met a slot it did not know.
	s := mm.ReadStats()
	if s.StorePages != 0 || s.StoreRefs != 0 || s.StoreErrors != s0.StoreErrors {
		t.Fatalf("at the end the store holds %d pages, %d references; %d store errors", s.StorePages, s.StoreRefs, s.StoreErrors-s0.StoreErrors)
	}
	if held(s) != held(s0) {
		runtime.GC()
		if s = mm.ReadStats(); held(s) != held(s0) {
			t.Fatalf("at the end %d frames available (free %d, store %d), %d at the start", held(s), s.FreeFrames, s.StoreFrames, held(s0))
		}
	}
	t.Logf("at the end: the store empty (%d frames), %d frames available as at the start", s.StoreFrames, held(s))
}
