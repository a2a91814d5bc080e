//go:build hurdvm

// Package vm tests hurd_vm_allocate and hurd_vm_deallocate (mm.VMAllocate,
// mm.VMDeallocate) in the kernel, sentence by sentence of vm.h, on the
// kernel task's address space: real page tables, real frames, real faults.
package vm

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"unsafe"

	_ "hurdvm/kernel"
	"hurdvm/kernel/memmap"
	"hurdvm/mm"
	"hurdvm/tests/internal/probe"
)

const page = mm.PageSize

// quiet stops the garbage collector for the test, so that the runtime's own
// use of memory does not move the kernel-wide counters the test reads.
func quiet(t *testing.T) {
	runtime.GC()
	old := debug.SetGCPercent(-1)
	t.Cleanup(func() { debug.SetGCPercent(old) })
}

func allocate(t *testing.T, addr, size, flags uintptr, mapNow bool) uintptr {
	t.Helper()
	if err := mm.VMAllocate(&addr, size, flags, mapNow); err != nil {
		t.Fatalf("VMAllocate(size %#x, flags %#x, mapNow %v): %v", size, flags, mapNow, err)
	}
	return addr
}

func deallocate(t *testing.T, addr, size uintptr) {
	t.Helper()
	if err := mm.VMDeallocate(addr, size); err != nil {
		t.Fatalf("VMDeallocate(%#x, %#x): %v", addr, size, err)
	}
}

// "Allocate a region of virtual memory to be backed by anonymous storage.
// (Memory is allocated on demand and multiplexed.)"
//
// The fault counter is the machine's: a fault of the runtime's own on
// another CPU between two reads of it counts too (make test boots tests/vm
// at -smp 4, where that happened 1 time in 200, on main as well). A count
// that is off is measured again on a fresh region, up to five times.
func TestOnDemand(t *testing.T) {
	quiet(t)
	for attempt := 1; ; attempt++ {
		off := onDemandOnce(t)
		if off == "" {
			return
		}
		if attempt == 5 {
			t.Fatalf("%s (five times)", off)
		}
		t.Logf("attempt %d: %s: again", attempt, off)
	}
}

// onDemandOnce is one measure of TestOnDemand: it fails the test for
// wrong data or frames, and returns what was off in the fault counts.
func onDemandOnce(t *testing.T) (off string) {
	before := mm.ReadStats()
	a := allocate(t, 0, 64*page, 0, false)
	mid := mm.ReadStats()
	if probe.TaskFrames(mid) != probe.TaskFrames(before) {
		t.Errorf("allocating 64 pages took %d frames before any touch", probe.TaskFrames(before)-probe.TaskFrames(mid))
	}
	for i := uintptr(0); i < 64; i++ {
		mm.Bytes(a+i*page, page)[100] = byte(i)
	}
	after := mm.ReadStats()
	if n := after.PageFaults - mid.PageFaults; n != 64 {
		off = fmt.Sprintf("%d page faults for 64 first touches, want 64", n)
	}
	for i := uintptr(0); i < 64; i++ {
		if v := mm.Bytes(a+i*page, page)[100]; v != byte(i) {
			t.Fatalf("page %d reads %d", i, v)
		}
	}
	if n := mm.ReadStats().PageFaults - after.PageFaults; n != 0 && off == "" {
		off = fmt.Sprintf("reading touched pages took %d faults", n)
	}
	deallocate(t, a, 64*page)
	if got := probe.TaskFrames(mm.ReadStats()); got != probe.TaskFrames(before) {
		t.Errorf("%d frames available after deallocation, want %d", got, probe.TaskFrames(before))
	}
	return off
}

