package mm

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// Task is an address space with Go code running in it: its own page
// tables with the shared kernel half (the image, the Go heap, the physmap)
// and a private task window, which is where VMAllocate and VMDeallocate
// act while the task runs.
type Task struct {
	mu        sync.Mutex
	id        int32 // the kernel's address-space slot
	running   int
	destroyed bool
}

// ErrDestroyed is returned by Run, Fork and Destroy on a destroyed task.
var ErrDestroyed = errors.New("mm: task destroyed")

// ErrTaskBusy is returned by Destroy while the task runs.
var ErrTaskBusy = errors.New("mm: task is running")

// ErrNotATask is returned by Run, Fork and Destroy on a Task that NewTask
// or Fork did not make (a zero Task): its id would name the kernel task.
var ErrNotATask = errors.New("mm: not a task (a zero mm.Task: make tasks with NewTask or Fork)")

// TaskFault is the error Run returns when f ended with a fault or a panic
// it did not recover.
type TaskFault struct {
	Task  int32
	Value any    // what the panic carried (a runtime.Error for a fault)
	Stack []byte // the goroutine's stack when it panicked
	// For a page fault, as the kernel saw it: the address, the access,
	// and why the VM could not resolve it. Fault says whether they are
	// known (a panic of another kind has none).
	Fault  bool
	Addr   uintptr
	Access Access
	Cause  FaultResult
}

func (e *TaskFault) Error() string {
	if e.Fault {
		return fmt.Sprintf("task %d: %v at %#x (%v): %v", e.Task, e.Access, e.Addr, e.Cause, e.Value)
	}
	return fmt.Sprintf("task %d: %v", e.Task, e.Value)
}

// Unwrap gives the runtime error of a fault, for errors.As.
func (e *TaskFault) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// NewTask makes a task with an empty task window.
func NewTask() (*Task, error) {
	id, err := taskNew(-1)
	if err != nil {
		return nil, err
	}
	return &Task{id: id}, nil
}

// ID is the task's address-space number, as the kernel's messages name it.
func (t *Task) ID() int32 { return t.id }

// Fork makes a child whose regions are the parent's, inherited
// copy-on-write (vm.h: "The region is initially set to be inherited COW by
// its children"): no data frame is copied until one side writes.
func (t *Task) Fork() (*Task, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.usable(); err != nil {
		return nil, err
	}
	id, err := taskNew(t.id)
	if err != nil {
		return nil, err
	}
	return &Task{id: id}, nil
}

// Run runs f in t's address space and waits for it. VMAllocate and
// VMDeallocate called inside f act on t. A fault or panic that f does not
// recover ends f and is returned as a *TaskFault; the kernel and other
// tasks go on. f runs on a goroutine of its own, locked to a kernel thread
// whose page tables are t's for as long as f runs; goroutines f starts run
// in the kernel task.
func (t *Task) Run(f func()) error {
	t.mu.Lock()
	if err := t.usable(); err != nil {
		t.mu.Unlock()
		return err
	}
	t.running++
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.running--
		t.mu.Unlock()
	}()

	done := make(chan error, 1)
	go func() {
		// Never unlocked: when this goroutine ends, the runtime ends its
		// thread too, and nothing else ever runs with t's page tables.
		runtime.LockOSThread()
		debug.SetPanicOnFault(true)
		if err := taskEnter(t.id); err != nil {
			done <- err
			return
		}
		defer func() {
			var err error
			if r := recover(); r != nil {
				tf := &TaskFault{Task: t.id, Value: r, Stack: debug.Stack()}
				if f, ok := taskLastFault(); ok && faultMatches(r, f.Addr) {
					tf.Fault, tf.Addr, tf.Access, tf.Cause = true, f.Addr, f.Access, f.Cause
				}
				err = tf
			}
			taskEnter(kernelTaskID)
			done <- err
		}()
		f()
	}()
	return <-done
}

// Stats returns t's own counters: the faults resolved in its regions,
// copy-on-write copies and reuses, pages resident. Unlike ReadStats, which
// is the whole machine's (the Go runtime's heap faults included), they
// count the task alone.
func (t *Task) Stats() (SpaceStats, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.usable(); err != nil {
		return SpaceStats{}, err
	}
	return taskStats(t.id)
}

// faultMatches reports whether the panic value r is the runtime's panic for
// a fault at addr: a runtime.Error with that address, or, for addresses in
// the first page (which the runtime reports without one), its nil
// dereference.
func faultMatches(r any, addr uintptr) bool {
	if e, ok := r.(interface{ Addr() uintptr }); ok {
		return e.Addr() == addr
	}
	e, ok := r.(runtime.Error)
	return ok && addr < PageSize && strings.Contains(e.Error(), "nil pointer dereference")
}

// Destroy frees t's regions, frames and page tables. A destroyed task
// cannot Run. Frames shared copy-on-write with other tasks stay theirs.
func (t *Task) Destroy() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.usable(); err != nil {
		return err
	}
	if t.running > 0 {
		return ErrTaskBusy
	}
	if err := taskDestroy(t.id); err != nil {
		return err
	}
	t.destroyed = true
	return nil
}

// usable reports why t cannot be used, if it cannot. t.mu is held.
func (t *Task) usable() error {
	switch {
	case t.id == kernelTaskID:
		return ErrNotATask
	case t.destroyed:
		return ErrDestroyed
	}
	return nil
}

// kernelTaskID is the address space of the kernel task, where goroutines
// outside any task act.
const kernelTaskID = 0

// System calls of the task interface.
const (
	SysTaskNew     = 0x48560020 // a0: parent slot or -1; returns the new slot or -Errno
	SysTaskEnter   = 0x48560021 // a0: slot (0: back to the kernel task)
	SysTaskDestroy = 0x48560022 // a0: slot
	SysTaskStats   = 0x48560023 // a0: slot, a1: *SpaceStats, a2: its size
	SysTaskFault   = 0x48560024 // a0: *FaultRecord, a1: its size
)

// FaultRecord is the last page fault of the calling thread that the VM
// could not resolve (the one the runtime then turned into a panic).
type FaultRecord struct {
	Addr   uintptr
	Access Access
	Cause  FaultResult
}
