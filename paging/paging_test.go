package paging

import (
	"fmt"
	"testing"
)

const (
	higherHalf = uintptr(0xffff_8000_0000_0000)
	topGiant   = uintptr(0xffff_ffff_c000_0000) // the last 1 GiB of the address space
)

func newPT(tb testing.TB, s *sim) *PageTable {
	tb.Helper()
	pt, err := New(&s.env)
	if err != nil {
		tb.Fatal(err)
	}
	return pt
}

// flagCombos is every combination of the caller-visible flags.
func flagCombos() []Flags {
	bits := []Flags{Writable, User, WriteThrough, CacheDisable, Global, NoExecute}
	var out []Flags
	for m := 0; m < 1<<len(bits); m++ {
		var f Flags
		for i, b := range bits {
			if m&(1<<i) != 0 {
				f |= b
			}
		}
		out = append(out, f)
	}
	return out
}

func TestLevels(t *testing.T) {
	for _, c := range []struct {
		l     Level
		shift uint
		size  uintptr
		name  string
	}{
		{PT, 12, PageSize, "PT"}, {PD, 21, HugePageSize, "PD"},
		{PDPT, 30, GiantPageSize, "PDPT"}, {PML4, 39, 512 << 30, "PML4"},
	} {
		if c.l.Shift() != c.shift || c.l.Size() != c.size || c.l.String() != c.name {
			t.Errorf("%v: shift %d size %#x", c.l, c.l.Shift(), c.l.Size())
		}
	}
	if got := PD.Index(0x1234_5678_9abc); got != (0x1234_5678_9abc>>21)&511 {
		t.Errorf("PD.Index = %d", got)
	}
	if e := Entry(0xfff0_0000_0000_0fff) | NoExecute; e.Addr() != 0 {
		t.Errorf("Addr of flag-only entry = %#x", e.Addr())
	}
	if e := Entry(0x000f_ffff_ffff_f000) | Present | NoExecute; e.Addr() != 0x000f_ffff_ffff_f000 {
		t.Errorf("Addr = %#x", e.Addr())
	}
}

func TestCanonical(t *testing.T) {
	for _, c := range []struct {
		va uintptr
		ok bool
	}{
		{0, true}, {0x7fff_ffff_ffff, true}, {0x8000_0000_0000, false},
		{0xffff_7fff_ffff_ffff, false}, {higherHalf, true}, {^uintptr(0), true},
		{0x0001_0000_0000_0000, false},
	} {
		if Canonical(c.va) != c.ok {
			t.Errorf("Canonical(%#x) = %v", c.va, !c.ok)
		}
	}
	for i, want := range map[int]uintptr{0: 0, 1: 1 << 39, 255: 255 << 39, 256: higherHalf, 511: 0xffff_ff80_0000_0000} {
		if got := SlotBase(i); got != want {
			t.Errorf("SlotBase(%d) = %#x, want %#x", i, got, want)
		}
	}

	s := newSim(t, true)
	pt := newPT(t, s)
	for _, c := range []struct {
		name     string
		va, size uintptr
		err      error
	}{
		{"in the hole", 0x8000_0000_0000, PageSize, ErrNonCanonical},
		{"low end crosses the hole", 0x7fff_ffff_f000, 2 * PageSize, ErrNonCanonical},
		{"ends at the top of the low half", 0x7fff_ffff_e000, 2 * PageSize, nil},
		{"starts at the higher half", higherHalf, PageSize, nil},
		{"just below the higher half", higherHalf - PageSize, 2 * PageSize, ErrNonCanonical},
		{"ends at the top", ^uintptr(0) - PageSize + 1, PageSize, nil},
		{"wraps", ^uintptr(0) - PageSize + 1, 2 * PageSize, ErrNonCanonical},
		{"whole low half", 0, 1 << 47, nil},
	} {
		err := pt.Map(c.va, 0, c.size, Writable)
		if err != c.err {
			t.Errorf("%s: Map = %v, want %v", c.name, err, c.err)
		}
		if err == nil {
			if _, _, _, ok := pt.Translate(c.va); !ok {
				t.Errorf("%s: not mapped", c.name)
			}
			if err := pt.Unmap(c.va, c.size, nil); err != nil {
				t.Errorf("%s: Unmap = %v", c.name, err)
			}
		}
	}
	if _, _, size, ok := pt.Translate(0x8000_0000_0000); ok || size != 0 {
		t.Errorf("Translate(non-canonical) = ok %v size %#x", ok, size)
	}
	if n := checkTables(t, s, pt); n != 1 || s.frames.nlive != 1 {
		t.Errorf("tables after unmapping everything: reachable %d live %d", n, s.frames.nlive)
	}
}

