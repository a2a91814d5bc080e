package paging

import "testing"

// softVal is a soft-entry value as the pager makes them (bits 12..61, never 0
// there): k in the low bits, inverted like store.Slot.PTE.
func softVal(k uint64) uint64 { return ^(k << 12) & SoftMask }

// evict turns the 4 KiB leaf at va into a soft entry holding v, the way the
// pager does, and checks TakeLeaf's shootdown.
func evict(t *testing.T, s *sim, pt *PageTable, va uintptr, v uint64) Entry {
	t.Helper()
	s.tlb.reset()
	old, ok := pt.TakeLeaf(va)
	if !ok || old&Present == 0 {
		t.Fatalf("TakeLeaf(%#x): %#x %v", va, uint64(old), ok)
	}
	if !s.tlb.covers(va, PageSize) || s.tlb.unsynced != 0 {
		t.Fatalf("TakeLeaf(%#x) left the translation: %+v", va, s.tlb)
	}
	if err := pt.SetSoft(va, v); err != nil {
		t.Fatalf("SetSoft(%#x): %v", va, err)
	}
	return old
}

func TestSoftEntries(t *testing.T) {
	const K, M = PageSize, HugePageSize
	s := newSim(t, false)
	pt := newPT(t, s)
	va := uintptr(1 << 40)
	if err := pt.MapPages(va, 1<<30, 8*K, Writable|User); err != nil {
		t.Fatal(err)
	}
	// A huge page is no 4 KiB leaf: TakeLeaf refuses it.
	if err := pt.Map(va+M, 1<<31, M, Writable); err != nil {
		t.Fatal(err)
	}
	if _, ok := pt.TakeLeaf(va + M); ok {
		t.Fatal("TakeLeaf of a huge page")
	}
	if _, ok := pt.TakeLeaf(va + 9*K); ok {
		t.Fatal("TakeLeaf of a hole")
	}
	for i := uintptr(0); i < 8; i += 2 {
		evict(t, s, pt, va+i*K, softVal(uint64(i+1)))
	}
	checkTables(t, s, pt)
	for i := uintptr(0); i < 8; i++ {
		v, soft := pt.SoftAt(va + i*K)
		_, _, _, mapped := pt.Translate(va + i*K)
		if soft != (i%2 == 0) || mapped == soft || (soft && v != softVal(uint64(i+1))) {
			t.Fatalf("page %d: soft %v (%#x) mapped %v", i, soft, v, mapped)
		}
	}
	// Map refuses a soft entry, SetSoft a used one, TakeLeaf a soft one.
	if err := pt.MapPage(va, 5<<30, Writable); err != ErrMapped {
		t.Fatalf("MapPage over a soft entry: %v", err)
	}
	if err := pt.SetSoft(va+K, softVal(9)); err != ErrMapped {
		t.Fatalf("SetSoft over a leaf: %v", err)
	}
	if _, ok := pt.TakeLeaf(va); ok {
		t.Fatal("TakeLeaf of a soft entry")
	}
	// Protect keeps soft entries as they are.
	if err := pt.Protect(va, 8*K, User); err != nil {
		t.Fatal(err)
	}
	if v, ok := pt.SoftAt(va + 2*K); !ok || v != softVal(3) {
		t.Fatalf("soft entry after Protect: %#x %v", v, ok)
	}
	// Fork: whole tables and single entries, read-only or not.
	for _, c := range []struct {
		va, size uintptr
		ro       bool
	}{{va, M, true}, {va, M, false}, {va + 2*K, 3 * K, true}} {
		dst := newPT(t, s)
		var softs []uint64
		frames := 0
		if err := pt.ShareLeaves(dst, c.va, c.size, c.ro, eachLeaf(func(pa uint64, size uintptr) {
			if size == SoftSize {
				softs = append(softs, pa)
			} else {
				frames++
			}
		})); err != nil {
			t.Fatal(err)
		}
		want := 0
		for p := c.va; p < c.va+c.size && p < va+8*K; p += K {
			if (p-va)/K%2 == 0 {
				want++
				if v, ok := dst.SoftAt(p); !ok || v != softVal(uint64((p-va)/K+1)) {
					t.Fatalf("fork %+v: child's %#x: %#x %v", c, p, v, ok)
				}
			}
		}
		if len(softs) != want {
			t.Fatalf("fork %+v: visited %d soft entries, want %d", c, len(softs), want)
		}
		checkTables(t, s, dst)
		var released []uint64
		dst.Destroy(func(pa uint64, size uintptr) {
			if size == SoftSize {
				released = append(released, pa)
			}
		})
		if len(released) != want {
			t.Fatalf("Destroy released %d soft entries, want %d", len(released), want)
		}
	}
	// A fault brings a page back: TakeSoft, then MapPage.
	if v, ok := pt.TakeSoft(va + 4*K); !ok || v != softVal(5) {
		t.Fatalf("TakeSoft: %#x %v", v, ok)
	}
	if _, ok := pt.TakeSoft(va + 4*K); ok {
		t.Fatal("TakeSoft twice")
	}
	if err := pt.MapPage(va+4*K, 6<<30, Writable); err != nil {
		t.Fatal(err)
	}
	// PutLeaf: an eviction that gave up.
	old, _ := pt.TakeLeaf(va + K)
	if err := pt.PutLeaf(va+K, old); err != nil {
		t.Fatal(err)
	}
	if pa, _, _, ok := pt.Translate(va + K); !ok || pa != 1<<30+K {
		t.Fatalf("after PutLeaf: %#x %v", pa, ok)
	}
	// Young: the clock's test-and-clear of Accessed.
	setBits(pt.ptEntry(va+3*K), Accessed)
	if y, p := pt.Young(va + 3*K); !y || !p {
		t.Fatal("Young missed the Accessed bit")
	}
	if y, p := pt.Young(va + 3*K); y || !p {
		t.Fatal("Young did not clear the Accessed bit")
	}
	if _, p := pt.Young(va); p {
		t.Fatal("Young of a soft entry says present")
	}
	// Unmap releases soft entries as values, with no invalidation for them,
	// and frees the table when it empties.
	var softs, frames int
	s.tlb.reset()
	if err := pt.Unmap(va, 8*K, func(pa uint64, size uintptr) {
		if size == SoftSize {
			softs++
		} else {
			frames++
		}
	}); err != nil {
		t.Fatal(err)
	}
	if softs != 3 || frames != 5 || len(s.tlb.inval) > 5+1 {
		t.Fatalf("Unmap: %d soft entries, %d frames released, %d invalidations", softs, frames, len(s.tlb.inval))
	}
	checkTables(t, s, pt)
	if n := pt.Mapped(va, M); n != 0 {
		t.Fatalf("%d bytes still mapped", n)
	}
	// The table under the soft entries went (only the huge page is left).
	if e, l, ok := pt.Leaf(va + M); !ok || l != PD || e&Huge == 0 {
		t.Fatal("the huge page went")
	}
}

