package mm

import (
	"bytes"
	"testing"

	"hurdvm/mm/store"
)

// pageData is the page at va as the pager tests write it: a quarter of
// every 256-byte block pseudo-random from va and the block, the rest a run,
// so that it compresses about 3.5:1 (LZ4), within the 2-4:1 of ordinary
// data; seed tells writers apart.
func pageData(va uintptr, seed byte, p *[PageSize]byte) {
	x := uint64(va)*0x9e3779b97f4a7c15 + uint64(seed)
	for i := 0; i < PageSize; i++ {
		if i%256 < 64 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			p[i] = byte(x)
		} else {
			p[i] = seed + byte(i/256)
		}
	}
}

// withStore gives m's VM a compressed store of capacity bytes.
func (m *testMachine) withStore(capacity uint64) *store.Compressed {
	s := store.New(StoreFrames{&m.vm}, capacity)
	m.vm.SetStore(s)
	return s
}

// fill writes the page at va (faulting it in) with pageData.
func (m *testMachine) fill(as *AddressSpace, va uintptr, seed byte) {
	m.t.Helper()
	m.write(as, va, 0)
	pa, _, _, ok := as.PT.Translate(va)
	if !ok {
		m.t.Fatalf("%#x not mapped after a write", va)
	}
	var p [PageSize]byte
	pageData(va, seed, &p)
	copy(m.ar.bytes(PhysAddr(pa), PageSize), p[:])
}

// check reads the page at va back (faulting it in) and compares it.
func (m *testMachine) check(as *AddressSpace, va uintptr, seed byte) {
	m.t.Helper()
	m.read(as, va)
	pa, _, _, ok := as.PT.Translate(va)
	if !ok {
		m.t.Fatalf("%#x not mapped after a read", va)
	}
	var p [PageSize]byte
	pageData(va, seed, &p)
	if !bytes.Equal(m.ar.bytes(PhysAddr(pa), PageSize), p[:]) {
		m.t.Fatalf("page %#x (seed %d) came back different", va, seed)
	}
}

// filledMachine is a 64 MiB machine with a 32 MiB store and a space whose
// region of n pages at a is written with pageData seed 1; start is the
// free count before the space.
func filledMachine(t *testing.T, n uintptr) (m *testMachine, st *store.Compressed, start uint64, as *AddressSpace, a uintptr) {
	m = newTestMachine(t, 64<<20)
	st = m.withStore(32 << 20)
	start = m.free()
	as = m.space()
	a = mustAllocate(t, as, 0, n*PageSize, 0, false)
	for i := uintptr(0); i < n; i++ {
		m.fill(as, a+i*PageSize, 1)
	}
	return m, st, start, as, a
}

