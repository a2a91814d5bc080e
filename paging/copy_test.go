package paging

import "testing"

func TestShareLeaves(t *testing.T) {
	const G, M, K = GiantPageSize, HugePageSize, PageSize
	s := newSim(t, true)
	src, dst := newPT(t, s), newPT(t, s)
	va := uintptr(4 * G)
	// A giant page, a huge page, and 4 KiB pages with a hole.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(src.Map(va, 8*G, G, User))
	must(src.Map(va+G, 9*G, M, Writable))
	must(src.MapPages(va+G+M, 10*G, 3*K, NoExecute))
	must(src.MapPages(va+G+M+5*K, 11*G, K, 0))
	var visited []uintptr
	var bytes uintptr
	must(src.ShareLeaves(dst, va, G+M+6*K, false, eachLeaf(func(pa uint64, size uintptr) {
		visited = append(visited, size)
		bytes += size
	})))
	if bytes != G+M+4*K || len(visited) != 6 {
		t.Fatalf("visited %v (%d bytes), want a 1 GiB, a 2 MiB and four 4 KiB leaves", visited, bytes)
	}
	for off := uintptr(0); off < G+M+6*K; off += K {
		spa, sf, ssz, sok := src.Translate(va + off)
		dpa, df, dsz, dok := dst.Translate(va + off)
		if spa != dpa || sf != df || sok != dok || (sok && ssz != dsz) {
			t.Fatalf("+%#x: src (%#x %#x %d %v) dst (%#x %#x %d %v)", off, spa, uint64(sf), ssz, sok, dpa, uint64(df), dsz, dok)
		}
	}
	// Sharing again finds the leaves there.
	if err := src.ShareLeaves(dst, va+G+M, K, false, nil); err != ErrMapped {
		t.Fatalf("sharing onto a mapped page: %v, want ErrMapped", err)
	}
	// A range cutting a huge page shares the part inside, page by page.
	dst2 := newPT(t, s)
	must(src.ShareLeaves(dst2, va+G+4*K, 2*K, false, nil))
	if pa, _, size, ok := dst2.Translate(va + G + 5*K); !ok || size != K || pa != 9*G+5*K {
		t.Fatalf("part of a huge page: %#x %d %v", pa, size, ok)
	}
	if _, _, _, ok := dst2.Translate(va + G + 6*K); ok {
		t.Fatal("shared past the range")
	}
	checkTables(t, s, dst)
	checkTables(t, s, dst2)
}

func TestReplace(t *testing.T) {
	const M, K = HugePageSize, PageSize
	s := newSim(t, false)
	pt := newPT(t, s)
	va := uintptr(1 << 32)
	if err := pt.Map(va, 1<<33, M, 0); err != nil {
		t.Fatal(err)
	}
	s.tlb.reset()
	if err := pt.Replace(va+7*K, 1<<34, Writable); err != nil {
		t.Fatal(err)
	}
	for off := uintptr(0); off < M; off += K {
		pa, f, size, ok := pt.Translate(va + off)
		want, wantF := uint64(1<<33)+uint64(off), Flags(0)
		if off == 7*K {
			want, wantF = 1<<34, Writable
		}
		if !ok || size != K || pa != want || f != wantF {
			t.Fatalf("+%#x: %#x flags %#x size %d %v, want %#x flags %#x", off, pa, uint64(f), size, ok, want, uint64(wantF))
		}
	}
	if !s.tlb.covers(va+7*K, K) {
		t.Error("the replaced page was not invalidated")
	}
	if err := pt.Replace(va+M, 1<<34, 0); err != ErrNotMapped {
		t.Errorf("replacing an unmapped page: %v, want ErrNotMapped", err)
	}
	checkTables(t, s, pt)
}

func TestShareLeavesReadOnly(t *testing.T) {
	const M, K = HugePageSize, PageSize
	s := newSim(t, false)
	src, dst := newPT(t, s), newPT(t, s)
	va := uintptr(1 << 32)
	if err := src.Map(va, 1<<33, 2*M, Writable); err != nil {
		t.Fatal(err)
	}
	s.tlb.reset()
	// The range cuts the first huge page: it is split, the part inside
	// shared read-only, the part outside left writable.
	if err := src.ShareLeaves(dst, va+M/2, M+M/2, true, nil); err != nil {
		t.Fatal(err)
	}
	for off := uintptr(0); off < 2*M; off += K {
		_, sf, _, _ := src.Translate(va + off)
		_, df, _, dok := dst.Translate(va + off)
		inside := off >= M/2
		if (sf&Writable != 0) == inside || dok != inside || (dok && df&Writable != 0) {
			t.Fatalf("+%#x: src flags %#x, dst flags %#x mapped %v", off, uint64(sf), uint64(df), dok)
		}
	}
	if _, _, size, _ := dst.Translate(va + M); size != M {
		t.Errorf("the whole huge page inside is shared as %d-byte pages", size)
	}
	if !s.tlb.covers(va+M/2, K) || !s.tlb.covers(va+M, M) {
		t.Error("the write-protected pages were not invalidated")
	}
	checkTables(t, s, src)
	checkTables(t, s, dst)
}

