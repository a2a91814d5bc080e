package mm

import (
	"testing"

	"hurdvm/paging"
)

// A simulated machine for the VM: frames in an arena, page tables in the
// same arena, a TLB that counts. The "CPU" is access(): it walks the page
// tables like the MMU and calls Fault the way the kernel's #PF handler does.

type testTables struct {
	fa  *FrameAllocator
	tlb *countTLB
}

func (t testTables) AllocTable() (uint64, bool) {
	pa, err := t.fa.AllocZeroed(0)
	return uint64(pa), err == nil
}
func (t testTables) FreeTable(pa uint64) {
	if t.tlb.pending != 0 {
		// Another CPU could still walk it: paging frees a table only
		// after the shootdown of the operation that unlinked it.
		panic("a page table freed before its shootdown")
	}
	if err := t.fa.Free(PhysAddr(pa), 0); err != nil {
		panic(err)
	}
}

// countTLB counts. pending is what the next Sync sends to the other
// CPUs; shootdowns counts the Syncs that had something to send (the
// kernel's IPIs to each CPU with the space loaded).
type countTLB struct {
	invalidations, flushes, syncs, local int
	pending, shootdowns                  int
}

func (c *countTLB) Invalidate(va uintptr)       { c.invalidations++; c.pending++ }
func (c *countTLB) FlushAll()                   { c.flushes++; c.pending++ }
func (c *countTLB) InvalidateLocal(va uintptr)  { c.local++ }
func (c *countTLB) InvalidateTables(va uintptr) { c.invalidations++; c.pending++ }
func (c *countTLB) Sync(root uint64) {
	c.syncs++
	if c.pending != 0 {
		c.shootdowns++
		c.pending = 0
	}
}

type testMachine struct {
	t      testing.TB
	ar     *arena
	fa     FrameAllocator
	env    paging.Env
	tlb    countTLB
	vm     VM
	faults int // faults the "CPU" took
	// cpu is the simulated CPU the operations run on: the allocator
	// keeps a cache for each of two (diffRun alternates them).
	cpu int
	// evictEvery > 0: diffRun runs the pager every evictEvery operations.
	evictEvery int
}

const (
	testWindowStart = 0x0000_4000_0000_0000
	testWindowEnd   = 0x0000_4000_4000_0000 // 1 GiB
)

func newTestMachine(t testing.TB, memBytes PhysAddr) *testMachine {
	t.Helper()
	m := &testMachine{t: t}
	m.ar = newArena(t, 0, memBytes)
	if err := m.fa.Init(m.ar.physOffset, []PhysRange{{1 << 20, memBytes}}, nil); err != nil {
		t.Fatal(err)
	}
	m.fa.EnableCaches(2, func() int { return m.cpu })
	m.env = paging.Env{PhysOffset: m.ar.physOffset, Frames: testTables{&m.fa, &m.tlb}, TLB: &m.tlb}
	m.vm = VM{Frames: &m.fa, Env: &m.env, NoExecute: true}
	return m
}

func (m *testMachine) space() *AddressSpace {
	m.t.Helper()
	as := new(AddressSpace)
	if err := as.Init(&m.vm, testWindowStart, testWindowEnd); err != nil {
		m.t.Fatal(err)
	}
	return as
}

func (m *testMachine) free() uint64 { return m.fa.Stats().FreeFrames }

// sharing gives m's VM a SpaceTable over *list, the test's live spaces
// (read at each use), so that the pager evicts frames shared copy-on-write
// from every sharer. Host tests run one thread: no locks.
func (m *testMachine) sharing(list *[]*AddressSpace) {
	m.vm.Spaces = SpaceTable{N: 64, // more than any test holds at once
		TryLock: func(i int) (*AddressSpace, bool) {
			if i < len(*list) && (*list)[i].PT.Live() {
				return (*list)[i], false
			}
			return nil, false
		},
		Unlock: func(int) {}}
}

// access performs a 1-byte access at va like the CPU: translate, fault if
// needed (once), then touch the byte through the physmap. It returns the
// fault result when the access could not be made.
func (m *testMachine) access(as *AddressSpace, va uintptr, acc Access, val byte) (byte, FaultResult) {
	for try := 0; try < 2; try++ {
		pa, flags, _, ok := as.PT.Translate(va)
		if ok && (acc != AccessWrite || flags&paging.Writable != 0) {
			b := m.ar.bytes(PhysAddr(pa), 1)
			if acc == AccessWrite {
				b[0] = val
			}
			return b[0], FaultResolved
		}
		m.faults++
		if r := as.Fault(va, acc); r != FaultResolved {
			return 0, r
		}
	}
	m.t.Fatalf("access at %#x still faults after Fault resolved it", va)
	return 0, FaultNoRegion
}

