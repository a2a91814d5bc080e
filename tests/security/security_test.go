//go:build hurdvm && hurdvmtest

// Package security tests the VM's isolation properties in the kernel: no
// task sees another's data or the kernel's (fresh frames never carry old
// contents), kernel text is not writable, data is not executable, page 0
// is never mapped, and no task can map into the kernel's part of the
// address space.
package security

import (
	"errors"
	"testing"
	"time"
	"unsafe"

	"hurdvm/kernel"
	"hurdvm/mm"
	"hurdvm/tests/internal/probe"
)

const page = mm.PageSize

var sink byte

// TestFreshFramesCarryNothing: a task fills memory with a secret and dies;
// every later allocation, on demand or map_now, in another task or the
// kernel task, reads zeros.
func TestFreshFramesCarryNothing(t *testing.T) {
	const size = 16 << 20
	const secret = 0xA7
	for round := 0; round < 2; round++ {
		a, err := mm.NewTask()
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Run(func() {
			var x uintptr
			if err := mm.VMAllocate(&x, size, 0, round == 1); err != nil {
				panic(err)
			}
			b := mm.Bytes(x, size)
			for i := range b {
				b[i] = secret
			}
		}); err != nil {
			t.Fatal(err)
		}
		a.Destroy()
		b, err := mm.NewTask()
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		if err := b.Run(func() {
			var x uintptr
			if err := mm.VMAllocate(&x, size, 0, round == 0); err != nil {
				panic(err)
			}
			for _, v := range mm.Bytes(x, size) {
				if v != 0 {
					found++
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		b.Destroy()
		if found != 0 {
			t.Errorf("round %d: %d non-zero bytes in fresh memory", round, found)
		}
	}
}

func TestKernelTextNotWritable(t *testing.T) {
	f := TestKernelTextNotWritable
	code := **(**uintptr)(unsafe.Pointer(&f))
	if addr, ok := probe.Fault(func() { mm.Bytes(code, 1)[0] = 0xcc }); !ok || addr != code {
		t.Fatalf("write to kernel text at %#x: fault %v at %#x", code, ok, addr)
	}
}

func TestDataNotExecutable(t *testing.T) {
	for _, where := range []string{"heap", "region"} {
		var p uintptr
		if where == "heap" {
			buf := make([]byte, 16)
			buf[0] = 0xc3
			p = uintptr(unsafe.Pointer(&buf[0]))
		} else {
			if err := mm.VMAllocate(&p, page, 0, true); err != nil {
				t.Fatal(err)
			}
			mm.Bytes(p, 1)[0] = 0xc3
			defer mm.VMDeallocate(p, page)
		}
		fn := &p
		call := *(*func())(unsafe.Pointer(&fn))
		if addr, ok := probe.Fault(call); !ok || addr != p {
			t.Errorf("executing the %s at %#x: fault %v at %#x", where, p, ok, addr)
		}
	}
}

func TestPageZeroNeverMapped(t *testing.T) {
	task, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	defer task.Destroy()
	for _, in := range []*mm.Task{nil, task} {
		check := func() {
			if tr := kernel.Translate(0); tr.Mapped {
				t.Errorf("page 0 mapped: %+v", tr)
			}
			a := uintptr(0)
			if err := mm.VMAllocate(&a, page, mm.VM_HERE, false); err != mm.EINVAL {
				t.Errorf("allocating page 0: %v, want EINVAL", err)
			}
		}
		if in == nil {
			check()
		} else if err := in.Run(check); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNoMappingIntoTheKernel(t *testing.T) {
	task, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	defer task.Destroy()
	for _, addr := range []uintptr{0xffff_8000_0000_0000, kernel.PhysmapBase + 16<<20, uintptr(kernel.Image().Start), 16 << 20, mm.HeapWindowStart, 0xfee0_0000} {
		if err := task.Run(func() {
			a := addr
			if err := mm.VMAllocate(&a, page, mm.VM_HERE, true); err != mm.EINVAL {
				t.Errorf("VM_HERE at %#x: %v, want EINVAL", addr, err)
			}
			if err := mm.VMDeallocate(addr, page); err != mm.EINVAL {
				t.Errorf("deallocating %#x: %v, want EINVAL", addr, err)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTasksCannotReadEachOther(t *testing.T) {
	a, _ := mm.NewTask()
	b, _ := mm.NewTask()
	defer a.Destroy()
	defer b.Destroy()
	var x uintptr
	if err := a.Run(func() {
		if err := mm.VMAllocate(&x, page, 0, true); err != nil {
			panic(err)
		}
		mm.Bytes(x, 1)[0] = 0x42
	}); err != nil {
		t.Fatal(err)
	}
	err := b.Run(func() { sink = mm.Bytes(x, 1)[0] })
	var tf *mm.TaskFault
	if !errors.As(err, &tf) {
		t.Fatalf("task b reading task a's page: %v", err)
	}
	if _, ok := probe.Fault(func() { sink = mm.Bytes(x, 1)[0] }); !ok {
		t.Error("the kernel task reads a task's page")
	}
}

// TestIdleZeroedFramesAreZero: memory a task dirtied and gave back is
// cleared by the idle CPU ahead of use; what the next task gets from it,
// map_now or on demand, reads zero.
func TestIdleZeroedFramesAreZero(t *testing.T) {
	const size = 16 << 20
	a, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(func() {
		var x uintptr
		if err := mm.VMAllocate(&x, size, 0, true); err != nil {
			panic(err)
		}
		b := mm.Bytes(x, size)
		for i := range b {
			b[i] = 0xC3
		}
	}); err != nil {
		t.Fatal(err)
	}
	a.Destroy()
	time.Sleep(200 * time.Millisecond) // idle: the CPU clears free blocks
	if z := mm.ReadStats().ZeroFrames; z < size/page {
		t.Errorf("%d frames cleared ahead of use after 200 ms idle, want at least %d", z, size/page)
	}
	for _, now := range []bool{true, false} {
		b, err := mm.NewTask()
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		if err := b.Run(func() {
			var x uintptr
			if err := mm.VMAllocate(&x, size, 0, now); err != nil {
				panic(err)
			}
			for _, v := range mm.Bytes(x, size) {
				if v != 0 {
					bad++
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		b.Destroy()
		if bad != 0 {
			t.Errorf("map_now %v: %d non-zero bytes in memory cleared ahead of use", now, bad)
		}
	}
}

// TestKernelLeftTheLowerHalf: the kernel's own tables map nothing in the
// lower half, which a process owns (docs/DESIGN.md, "Memory layout"): not
// page 0, not the AP trampoline's page once the CPUs are up, not where the
// image, the heap window, the CPUs' stacks and the local APIC used to be;
// and the kernel's image, heap and physmap are where the layout says, in
// the upper half.
func TestKernelLeftTheLowerHalf(t *testing.T) {
	for _, c := range []struct {
		what string
		addr uintptr
	}{
		{"page 0", 0},
		{"the AP trampoline", 0x8000},
		{"the first MiB", 0xb8000},
		{"16 MiB, the image's frames", 16 << 20},
		{"the local APIC's registers", 0xfee0_0000},
		{"the old CPU windows", 0x0080_0000_0000},
		{"the old heap window", 0x00c0_0000_0000},
	} {
		if tr := kernel.Translate(c.addr); tr.Mapped {
			t.Errorf("%s (%#x) is mapped in the kernel's own space: %+v", c.what, c.addr, tr)
		}
	}
	heap := new(uint64)
	escape = heap
	for _, c := range []struct {
		what     string
		addr, lo uintptr
		hi       uint64
	}{
		{"the image", uintptr(kernel.Image().Start), 0xffff_ffff_8000_0000, 1<<64 - 1},
		{"a heap object", uintptr(unsafe.Pointer(heap)), mm.HeapWindowStart, mm.HeapWindowEnd - 1},
	} {
		if uint64(c.addr) < uint64(c.lo) || uint64(c.addr) > c.hi {
			t.Errorf("%s is at %#x, outside %#x-%#x", c.what, c.addr, c.lo, c.hi)
		}
		if tr := kernel.Translate(c.addr); !tr.Mapped {
			t.Errorf("%s (%#x) is not mapped", c.what, c.addr)
		}
	}
}

// escape keeps TestKernelLeftTheLowerHalf's heap object on the heap.
var escape *uint64
