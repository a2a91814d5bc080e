// Context: host tests only. A simulated machine for paging: physical memory
// is a byte arena (physical address = offset into it), table frames come
// from a free list over the arena, and the TLB is a recorder.

package paging

import (
	"testing"
	"unsafe"
)

const arenaSize = 64 << 20

// sim is one simulated machine. Nothing in its methods allocates once it is
// built (the free list and the recorder have their full capacity), so the
// allocation tests measure paging alone.
type sim struct {
	mem    []byte
	env    Env
	frames simFrames
	tlb    simTLB
}

func newSim(tb testing.TB, giant bool) *sim {
	tb.Helper()
	s := &sim{mem: make([]byte, arenaSize)}
	base := uintptr(unsafe.Pointer(&s.mem[0]))
	if base%PageSize != 0 {
		tb.Fatalf("arena base %#x not page aligned", base)
	}
	s.frames.init(s)
	s.tlb.s = s
	s.tlb.inval = make([]uintptr, 0, 1<<12)
	s.env = Env{PhysOffset: base, Frames: &s.frames, TLB: &s.tlb, GiantPages: giant}
	return s
}

// frame returns the simulated frame at pa (for checks).
func (s *sim) frame(pa uint64) *Table {
	return (*Table)(unsafe.Pointer(&s.mem[pa]))
}

// simFrames hands out the arena's frames, last freed first.
type simFrames struct {
	s      *sim
	free   []uint64
	live   []bool // per frame: handed out and not yet given back
	nlive  int
	budget int // allocations still allowed; negative: no limit

	// Violations of the Frames contract by paging, counted not reported
	// (reporting would allocate inside the measured paths).
	dirtyFrees  int // frames given back that were not all zero
	doubleFrees int // frames given back that were not live
	foreign     int // addresses that were never frames
	// unsyncedFrees: tables freed, or leaves released, while another
	// CPU could still reach them: an invalidation not yet shot down
	// (Sync), or a table the other CPU may have cached (simTLB.cached).
	unsyncedFrees int
	allocs        int // AllocTable calls that succeeded
	frees         int
	onFree        func(pa uint64) // test hook, nil normally
}

func (f *simFrames) init(s *sim) {
	n := arenaSize / PageSize
	f.s = s
	f.free = make([]uint64, 0, n)
	f.live = make([]bool, n)
	// Frame 0 included on purpose: physical address 0 is a valid table
	// (the first root, even), as it is a valid leaf address.
	for i := n - 1; i >= 0; i-- {
		f.free = append(f.free, uint64(i)*PageSize)
	}
	f.budget = -1
}

// reset takes back every frame still handed out, zeroed, and clears the
// counters: the sim is as new, without allocating another arena.
func (s *sim) reset() {
	f := &s.frames
	for i, live := range f.live {
		if live {
			*s.frame(uint64(i) * PageSize) = Table{}
			f.live[i] = false
			f.free = append(f.free, uint64(i)*PageSize)
		}
	}
	f.nlive, f.budget = 0, -1
	f.dirtyFrees, f.doubleFrees, f.foreign, f.allocs, f.frees, f.unsyncedFrees = 0, 0, 0, 0, 0, 0
	f.onFree = nil
	s.tlb.reset()
	s.env.InvalidateLimit = 0
}

func (f *simFrames) AllocTable() (uint64, bool) {
	if f.budget == 0 || len(f.free) == 0 {
		return 0, false
	}
	if f.budget > 0 {
		f.budget--
	}
	pa := f.free[len(f.free)-1]
	f.free = f.free[:len(f.free)-1]
	f.live[pa/PageSize] = true
	f.nlive++
	f.allocs++
	// Frames are kept zeroed: the arena starts zero and FreeTable checks
	// that paging gives frames back zeroed (and cleans up if not).
	return pa, true
}

func (f *simFrames) FreeTable(pa uint64) {
	if pa%PageSize != 0 || pa >= arenaSize {
		f.foreign++
		return
	}
	if !f.live[pa/PageSize] {
		f.doubleFrees++
		return
	}
	if f.onFree != nil {
		f.onFree(pa)
	}
	if f.s.tlb.unsynced != 0 || f.s.tlb.cached != nil && f.s.tlb.cached[pa/PageSize] {
		f.unsyncedFrees++
	}
	t := f.s.frame(pa)
	if !empty(t) {
		f.dirtyFrees++
		*t = Table{}
	}
	f.live[pa/PageSize] = false
	f.nlive--
	f.frees++
	f.free = append(f.free, pa)
}

// simTLB records what paging asks of the TLB. unsynced counts the
// invalidations no Sync has made global yet: a frame freed or released
// while it is not zero could still be reached by another CPU.
type simTLB struct {
	s        *sim
	inval    []uintptr
	flushes  int
	unsynced int
	syncs    int
	local    int
	// shootdowns counts the Syncs with an invalidation to send: the
	// kernel's IPIs to each CPU with the tables loaded.
	shootdowns int

	// cached, when not nil (watch), stands for another CPU's
	// paging-structure caches: cached[i] says that CPU may hold frame i
	// as a table. It may cache every table reachable from the root, at
	// any time; the model looks when an operation starts (watch) and at
	// every Sync. A Sync with an invalidation pending empties the caches
	// first (an INVLPG drops every paging-structure-cache entry, SDM
	// vol. 3 section 4.10.4.1), and the other CPU caches again what is
	// still linked then. A table freed while cached could still be
	// walked there: FreeTable counts it in unsyncedFrees.
	cached []bool
}

