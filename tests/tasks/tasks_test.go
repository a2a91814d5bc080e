//go:build hurdvm

// Package tasks tests address spaces with Go code running in them, and
// copy-on-write inheritance by children (vm.h: "The region is initially set
// to be inherited COW by its children").
package tasks

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	_ "hurdvm/kernel"
	"hurdvm/mm"
	"hurdvm/tests/internal/probe"
)

const page = mm.PageSize

// sink keeps reads the test makes only for their fault from being
// optimized away.
var sink byte

func quiet(t *testing.T) {
	runtime.GC()
	old := debug.SetGCPercent(-1)
	t.Cleanup(func() { debug.SetGCPercent(old) })
}

func newTask(t *testing.T) *mm.Task {
	t.Helper()
	task, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// run runs f in task and fails the test if it does not end cleanly.
func run(t *testing.T, task *mm.Task, f func()) {
	t.Helper()
	if err := task.Run(f); err != nil {
		t.Fatal(err)
	}
}

func destroy(t *testing.T, tasks ...*mm.Task) {
	t.Helper()
	for _, task := range tasks {
		if err := task.Destroy(); err != nil {
			t.Fatal(err)
		}
	}
}

// allocIn allocates and fills a region inside task, returning its address.
func allocIn(t *testing.T, task *mm.Task, size uintptr, fill byte, mapNow bool) uintptr {
	t.Helper()
	var addr uintptr
	var err error
	run(t, task, func() {
		if err = mm.VMAllocate(&addr, size, 0, mapNow); err != nil {
			return
		}
		b := mm.Bytes(addr, size)
		for i := uintptr(0); i < size; i += 64 {
			b[i] = fill
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// readIn reads one byte at addr inside task.
func readIn(t *testing.T, task *mm.Task, addr uintptr) byte {
	t.Helper()
	var v byte
	run(t, task, func() { v = mm.Bytes(addr, 1)[0] })
	return v
}

func writeIn(t *testing.T, task *mm.Task, addr uintptr, v byte) {
	t.Helper()
	run(t, task, func() { mm.Bytes(addr, 1)[0] = v })
}

func TestForkSharesThenCopies(t *testing.T) {
	quiet(t)
	start := mm.ReadStats()
	parent := newTask(t)
	const size = 64 * page
	a := allocIn(t, parent, size, 0x11, false)
	beforeFork := mm.ReadStats()
	child, err := parent.Fork()
	if err != nil {
		t.Fatal(err)
	}
	afterFork := mm.ReadStats()
	if used := probe.TaskFrames(beforeFork) - probe.TaskFrames(afterFork); used > 8 {
		t.Errorf("fork of 64 touched pages took %d frames; want page tables only", used)
	}
	if v := readIn(t, child, a+5*page); v != 0x11 {
		t.Fatalf("child reads %#x, want the parent's 0x11", v)
	}
	cow := mm.ReadStats().COWCopies
	writeIn(t, child, a, 0x22)
	if readIn(t, parent, a) != 0x11 {
		t.Error("the child's write reached the parent")
	}
	writeIn(t, parent, a+page, 0x33)
	if readIn(t, child, a+page) != 0x11 {
		t.Error("the parent's write reached the child")
	}
	if readIn(t, child, a) != 0x22 || readIn(t, parent, a+page) != 0x33 {
		t.Error("a task lost its own write")
	}
	if n := mm.ReadStats().COWCopies - cow; n != 2 {
		t.Errorf("%d copy-on-write copies, want 2", n)
	}
	destroy(t, child, parent)
	if got := probe.TaskFrames(mm.ReadStats()); got != probe.TaskFrames(start) {
		t.Errorf("%d frames available after destroying both, want %d", got, probe.TaskFrames(start))
	}
}

func TestForkOfMapNowRegion(t *testing.T) {
	quiet(t)
	parent := newTask(t)
	a := allocIn(t, parent, 4<<20, 0x44, true)
	child, err := parent.Fork()
	if err != nil {
		t.Fatal(err)
	}
	writeIn(t, child, a+3*page, 0x55)
	if readIn(t, parent, a+3*page) != 0x44 || readIn(t, child, a+3*page) != 0x55 || readIn(t, child, a+4*page) != 0x44 {
		t.Error("a huge map_now page was not copied on write, page by page")
	}
	destroy(t, child, parent)
}

func TestGrandchildren(t *testing.T) {
	quiet(t)
	start := mm.ReadStats()
	gen := []*mm.Task{newTask(t)}
	a := allocIn(t, gen[0], 8*page, 1, false)
	for g := 1; g < 4; g++ {
		c, err := gen[g-1].Fork()
		if err != nil {
			t.Fatal(err)
		}
		gen = append(gen, c)
		writeIn(t, c, a+uintptr(g)*page, byte(10+g))
	}
	for g, task := range gen {
		for p := 0; p < 4; p++ {
			want := byte(1)
			if p > 0 && p <= g {
				want = byte(10 + p)
			}
			if v := readIn(t, task, a+uintptr(p)*page); v != want {
				t.Errorf("generation %d page %d reads %d, want %d", g, p, v, want)
			}
		}
	}
	destroy(t, gen[2], gen[0], gen[3], gen[1])
	if got := probe.TaskFrames(mm.ReadStats()); got != probe.TaskFrames(start) {
		t.Errorf("%d frames available after destroying all, want %d", got, probe.TaskFrames(start))
	}
}

func TestSameAddressTwoTasks(t *testing.T) {
	a, b := newTask(t), newTask(t)
	defer destroy(t, a, b)
	x := allocIn(t, a, page, 0xA, false)
	var y uintptr
	run(t, b, func() {
		y = x
		if err := mm.VMAllocate(&y, page, mm.VM_HERE, false); err != nil {
			t.Errorf("the same address in another task: %v", err)
		}
		mm.Bytes(y, 1)[0] = 0xB
	})
	if readIn(t, a, x) != 0xA || readIn(t, b, x) != 0xB {
		t.Error("two tasks at the same address see each other's page")
	}
}

func TestIsolation(t *testing.T) {
	a, b := newTask(t), newTask(t)
	defer destroy(t, a, b)
	x := allocIn(t, a, page, 0x77, false)
	err := b.Run(func() { sink = mm.Bytes(x, 1)[0] })
	var fault *mm.TaskFault
	if !errors.As(err, &fault) {
		t.Fatalf("task b reading task a's page: %v, want a TaskFault", err)
	}
	if e, ok := fault.Value.(interface{ Addr() uintptr }); !ok || e.Addr() != x {
		t.Errorf("fault %v, want one at %#x", fault.Value, x)
	}
	// The error says where, and what the kernel made of it.
	if !fault.Fault || fault.Addr != x || fault.Access != mm.AccessRead || fault.Cause != mm.FaultNoRegion {
		t.Errorf("fault details %+v, want a read at %#x with no region", fault, x)
	}
	if want := fmt.Sprintf("read at %#x (no region there)", x); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	// The kernel task does not see it either.
	_, faulted := func() (v byte, faulted bool) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() { faulted = recover() != nil }()
		return mm.Bytes(x, 1)[0], false
	}()
	if !faulted {
		t.Error("the kernel task read a task's private page")
	}
}

func TestUnrecoveredFaultEndsOnlyTheTask(t *testing.T) {
	task := newTask(t)
	defer destroy(t, task)
	err := task.Run(func() {
		var p *int
		*p = 1
	})
	var fault *mm.TaskFault
	if !errors.As(err, &fault) {
		t.Fatalf("nil write in a task: %v, want a TaskFault", err)
	}
	var rerr runtime.Error
	if !errors.As(err, &rerr) {
		t.Errorf("the fault is not a runtime.Error: %v", err)
	}
	if !fault.Fault || fault.Access != mm.AccessWrite || fault.Addr != 0 {
		t.Errorf("nil write reported as %+v", fault)
	}
	// The task and the kernel go on.
	run(t, task, func() {})
	err = task.Run(func() { panic("on purpose") })
	if !errors.As(err, &fault) || fault.Fault {
		t.Errorf("a panic in a task: %v (fault details %v), want a TaskFault without fault details", err, fault.Fault)
	}
}

// Task.Stats counts the task alone: the Go runtime's own faults beside it
// (ReadStats counts them) are not in it.
func TestTaskStatsAreExact(t *testing.T) {
	task := newTask(t)
	defer destroy(t, task)
	const pages = 2560
	run(t, task, func() {
		var a uintptr
		if err := mm.VMAllocate(&a, pages*page, 0, false); err != nil {
			panic(err)
		}
		b := mm.Bytes(a, pages*page)
		for i := 0; i < pages; i++ {
			b[i*page] = 1
		}
		garbage := make([][]byte, 0, 64) // the runtime's heap faults meanwhile
		for i := 0; i < 64; i++ {
			garbage = append(garbage, make([]byte, 32<<10))
		}
		sink = garbage[63][0]
	})
	st, err := task.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.PageFaults != pages || st.ResidentPages != pages || st.Regions != 1 {
		t.Errorf("task stats %+v, want %d faults, %d resident pages, 1 region", st, pages, pages)
	}
	child, err := task.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer destroy(t, child)
	if cs, _ := child.Stats(); cs.ResidentPages != pages || cs.PageFaults != 0 {
		t.Errorf("child after fork: %+v, want %d resident pages, no faults", cs, pages)
	}
}

func TestDestroyedTask(t *testing.T) {
	task := newTask(t)
	destroy(t, task)
	if err := task.Run(func() {}); err != mm.ErrDestroyed {
		t.Errorf("Run on a destroyed task: %v", err)
	}
	if _, err := task.Fork(); err != mm.ErrDestroyed {
		t.Errorf("Fork of a destroyed task: %v", err)
	}
}

func TestManyTasks(t *testing.T) {
	quiet(t)
	start := mm.ReadStats()
	const n = 64
	tasks := make([]*mm.Task, n)
	addrs := make([]uintptr, n)
	for i := range tasks {
		tasks[i] = newTask(t)
		addrs[i] = allocIn(t, tasks[i], 2*page, byte(i), false)
	}
	var wg sync.WaitGroup
	for i := range tasks {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := tasks[i].Run(func() {
				if v := mm.Bytes(addrs[i], 1)[0]; v != byte(i) {
					panic("a task sees another's data")
				}
			}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	destroy(t, tasks...)
	if got := probe.TaskFrames(mm.ReadStats()); got != probe.TaskFrames(start) {
		t.Errorf("%d frames available after 64 tasks, want %d", got, probe.TaskFrames(start))
	}
}

// BenchmarkFork64MiB forks a task with 64 MiB touched (per fork) and
// destroys the child.
func BenchmarkFork64MiB(b *testing.B) {
	parent, err := mm.NewTask()
	if err != nil {
		b.Fatal(err)
	}
	defer parent.Destroy()
	if err := parent.Run(func() {
		var a uintptr
		if err := mm.VMAllocate(&a, 64<<20, 0, false); err != nil {
			panic(err)
		}
		m := mm.Bytes(a, 64<<20)
		for i := 0; i < len(m); i += page {
			m[i] = 1
		}
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		child, err := parent.Fork()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		child.Destroy()
		b.StartTimer()
	}
}

// BenchmarkCOWFault is the copy-on-write fault: per page a forked child
// writes.
func BenchmarkCOWFault(b *testing.B) {
	const size = 16 << 20
	parent, err := mm.NewTask()
	if err != nil {
		b.Fatal(err)
	}
	defer parent.Destroy()
	var a uintptr
	if err := parent.Run(func() {
		if err := mm.VMAllocate(&a, size, 0, false); err != nil {
			panic(err)
		}
		m := mm.Bytes(a, size)
		for i := 0; i < len(m); i += page {
			m[i] = 1
		}
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		child, err := parent.Fork()
		if err != nil {
			b.Fatal(err)
		}
		n := min(b.N-done, size/page)
		b.StartTimer()
		if err := child.Run(func() {
			m := mm.Bytes(a, size)
			for i := 0; i < n; i++ {
				m[i*page] = 2
			}
		}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		child.Destroy()
		done += n
		b.StartTimer()
	}
}

// A zero mm.Task names no task: its id is the kernel task's slot, and
// forking that once copied the shared Go heap into a child whose clean-up
// then unmapped the live heap for everyone. Every call is refused, and the
// runtime goes on allocating.
func TestZeroTaskIsRefused(t *testing.T) {
	var zero mm.Task
	if child, err := zero.Fork(); !errors.Is(err, mm.ErrNotATask) {
		t.Errorf("Fork of a zero Task: %v, %v; want ErrNotATask", child, err)
	}
	if err := zero.Run(func() {}); !errors.Is(err, mm.ErrNotATask) {
		t.Errorf("Run of a zero Task: %v; want ErrNotATask", err)
	}
	if err := zero.Destroy(); !errors.Is(err, mm.ErrNotATask) {
		t.Errorf("Destroy of a zero Task: %v; want ErrNotATask", err)
	}
	keep := make([][]byte, 0, 64)
	for i := 0; i < 64; i++ {
		keep = append(keep, make([]byte, 64<<10))
	}
	runtime.GC()
	if len(keep[63]) != 64<<10 {
		t.Fatal("allocation after the refusals went wrong")
	}
}