// TestTranslate maps one page of each size with every flag combination, low
// and high, and checks the translation of its first, a middle and its last
// 4 KiB page.
func TestTranslate(t *testing.T) {
	s := newSim(t, true)
	pt := newPT(t, s)
	sizes := []struct {
		size uintptr
		mapf func(va uintptr, pa uint64, size uintptr, f Flags) error
		lvl  Level
	}{
		{PageSize, pt.MapPages, PT},
		{HugePageSize, pt.Map, PD},
		{GiantPageSize, pt.Map, PDPT},
	}
	bases := []uintptr{0, 5 << 39, higherHalf, topGiant}
	for _, sz := range sizes {
		for _, base := range bases {
			for i, f := range flagCombos() {
				va := base + uintptr(i)*sz.size
				if base == topGiant {
					va = -uintptr(i+1) * sz.size
					if sz.size == GiantPageSize && i > 0 {
						continue
					}
				}
				pa := uint64(7<<40) + uint64(i)*uint64(sz.size)*3
				name := fmt.Sprintf("%v/%#x/flags %#x", sz.lvl, va, uint64(f))
				if err := sz.mapf(va, pa, sz.size, f); err != nil {
					t.Fatalf("%s: map: %v", name, err)
				}
				for _, off := range []uintptr{0, sz.size/2 + 0x123, sz.size - 1} {
					gpa, gf, gsize, ok := pt.Translate(va + off)
					if !ok || gpa != pa+uint64(off) || gf != f || gsize != sz.size {
						t.Fatalf("%s: Translate(+%#x) = %#x %#x %#x %v", name, off, gpa, uint64(gf), gsize, ok)
					}
				}
				e, l, ok := pt.Leaf(va)
				if !ok || l != sz.lvl || (e&Huge != 0) != (sz.lvl > PT) || e&Present == 0 {
					t.Fatalf("%s: Leaf = %#x %v %v", name, uint64(e), l, ok)
				}
				if _, _, _, ok := pt.Translate(va + sz.size); ok && base != topGiant {
					t.Fatalf("%s: page after the mapping is mapped", name)
				}
				if err := pt.Unmap(va, sz.size, nil); err != nil {
					t.Fatalf("%s: unmap: %v", name, err)
				}
				if _, _, _, ok := pt.Translate(va); ok {
					t.Fatalf("%s: still mapped", name)
				}
			}
		}
	}
	if s.frames.nlive != 1 {
		t.Errorf("live tables %d, want 1", s.frames.nlive)
	}
}

func TestArgumentErrors(t *testing.T) {
	s := newSim(t, true)
	pt := newPT(t, s)
	for _, c := range []struct {
		name     string
		va       uintptr
		pa       uint64
		size     uintptr
		flags    Flags
		err      error
		unmapErr error
	}{
		{"va", 0x1001, 0, PageSize, 0, ErrMisaligned, ErrMisaligned},
		{"pa", 0x1000, 0x10, PageSize, 0, ErrMisaligned, nil},
		{"size", 0x1000, 0, 100, 0, ErrMisaligned, ErrMisaligned},
		{"flags Present", 0x1000, 0, PageSize, Present, ErrFlags, nil},
		{"flags Huge", 0x1000, 0, PageSize, Huge, ErrFlags, nil},
		{"flags Dirty", 0x1000, 0, PageSize, Dirty, ErrFlags, nil},
		{"pa at 2^52", 0x1000, MaxPhysAddr, PageSize, 0, ErrPhysAddr, nil},
		{"pa range past 2^52", 0x1000, MaxPhysAddr - PageSize, 2 * PageSize, 0, ErrPhysAddr, nil},
		{"size 0", 0x1000, 0, 0, 0, nil, nil},
	} {
		if err := pt.Map(c.va, c.pa, c.size, c.flags); err != c.err {
			t.Errorf("%s: Map = %v, want %v", c.name, err, c.err)
		}
		if err := pt.Unmap(c.va, c.size, nil); err != c.unmapErr {
			t.Errorf("%s: Unmap = %v, want %v", c.name, err, c.unmapErr)
		}
	}
	if err := pt.Protect(0, PageSize, Dirty); err != ErrFlags {
		t.Errorf("Protect(Dirty) = %v", err)
	}
	if err := pt.Map(0x2000, MaxPhysAddr-PageSize, PageSize, 0); err != nil {
		t.Errorf("last physical page: %v", err)
	}
	var zero PageTable
	if err := zero.Map(0, 0, PageSize, 0); err != ErrEnv {
		t.Errorf("zero PageTable: Map = %v", err)
	}
	if _, _, _, ok := zero.Translate(0); ok {
		t.Errorf("zero PageTable: Translate ok")
	}
	if _, err := New(&Env{}); err != ErrEnv {
		t.Errorf("New(empty Env) = %v", err)
	}
}