func TestEvictAndMajorFault(t *testing.T) {
	const n = 64
	m, st, start, as, a := filledMachine(t, n)
	z := mustAllocate(t, as, 0, 4*PageSize, 0, false)
	m.write(as, z, 0) // a zero page
	resident := m.free()
	for i := uintptr(0); i < n; i++ {
		if r := as.Evict(a + i*PageSize); r != EvictDone {
			t.Fatalf("Evict page %d: %d", i, r)
		}
		if _, ok := as.PT.SoftAt(a + i*PageSize); !ok {
			t.Fatalf("page %d: no soft entry", i)
		}
	}
	if r := as.Evict(a); r != EvictNotResident {
		t.Fatalf("Evict twice: %d", r)
	}
	if r := as.Evict(z); r != EvictDone {
		t.Fatalf("Evict of a zero page: %d", r)
	}
	if _, ok := as.PT.SoftAt(z); ok {
		t.Fatal("a zero page left a soft entry")
	}
	s := m.vm.ReadStats()
	if s.Evictions != n+1 || s.StorePages != n || s.StoreCompressed >= s.StoreUncompressed*3/4 {
		t.Fatalf("after eviction: %+v", s)
	}
	if gained := int64(m.free()) - int64(resident); gained < n/3 {
		t.Fatalf("evicting %d pages freed %d frames", n, gained)
	}
	// Back, in another order, twice over.
	for i := uintptr(n); i > 0; i-- {
		m.check(as, a+(i-1)*PageSize, 1)
	}
	if v := m.read(as, z); v != 0 {
		t.Fatal("zero page not zero")
	}
	if s := m.vm.ReadStats(); s.MajorFaults != n || s.StorePages != 0 || s.StoreFrames != st.Stats().Frames() {
		t.Fatalf("after the faults: %+v", s)
	}
	// Evicted again, then deallocated in part and destroyed: every frame
	// and every slot back.
	for i := uintptr(0); i < n; i++ {
		as.Evict(a + i*PageSize)
	}
	if err := as.Deallocate(a+8*PageSize, 8*PageSize); err != nil {
		t.Fatal(err)
	}
	if p := st.Stats().Pages; p != n-8 {
		t.Fatalf("after a partial deallocation: %d pages stored, want %d", p, n-8)
	}
	m.check(as, a+7*PageSize, 1)
	as.Destroy()
	if p := st.Stats(); p.Pages != 0 || p.Refs != 0 || p.Frames() != m.vm.ReadStats().StoreFrames {
		t.Fatalf("after Destroy: store %+v", p)
	}
	if got := m.free() + m.vm.ReadStats().StoreFrames; got != start {
		t.Fatalf("FreeFrames+StoreFrames %d after Destroy, want %d", got, start)
	}
}

// smallMachine is a machine of mem bytes with a reserve of 64 frames, a
// store of capacity bytes and an empty space; start is the free count
// before the space.
func smallMachine(t *testing.T, mem PhysAddr, capacity uint64) (m *testMachine, start uint64, as *AddressSpace) {
	m = newTestMachine(t, mem)
	m.vm.Reserve = 64
	m.withStore(capacity)
	start = m.free()
	return m, start, m.space()
}

// TestOvercommit: a space writes 2.5 times the machine's memory; the faults
// evict (reclaim) to make room, and every page reads back intact.
func TestOvercommit(t *testing.T) {
	const mem = 8 << 20
	m, start, as := smallMachine(t, mem, 64<<20)
	const size = 5 * mem / 2
	a := mustAllocate(t, as, 0, size, 0, false)
	for va := a; va < a+size; va += PageSize {
		m.fill(as, va, 3)
	}
	for round := 0; round < 2; round++ {
		for va := a; va < a+size; va += PageSize {
			m.check(as, va, 3)
		}
	}
	s := m.vm.ReadStats()
	if s.Evictions == 0 || s.MajorFaults == 0 || s.StoreErrors != 0 {
		t.Fatalf("stats: %+v", s)
	}
	t.Logf("%d evictions, %d major faults, store %d pages in %d frames (%d -> %d bytes)",
		s.Evictions, s.MajorFaults, s.StorePages, s.StoreFrames, s.StoreUncompressed, s.StoreCompressed)
	as.Destroy()
	if s := m.vm.ReadStats(); s.StorePages != 0 || m.free()+s.StoreFrames != start {
		t.Fatalf("after Destroy: free %d + store %d, want %d; %d pages stored", m.free(), s.StoreFrames, start, s.StorePages)
	}
}