// "The region initially has read and write access permissions set."
func TestReadWrite(t *testing.T) {
	a := allocate(t, 0, page, 0, false)
	defer deallocate(t, a, page)
	b := mm.Bytes(a, page)
	b[0], b[page-1] = 1, 2
	if b[0] != 1 || b[page-1] != 2 {
		t.Fatal("written bytes do not read back")
	}
	// Not executable: jumping into it faults at its address.
	if addr, ok := probe.Fault(func() { callAt(a) }); !ok || addr != a {
		t.Errorf("executing the region: fault %v at %#x, want a fault at %#x", ok, addr, a)
	}
}

// callAt calls the code at addr.
func callAt(addr uintptr) {
	p := &addr
	f := *(*func())(unsafe.Pointer(&p))
	f()
}

// "If FLAGS contains VM_HERE, the region starting at *ADDRESS and continuing
// for SIZE bytes shall be used. If *ADDRESS is an invalid address, EINVAL is
// returned. If any part of the specified region is in use, the operation
// fails and EEXIST is returned."
func TestVMHere(t *testing.T) {
	quiet(t)
	space := allocate(t, 0, 16*page, 0, false)
	deallocate(t, space, 16*page)
	want := space + 4*page
	if a := allocate(t, want, 4*page, mm.VM_HERE, false); a != want {
		t.Fatalf("VM_HERE placed the region at %#x, want %#x", a, want)
	}
	defer deallocate(t, want, 4*page)
	mm.Bytes(want, 4*page)[0] = 42
	for _, c := range []struct {
		name       string
		addr, size uintptr
		want       error
	}{
		{"unaligned", want + 1, page, mm.EINVAL},
		{"null page", 0, page, mm.EINVAL},
		{"kernel image", memmap.KernelBase, page, mm.EINVAL},
		{"where the kernel image was", 16 << 20, page, mm.EINVAL},
		{"heap window", mm.HeapWindowStart, page, mm.EINVAL},
		{"non-canonical", 0x0000_9000_0000_0000, page, mm.EINVAL},
		{"kernel half", 0xffff_8000_0000_0000, page, mm.EINVAL},
		{"wrapping", ^uintptr(0) &^ (page - 1), 2 * page, mm.EINVAL},
		{"same", want, 4 * page, mm.EEXIST},
		{"inside", want + page, page, mm.EEXIST},
		{"covering", want - page, 6 * page, mm.EEXIST},
		{"left edge", want - page, 2 * page, mm.EEXIST},
		{"right edge", want + 3*page, 2 * page, mm.EEXIST},
	} {
		before := mm.ReadStats()
		a := c.addr
		if err := mm.VMAllocate(&a, c.size, mm.VM_HERE, true); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		after := mm.ReadStats()
		if a != c.addr || probe.TaskFrames(after) != probe.TaskFrames(before) || after.Regions != before.Regions {
			t.Errorf("%s: the failed call changed something", c.name)
		}
	}
	if mm.Bytes(want, page)[0] != 42 {
		t.Error("the region's data changed")
	}
}

// "If FLAGS does not contain VM_HERE and there is insufficient space in the
// address space, ENOSPC is returned."
func TestENOSPC(t *testing.T) {
	const window = 1 << 46 // the task window: 64 TiB
	a := uintptr(0)
	if err := mm.VMAllocate(&a, window+page, 0, false); err != mm.ENOSPC {
		t.Fatalf("more than the window: %v, want ENOSPC", err)
	}
	// Fill all but 64 pages of the window (regions cost no frames).
	big := allocate(t, 0, window-64*page, 0, false)
	defer deallocate(t, big, window-64*page)
	if err := mm.VMAllocate(&a, 65*page, 0, false); err != mm.ENOSPC {
		t.Fatalf("65 pages in a 64-page hole: %v, want ENOSPC", err)
	}
	last := allocate(t, 0, 64*page, 0, false)
	deallocate(t, last, 64*page)
}