func TestMappedChangesNothing(t *testing.T) {
	s := newSim(t, true)
	pt := newPT(t, s)
	if err := pt.Map(0x4000_0000+0x20_0000, 0x20_0000, HugePageSize, Writable); err != nil {
		t.Fatal(err)
	}
	before := s.frames.nlive
	// Overlapping only the last page of a 1 GiB request: no partial map.
	if err := pt.Map(0, 0, 0x4000_0000+0x20_1000, Writable); err != ErrMapped {
		t.Fatalf("Map over a mapping = %v", err)
	}
	// Overlapping in the middle of a huge page.
	if err := pt.MapPages(0x4000_0000+0x30_0000, 0, PageSize, 0); err != ErrMapped {
		t.Fatalf("MapPages inside a huge page = %v", err)
	}
	if s.frames.nlive != before {
		t.Errorf("tables %d, want %d", s.frames.nlive, before)
	}
	if _, _, _, ok := pt.Translate(0); ok {
		t.Errorf("page 0 mapped by a failed Map")
	}
	if _, f, size, ok := pt.Translate(0x4000_0000 + 0x20_0000); !ok || f != Writable || size != HugePageSize {
		t.Errorf("existing mapping changed")
	}
}

// leaves lists the page sizes that map [va, va+size), in order.
func leaves(pt *PageTable, va, size uintptr) []uintptr {
	var out []uintptr
	for a := va; a-va < size; {
		_, _, s, ok := pt.Translate(a)
		if !ok {
			return append(out, 0)
		}
		out = append(out, s)
		a = a&^(s-1) + s
	}
	return out
}

func TestHugePagesChosen(t *testing.T) {
	const G, M, K = GiantPageSize, HugePageSize, PageSize
	for _, c := range []struct {
		name  string
		giant bool
		va    uintptr
		pa    uint64
		size  uintptr
		want  []uintptr
	}{
		{"1G aligned", true, 2 * G, 5 * G, 2 * G, []uintptr{G, G}},
		{"1G without pdpe1gb", false, 2 * G, 5 * G, G, repeat(M, 512)},
		{"1G va, 2M pa", true, 2 * G, 5*G + M, G, repeat(M, 512)},
		{"2M va, 4K pa", true, 2 * M, 5*M + K, 2 * M, repeat(K, 1024)},
		{"head and tail", true, 2*M - 2*K, 8*M - 2*K, M + 4*K, append(append([]uintptr{K, K}, M), K, K)},
		{"giant in the middle", true, G - M, 3*G - M, G + 2*M, []uintptr{M, G, M}},
		{"higher half", true, higherHalf + G, 0, G + M, []uintptr{G, M}},
		{"top of the address space", true, topGiant - M, G - M, M + G, []uintptr{M, G}},
	} {
		s := newSim(t, c.giant)
		pt := newPT(t, s)
		if err := pt.Map(c.va, c.pa, c.size, Writable); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := leaves(pt, c.va, c.size); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: page sizes %v, want %v", c.name, got, c.want)
		}
		for a := c.va; a-c.va < c.size; a += c.size / 7 &^ (K - 1) {
			if pa, _, _, ok := pt.Translate(a); !ok || pa != c.pa+uint64(a-c.va) {
				t.Errorf("%s: Translate(%#x) = %#x %v", c.name, a, pa, ok)
			}
		}
		if err := pt.Unmap(c.va, c.size, nil); err != nil {
			t.Fatal(err)
		}
		if s.frames.nlive != 1 {
			t.Errorf("%s: %d tables left", c.name, s.frames.nlive)
		}
	}
}

func repeat(x uintptr, n int) []uintptr {
	out := make([]uintptr, n)
	for i := range out {
		out[i] = x
	}
	return out
}

type released struct {
	pa   uint64
	size uintptr
}