// TestForkEvicted: pages evicted before a fork are one slot shared by both;
// each side then sees its own writes, through more evictions.
func TestForkEvicted(t *testing.T) {
	const n = 16
	m, st, start, parent, a := filledMachine(t, n)
	for i := uintptr(0); i < n; i += 2 {
		parent.Evict(a + i*PageSize)
	}
	child := m.space()
	if err := parent.ForkInto(child); err != nil {
		t.Fatal(err)
	}
	if s := st.Stats(); s.Pages != n/2 || s.Refs != n {
		t.Fatalf("after fork: %d pages, %d refs", s.Pages, s.Refs)
	}
	// The shared (resident) pages are not evicted.
	if r := parent.Evict(a + PageSize); r != EvictShared {
		t.Fatalf("Evict of a shared frame: %d", r)
	}
	for round := byte(0); round < 3; round++ {
		for i := uintptr(0); i < n; i++ {
			if round == 0 {
				m.check(child, a+i*PageSize, 1)
				m.check(parent, a+i*PageSize, 1)
			} else {
				m.check(child, a+i*PageSize, 20+round-1)
				m.check(parent, a+i*PageSize, 10+round-1)
			}
		}
		for i := uintptr(0); i < n; i++ {
			m.fill(parent, a+i*PageSize, 10+round)
			m.fill(child, a+i*PageSize, 20+round)
		}
		for i := uintptr(0); i < n; i++ {
			parent.Evict(a + i*PageSize)
			child.Evict(a + i*PageSize)
		}
	}
	child.Destroy()
	parent.Destroy()
	if s := st.Stats(); s.Pages != 0 || s.Refs != 0 || m.free()+m.vm.ReadStats().StoreFrames != start {
		t.Fatalf("after Destroy: %+v", s)
	}
}

// TestEvictShared: pages a fork shares copy-on-write go out of the parent,
// the child and a grandchild at once (one slot, a reference each), come
// back as each side's own copy, and then each side's writes are its own;
// the clock (EvictSome) evicts them too. A sharer whose lock is busy, or
// a reference the table does not explain, keeps the page resident, with
// nothing changed.
func TestEvictShared(t *testing.T) {
	const n = 16
	m, st, start, parent, a := filledMachine(t, n)
	child, grandchild := m.space(), m.space()
	if err := parent.ForkInto(child); err != nil {
		t.Fatal(err)
	}
	if err := child.ForkInto(grandchild); err != nil {
		t.Fatal(err)
	}
	all := []*AddressSpace{parent, child, grandchild}
	// Without the table, a shared frame stays.
	if r := parent.Evict(a); r != EvictShared {
		t.Fatalf("Evict of a shared frame without a SpaceTable: %d", r)
	}
	// A sharer the table does not hold: a reference it cannot explain.
	two := all[:2]
	m.sharing(&two)
	if r := parent.Evict(a); r != EvictShared {
		t.Fatalf("Evict with a sharer missing from the table: %d", r)
	}
	// A busy sharer.
	m.sharing(&all)
	try := m.vm.Spaces.TryLock
	m.vm.Spaces.TryLock = func(i int) (*AddressSpace, bool) {
		if i == 2 {
			return nil, true
		}
		return try(i)
	}
	if r := parent.Evict(a); r != EvictShared {
		t.Fatalf("Evict with a sharer's lock busy: %d", r)
	}
	m.vm.Spaces.TryLock = try
	for _, as := range all {
		if got := as.PT.Mapped(a, n*PageSize); got != n*PageSize {
			t.Fatalf("a refused eviction changed a sharer: %d bytes mapped, want %d", got, n*PageSize)
		}
	}
	free := m.free()
	for i := uintptr(0); i < n; i++ {
		if r := child.Evict(a + i*PageSize); r != EvictDone {
			t.Fatalf("Evict of shared page %d: %d", i, r)
		}
	}
	if s := st.Stats(); s.Pages != n || s.Refs != 3*n {
		t.Fatalf("after evicting %d pages shared by 3: %d pages, %d references in the store", n, s.Pages, s.Refs)
	}
	for _, as := range all {
		if got := as.PT.Mapped(a, n*PageSize); got != 0 {
			t.Fatalf("%d bytes still mapped in a sharer", got)
		}
	}
	if m.free() <= free {
		t.Fatalf("evicting %d shared pages freed no frame (%d free, %d before)", n, m.free(), free)
	}
	if s := m.vm.ReadStats(); s.SharedEvictions != n {
		t.Fatalf("%d shared evictions, want %d", s.SharedEvictions, n)
	}
	// Each side reads its data back, then writes its own.
	for round := byte(0); round < 3; round++ {
		for i := uintptr(0); i < n; i++ {
			for k, as := range all {
				seed := byte(1)
				if round > 0 {
					seed = 10*byte(k+1) + round - 1
				}
				m.check(as, a+i*PageSize, seed)
			}
		}
		for i := uintptr(0); i < n; i++ {
			for k, as := range all {
				m.fill(as, a+i*PageSize, 10*byte(k+1)+round)
			}
		}
		for i := uintptr(0); i < n; i++ {
			for _, as := range all {
				as.Evict(a + i*PageSize)
			}
		}
	}
	// The clock (EvictSome) evicts shared pages too. (This machine's
	// "CPU" sets no Accessed bits: the clock's test of the sharers' bits
	// is tests/pager's, on a real one.)
	for i := uintptr(0); i < n; i++ {
		m.fill(parent, a+i*PageSize, 7)
	}
	late := m.space()
	if err := parent.ForkInto(late); err != nil {
		t.Fatal(err)
	}
	both := []*AddressSpace{parent, late}
	m.sharing(&both)
	before := m.vm.ReadStats().SharedEvictions
	parent.EvictSome(4*n, 4*n)
	if got := m.vm.ReadStats().SharedEvictions - before; got != n {
		t.Fatalf("the clock evicted %d shared pages, want %d", got, n)
	}
	for i := uintptr(0); i < n; i++ {
		m.check(late, a+i*PageSize, 7)
		m.check(parent, a+i*PageSize, 7)
	}
	for _, as := range append(all, late) {
		as.Destroy()
	}
	if s := st.Stats(); s.Pages != 0 || s.Refs != 0 || m.free()+m.vm.ReadStats().StoreFrames != start {
		t.Fatalf("after Destroy: %+v, %d frames free and %d in the store, want %d", s, m.free(), m.vm.ReadStats().StoreFrames, start)
	}
}