func (m *testMachine) write(as *AddressSpace, va uintptr, b byte) {
	m.t.Helper()
	if _, r := m.access(as, va, AccessWrite, b); r != FaultResolved {
		m.t.Fatalf("write at %#x: fault result %d", va, r)
	}
}

func (m *testMachine) read(as *AddressSpace, va uintptr) byte {
	m.t.Helper()
	v, r := m.access(as, va, AccessRead, 0)
	if r != FaultResolved {
		m.t.Fatalf("read at %#x: fault result %d", va, r)
	}
	return v
}

func mustAllocate(t testing.TB, as *AddressSpace, addr uintptr, size, flags uintptr, mapNow bool) uintptr {
	t.Helper()
	a := addr
	if err := as.Allocate(&a, size, flags, mapNow); err != nil {
		t.Fatalf("Allocate(%#x, %#x, %#x, %v): %v", addr, size, flags, mapNow, err)
	}
	return a
}

// "Allocate a region of virtual memory to be backed by anonymous storage.
// (Memory is allocated on demand and multiplexed.)"
func TestAllocateIsOnDemand(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	as := m.space()
	base := m.free()
	a := mustAllocate(t, as, 0, 16*PageSize, 0, false)
	if got := m.free(); got != base {
		t.Fatalf("allocation took %d frames before any touch", base-got)
	}
	for i := uintptr(0); i < 16; i++ {
		m.write(as, a+i*PageSize+7, byte(i+1))
	}
	if m.faults != 16 || m.vm.ReadStats().PageFaults != 16 {
		t.Fatalf("%d faults taken, %d counted; want one per page (16)", m.faults, m.vm.ReadStats().PageFaults)
	}
	for i := uintptr(0); i < 16; i++ {
		if v := m.read(as, a+i*PageSize+7); v != byte(i+1) {
			t.Fatalf("page %d reads %d", i, v)
		}
	}
	if m.faults != 16 {
		t.Fatalf("reading touched pages faulted (%d faults)", m.faults)
	}
}

// "The region initially has read and write access permissions set." and
// "The region is initially set to be inherited COW by its children."
func TestAllocateDefaults(t *testing.T) {
	m := newTestMachine(t, 16<<20)
	as := m.space()
	a := mustAllocate(t, as, 0, PageSize, 0, false)
	r, ok := as.Regions.Find(a)
	if !ok || r.Prot != ProtRead|ProtWrite || r.Inherit != InheritCopy {
		t.Fatalf("region %+v (found %v), want read/write and inherited copy-on-write", r, ok)
	}
	if _, res := m.access(as, a, AccessExec, 0); res != FaultProtection {
		t.Errorf("executing from the region: %d, want a protection fault", res)
	}
}

// "If FLAGS contains VM_HERE, the region starting at *ADDRESS and continuing
// for SIZE bytes shall be used. If *ADDRESS is an invalid address, EINVAL is
// returned. If any part of the specified region is in use, the operation
// fails and EEXIST is returned."
func TestVMHere(t *testing.T) {
	m := newTestMachine(t, 16<<20)
	as := m.space()
	want := uintptr(testWindowStart + 0x10_0000)
	if a := mustAllocate(t, as, want, 4*PageSize, VM_HERE, false); a != want {
		t.Fatalf("VM_HERE gave %#x, want %#x", a, want)
	}
	for _, c := range []struct {
		name string
		addr uintptr
		size uintptr
		want error
	}{
		{"unaligned", want + 1, PageSize, EINVAL},
		{"below the window", testWindowStart - PageSize, PageSize, EINVAL},
		{"past the window", testWindowEnd - PageSize, 2 * PageSize, EINVAL},
		{"non-canonical", 0x0000_9000_0000_0000, PageSize, EINVAL},
		{"kernel half", 0xffff_8000_0000_0000, PageSize, EINVAL},
		{"wrapping", ^uintptr(0) &^ (PageSize - 1), 2 * PageSize, EINVAL},
		{"same range", want, 4 * PageSize, EEXIST},
		{"inside", want + PageSize, PageSize, EEXIST},
		{"covering", want - PageSize, 6 * PageSize, EEXIST},
		{"left edge", want - PageSize, 2 * PageSize, EEXIST},
		{"right edge", want + 3*PageSize, 2 * PageSize, EEXIST},
	} {
		before, regions := m.free(), as.Regions.Len()
		a := c.addr
		if err := as.Allocate(&a, c.size, VM_HERE, true); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if a != c.addr || m.free() != before || as.Regions.Len() != regions {
			t.Errorf("%s: the failed call changed something", c.name)
		}
	}
	// Touching neighbours is fine.
	mustAllocate(t, as, want+4*PageSize, PageSize, VM_HERE, false)
	mustAllocate(t, as, want-PageSize, PageSize, VM_HERE, false)
}