// TestUnmapSplits unmaps one 4 KiB page in the middle of a 2 MiB and of a
// 1 GiB page, and checks that every other page keeps its translation,
// flags and Accessed/Dirty bits.
func TestUnmapSplits(t *testing.T) {
	for _, c := range []struct {
		name string
		size uintptr
		hole uintptr // offset of the unmapped page
	}{
		{"2M", HugePageSize, 0x7_3000},
		{"2M first page", HugePageSize, 0},
		{"2M last page", HugePageSize, HugePageSize - PageSize},
		{"1G", GiantPageSize, 0x1234_5000},
		{"1G first page", GiantPageSize, 0},
		{"1G last page", GiantPageSize, GiantPageSize - PageSize},
	} {
		s := newSim(t, true)
		pt := newPT(t, s)
		va, pa := uintptr(3<<30)+higherHalf, uint64(9<<30)
		flags := Writable | Global | NoExecute
		if err := pt.Map(va, pa, c.size, flags); err != nil {
			t.Fatal(err)
		}
		// The CPU's bits must survive the split.
		e, _, _ := pt.Leaf(va)
		p, _ := pt.leafAt(va)
		*p = e | Accessed | Dirty

		var got []released
		s.tlb.reset()
		hole := va + c.hole
		if err := pt.Unmap(hole, PageSize, func(pa uint64, size uintptr) { got = append(got, released{pa, size}) }); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(got) != 1 || got[0] != (released{pa + uint64(c.hole), PageSize}) {
			t.Errorf("%s: released %v", c.name, got)
		}
		if !s.tlb.covers(hole, PageSize) {
			t.Errorf("%s: hole not invalidated: %v", c.name, s.tlb.inval)
		}
		for off := uintptr(0); off < c.size; off += PageSize {
			gpa, gf, gsize, ok := pt.Translate(va + off)
			if off == c.hole {
				if ok {
					t.Fatalf("%s: hole still mapped", c.name)
				}
				continue
			}
			wantSize := uintptr(PageSize)
			if c.size == GiantPageSize && off/HugePageSize != c.hole/HugePageSize {
				wantSize = HugePageSize
			}
			if !ok || gpa != pa+uint64(off) || gf != flags || gsize != wantSize {
				t.Fatalf("%s: +%#x: %#x %#x %#x %v", c.name, off, gpa, uint64(gf), gsize, ok)
			}
			if e, _, _ := pt.Leaf(va + off); e&(Accessed|Dirty) != Accessed|Dirty {
				t.Fatalf("%s: +%#x lost Accessed/Dirty: %#x", c.name, off, uint64(e))
			}
		}
		wantTables := 1 + 3 // root, PDPT, PD, PT
		if c.size == HugePageSize {
			wantTables = 1 + 3
		}
		if n := checkTables(t, s, pt); n != wantTables {
			t.Errorf("%s: %d tables, want %d", c.name, n, wantTables)
		}
		got = got[:0]
		if err := pt.Unmap(va, c.size, func(pa uint64, size uintptr) { got = append(got, released{pa, size}) }); err != nil {
			t.Fatal(err)
		}
		want := 511
		if c.size == GiantPageSize {
			want = 511 + 511
		}
		if len(got) != want {
			t.Errorf("%s: %d leaves released, want %d", c.name, len(got), want)
		}
		if s.frames.nlive != 1 || s.frames.dirtyFrees != 0 {
			t.Errorf("%s: live %d dirty frees %d", c.name, s.frames.nlive, s.frames.dirtyFrees)
		}
	}
}

// TestUnmapRangeEdges unmaps ranges whose two ends cut huge pages.
func TestUnmapRangeEdges(t *testing.T) {
	const G, M, K = GiantPageSize, HugePageSize, PageSize
	for _, c := range []struct {
		name       string
		from, size uintptr // relative to the 2 GiB mapping
	}{
		{"inside one 2M", G + 3*K, 5 * K},
		{"inside one 1G, two 2M", G + M - K, 2 * K},
		{"inside one 1G, far", G + M + K, 100*M + K},
		{"across two 1G", G - 3*K, 2*M + 6*K},
		{"2M aligned inside 1G", G + 4*M, 6 * M},
		{"start aligned, end cuts", G, 5*M + K},
		{"start cuts, end aligned", G + K, G - K},
	} {
		s := newSim(t, true)
		pt := newPT(t, s)
		va, pa := uintptr(8*G), uint64(16*G)
		if err := pt.Map(va, pa, 2*G, Writable); err != nil {
			t.Fatal(err)
		}
		allocs := s.frames.allocs
		if err := pt.Unmap(va+c.from, c.size, nil); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for off := uintptr(0); off < 2*G; off += K {
			gpa, _, _, ok := pt.Translate(va + off)
			inside := off >= c.from && off-c.from < c.size
			if ok == inside || (ok && gpa != pa+uint64(off)) {
				t.Fatalf("%s: +%#x: %#x %v", c.name, off, gpa, ok)
			}
		}
		checkTables(t, s, pt)
		// The split count was exact: no frame was taken and given back.
		if s.frames.frees != 0 {
			t.Errorf("%s: %d frames reserved but not used (%d taken)", c.name, s.frames.frees, s.frames.allocs-allocs)
		}
		if err := pt.Unmap(va, 2*G, nil); err != nil || s.frames.nlive != 1 {
			t.Fatalf("%s: %v, %d tables", c.name, err, s.frames.nlive)
		}
	}
}