// "If FLAGS contains VM_ZEROFILL, the backing memory is zerod, otherwise,
// the contents are undefined." Undefined never shows old data.
func TestZeroFill(t *testing.T) {
	for _, flags := range []uintptr{0, mm.VM_ZEROFILL, 0} {
		for _, now := range []bool{false, true} {
			a := allocate(t, 0, 32*page, flags, now)
			b := mm.Bytes(a, 32*page)
			for i, v := range b {
				if v != 0 {
					t.Fatalf("flags %#x mapNow %v: byte %d is %#x", flags, now, i, v)
				}
			}
			for i := range b {
				b[i] = 0xA5 // what the next allocation must not see
			}
			deallocate(t, a, 32*page)
		}
	}
}

// "If SIZE is not a multiple of the page size, EINVAL is returned."
func TestBadSize(t *testing.T) {
	for _, c := range []struct{ size, flags uintptr }{{1, 0}, {page + 1, 0}, {page - 1, 0}, {0, 0}, {page, 1 << 5}} {
		a := uintptr(0)
		if err := mm.VMAllocate(&a, c.size, c.flags, false); err != mm.EINVAL {
			t.Errorf("size %#x flags %#x: %v, want EINVAL", c.size, c.flags, err)
		}
	}
	if err := mm.VMAllocate(nil, page, 0, false); err != mm.EINVAL {
		t.Errorf("nil address: %v, want EINVAL", err)
	}
}

// "If MAP_NOW is true, then physical memory is allocated and a mapping
// established before the function returns."
func TestMapNow(t *testing.T) {
	quiet(t)
	const size = 8<<20 + 5*page
	before := mm.ReadStats()
	a := allocate(t, 0, size, 0, true)
	mid := mm.ReadStats()
	if used := probe.TaskFrames(before) - probe.TaskFrames(mid); used < size/page {
		t.Errorf("map_now took %d frames, want at least %d", used, size/page)
	}
	b := mm.Bytes(a, size)
	for i := 0; i < size; i += page {
		b[i] = 7
	}
	if n := mm.ReadStats().PageFaults - mid.PageFaults; n != 0 {
		t.Errorf("touching a map_now region took %d faults, want none", n)
	}
	deallocate(t, a, size)
	if got := probe.TaskFrames(mm.ReadStats()); got != probe.TaskFrames(before) {
		t.Errorf("%d frames available, want %d", got, probe.TaskFrames(before))
	}
}

// "If there is insufficient memory to perform the operation, ENOMEM is
// returned." A failed call leaves nothing behind.
func TestENOMEM(t *testing.T) {
	quiet(t)
	before := mm.ReadStats()
	too := uintptr(before.FreeFrames+1024) * page
	a := uintptr(0)
	if err := mm.VMAllocate(&a, too, 0, true); err != mm.ENOMEM {
		t.Fatalf("map_now of more than all memory: %v, want ENOMEM", err)
	}
	after := mm.ReadStats()
	if probe.TaskFrames(after) != probe.TaskFrames(before) || after.Regions != before.Regions {
		t.Fatalf("failed map_now left %d frames and %d regions behind",
			probe.TaskFrames(before)-probe.TaskFrames(after), after.Regions-before.Regions)
	}
}