// TestSoftTableKept: a table holding only soft entries is not freed by an
// Unmap around them.
func TestSoftTableKept(t *testing.T) {
	const K = PageSize
	s := newSim(t, false)
	pt := newPT(t, s)
	va := uintptr(1 << 40)
	if err := pt.MapPages(va, 1<<30, 2*K, Writable); err != nil {
		t.Fatal(err)
	}
	evict(t, s, pt, va, softVal(1))
	if err := pt.Unmap(va+K, K, nil); err != nil {
		t.Fatal(err)
	}
	if v, ok := pt.SoftAt(va); !ok || v != softVal(1) {
		t.Fatal("the soft entry went with its neighbour")
	}
	checkTables(t, s, pt)
	n := 0
	pt.Destroy(func(pa uint64, size uintptr) { n++ })
	if n != 1 || s.frames.nlive != 0 {
		t.Fatalf("Destroy: %d released, %d frames live", n, s.frames.nlive)
	}
}

// TestUnmapPrunesTableEmptiedByTakeLeaf: the pager empties a 4 KiB table
// entry by entry (TakeLeaf of all-zero pages, which leave no soft entry);
// an Unmap there finds nothing to release but must still free the table.
func TestUnmapPrunesTableEmptiedByTakeLeaf(t *testing.T) {
	const K = PageSize
	s := newSim(t, false)
	pt := newPT(t, s)
	va := uintptr(1 << 40)
	if err := pt.MapPages(va, 1<<30, 2*K, Writable); err != nil {
		t.Fatal(err)
	}
	before := s.frames.nlive
	for i := uintptr(0); i < 2; i++ {
		if _, ok := pt.TakeLeaf(va + i*K); !ok {
			t.Fatalf("TakeLeaf(%#x)", va+i*K)
		}
	}
	if err := pt.Unmap(va+K, K, nil); err != nil {
		t.Fatal(err)
	}
	checkTables(t, s, pt)
	if s.frames.nlive >= before {
		t.Fatalf("%d frames live after the Unmap, %d before: the empty tables stayed", s.frames.nlive, before)
	}
}