func TestProtect(t *testing.T) {
	const G, M, K = GiantPageSize, HugePageSize, PageSize
	s := newSim(t, true)
	pt := newPT(t, s)
	va, pa := uintptr(4*G), uint64(4*G)
	if err := pt.Map(va, pa, G+M, Writable|User); err != nil {
		t.Fatal(err)
	}
	check := func(name string, want func(off uintptr) Flags) {
		t.Helper()
		for off := uintptr(0); off < G+M; off += K {
			gpa, f, _, ok := pt.Translate(va + off)
			if !ok || gpa != pa+uint64(off) || f != want(off) {
				t.Fatalf("%s: +%#x: %#x %#x %v, want flags %#x", name, off, gpa, uint64(f), ok, uint64(want(off)))
			}
		}
		checkTables(t, s, pt)
	}

	// Same flags: nothing to split.
	before := s.frames.nlive
	if err := pt.Protect(va+K, K, Writable|User); err != nil || s.frames.nlive != before || s.tlb.total() != 0 {
		t.Fatalf("no-op Protect: %v, tables %d->%d, tlb %d", err, before, s.frames.nlive, s.tlb.total())
	}

	// Read-only page inside the 1 GiB page: PD + PT.
	s.tlb.reset()
	if err := pt.Protect(va+3*M+K, K, User); err != nil {
		t.Fatal(err)
	}
	if s.frames.nlive != before+2 || !s.tlb.covers(va+3*M+K, K) {
		t.Errorf("tables %d (want %d), invalidations %#x", s.frames.nlive, before+2, s.tlb.inval)
	}
	check("one page", func(off uintptr) Flags {
		if off == 3*M+K {
			return User
		}
		return Writable | User
	})

	// NX over a range whose ends cut the split 1G's 2 MiB pages and the
	// trailing 2 MiB page.
	from, to := uintptr(5*M+7*K), uintptr(G+M/2)
	s.tlb.reset()
	if err := pt.Protect(va+from, to-from, Writable|User|NoExecute); err != nil {
		t.Fatal(err)
	}
	check("range", func(off uintptr) Flags {
		switch {
		case off == 3*M+K:
			return User
		case off >= from && off < to:
			return Writable | User | NoExecute
		}
		return Writable | User
	})
	if s.tlb.flushes != 1 {
		t.Errorf("%d leaves changed: want a FlushAll, got %d flushes", (to-from)/M, s.tlb.flushes)
	}
	if err := pt.Unmap(va, G+M, nil); err != nil || s.frames.nlive != 1 {
		t.Fatalf("%v, %d tables", err, s.frames.nlive)
	}
}