// "Mapped regions need not be deallocated in their entirety", "If the
// region contains multiple existing regions each of those regions is
// deallocated in turn", "If any part of the specified region is not
// actually mapped, that part of the region is ignored."
func TestPartialAndMultiple(t *testing.T) {
	quiet(t)
	space := allocate(t, 0, 40*page, 0, false)
	deallocate(t, space, 40*page)
	before := mm.ReadStats()
	for _, r := range [][2]uintptr{{0, 8}, {10, 14}, {20, 30}} {
		allocate(t, space+r[0]*page, (r[1]-r[0])*page, mm.VM_HERE, false)
		for p := r[0]; p < r[1]; p++ {
			mm.Bytes(space+p*page, 1)[0] = byte(p)
		}
	}
	deallocate(t, space+2*page, 2*page)  // splits the first
	deallocate(t, space+6*page, 16*page) // its tail, the second, gaps, the head of the third
	live := map[uintptr]bool{0: true, 1: true, 4: true, 5: true}
	for p := uintptr(22); p < 30; p++ {
		live[p] = true
	}
	for p := uintptr(0); p < 32; p++ {
		var v byte
		addr, faulted := probe.Fault(func() { v = mm.Bytes(space+p*page, 1)[0] })
		switch {
		case live[p] && (faulted || v != byte(p)):
			t.Errorf("page %d: faulted %v, reads %d; want its data", p, faulted, v)
		case !live[p] && (!faulted || addr != space+p*page):
			t.Errorf("page %d: faulted %v at %#x; want a fault there", p, faulted, addr)
		}
	}
	deallocate(t, space, 40*page)
	if got := mm.ReadStats(); probe.TaskFrames(got) != probe.TaskFrames(before) || got.Regions != before.Regions {
		t.Errorf("after deallocating everything: %d frames available, %d regions; want %d and %d",
			probe.TaskFrames(got), got.Regions, probe.TaskFrames(before), before.Regions)
	}
}

// "If *ADDRESS is an invalid address or SIZE is not a multiple of the page
// size, EINVAL is returned."
func TestDeallocateEINVAL(t *testing.T) {
	a := allocate(t, 0, 2*page, 0, false)
	defer deallocate(t, a, 2*page)
	mm.Bytes(a, 1)[0] = 5
	for _, c := range [][2]uintptr{{a + 1, page}, {a, page + 1}, {a, 1},
		{mm.HeapWindowStart, page}, {memmap.KernelBase, page}, {0xffff_8000_0000_0000, page}, {0x0000_9000_0000_0000, page}} {
		if err := mm.VMDeallocate(c[0], c[1]); err != mm.EINVAL {
			t.Errorf("VMDeallocate(%#x, %#x): %v, want EINVAL", c[0], c[1], err)
		}
	}
	if mm.Bytes(a, 1)[0] != 5 {
		t.Error("a rejected deallocation changed the region")
	}
}

// An access outside any region is a recoverable fault with its address.
func TestFaultOutsideRegion(t *testing.T) {
	a := allocate(t, 0, page, 0, false)
	deallocate(t, a, page)
	if addr, ok := probe.Fault(func() { mm.Bytes(a, 1)[0] = 1 }); !ok || addr != a {
		t.Fatalf("write to a deallocated page: faulted %v at %#x, want %#x", ok, addr, a)
	}
}

func TestConcurrentAllocators(t *testing.T) {
	before := mm.ReadStats()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				a := uintptr(0)
				size := uintptr(1+(g+i)%8) * page
				if err := mm.VMAllocate(&a, size, 0, i%3 == 0); err != nil {
					errs <- err
					return
				}
				b := mm.Bytes(a, size)
				for j := uintptr(0); j < size; j += page {
					b[j] = byte(g)
				}
				for j := uintptr(0); j < size; j += page {
					if b[j] != byte(g) {
						errs <- mm.EEXIST // someone else's page
						return
					}
				}
				if err := mm.VMDeallocate(a, size); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := mm.ReadStats(); got.Regions != before.Regions {
		t.Errorf("regions %d after, want %d", got.Regions, before.Regions)
	}
}

func TestTenThousandCycles(t *testing.T) {
	quiet(t)
	before := mm.ReadStats()
	for i := 0; i < 10000; i++ {
		a := uintptr(0)
		if err := mm.VMAllocate(&a, 4*page, 0, false); err != nil {
			t.Fatal(err)
		}
		mm.Bytes(a, 1)[0] = 1
		mm.Bytes(a+3*page, 1)[0] = 1
		if err := mm.VMDeallocate(a, 4*page); err != nil {
			t.Fatal(err)
		}
	}
	if got := probe.TaskFrames(mm.ReadStats()); got != probe.TaskFrames(before) {
		t.Fatalf("%d frames available after 10,000 cycles, want %d", got, probe.TaskFrames(before))
	}
}