func TestMapPage(t *testing.T) {
	const M, K = HugePageSize, PageSize
	s := newSim(t, false)
	pt := newPT(t, s)
	va := uintptr(1 << 40)
	if err := pt.MapPage(va+K, 1<<33, Writable|NoExecute); err != nil {
		t.Fatal(err)
	}
	if pa, f, size, ok := pt.Translate(va + K); !ok || pa != 1<<33 || f != Writable|NoExecute || size != K {
		t.Fatalf("%#x %#x %d %v", pa, uint64(f), size, ok)
	}
	if err := pt.MapPage(va+K, 1<<34, 0); err != ErrMapped {
		t.Errorf("over a page: %v, want ErrMapped", err)
	}
	if err := pt.Map(va+M, 1<<35, M, 0); err != nil {
		t.Fatal(err)
	}
	if err := pt.MapPage(va+M+K, 1<<34, 0); err != ErrMapped {
		t.Errorf("inside a huge page: %v, want ErrMapped", err)
	}
	if err := pt.MapPage(va+1, 0, 0); err != ErrMisaligned {
		t.Errorf("unaligned: %v", err)
	}
	// Out of table frames: nothing left behind.
	before := s.frames.nlive
	s.frames.budget = 0
	if err := pt.MapPage(va+(1<<39), 1<<33, 0); err != ErrNoMemory {
		t.Errorf("with no frames: %v, want ErrNoMemory", err)
	}
	// A PDPT, then no PD: the PDPT must go back, and only after an
	// invalidation, since the CPU may have cached the PML4 entry that
	// linked it meanwhile (paging-structure caches).
	s.frames.budget = 1
	s.tlb.reset()
	uninvalidated := 0
	s.frames.onFree = func(uint64) {
		if !s.tlb.covers(va+(2<<39), K) {
			uninvalidated++
		}
	}
	if err := pt.MapPage(va+(2<<39), 1<<33, 0); err != ErrNoMemory {
		t.Errorf("with one frame: %v, want ErrNoMemory", err)
	}
	s.frames.onFree = nil
	if uninvalidated != 0 {
		t.Errorf("%d tables freed before an invalidation", uninvalidated)
	}
	s.frames.budget = -1
	if s.frames.nlive != before {
		t.Errorf("tables %d -> %d after a failed MapPage", before, s.frames.nlive)
	}
	checkTables(t, s, pt)
}

// TestShareLeavesWholeTables covers the fast path: page tables wholly
// inside the range are copied entry by entry in one loop.
func TestShareLeavesWholeTables(t *testing.T) {
	const M, K = HugePageSize, PageSize
	s := newSim(t, false)
	src, dst := newPT(t, s), newPT(t, s)
	va := uintptr(1 << 32)
	// Two full 2 MiB windows of 4 KiB pages, every third page missing.
	for off := uintptr(0); off < 2*M; off += K {
		if off/K%3 == 1 {
			continue
		}
		if err := src.MapPages(va+off, 1<<33+uint64(off), K, Writable); err != nil {
			t.Fatal(err)
		}
	}
	var leaves int
	s.tlb.reset()
	if err := src.ShareLeaves(dst, va, 2*M, true, eachLeaf(func(pa uint64, size uintptr) { leaves++ })); err != nil {
		t.Fatal(err)
	}
	want := 0
	for off := uintptr(0); off < 2*M; off += K {
		spa, sf, _, sok := src.Translate(va + off)
		dpa, df, _, dok := dst.Translate(va + off)
		mapped := off/K%3 != 1
		if sok != mapped || dok != mapped || (mapped && (spa != dpa || sf&Writable != 0 || df&Writable != 0)) {
			t.Fatalf("+%#x: src %#x %#x %v, dst %#x %#x %v", off, spa, uint64(sf), sok, dpa, uint64(df), dok)
		}
		if mapped {
			want++
		}
	}
	if leaves != want {
		t.Errorf("visited %d leaves, want %d", leaves, want)
	}
	if s.tlb.flushes == 0 && len(s.tlb.inval) < want {
		t.Error("write-protected pages were neither invalidated nor flushed")
	}
	checkTables(t, s, src)
	checkTables(t, s, dst)
}

// eachLeaf turns a visit of one leaf into ShareLeaves's visit of a batch.
func eachLeaf(f func(pa uint64, size uintptr)) func(pas []uint64, size uintptr) {
	return func(pas []uint64, size uintptr) {
		for _, pa := range pas {
			f(pa, size)
		}
	}
}

// TestShareLeavesBatches: a fork of more leaves than a batch holds shows
// every one, once, in batches of one size and at most ShareBatch.
func TestShareLeavesBatches(t *testing.T) {
	const K, M = PageSize, HugePageSize
	s := newSim(t, false)
	src, dst := newPT(t, s), newPT(t, s)
	va := uintptr(1 << 40)
	const pages = 3*ShareBatch + 5
	if err := src.MapPages(va, 1<<30, pages*K, Writable); err != nil {
		t.Fatal(err)
	}
	if err := src.Map(va+4*M, 1<<31, M, Writable); err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]int{}
	if err := src.ShareLeaves(dst, va, 5*M, true, func(pas []uint64, size uintptr) {
		if len(pas) == 0 || len(pas) > ShareBatch {
			t.Fatalf("a batch of %d leaves", len(pas))
		}
		for _, pa := range pas {
			if size == M {
				seen[pa] += 512
			} else {
				seen[pa]++
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != pages+1 || seen[1<<31] != 512 {
		t.Fatalf("shown %d leaves (the huge one %d times 512), want %d and 1", len(seen), seen[1<<31]/512, pages+1)
	}
	for i := uint64(0); i < pages; i++ {
		if seen[1<<30+i*K] != 1 {
			t.Fatalf("page %d shown %d times", i, seen[1<<30+i*K])
		}
	}
}