// TestTLB checks precise invalidation under the limit, FlushAll past it, and
// the order: no frame is released and no table freed before the TLB has
// dropped it.
func TestTLB(t *testing.T) {
	s := newSim(t, true)
	pt := newPT(t, s)
	limit := DefaultInvalidateLimit
	va, pa := uintptr(1<<39), uint64(1<<32)

	// Under the limit: one Invalidate per leaf, then one for the tables.
	if err := pt.MapPages(va, pa, uintptr(limit)*PageSize, Writable); err != nil {
		t.Fatal(err)
	}
	s.tlb.reset()
	tablesFreedAfter := -1
	s.frames.onFree = func(uint64) {
		if tablesFreedAfter < 0 {
			tablesFreedAfter = len(s.tlb.inval)
		}
	}
	n := 0
	err := pt.Unmap(va, uintptr(limit)*PageSize, func(p uint64, size uintptr) {
		leaf := va + uintptr(p-pa)
		if !s.tlb.covers(leaf, size) {
			t.Errorf("page %#x released before its invalidation", leaf)
		}
		n++
	})
	if err != nil || n != limit {
		t.Fatalf("%v, %d released", err, n)
	}
	if s.tlb.flushes != 0 || len(s.tlb.inval) != limit+1 {
		t.Errorf("%d invalidations, %d flushes: want %d and 0", len(s.tlb.inval), s.tlb.flushes, limit+1)
	}
	if tablesFreedAfter != limit+1 {
		t.Errorf("tables freed after %d invalidations, want %d", tablesFreedAfter, limit+1)
	}

	// Past the limit: one FlushAll before anything is released.
	if err := pt.MapPages(va, pa, uintptr(limit+1)*PageSize, Writable); err != nil {
		t.Fatal(err)
	}
	s.tlb.reset()
	err = pt.Unmap(va, uintptr(limit+1)*PageSize, func(uint64, uintptr) {
		if s.tlb.flushes != 1 {
			t.Errorf("released before the FlushAll")
		}
	})
	if err != nil || s.tlb.flushes != 1 || len(s.tlb.inval) != 1 {
		t.Errorf("%v: %d invalidations, %d flushes: want 1 (tables) and 1", err, len(s.tlb.inval), s.tlb.flushes)
	}

	// A 1 GiB page is one leaf: one invalidation, not a flush.
	if err := pt.Map(va, pa&^(GiantPageSize-1), GiantPageSize, 0); err != nil {
		t.Fatal(err)
	}
	s.tlb.reset()
	if err := pt.Unmap(va, GiantPageSize, nil); err != nil || s.tlb.flushes != 0 || !s.tlb.covers(va, GiantPageSize) {
		t.Errorf("giant page: %v, %v, %d flushes", err, s.tlb.inval, s.tlb.flushes)
	}

	// Env.InvalidateLimit overrides the default.
	s.env.InvalidateLimit = 2
	if err := pt.MapPages(va, pa, 3*PageSize, 0); err != nil {
		t.Fatal(err)
	}
	s.tlb.reset()
	if err := pt.Protect(va, 3*PageSize, Writable); err != nil || s.tlb.flushes != 1 {
		t.Errorf("limit 2, 3 pages: %v, %d flushes", err, s.tlb.flushes)
	}
	s.tlb.reset()
	if err := pt.Protect(va, 2*PageSize, 0); err != nil || s.tlb.flushes != 0 || len(s.tlb.inval) != 2 {
		t.Errorf("limit 2, 2 pages: %v, %v, %d flushes", err, s.tlb.inval, s.tlb.flushes)
	}
	s.env.InvalidateLimit = 0

	// Mapping into empty entries needs no invalidation.
	if err := pt.Unmap(va, 3*PageSize, nil); err != nil {
		t.Fatal(err)
	}
	s.tlb.reset()
	if err := pt.Map(va, pa, 3*HugePageSize, 0); err != nil || s.tlb.total() != 0 {
		t.Errorf("Map: %v, %d TLB operations", err, s.tlb.total())
	}
}

// TestUnmapPhysZero: a leaf that maps physical 0 with no flags is the
// Present bit alone; once Unmap has cleared that bit it must still know
// the leaf is there (fuzzer finding 081d3f09751c65d3: the page was never
// released nor invalidated).
func TestUnmapPhysZero(t *testing.T) {
	s := newSim(t, true)
	pt := newPT(t, s)
	for _, size := range []uintptr{PageSize, HugePageSize, GiantPageSize} {
		must(t, pt.Map(1<<39, 0, size, 0))
		s.tlb.reset()
		var got []released
		must(t, pt.Unmap(1<<39, size, func(pa uint64, size uintptr) { got = append(got, released{pa, size}) }))
		if len(got) != 1 || got[0] != (released{0, size}) || !s.tlb.covers(1<<39, size) {
			t.Errorf("size %#x: released %v, invalidated %#x", size, got, s.tlb.inval)
		}
		if s.frames.nlive != 1 {
			t.Errorf("size %#x: %d tables left", size, s.frames.nlive)
		}
	}
}

