//go:build hurdvm

package stress

import (
	"bytes"
	"testing"

	"hurdvm/mm"
	"hurdvm/tests/internal/probe"
)

// TestBadInputs tries every class of bad argument against both calls,
// inside a task that has regions with data, and proves that each call
// gives the expected error and changes nothing: the same counters, the
// same regions, the same bytes.
func TestBadInputs(t *testing.T) {
	task, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	defer task.Destroy()
	other, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Destroy()

	const page = mm.PageSize
	var base uintptr
	fill := func(b []byte) {
		for i := range b {
			b[i] = byte(i*7 + 1)
		}
	}
	if err := task.Run(func() {
		if err := mm.VMAllocate(&base, 8*page, 0, false); err != nil {
			panic(err)
		}
		fill(mm.Bytes(base, 8*page))
	}); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 8*page)
	fill(want)

	type call struct {
		name  string
		alloc bool
		addr  uintptr
		size  uintptr
		flags uintptr
		nilp  bool
		err   error
	}
	nonCanonical := uintptr(0x0000_8000_0000_0000)
	kernelHalf := uintptr(0xffff_8000_0000_0000)
	top := ^uintptr(0) &^ (page - 1)
	calls := []call{
		{"allocate unaligned address", true, base + 8*page + 1, page, mm.VM_HERE, false, mm.EINVAL},
		{"allocate size zero", true, 0, 0, 0, false, mm.EINVAL},
		{"allocate one byte", true, 0, 1, 0, false, mm.EINVAL},
		{"allocate page and a byte", true, 0, page + 1, 0, false, mm.EINVAL},
		{"allocate huge (more than the window)", true, 0, 1 << 47, 0, false, mm.ENOSPC},
		{"allocate huge at a place", true, base + 8*page, 1 << 47, mm.VM_HERE, false, mm.EINVAL},
		{"allocate wrapping", true, top, 2 * page, mm.VM_HERE, false, mm.EINVAL},
		{"allocate non-canonical", true, nonCanonical, page, mm.VM_HERE, false, mm.EINVAL},
		{"allocate kernel half", true, kernelHalf, page, mm.VM_HERE, false, mm.EINVAL},
		{"allocate kernel image", true, 16 << 20, page, mm.VM_HERE, false, mm.EINVAL},
		{"allocate null page", true, 0, page, mm.VM_HERE, false, mm.EINVAL},
		{"allocate unknown flag", true, 0, page, 1 << 2, false, mm.EINVAL},
		{"allocate all flags", true, 0, page, ^uintptr(0), false, mm.EINVAL},
		{"allocate over a region", true, base + page, page, mm.VM_HERE, false, mm.EEXIST},
		{"allocate nil address", true, 0, page, 0, true, mm.EINVAL},
		{"deallocate unaligned address", false, base + 1, page, 0, false, mm.EINVAL},
		{"deallocate one byte", false, base, 1, 0, false, mm.EINVAL},
		{"deallocate page and a byte", false, base, page + 1, 0, false, mm.EINVAL},
		{"deallocate wrapping", false, top, 2 * page, 0, false, mm.EINVAL},
		{"deallocate non-canonical", false, nonCanonical, page, 0, false, mm.EINVAL},
		{"deallocate kernel half", false, kernelHalf, page, 0, false, mm.EINVAL},
		{"deallocate kernel image", false, 16 << 20, page, 0, false, mm.EINVAL},
		{"deallocate huge", false, base, 1 << 47, 0, false, mm.EINVAL},
		{"deallocate size zero", false, base, 0, 0, false, nil}, // nothing to do
	}
	for _, c := range calls {
		before := mm.ReadStats()
		var err error
		if runErr := task.Run(func() {
			if c.alloc {
				a := c.addr
				p := &a
				if c.nilp {
					p = nil
				}
				err = mm.VMAllocate(p, c.size, c.flags, true)
				if p != nil && a != c.addr {
					t.Errorf("%s: *address changed to %#x", c.name, a)
				}
			} else {
				err = mm.VMDeallocate(c.addr, c.size)
			}
		}); runErr != nil {
			t.Fatalf("%s: %v", c.name, runErr)
		}
		if err != c.err {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
		after := mm.ReadStats()
		if after.Regions != before.Regions || probe.TaskFrames(after) != probe.TaskFrames(before) {
			t.Errorf("%s: regions %d -> %d, frames %d -> %d", c.name, before.Regions, after.Regions, probe.TaskFrames(before), probe.TaskFrames(after))
		}
	}

	// The other task's window: the same addresses are its own, so its
	// calls there touch nothing of this task.
	if err := other.Run(func() {
		if err := mm.VMDeallocate(base, 8*page); err != nil {
			t.Errorf("deallocating in another task: %v", err)
		}
		a := base
		if err := mm.VMAllocate(&a, 8*page, mm.VM_HERE, true); err != nil {
			t.Errorf("the same range in another task: %v", err)
		}
		clear(mm.Bytes(a, 8*page))
	}); err != nil {
		t.Fatal(err)
	}
	if err := task.Run(func() {
		if got := mm.Bytes(base, 8*page); !bytes.Equal(got, want) {
			t.Error("the task's data changed")
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bad calls, each with its error and nothing changed", len(calls))
}
