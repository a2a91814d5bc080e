//go:build hurdvm && hurdvmtest

// Package paging tests the kernel's page tables in the kernel: aliases
// through the physmap, W^X of the kernel image, no page 0, huge pages and
// their splitting, separate address spaces.
package paging

import (
	"testing"
	"unsafe"

	"hurdvm/kernel"
	"hurdvm/mm"
	"hurdvm/paging"
	"hurdvm/tests/internal/probe"
)

var sink byte

func TestPhysmapAlias(t *testing.T) {
	var a uintptr
	if err := mm.VMAllocate(&a, mm.PageSize, 0, true); err != nil {
		t.Fatal(err)
	}
	defer mm.VMDeallocate(a, mm.PageSize)
	tr := kernel.Translate(a + 100)
	if !tr.Mapped || tr.PageSize != mm.PageSize {
		t.Fatalf("translation %+v", tr)
	}
	alias := mm.Bytes(uintptr(kernel.PhysmapBase+tr.Phys), 8)
	copy(mm.Bytes(a+100, 8), "virtual!")
	if string(alias) != "virtual!" {
		t.Errorf("the physmap alias reads %q", alias)
	}
	copy(alias, "physmap!")
	if got := string(mm.Bytes(a+100, 8)); got != "physmap!" {
		t.Errorf("the mapping reads %q after a write through the physmap", got)
	}
}

func TestNoPageZero(t *testing.T) {
	if tr := kernel.Translate(0); tr.Mapped {
		t.Fatalf("page 0 is mapped: %+v", tr)
	}
	if tr := kernel.Translate(0x1000); tr.Mapped {
		t.Fatalf("page 1 is mapped: %+v", tr)
	}
}

const message = "a string constant lives in read-only data"

func TestKernelImageWX(t *testing.T) {
	f := mm.Bytes // a func value points at a word in rodata holding the code's address
	code := **(**uintptr)(unsafe.Pointer(&f))
	ro := uintptr(unsafe.Pointer(unsafe.StringData(message)))
	data := uintptr(unsafe.Pointer(&sink))
	for _, c := range []struct {
		name           string
		addr           uintptr
		writable, exec bool
	}{
		{"text", code, false, true},
		{"rodata", ro, false, false},
		{"data", data, true, false},
	} {
		tr := kernel.Translate(c.addr)
		w := tr.Flags&uint64(paging.Writable) != 0
		x := tr.Flags&uint64(paging.NoExecute) == 0
		if !tr.Mapped || w != c.writable || x != c.exec {
			t.Errorf("%s at %#x: mapped %v writable %v executable %v; want writable %v executable %v",
				c.name, c.addr, tr.Mapped, w, x, c.writable, c.exec)
		}
	}
	if addr, ok := probe.Fault(func() { mm.Bytes(code, 1)[0] = 0xcc }); !ok || addr != code {
		t.Errorf("writing kernel text at %#x: fault %v at %#x", code, ok, addr)
	}
	if addr, ok := probe.Fault(func() { mm.Bytes(ro, 1)[0] = 'A' }); !ok || addr != ro {
		t.Errorf("writing read-only data at %#x: fault %v at %#x", ro, ok, addr)
	}
}

func TestNoExecuteData(t *testing.T) {
	buf := make([]byte, 64)
	buf[0] = 0xc3 // ret: would run if the heap were executable
	p := uintptr(unsafe.Pointer(&buf[0]))
	if addr, ok := probe.Fault(func() { callAt(p) }); !ok || addr != p {
		t.Errorf("executing the heap at %#x: fault %v at %#x", p, ok, addr)
	}
}

func callAt(addr uintptr) {
	p := &addr
	f := *(*func())(unsafe.Pointer(&p))
	f()
}

func TestHugePageSplitKeepsData(t *testing.T) {
	const huge = 2 << 20
	var a uintptr
	if err := mm.VMAllocate(&a, 2*huge, 0, true); err != nil {
		t.Fatal(err)
	}
	defer mm.VMDeallocate(a, 2*huge)
	if a%huge != 0 {
		t.Fatalf("map_now region at %#x is not 2 MiB aligned", a)
	}
	if tr := kernel.Translate(a); tr.PageSize != huge {
		t.Fatalf("map_now of 4 MiB mapped with %d-byte pages, want 2 MiB", tr.PageSize)
	}
	b := mm.Bytes(a, huge)
	for i := 0; i < huge; i += 512 {
		b[i] = byte(i / 512)
	}
	hole := a + 100*mm.PageSize
	if err := mm.VMDeallocate(hole, mm.PageSize); err != nil {
		t.Fatal(err)
	}
	if tr := kernel.Translate(a); !tr.Mapped || tr.PageSize != mm.PageSize {
		t.Errorf("after the split: %+v, want a 4 KiB page", tr)
	}
	if tr := kernel.Translate(a + huge); tr.PageSize != huge {
		t.Errorf("the other huge page became %d-byte pages", tr.PageSize)
	}
	for i := 0; i < huge; i += 512 {
		if p := a + uintptr(i); p >= hole && p < hole+mm.PageSize {
			continue
		}
		if b[i] != byte(i/512) {
			t.Fatalf("byte %#x lost its data after the split", i)
		}
	}
	if addr, ok := probe.Fault(func() { sink = mm.Bytes(hole, 1)[0] }); !ok || addr != hole {
		t.Errorf("the unmapped page: fault %v at %#x", ok, addr)
	}
}

func TestTwoAddressSpacesSameAddress(t *testing.T) {
	a, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	b, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Destroy()
	defer b.Destroy()
	const va = 0x0000_4000_1000_0000
	var pa [2]uint64
	for i, task := range []*mm.Task{a, b} {
		if err := task.Run(func() {
			addr := uintptr(va)
			if err := mm.VMAllocate(&addr, mm.PageSize, mm.VM_HERE, true); err != nil {
				panic(err)
			}
			mm.Bytes(va, 1)[0] = byte(i + 1)
			pa[i] = kernel.Translate(va).Phys
		}); err != nil {
			t.Fatal(err)
		}
	}
	if pa[0] == pa[1] || pa[0] == 0 {
		t.Fatalf("both tasks map %#x to %#x and %#x", uintptr(va), pa[0], pa[1])
	}
	for i, p := range pa {
		if v := *(*byte)(unsafe.Add(nil, kernel.PhysmapBase+p)); v != byte(i+1) {
			t.Errorf("task %d's frame holds %d", i, v)
		}
	}
}