// TestNoMemory runs every operation that needs frames with every budget
// short of what it needs, and checks that each failure leaves the tables
// exactly as they were.
func TestNoMemory(t *testing.T) {
	const G, M, K = GiantPageSize, HugePageSize, PageSize
	type op struct {
		name string
		do   func(pt *PageTable) error
	}
	setup := func(pt *PageTable) {
		// A giant page, a 2M page and some 4K pages to cut into.
		must(t, pt.Map(4*G, 4*G, G, Writable))
		must(t, pt.Map(6*G, 6*G, M, Writable))
		must(t, pt.MapPages(6*G+M, 6*G+M, 4*K, Writable))
	}
	ops := []op{
		{"Map fresh slot, 4K pages", func(pt *PageTable) error { return pt.Map(3<<39+K, 0, 3*M, 0) }},
		{"Map fresh slot, giant", func(pt *PageTable) error { return pt.Map(3<<39, 0, 2*G+M+K, 0) }},
		{"Map next to existing", func(pt *PageTable) error { return pt.Map(6*G+M+4*K, 0, M+K, 0) }},
		{"MapPages over 2 PTs", func(pt *PageTable) error { return pt.MapPages(7*G-K, 0, 2*K, 0) }},
		{"Unmap inside giant", func(pt *PageTable) error { return pt.Unmap(4*G+M+K, K, nil) }},
		{"Unmap across giant end", func(pt *PageTable) error { return pt.Unmap(4*G+G-K, M, nil) }},
		{"Unmap two cuts in giant", func(pt *PageTable) error { return pt.Unmap(4*G+K, 3*M, nil) }},
		{"Protect inside 2M", func(pt *PageTable) error { return pt.Protect(6*G+K, K, 0) }},
		{"Protect cuts giant and 2M", func(pt *PageTable) error { return pt.Protect(4*G+G-M-K, 2*M+2*K, NoExecute) }},
	}
	for _, o := range ops {
		// How many frames does the operation take with no limit?
		s := newSim(t, true)
		pt := newPT(t, s)
		setup(pt)
		base := s.frames.allocs
		must(t, o.do(pt))
		need := s.frames.allocs - base
		if need == 0 {
			t.Fatalf("%s: takes no frames", o.name)
		}
		for budget := 0; budget < need; budget++ {
			s.reset()
			pt := newPT(t, s)
			setup(pt)
			snap := snapshot(t, s, pt)
			s.frames.budget = budget
			if err := o.do(pt); err != ErrNoMemory {
				t.Fatalf("%s, budget %d of %d: %v", o.name, budget, need, err)
			}
			s.frames.budget = -1
			if got := snapshot(t, s, pt); got != snap {
				t.Fatalf("%s, budget %d: tables changed:\n%s\nwant\n%s", o.name, budget, got, snap)
			}
			if s.frames.dirtyFrees != 0 || s.frames.doubleFrees != 0 {
				t.Fatalf("%s: bad frees", o.name)
			}
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot renders every table reachable from pt, by content, and the
// number of live frames.
func snapshot(tb testing.TB, s *sim, pt *PageTable) string {
	out := fmt.Sprintf("live %d\n", s.frames.nlive)
	var dump func(pa uint64, l Level, at uintptr)
	dump = func(pa uint64, l Level, at uintptr) {
		for i, e := range s.frame(pa) {
			if e == 0 {
				continue
			}
			va := at + uintptr(i)<<l.Shift()
			if isTable(e, l) {
				out += fmt.Sprintf("%v %#x -> table\n", l, va)
				dump(e.Addr(), l-1, va)
			} else {
				out += fmt.Sprintf("%v %#x -> %#x\n", l, va, uint64(e))
			}
		}
	}
	dump(pt.Root, PML4, 0)
	return out
}

func TestShareKernelHalf(t *testing.T) {
	s := newSim(t, true)
	kernel := newPT(t, s)
	if err := kernel.Map(higherHalf, 0, 4*GiantPageSize, Writable|Global|NoExecute); err != nil {
		t.Fatal(err)
	}
	if err := kernel.Pin(256, 511); err != nil {
		t.Fatal(err)
	}
	if n := s.frames.nlive; n != 1+256+0+0 { // root, 256 PDPTs (one existed already)
		t.Errorf("%d tables after Pin", n)
	}
	if err := kernel.Pin(0, 1); err != nil {
		t.Fatal(err)
	}
	task := newPT(t, s)
	if err := task.ShareKernelHalf(kernel, 256, 511); err != nil {
		t.Fatal(err)
	}
	if err := task.ShareKernelHalf(kernel, 0, 1); err != nil {
		t.Fatal(err)
	}
	if err := task.ShareKernelHalf(kernel, 0, 2); err != ErrNotPinned {
		t.Errorf("unpinned slot: %v", err)
	}
	if err := task.ShareKernelHalf(kernel, -1, 3); err != ErrSlot {
		t.Errorf("bad slots: %v", err)
	}
	if err := task.ShareKernelHalf(kernel, 256, 256); err != nil {
		t.Errorf("sharing again: %v", err)
	}
	if err := kernel.ShareKernelHalf(kernel, 256, 256); err != ErrMapped {
		t.Errorf("sharing with itself: %v", err)
	}
	other := newPT(t, s)
	must(t, other.Map(SlotBase(300), 0, PageSize, 0))
	if err := other.ShareKernelHalf(kernel, 300, 300); err != ErrMapped {
		t.Errorf("slot in use: %v", err)
	}
	other.Destroy(nil)

	// The kernel's mapping, made before sharing, is seen by the task.
	if pa, f, size, ok := task.Translate(higherHalf + 5); !ok || pa != 5 || f != Writable|Global|NoExecute || size != GiantPageSize {
		t.Errorf("task sees %#x %#x %#x %v", pa, uint64(f), size, ok)
	}
	// A mapping made after sharing, from either side, too.
	must(t, kernel.MapPages(SlotBase(400)+PageSize, 0x7000, PageSize, Writable))
	if pa, _, _, ok := task.Translate(SlotBase(400) + PageSize); !ok || pa != 0x7000 {
		t.Errorf("later kernel mapping not shared: %#x %v", pa, ok)
	}
	must(t, task.MapPages(1<<39, 0x8000, PageSize, 0))
	if pa, _, _, ok := kernel.Translate(1 << 39); !ok || pa != 0x8000 {
		t.Errorf("mapping through the task not shared: %#x %v", pa, ok)
	}
	// The task's private half is its own.
	must(t, task.MapPages(200<<39, 0x9000, PageSize, User|Writable))
	if _, _, _, ok := kernel.Translate(200 << 39); ok {
		t.Errorf("task mapping leaked into the kernel")
	}

	// Emptying a pinned slot keeps its PDPT.
	must(t, kernel.Unmap(SlotBase(400), PageSize*2, nil))
	must(t, task.Unmap(1<<39, PageSize, nil))
	if e := kernel.table(kernel.Root)[400]; e&Present == 0 {
		t.Errorf("pinned PDPT freed")
	}
	checkTables(t, s, kernel)

	// Destroying the task frees its own tables only.
	before := s.frames.nlive
	var rel []released
	task.Destroy(func(pa uint64, size uintptr) { rel = append(rel, released{pa, size}) })
	if len(rel) != 1 || rel[0] != (released{0x9000, PageSize}) {
		t.Errorf("task released %v", rel)
	}
	if got := before - s.frames.nlive; got != 4 { // root, PDPT, PD, PT of the private page
		t.Errorf("task destroy freed %d tables, want 4", got)
	}
	if pa, _, _, ok := kernel.Translate(higherHalf + GiantPageSize); !ok || pa != GiantPageSize {
		t.Errorf("kernel lost its mapping")
	}
	checkTables(t, s, kernel)

	rel = rel[:0]
	kernel.Destroy(func(pa uint64, size uintptr) { rel = append(rel, released{pa, size}) })
	if len(rel) != 4 || s.frames.nlive != 0 || s.frames.dirtyFrees != 0 || s.frames.doubleFrees != 0 {
		t.Errorf("kernel destroy: released %v, live %d, dirty %d, double %d", rel, s.frames.nlive, s.frames.dirtyFrees, s.frames.doubleFrees)
	}
}

func TestPinNoMemory(t *testing.T) {
	s := newSim(t, true)
	pt := newPT(t, s)
	must(t, pt.MapPages(SlotBase(300), 0, PageSize, 0))
	snap := snapshot(t, s, pt)
	s.frames.budget = 10
	if err := pt.Pin(256, 511); err != ErrNoMemory {
		t.Fatalf("Pin = %v", err)
	}
	s.frames.budget = -1
	if got := snapshot(t, s, pt); got != snap {
		t.Errorf("Pin changed the tables")
	}
	if e := pt.table(pt.Root)[300]; e&Pinned != 0 {
		t.Errorf("slot pinned by a failed Pin")
	}
}

// TestMapUnmapEverything maps a mix of ranges all over the address space and
// unmaps them again in other pieces: every table frame comes back.
func TestMapUnmapEverything(t *testing.T) {
	const G, M, K = GiantPageSize, HugePageSize, PageSize
	s := newSim(t, true)
	pt := newPT(t, s)
	ranges := []struct {
		va   uintptr
		size uintptr
	}{
		{0x1000, 3*M + 5*K}, {G - K, G + 2*K}, {7 << 39, 3 * G}, {(7 << 39) + 3*G + K, K},
		{higherHalf, 2*G + M}, {topGiant - 3*M, 3*M + G}, {0x7fff_ffff_f000, K},
	}
	var total uintptr
	for i, r := range ranges {
		must(t, pt.Map(r.va, uint64(i)<<40, r.size, Writable))
		total += r.size
	}
	checkTables(t, s, pt)
	var freed uintptr
	rel := func(pa uint64, size uintptr) { freed += size }
	// Unmap in 5 GiB strides over each half, holes and all.
	for va := uintptr(0); va < 1<<47; va += 5 * G {
		must(t, pt.Unmap(va, min(5*G, 1<<47-va), rel))
	}
	for va := higherHalf; va >= higherHalf; va += 5 * G {
		must(t, pt.Unmap(va, min(5*G, -va), rel))
	}
	if freed != total {
		t.Errorf("released %#x bytes, mapped %#x", freed, total)
	}
	if n := checkTables(t, s, pt); n != 1 || s.frames.nlive != 1 || s.frames.dirtyFrees != 0 {
		t.Errorf("tables left: reachable %d live %d dirty frees %d", n, s.frames.nlive, s.frames.dirtyFrees)
	}
	pt.Destroy(nil)
	if s.frames.nlive != 0 {
		t.Errorf("%d frames after Destroy", s.frames.nlive)
	}
}