// dupRefuser is a store whose Dup refuses after ok successes.
type dupRefuser struct {
	store.Backend
	ok int
}

func (d *dupRefuser) Dup(s store.Slot) error {
	if d.ok == 0 {
		return store.ErrRefs
	}
	d.ok--
	return d.Backend.Dup(s)
}

// TestEvictSharedDupRefused: a store that refuses a reference to the slot
// of a page shared by three (which the compressed store never does: its
// counts are 32 bits) leaves the page resident in all three and holds
// nothing: the references taken and the Put's are given back.
func TestEvictSharedDupRefused(t *testing.T) {
	for ok := 0; ok < 2; ok++ {
		m, st, start, parent, a := filledMachine(t, 1)
		child, grandchild := m.space(), m.space()
		if err := parent.ForkInto(child); err != nil {
			t.Fatal(err)
		}
		if err := child.ForkInto(grandchild); err != nil {
			t.Fatal(err)
		}
		all := []*AddressSpace{parent, child, grandchild}
		m.sharing(&all)
		m.vm.SetStore(&dupRefuser{Backend: st, ok: ok})
		if r := parent.Evict(a); r != EvictRefused {
			t.Fatalf("Dup refused after %d: Evict gave %d, want EvictRefused", ok, r)
		}
		if s := st.Stats(); s.Pages != 0 || s.Refs != 0 {
			t.Fatalf("Dup refused after %d: the store holds %d pages, %d references", ok, s.Pages, s.Refs)
		}
		m.vm.SetStore(st)
		for _, as := range all {
			if got := as.PT.Mapped(a, PageSize); got != PageSize {
				t.Fatalf("Dup refused after %d: the page is not mapped in a sharer", ok)
			}
			m.check(as, a, 1)
		}
		for _, as := range all {
			as.Destroy()
		}
		if m.free()+m.vm.ReadStats().StoreFrames != start {
			t.Fatalf("Dup refused after %d: %d frames free, want %d", ok, m.free(), start)
		}
	}
}