// "If FLAGS does not contain VM_HERE and there is insufficient space in the
// address space, ENOSPC is returned."
func TestNoSpace(t *testing.T) {
	m := newTestMachine(t, 16<<20)
	as := m.space()
	a := uintptr(0)
	if err := as.Allocate(&a, testWindowEnd-testWindowStart+PageSize, 0, false); err != ENOSPC {
		t.Fatalf("larger than the window: %v, want ENOSPC", err)
	}
	mustAllocate(t, as, 0, testWindowEnd-testWindowStart-PageSize, 0, false)
	if err := as.Allocate(&a, 2*PageSize, 0, false); err != ENOSPC {
		t.Fatalf("two pages in a one-page hole: %v, want ENOSPC", err)
	}
	mustAllocate(t, as, 0, PageSize, 0, false) // the last page still fits
}

// "If FLAGS contains VM_ZEROFILL, the backing memory is zerod, otherwise,
// the contents are undefined." Undefined never means someone's old data.
func TestZeroFillAndNoOldData(t *testing.T) {
	m := newTestMachine(t, 16<<20)
	as := m.space()
	a := mustAllocate(t, as, 0, 8*PageSize, 0, true)
	for i := uintptr(0); i < 8*PageSize; i += 512 {
		m.write(as, a+i, 0xAA)
	}
	if err := as.Deallocate(a, 8*PageSize); err != nil {
		t.Fatal(err)
	}
	for _, flags := range []uintptr{VM_ZEROFILL, 0} {
		for _, now := range []bool{false, true} {
			b := mustAllocate(t, as, 0, 8*PageSize, flags, now)
			for i := uintptr(0); i < 8*PageSize; i += 512 {
				if v := m.read(as, b+i); v != 0 {
					t.Fatalf("flags %#x mapNow %v: byte %#x reads %#x", flags, now, i, v)
				}
				m.write(as, b+i, 0x55)
			}
			if err := as.Deallocate(b, 8*PageSize); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// "If SIZE is not a multiple of the page size, EINVAL is returned."
func TestAllocateBadSizeAndFlags(t *testing.T) {
	m := newTestMachine(t, 16<<20)
	as := m.space()
	for _, c := range []struct {
		size, flags uintptr
	}{{1, 0}, {PageSize + 1, 0}, {PageSize - 1, VM_HERE}, {0, 0}, {PageSize, 1 << 7}} {
		a := uintptr(testWindowStart)
		if err := as.Allocate(&a, c.size, c.flags, false); err != EINVAL {
			t.Errorf("size %#x flags %#x: %v, want EINVAL", c.size, c.flags, err)
		}
	}
	if as.Regions.Len() != 0 {
		t.Fatal("a failed call left a region")
	}
}

// "If MAP_NOW is true, then physical memory is allocated and a mapping
// established before the function returns."
func TestMapNow(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	as := m.space()
	base := m.free()
	const size = 4<<20 + 3*PageSize
	a := mustAllocate(t, as, 0, size, 0, true)
	if a%paging.HugePageSize != 0 {
		t.Errorf("a map_now region of 4 MiB starts at %#x, not 2 MiB aligned", a)
	}
	if used := base - m.free(); used < size/PageSize {
		t.Fatalf("map_now used %d frames, want at least %d", used, size/PageSize)
	}
	if _, _, ps, _ := as.PT.Translate(a); ps != paging.HugePageSize {
		t.Errorf("first page mapped with %d-byte pages, want 2 MiB", ps)
	}
	for off := uintptr(0); off < size; off += PageSize {
		m.write(as, a+off, 1)
	}
	if m.faults != 0 || m.vm.ReadStats().PageFaults != 0 {
		t.Fatalf("touching a map_now region faulted %d times", m.faults)
	}
	if err := as.Deallocate(a, size); err != nil {
		t.Fatal(err)
	}
	if got := m.free(); got != base {
		t.Fatalf("FreeFrames %d after deallocation, want %d", got, base)
	}
}

// "If there is insufficient memory to perform the operation, ENOMEM is
// returned." And nothing is left behind.
func TestAllocateENOMEM(t *testing.T) {
	m := newTestMachine(t, 8<<20)
	as := m.space()
	base := m.free()
	a := uintptr(0)
	if err := as.Allocate(&a, 64<<20, 0, true); err != ENOMEM {
		t.Fatalf("map_now of 64 MiB on 8 MiB: %v, want ENOMEM", err)
	}
	if m.free() != base || as.Regions.Len() != 0 {
		t.Fatalf("failed map_now left %d frames used and %d regions", base-m.free(), as.Regions.Len())
	}
	// On demand the same region is fine, until the frames run out.
	a = mustAllocate(t, as, 0, 64<<20, 0, false)
	var res FaultResult
	for off := uintptr(0); off < 64<<20; off += PageSize {
		if _, res = m.access(as, a+off, AccessWrite, 1); res != FaultResolved {
			break
		}
	}
	if res != FaultNoMemory {
		t.Fatalf("demand paging past the end of memory: %d, want FaultNoMemory", res)
	}
	if err := as.Deallocate(a, 64<<20); err != nil {
		t.Fatal(err)
	}
	if m.free() != base {
		t.Fatalf("FreeFrames %d after freeing everything, want %d", m.free(), base)
	}
}

// "Mapped regions need not be deallocated in their entirety", "If the
// region contains multiple existing regions each of those regions is
// deallocated in turn", "If any part of the specified region is not
// actually mapped, that part of the region is ignored."
func TestPartialAndMultiRegionDeallocate(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	as := m.space()
	base := m.free()
	w := uintptr(testWindowStart)
	// Three regions with gaps: [0,8) [10,14) [20,30) pages, all touched.
	for _, r := range [][2]uintptr{{0, 8}, {10, 14}, {20, 30}} {
		mustAllocate(t, as, w+r[0]*PageSize, (r[1]-r[0])*PageSize, VM_HERE, false)
		for p := r[0]; p < r[1]; p++ {
			m.write(as, w+p*PageSize, byte(p))
		}
	}
	// The middle of the first (a split), the tail of the first through the
	// head of the third, gaps included.
	if err := as.Deallocate(w+2*PageSize, 2*PageSize); err != nil {
		t.Fatal(err)
	}
	if err := as.Deallocate(w+6*PageSize, 16*PageSize); err != nil {
		t.Fatal(err)
	}
	live := map[uintptr]bool{0: true, 1: true, 4: true, 5: true}
	for p := uintptr(22); p < 30; p++ {
		live[p] = true
	}
	for p := uintptr(0); p < 32; p++ {
		v, res := m.access(as, w+p*PageSize, AccessRead, 0)
		switch {
		case live[p] && (res != FaultResolved || v != byte(p)):
			t.Errorf("page %d: result %d value %d, want its data %d", p, res, v, p)
		case !live[p] && res != FaultNoRegion:
			t.Errorf("page %d: result %d, want no region", p, res)
		}
	}
	if as.Regions.Len() != 3 {
		t.Errorf("%d regions, want 3 ([0,2) [4,6) [22,30))", as.Regions.Len())
	}
	// Everything, with unmapped parts, gives every frame back.
	if err := as.Deallocate(w, 64*PageSize); err != nil {
		t.Fatal(err)
	}
	if m.free() != base {
		t.Fatalf("FreeFrames %d, want %d", m.free(), base)
	}
	if err := as.Deallocate(w, 64*PageSize); err != nil {
		t.Fatalf("deallocating nothing: %v", err)
	}
}

// "If *ADDRESS is an invalid address or SIZE is not a multiple of the page
// size, EINVAL is returned."
func TestDeallocateEINVAL(t *testing.T) {
	m := newTestMachine(t, 16<<20)
	as := m.space()
	a := mustAllocate(t, as, 0, 4*PageSize, 0, false)
	m.write(as, a, 9)
	for _, c := range [][2]uintptr{{a + 1, PageSize}, {a, PageSize + 1}, {a, 1},
		{0xffff_8000_0000_0000, PageSize}, {0x0000_9000_0000_0000, PageSize}, {testWindowEnd, PageSize}} {
		if err := as.Deallocate(c[0], c[1]); err != EINVAL {
			t.Errorf("Deallocate(%#x, %#x): %v, want EINVAL", c[0], c[1], err)
		}
	}
	if m.read(as, a) != 9 || as.Regions.Len() != 1 {
		t.Fatal("a rejected deallocation changed the region")
	}
	if err := as.Deallocate(a, 0); err != nil {
		t.Errorf("size 0: %v, want success (nothing to do)", err)
	}
}

func TestFaultOutsideRegions(t *testing.T) {
	m := newTestMachine(t, 16<<20)
	as := m.space()
	if _, r := m.access(as, testWindowStart+PageSize, AccessRead, 0); r != FaultNoRegion {
		t.Fatalf("fault with no region: %d", r)
	}
}

func TestForkCopyOnWrite(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	start := m.free()
	parent := m.space()
	a := mustAllocate(t, parent, 0, 8*PageSize, 0, false)
	h := mustAllocate(t, parent, 0, 2<<20, 0, true) // a huge page
	for i := uintptr(0); i < 8; i++ {
		m.write(parent, a+i*PageSize, byte(10+i))
	}
	m.write(parent, h+5*PageSize, 77)
	before := m.free()
	child := m.space()
	if err := parent.ForkInto(child); err != nil {
		t.Fatal(err)
	}
	if used := before - m.free(); used > 8 {
		t.Errorf("fork used %d frames; want tables only", used)
	}
	for i := uintptr(0); i < 8; i++ {
		if v := m.read(child, a+i*PageSize); v != byte(10+i) {
			t.Fatalf("child page %d reads %d", i, v)
		}
	}
	m.write(child, a, 99)
	m.write(parent, a+PageSize, 98)
	m.write(child, h+5*PageSize, 66)
	if m.read(parent, a) != 10 || m.read(child, a) != 99 {
		t.Error("the child's write reached the parent")
	}
	if m.read(child, a+PageSize) != 11 || m.read(parent, a+PageSize) != 98 {
		t.Error("the parent's write reached the child")
	}
	if m.read(parent, h+5*PageSize) != 77 || m.read(child, h+5*PageSize) != 66 {
		t.Error("huge page not copied on write")
	}
	if s := m.vm.ReadStats(); s.COWCopies != 3 {
		t.Errorf("COWCopies %d, want 3", s.COWCopies)
	}
	child.Destroy()
	// The parent now holds every frame alone: writes take them over.
	m.write(parent, a+2*PageSize, 1)
	if s := m.vm.ReadStats(); s.COWCopies != 3 || s.COWReuses != 1 {
		t.Errorf("after the child's end: COWCopies %d COWReuses %d, want 3 and 1", s.COWCopies, s.COWReuses)
	}
	parent.Destroy()
	if got := m.free(); got != start {
		t.Errorf("FreeFrames %d after destroying both, want %d", got, start)
	}
}

func TestDestroyReturnsEverything(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	start := m.free()
	as := m.space()
	mustAllocate(t, as, 0, 4<<20, 0, true)
	b := mustAllocate(t, as, 0, 64*PageSize, 0, false)
	for i := uintptr(0); i < 64; i++ {
		m.write(as, b+i*PageSize, 1)
	}
	as.Destroy()
	if got := m.free(); got != start {
		t.Fatalf("FreeFrames %d after Destroy, want %d", got, start)
	}
}

func TestVMAllocatesNothingOnTheHeap(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	as := m.space()
	allocs := testing.AllocsPerRun(100, func() {
		a := uintptr(0)
		if err := as.Allocate(&a, 4*PageSize, 0, false); err != nil {
			t.Fatal(err)
		}
		as.Fault(a, AccessWrite)
		if err := as.Deallocate(a, 4*PageSize); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v heap allocations per allocate/fault/deallocate", allocs)
	}
}

// TestBrokenAccountingIsReported: a frame freed behind the VM's back makes
// the VM's own free of it a double free, which must reach FrameError with
// the frame's address (the kernel panics there) instead of passing quietly.
func TestBrokenAccountingIsReported(t *testing.T) {
	m := newTestMachine(t, 16<<20)
	var reported PhysAddr
	var reportedErr error
	m.vm.FrameError = func(pa PhysAddr, err error) { reported, reportedErr = pa, err }
	as := m.space()
	a := mustAllocate(t, as, 0, PageSize, 0, true)
	pa, _, _, _ := as.PT.Translate(a)
	if err := m.fa.Free(PhysAddr(pa), 0); err != nil {
		t.Fatal(err)
	}
	if err := as.Deallocate(a, PageSize); err != nil {
		t.Fatal(err)
	}
	if reported != PhysAddr(pa) || reportedErr == nil {
		t.Fatalf("FrameError got (%#x, %v), want the frame %#x and an error", reported, reportedErr, pa)
	}
}
