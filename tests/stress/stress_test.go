//go:build hurdvm

// Package stress beats on the VM in the kernel: the vmmodel operation
// generator, seeded, against real tasks (several at once, the garbage
// collector running beside them), with the model checking every result
// and every byte read. make test runs a few thousand operations; make
// soak runs it for as long as asked (-stress.duration). The seed is printed
// so a failure can be replayed with -stress.seed.
package stress

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "hurdvm/kernel"
	"hurdvm/mm"
	"hurdvm/mm/vmmodel"
	"hurdvm/tests/internal/probe"
)

var (
	seedFlag     = flag.Uint64("stress.seed", 0, "seed of the operation sequence (0: from the clock)")
	opsFlag      = flag.Int("stress.ops", 2000, "operations per round")
	durationFlag = flag.Duration("stress.duration", 0, "keep running rounds for this long (make soak)")
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

func (w *worker) stop(t *testing.T) {
	close(w.ops)
	if err := <-w.done; err != nil {
		t.Fatalf("task worker: %v", err)
	}
	if err := w.task.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// round runs n operations from seed and checks everything; at the end
// every task is destroyed and every frame must be back.
func round(t *testing.T, seed uint64, n int) (ops, faults int) {
	start := mm.ReadStats()
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
	for k, w := range workers {
		for _, a := range recent {
			want, wfault := model.Read(ids[k], a)
			if v, fault := w.access(a, false, 0); fault != wfault || (!fault && v != want) {
				t.Fatalf("seed %d, after %d ops, task %d byte %#x: %#x (fault %v), model says %#x (fault %v)",
					seed, ops, ids[k], a, v, fault, want, wfault)
			}
		}
	}
	for _, w := range workers {
		w.stop(t)
	}
	// The runtime's heap moves beside us; everything else must be back.
	// Its frees can lag a collection: retry once after one.
	if got := probe.TaskFrames(mm.ReadStats()); got != probe.TaskFrames(start) {
		runtime.GC()
		if got = probe.TaskFrames(mm.ReadStats()); got != probe.TaskFrames(start) {
			t.Fatalf("seed %d: %d frames available after destroying every task, want %d", seed, got, probe.TaskFrames(start))
		}
	}
	return ops, faults
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
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var allocated atomic.Int64
	wg.Add(2)
	go churn(stop, &wg, &allocated)
	go churn(stop, &wg, &allocated)
	gcs := func() uint32 { var m runtime.MemStats; runtime.ReadMemStats(&m); return m.NumGC }
	gc0 := gcs()
	begin := time.Now()
	total, faults, rounds := 0, 0, 0
	report := begin.Add(10 * time.Second) // a long soak says where it is
	for {
		n, f := round(t, seed+uint64(rounds), *opsFlag)
		total, faults, rounds = total+n, faults+f, rounds+1
		now := time.Now()
		if now.Sub(begin) >= *durationFlag {
			break
		}
		if now.After(report) {
			t.Logf("%v: %d rounds, %d operations checked, %d faults; %v to go",
				now.Sub(begin).Round(time.Second), rounds, total, faults, (*durationFlag - now.Sub(begin)).Round(time.Second))
			report = now.Add(10 * time.Second)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d rounds, %d operations checked against the model, %d faults taken and survived, %d MiB churned by the GC workload, %d GCs, in %v",
		rounds, total, faults, allocated.Load()>>20, gcs()-gc0, time.Since(begin).Round(time.Millisecond))
}