// TestStoreFull: incompressible pages past memory fill a small store; the
// fault that finds neither a frame nor room gets FaultNoMemory, map_now
// ENOMEM, and Destroy gives everything back.
func TestStoreFull(t *testing.T) {
	const mem = 8 << 20
	m, start, as := smallMachine(t, mem, 2<<20)
	a := mustAllocate(t, as, 0, 4*mem, 0, false)
	var p [PageSize]byte
	va := a
	for ; va < a+4*mem; va += PageSize {
		if _, r := m.access(as, va, AccessWrite, 1); r != FaultResolved {
			if r != FaultNoMemory {
				t.Fatalf("fault at %#x: %v", va, r)
			}
			break
		}
		pa, _, _, _ := as.PT.Translate(va)
		pageData(va, 0, &p)
		for i := range p { // incompressible: every byte pseudo-random
			p[i] ^= byte(uint64(va)*uint64(i+1)*0x9e3779b97f4a7c15>>56) + byte(i)
		}
		copy(m.ar.bytes(PhysAddr(pa), PageSize), p[:])
	}
	if va == a+4*mem {
		t.Fatal("4 times memory fitted")
	}
	// Evicting an incompressible page gains no frame (the store keeps it
	// in one of its own), so the faults give up before or when the
	// store fills.
	if s := m.vm.ReadStats(); s.Reclaims == 0 || s.StoreErrors != 0 {
		t.Fatalf("no reclaim: %+v", s)
	}
	b := a + 4*mem
	if err := as.Allocate(&b, 1<<20, 0, true); err != ENOMEM {
		t.Fatalf("map_now with memory and store full: %v", err)
	}
	as.Destroy()
	if s := m.vm.ReadStats(); s.StorePages != 0 || m.free()+s.StoreFrames != start {
		t.Fatalf("after Destroy: free %d + store %d, want %d", m.free(), s.StoreFrames, start)
	}
}

// TestPagerAllocatesNothing: eviction, the major fault, fork's and
// unmap's slot references run in handler context: no heap.
func TestPagerAllocatesNothing(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	m.withStore(32 << 20)
	as := m.space()
	child := new(AddressSpace)
	child.Bind(&m.vm)
	a := mustAllocate(t, as, 0, 64*PageSize, 0, false)
	for i := uintptr(0); i < 64; i++ {
		m.fill(as, a+i*PageSize, 1)
	}
	allocs := testing.AllocsPerRun(20, func() {
		as.EvictAll()
		as.EvictSome(8, 64)
		if err := child.Create(testWindowStart, testWindowEnd); err != nil {
			panic(err)
		}
		if err := as.ForkInto(child); err != nil {
			panic(err)
		}
		child.Destroy()
		for i := uintptr(0); i < 64; i += 3 {
			if r := as.Fault(a+i*PageSize, AccessRead); r != FaultResolved {
				panic(r)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per round", allocs)
	}
	as.Destroy()
}

// TestMajorFaultTwice: a second fault on a page another thread already
// brought back (it waited for the space's lock) finds it mapped: one
// frame, one major fault.
func TestMajorFaultTwice(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	m.withStore(32 << 20)
	as := m.space()
	a := mustAllocate(t, as, 0, PageSize, 0, false)
	m.fill(as, a, 5)
	if r := as.Evict(a); r != EvictDone {
		t.Fatal(r)
	}
	held := func() uint64 { return m.free() + m.vm.ReadStats().StoreFrames }
	free := held()
	for i := 0; i < 2; i++ {
		if r := as.Fault(a+8, AccessWrite); r != FaultResolved {
			t.Fatalf("fault %d: %v", i, r)
		}
	}
	if s := m.vm.ReadStats(); s.MajorFaults != 1 || free-held() != 1 {
		t.Fatalf("%d major faults, %d frames taken", s.MajorFaults, free-held())
	}
	m.check(as, a, 5)
	as.Destroy()
}
