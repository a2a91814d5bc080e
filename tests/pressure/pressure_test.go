//go:build hurdvm

// Package pressure drives the VM past the memory the machine has (make
// test boots it with -m 64M too): calls return ENOMEM or the task gets its
// fault, the kernel survives, nothing leaks, and once memory is freed
// everything works again; the Go runtime itself keeps working while a task
// exhausts memory beside it.
package pressure

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "hurdvm/kernel"
	"hurdvm/mm"
	"hurdvm/tests/internal/probe"
)

const page = mm.PageSize

// exhaust runs in a task: it allocates more than all memory on demand and
// touches it until the VM has no frame left, which ends the task with a
// fault. It returns how many pages it got.
func exhaust(t *testing.T, task *mm.Task) (pages int, err error) {
	err = task.Run(func() {
		free := mm.ReadStats().FreeFrames
		size := uintptr(free+4096) * page
		var x uintptr
		if err := mm.VMAllocate(&x, size, 0, false); err != nil {
			panic(err)
		}
		b := mm.Bytes(x, size)
		for i := uintptr(0); i < size; i += page {
			b[i] = 1
			pages++
		}
	})
	return pages, err
}

func TestDemandPastMemory(t *testing.T) {
	start := mm.ReadStats()
	t.Logf("%d MiB free at the start", start.FreeFrames>>8)
	for round := 0; round < 2; round++ {
		task, err := mm.NewTask()
		if err != nil {
			t.Fatal(err)
		}
		pages, err := exhaust(t, task)
		var fault *mm.TaskFault
		if !errors.As(err, &fault) {
			t.Fatalf("round %d: touching past memory ended with %v, want the task's fault", round, err)
		}
		var rerr runtime.Error
		if !errors.As(err, &rerr) {
			t.Errorf("round %d: the fault is not a runtime error: %v", round, err)
		}
		if err := task.Destroy(); err != nil {
			t.Fatal(err)
		}
		if got := probe.TaskFrames(mm.ReadStats()); got != probe.TaskFrames(start) {
			runtime.GC()
			if got = probe.TaskFrames(mm.ReadStats()); got != probe.TaskFrames(start) {
				t.Fatalf("round %d: %d frames available after the task's end, want %d", round, got, probe.TaskFrames(start))
			}
		}
		t.Logf("round %d: the task got %d MiB, then its fault; all of it came back", round, pages>>8)
	}
}

func TestMapNowPastMemory(t *testing.T) {
	start := mm.ReadStats()
	x := uintptr(0)
	if err := mm.VMAllocate(&x, uintptr(start.FreeFrames+1)*page, 0, true); err != mm.ENOMEM {
		t.Fatalf("map_now of more than all memory: %v, want ENOMEM", err)
	}
	// Take memory in map_now slices until ENOMEM, then give it all back.
	var got []uintptr
	for {
		a := uintptr(0)
		err := mm.VMAllocate(&a, 1<<20, 0, true)
		if err == mm.ENOMEM {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	for _, a := range got {
		if err := mm.VMDeallocate(a, 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) == 0 {
		t.Fatal("not even 1 MiB could be mapped")
	}
	// Everything works again.
	a := uintptr(0)
	if err := mm.VMAllocate(&a, 4<<20, 0, true); err != nil {
		t.Fatalf("after freeing: %v", err)
	}
	mm.Bytes(a, 4<<20)[0] = 1
	mm.VMDeallocate(a, 4<<20)
	if end := probe.TaskFrames(mm.ReadStats()); end != probe.TaskFrames(start) {
		t.Errorf("%d frames available at the end, want %d", end, probe.TaskFrames(start))
	}
	t.Logf("map_now took %d MiB before ENOMEM", len(got))
}

// TestRuntimeUnderPressure: a GC-heavy workload keeps allocating in the Go
// heap (the kernel's own memory) while a task exhausts memory beside it.
// The runtime's reserve (mm.VM.Reserve) keeps it alive.
func TestRuntimeUnderPressure(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var allocated atomic.Int64
	var gcs atomic.Int32
	wg.Add(1)
	go func() {
		defer wg.Done()
		var keep [][]byte
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			keep = append(keep, make([]byte, 32<<10))
			if len(keep) > 32 {
				keep = keep[16:]
			}
			allocated.Add(32 << 10)
			if i%256 == 0 {
				runtime.GC()
				gcs.Add(1)
				time.Sleep(time.Millisecond)
			}
		}
	}()
	task, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	_, err = exhaust(t, task)
	close(stop)
	wg.Wait()
	var fault *mm.TaskFault
	if !errors.As(err, &fault) {
		t.Fatalf("the exhausting task ended with %v, want its fault", err)
	}
	task.Destroy()
	t.Logf("the GC workload allocated %d MiB in %d collections while the task ran out of memory", allocated.Load()>>20, gcs.Load())
}