func (r *simTLB) Sync(root uint64) {
	if r.cached != nil {
		if r.unsynced != 0 {
			clear(r.cached)
		}
		r.cache(root)
	}
	if r.unsynced != 0 {
		r.shootdowns++
	}
	r.unsynced = 0
	r.syncs++
}

// watch starts the model of another CPU's paging-structure caches
// (cached), with pt's tables as they are; unwatch stops it (Destroy: the
// space is then loaded on no CPU).
func (r *simTLB) watch(pt *PageTable) {
	if r.cached == nil {
		r.cached = make([]bool, arenaSize/PageSize)
	}
	clear(r.cached)
	r.cache(pt.Root)
}

func (r *simTLB) unwatch() { r.cached = nil }

// cache marks every table reachable from root through present entries
// as cached.
func (r *simTLB) cache(root uint64) {
	var visit func(pa uint64, l Level)
	visit = func(pa uint64, l Level) {
		r.cached[pa/PageSize] = true
		if l == PT {
			return
		}
		for _, e := range r.s.frame(pa) {
			if e&Present != 0 && e&Huge == 0 {
				visit(e.Addr(), l-1)
			}
		}
	}
	visit(root, PML4)
}

func (r *simTLB) InvalidateLocal(va uintptr)  { r.local++ }
func (r *simTLB) InvalidateTables(va uintptr) { r.Invalidate(va) }

func (r *simTLB) Invalidate(va uintptr) {
	r.unsynced++
	if len(r.inval) < cap(r.inval) {
		r.inval = append(r.inval, va)
	} else {
		r.inval[len(r.inval)-1] = va // never grow: keep the recorder allocation-free
	}
}
func (r *simTLB) FlushAll() { r.flushes++; r.unsynced++ }
func (r *simTLB) reset() {
	r.inval, r.flushes, r.unsynced, r.syncs, r.shootdowns = r.inval[:0], 0, 0, 0, 0
}
func (r *simTLB) total() int { return len(r.inval) + r.flushes }

// covers reports whether the recorder dropped the page [base, base+size):
// by a FlushAll or by an Invalidate of an address inside it.
func (r *simTLB) covers(base, size uintptr) bool {
	if r.flushes > 0 {
		return true
	}
	for _, va := range r.inval {
		if va >= base && va-base < size {
			return true
		}
	}
	return false
}

// checkTables walks pt independently of paging's walker (recursively, by
// the book) and checks the structural invariants: every table reachable
// once, no empty table but the root and pinned PDPTs, no leftover non-present
// entries but well-formed soft and withheld entries in PTs, no leaves in the PML4, leaves with only known bits. It returns
// the number of tables reachable from the root.
func checkTables(tb testing.TB, s *sim, pt *PageTable) int {
	tb.Helper()
	seen := map[uint64]bool{}
	var visit func(pa uint64, l Level, pinned bool) int
	visit = func(pa uint64, l Level, pinned bool) int {
		if seen[pa] {
			tb.Fatalf("table %#x reachable twice", pa)
		}
		seen[pa] = true
		if !s.frames.live[pa/PageSize] {
			tb.Fatalf("%v table %#x is not a live frame", l, pa)
		}
		t := s.frame(pa)
		if l != PML4 && !pinned && empty(t) {
			tb.Fatalf("empty %v table %#x left linked", l, pa)
		}
		n := 1
		for i, e := range t {
			switch {
			case e == 0:
			case l == PT && e.IsSoft() && e&^(softMask|Evicted) == 0 && e&softMask != 0:
			case l == PT && e.IsWithheld():
				if e&^(FlagMask|Withheld|Accessed|Dirty|addrMask) != 0 {
					tb.Fatalf("PT[%d] withheld entry %#x has unknown bits", i, uint64(e))
				}
			case e&Present == 0:
				tb.Fatalf("%v[%d] of %#x: non-present entry %#x not zero", l, i, pa, uint64(e))
			case l == PML4 && e&Huge != 0:
				tb.Fatalf("PML4[%d]: huge bit set", i)
			case l > PT && e&Huge == 0:
				n += visit(e.Addr(), l-1, l == PML4 && e&Pinned != 0)
			default:
				known := FlagMask | Present | Huge | Accessed | Dirty | addrMask
				if e&^known != 0 {
					tb.Fatalf("%v[%d] leaf %#x has unknown bits", l, i, uint64(e))
				}
				if leafPA(e, l) != e.Addr() {
					tb.Fatalf("%v[%d] leaf %#x: address not aligned to the page size", l, i, uint64(e))
				}
			}
		}
		return n
	}
	return visit(pt.Root, PML4, false)
}
