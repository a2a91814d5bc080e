package paging

import "testing"

// TestWithhold: mprotect(PROT_NONE) of pages with frames, and the access
// given back. Withhold takes every translation away (with one shootdown,
// the huge page split first) but keeps frames and flags; Change gives the
// same frames back; fork shares withheld frames copy-on-write; Unmap and
// Destroy release them as frames.
func TestWithhold(t *testing.T) {
	const K, M = PageSize, HugePageSize
	s := newSim(t, false)
	pt := newPT(t, s)
	va := uintptr(1 << 40)
	// Eight small pages, then a huge page, then two more small pages.
	if err := pt.MapPages(va, 1<<30, 8*K, Writable|User); err != nil {
		t.Fatal(err)
	}
	if err := pt.Map(va+M, 1<<31, M, Writable|User); err != nil {
		t.Fatal(err)
	}
	if err := pt.MapPages(va+2*M, 1<<32, 2*K, Writable|User); err != nil {
		t.Fatal(err)
	}
	setBits(pt.ptEntry(va+K), Dirty)
	size := uintptr(2*M + K) // pages 0..7, the whole huge page, the first page after it
	s.tlb.reset()
	if err := pt.Withhold(va, size); err != nil {
		t.Fatal(err)
	}
	if s.tlb.unsynced != 0 || s.tlb.shootdowns != 1 {
		t.Fatalf("Withhold: %d invalidations left unsynced, %d shootdowns, want 0 and 1", s.tlb.unsynced, s.tlb.shootdowns)
	}
	for _, p := range []uintptr{va, va + 7*K, va + M, va + M + 300*K, va + 2*M} {
		if _, _, _, ok := pt.Translate(p); ok {
			t.Fatalf("%#x still translates after Withhold", p)
		}
		if !s.tlb.covers(p, K) && !s.tlb.covers(p&^(M-1), M) {
			t.Fatalf("%#x withheld without an invalidation", p)
		}
	}
	if _, _, _, ok := pt.Translate(va + 2*M + K); !ok {
		t.Fatal("the page after the range was withheld")
	}
	checkTables(t, s, pt)
	if e, l, ok := pt.Leaf(va + M); ok || l != PT || !e.IsWithheld() || e.Addr() != 1<<31 {
		t.Fatalf("the huge page's first page: %#x at %v, present %v; want withheld at PT level", uint64(e), l, ok)
	}
	if e, _, _ := pt.Leaf(va + K); e&Dirty == 0 || e&Writable == 0 {
		t.Fatalf("withheld entry %#x lost its Dirty or Writable bit", uint64(e))
	}
	// Nothing maps over a withheld entry, and the pager cannot take it.
	if err := pt.MapPage(va, 5<<30, Writable); err != ErrMapped {
		t.Fatalf("MapPage over a withheld entry: %v", err)
	}
	if _, ok := pt.TakeLeaf(va); ok {
		t.Fatal("TakeLeaf of a withheld entry")
	}
	if n := pt.Mapped(va, 8*K); n != 0 {
		t.Fatalf("Mapped counts %d withheld bytes", n)
	}

	// Fork while withheld: the child gets the entries withheld and
	// write-protected, the frames are shown as leaves.
	dst := newPT(t, s)
	var pas []uint64
	if err := pt.ShareLeaves(dst, va, 3*M, true, eachLeaf(func(pa uint64, sz uintptr) {
		if sz != PageSize {
			t.Fatalf("visit of size %d", sz)
		}
		pas = append(pas, pa)
	})); err != nil {
		t.Fatal(err)
	}
	if want := 8 + 512 + 2; len(pas) != want || pas[0] != 1<<30 || pas[8] != 1<<31 {
		t.Fatalf("fork showed %d frames (%#x...), want %d", len(pas), pas[:2], want)
	}
	for _, p := range []*PageTable{pt, dst} {
		if e, _, _ := p.Leaf(va + K); !e.IsWithheld() || e&Writable != 0 || e.Addr() != 1<<30+K {
			t.Fatalf("after fork: %#x, want withheld read-only", uint64(e))
		}
	}
	checkTables(t, s, dst)

	// Access back: Change makes them present, same frames, flags changed.
	s.tlb.reset()
	if err := pt.Change(va, size, NoExecute, 0); err != nil {
		t.Fatal(err)
	}
	for i, p := range []uintptr{va, va + K, va + M, va + M + 511*K} {
		pa, f, _, ok := pt.Translate(p)
		want := []uint64{1 << 30, 1<<30 + K, 1 << 31, 1<<31 + 511*K}[i]
		if !ok || pa != want || f&User == 0 || f&Writable != 0 {
			t.Fatalf("%#x after Change: pa %#x flags %#x mapped %v, want pa %#x, user, read-only", p, pa, uint64(f), ok, want)
		}
	}
	checkTables(t, s, pt)

	// Unmap and Destroy release withheld entries as frames.
	frames := 0
	if err := dst.Withhold(va, 3*M); err != nil { // (already withheld but the last page)
		t.Fatal(err)
	}
	if err := dst.Unmap(va, 8*K, func(pa uint64, sz uintptr) {
		if sz == PageSize {
			frames++
		}
	}); err != nil {
		t.Fatal(err)
	}
	if frames != 8 {
		t.Fatalf("Unmap released %d frames of 8 withheld pages", frames)
	}
	checkTables(t, s, dst)
	frames = 0
	dst.Destroy(func(pa uint64, sz uintptr) {
		if sz == PageSize {
			frames++
		}
	})
	if frames != 512+2 {
		t.Fatalf("Destroy released %d frames, want %d", frames, 512+2)
	}
}

// TestWithholdOutOfTables: SplitAll takes a table for each huge page; when
// none is left, Withhold withholds nothing and the translations stand.
func TestWithholdOutOfTables(t *testing.T) {
	const M = HugePageSize
	s := newSim(t, false)
	pt := newPT(t, s)
	va := uintptr(1 << 40)
	if err := pt.Map(va, 1<<31, 2*M, Writable); err != nil {
		t.Fatal(err)
	}
	s.frames.budget = 1 // one table: the first huge page splits, the second cannot
	if err := pt.Withhold(va, 2*M); err != ErrNoMemory {
		t.Fatalf("Withhold without tables: %v", err)
	}
	if s.tlb.unsynced != 0 {
		t.Fatal("the split was not shot down")
	}
	for _, p := range []uintptr{va, va + M - PageSize, va + M} {
		if pa, _, _, ok := pt.Translate(p); !ok || pa != 1<<31+uint64(p-va) {
			t.Fatalf("%#x after the failed Withhold: %#x %v", p, pa, ok)
		}
	}
	checkTables(t, s, pt)
}
