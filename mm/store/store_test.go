package store

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// mustCheck fails t if s's invariants do not hold.
func mustCheck(t testing.TB, s *Compressed, m *simFrames) {
	t.Helper()
	if err := s.check(m); err != nil {
		t.Fatal(err)
	}
}

func TestClasses(t *testing.T) {
	worst := 1.0
	for c := 0; c < numClasses; c++ {
		cl := classes[c]
		if cl.size%classAlign != 0 || cl.frames < 1 || cl.frames > maxZspageFrames || cl.objects < 1 {
			t.Fatalf("class %d: %+v", c, cl)
		}
		if zsHeaderSize+cl.objects*cl.size > cl.frames*PageSize || cl.objects > noObject || cl.objects > objMask {
			t.Fatalf("class %d: %+v does not fit its zspage or its indexes", c, cl)
		}
		if c > 0 && cl.size <= classes[c-1].size {
			t.Fatalf("classes %d and %d out of order", c-1, c)
		}
		used := float64(cl.objects*cl.size) / float64(cl.frames*PageSize)
		worst = min(worst, used)
		t.Logf("class %2d: %4d bytes, %d frames, %3d objects, %.1f%% used", c, cl.size, cl.frames, cl.objects, 100*used)
	}
	for n := 1; n <= maxCompressed; n++ {
		c := classFor(n)
		if c >= numClasses || classes[c].size < uint32(n) || (c > 0 && classes[c-1].size >= uint32(n)) {
			t.Fatalf("%d bytes go to class %d (%d bytes), not the smallest that fits", n, c, classes[c].size)
		}
	}
	// What a compressed page of n bytes costs: its share of a full
	// zspage, over n. The worst from 256 bytes up, and the mean over
	// 1024-2048 (pages compressed 2-4:1).
	var worstCost, sum, sumN float64
	for n := 256; n <= maxCompressed; n++ {
		cl := classes[classFor(n)]
		cost := float64(cl.frames*PageSize) / float64(cl.objects)
		worstCost = max(worstCost, cost/float64(n))
		if n >= 1024 && n <= 2048 {
			sum, sumN = sum+cost, sumN+float64(n)
		}
	}
	t.Logf("%d classes for %d sizes; a full zspage uses at least %.1f%% of its frames; "+
		"a page compressed to n bytes takes at most %.3f n (n >= 256), %.3f n on average for n in 1024-2048",
		numClasses, numSizes, 100*worst, worstCost, sum/sumN)
	// The bounds the package comment promises.
	if worst < 0.9 || worstCost > 1.13 || sum/sumN > 1.03 {
		t.Fatal("the classes waste more than the package comment says")
	}
}

func TestZeroPage(t *testing.T) {
	m, s := newTestStore(16, 1<<20)
	var p, q [PageSize]byte
	sl, err := s.Put(&p)
	if sl != ZeroSlot || err != nil {
		t.Fatalf("Put(zero page) = %#x, %v", sl, err)
	}
	fillRandom(&q, 1)
	if err := s.Get(ZeroSlot, &q); err != nil || q != p {
		t.Fatalf("Get(ZeroSlot) = %v, page cleared %v", err, q == p)
	}
	if s.Dup(ZeroSlot) != nil || s.Free(ZeroSlot) != nil || s.Refs(ZeroSlot) != 0 {
		t.Fatal("ZeroSlot: Dup, Free or Refs")
	}
	// The last byte alone makes a page non-zero.
	p[PageSize-1] = 1
	if sl, err := s.Put(&p); sl == ZeroSlot || err != nil {
		t.Fatalf("Put(page with its last byte set) = %#x, %v", sl, err)
	}
	if st := s.Stats(); st.ZeroPages != 1 || st.Pages != 1 || st.Puts != 2 {
		t.Fatalf("stats %+v", st)
	}
	mustCheck(t, s, m)
}

// TestRoundTrip stores pages of every kind, compressible ones derived from
// their address, reads them back in another order, and frees them all:
// every frame goes back.
func TestRoundTrip(t *testing.T) {
	const n = 6000
	m, s := newTestStore(8192, 1<<30)
	slots := make([]Slot, n)
	kinds := make([]int, n)
	var p, q [PageSize]byte
	var compressed, compressible uint64
	for i := range slots {
		kinds[i] = []int{kindCompressible, kindCompressible, kindCompressible, kindRandom, kindZero, kindSame}[i%6]
		fillKind(&p, kinds[i], uint64(i))
		before := s.Stats().CompressedBytes
		sl, err := s.Put(&p)
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
		if (kinds[i] == kindZero) != (sl == ZeroSlot) {
			t.Fatalf("Put %d (kind %d) = %#x", i, kinds[i], sl)
		}
		if kinds[i] == kindCompressible {
			size := s.Stats().CompressedBytes - before
			if size < PageSize/4 || size > PageSize/2 {
				t.Errorf("page %d compressed to %d bytes: not 2-4:1", i, size)
			}
			compressed += size
			compressible++
		}
		slots[i] = sl
	}
	mustCheck(t, s, m)
	st := s.Stats()
	t.Logf("%d pages: %+v", n, st)
	t.Logf("compressible pages: %.2f:1; whole store %.2f:1 in %d frames for %d pages (%d raw)",
		float64(compressible*PageSize)/float64(compressed),
		float64(st.UncompressedBytes)/float64(st.Frames()*PageSize), st.Frames(), st.Pages, st.RawPages)
	if st.Pages != n-n/6 || st.RawPages != n/6 || st.ZeroPages != n/6 {
		t.Fatalf("stats %+v", st)
	}
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
		fillKind(&p, kinds[i], uint64(i))
		fillRandom(&q, uint64(i)+7)
		if err := s.Get(slots[i], &q); err != nil || q != p {
			t.Fatalf("Get %d (kind %d, slot %#x): %v, same %v", i, kinds[i], slots[i], err, q == p)
		}
	}
	for _, i := range rand.New(rand.NewPCG(3, 4)).Perm(n) {
		if err := s.Free(slots[i]); err != nil {
			t.Fatalf("Free %d: %v", i, err)
		}
		if i%500 == 0 {
			mustCheck(t, s, m)
		}
	}
	mustCheck(t, s, m)
	if m.held != 0 || s.Stats().Frames() != 0 {
		t.Fatalf("empty store holds %d frames (%+v)", m.held, s.Stats())
	}
}

func TestDupFreeStale(t *testing.T) {
	m, s := newTestStore(64, 1<<20)
	var p, q [PageSize]byte
	fillCompressible(&p, 0x1000)
	a, _ := s.Put(&p)
	if s.Refs(a) != 1 {
		t.Fatalf("Refs after Put = %d", s.Refs(a))
	}
	for range 3 {
		if err := s.Dup(a); err != nil {
			t.Fatal(err)
		}
	}
	if s.Refs(a) != 4 || s.Stats().Refs != 4 || s.Stats().Pages != 1 {
		t.Fatalf("after 3 Dups: Refs %d, %+v", s.Refs(a), s.Stats())
	}
	for range 3 {
		if err := s.Free(a); err != nil {
			t.Fatal(err)
		}
		if err := s.Get(a, &q); err != nil || q != p {
			t.Fatalf("Get of a slot still referenced: %v", err)
		}
	}
	// Keep another page so that the table stays, then free a: its slot
	// goes stale, and stays stale when its entry is used again.
	fillRandom(&p, 9)
	keep, _ := s.Put(&p)
	if err := s.Free(a); err != nil {
		t.Fatal(err)
	}
	b, _ := s.Put(&p)
	if b == a || uint64(b)&indexMask != uint64(a)&indexMask {
		t.Fatalf("entry not reused with a new generation: a %#x b %#x", a, b)
	}
	for _, bad := range []Slot{a, 1 << 40, MaxSlot, Slot(s.nEntries + 1), b | 1<<(indexBits+genBits)} {
		if err := s.Get(bad, &q); err != ErrBadSlot {
			t.Errorf("Get(%#x) = %v, want ErrBadSlot", bad, err)
		}
		if s.Free(bad) != ErrBadSlot || s.Dup(bad) != ErrBadSlot || s.Refs(bad) != 0 {
			t.Errorf("Free, Dup or Refs of stale slot %#x", bad)
		}
	}
	mustCheck(t, s, m)
	s.Free(keep)
	s.Free(b)
	if m.held != 0 {
		t.Fatalf("%d frames held", m.held)
	}
	// The table was released; a slot from before it is stale in the new one.
	s.Put(&p)
	if s.Refs(keep) != 0 && s.Refs(a) != 0 {
		t.Fatal("a slot from a released table names a page")
	}
}

func TestRefsLimit(t *testing.T) {
	m, s := newTestStore(16, 1<<20)
	var p [PageSize]byte
	fillRandom(&p, 1)
	a, _ := s.Put(&p)
	e, _, _ := s.lookup(a)
	e.info += maxRefs - 1 // as if Dup'd that many times
	s.st.Refs += maxRefs - 1
	if err := s.Dup(a); err != ErrRefs {
		t.Fatalf("Dup past the limit = %v", err)
	}
	mustCheck(t, s, m)
}

// TestFull fills a store to its capacity: the next Put fails with ErrFull
// and changes nothing; zero pages still go; a Free makes room again.
func TestFull(t *testing.T) {
	const capPages = 100
	m := newSimFrames(1024)
	s := New(m, capPages*PageSize+PageSize-1) // rounded down to pages
	if s.Stats().Capacity != capPages*PageSize {
		t.Fatalf("capacity %d", s.Stats().Capacity)
	}
	var p [PageSize]byte
	var slots []Slot
	for i := range capPages {
		fillKind(&p, []int{kindCompressible, kindRandom}[i%2], uint64(i))
		sl, err := s.Put(&p)
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
		slots = append(slots, sl)
	}
	held, st := m.held, s.Stats()
	for _, kind := range []int{kindCompressible, kindRandom, kindSame} {
		fillKind(&p, kind, 1000)
		if sl, err := s.Put(&p); err != ErrFull || sl != 0 {
			t.Fatalf("Put into a full store = %#x, %v", sl, err)
		}
	}
	st.Puts += 3
	st.FullPuts += 3
	if m.held != held || s.Stats() != st {
		t.Fatalf("refused Puts changed the store: %d frames, was %d; %+v, was %+v", m.held, held, s.Stats(), st)
	}
	if !errors.Is(ErrFull, ErrFull) || ErrFull.Error() == "" {
		t.Fatal("ErrFull is not an error with a message")
	}
	clear(p[:])
	if sl, err := s.Put(&p); sl != ZeroSlot || err != nil {
		t.Fatalf("zero page into a full store: %#x, %v", sl, err)
	}
	s.Free(slots[0])
	fillRandom(&p, 1)
	if _, err := s.Put(&p); err != nil {
		t.Fatalf("Put after a Free: %v", err)
	}
	// A lower capacity refuses pages until enough are freed.
	s.SetCapacity(10 * PageSize)
	if _, err := s.Put(&p); err != ErrFull {
		t.Fatalf("Put over a lowered capacity: %v", err)
	}
	mustCheck(t, s, m)

	s = New(newSimFrames(4), 0)
	if _, err := s.Put(&p); err != ErrFull {
		t.Fatalf("Put into a store of capacity 0: %v", err)
	}
}

// TestFramesRunOut makes every Alloc a Put could make fail in turn, in
// stores in several states (empty; a table frame full; partial zspages of
// the class; a directory full): each failed Put returns ErrNoFrames and
// leaves the store and the frames as they were, and the store works on.
func TestFramesRunOut(t *testing.T) {
	type state struct {
		name string
		pre  int // pages Put before, of the kind tested
	}
	for _, st := range []state{{"empty", 0}, {"one page", 1}, {"table frame full", entriesPerFrame}, {"many", 3*entriesPerFrame + 7}} {
		for kind := range numKinds {
			if kind == kindZero {
				continue
			}
			for failAt := 1; ; failAt++ {
				m, s := newTestStore(4096, 1<<30)
				var p [PageSize]byte
				var slots []Slot
				for i := range st.pre {
					fillKind(&p, kind, uint64(i))
					sl, err := s.Put(&p)
					if err != nil {
						t.Fatal(err)
					}
					slots = append(slots, sl)
				}
				before, held, allocs := s.Stats(), m.held, m.allocs
				fillKind(&p, kind, 999999)
				m.failAt = failAt
				sl, err := s.Put(&p)
				if err == nil {
					// Put needed fewer than failAt frames: done.
					m.failAt = 0
					if m.allocs-allocs >= failAt {
						t.Fatalf("%s, kind %d: Alloc %d was to fail", st.name, kind, failAt)
					}
					if got, want := s.Refs(sl), uint32(1); got != want {
						t.Fatalf("refs %d", got)
					}
					break
				}
				if err != ErrNoFrames {
					t.Fatalf("%s, kind %d, Alloc %d fails: Put = %v", st.name, kind, failAt, err)
				}
				before.Puts++
				before.FramePuts++
				if m.held != held || s.Stats() != before {
					t.Fatalf("%s, kind %d, Alloc %d fails: %d frames held, was %d; %+v, was %+v",
						st.name, kind, failAt, m.held, held, s.Stats(), before)
				}
				mustCheck(t, s, m)
				// Everything is still there and the store still takes pages.
				for i, sl := range slots {
					var q [PageSize]byte
					fillKind(&p, kind, uint64(i))
					if err := s.Get(sl, &q); err != nil || q != p {
						t.Fatalf("%s, kind %d, Alloc %d failed: page %d lost (%v)", st.name, kind, failAt, i, err)
					}
				}
				fillKind(&p, kind, 999999)
				if _, err := s.Put(&p); err != nil {
					t.Fatalf("Put after a failed one: %v", err)
				}
				mustCheck(t, s, m)
			}
		}
	}
}

// TestNoAllocations: Put, Get, Dup and Free allocate nothing, in the steady
// state and when they make or release zspages and table frames.
func TestNoAllocations(t *testing.T) {
	m, s := newTestStore(1024, 1<<30)
	var pages [numKinds][PageSize]byte
	for k := range pages {
		fillKind(&pages[k], k, 42)
	}
	var dst [PageSize]byte
	var b Backend = s // through the interface, as the pager calls it
	for k := range pages {
		allocs := testing.AllocsPerRun(200, func() {
			sl, err := b.Put(&pages[k])
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Get(sl, &dst); err != nil || dst != pages[k] {
				t.Fatal("Get", err)
			}
			if b.Dup(sl) != nil || b.Free(sl) != nil || b.Free(sl) != nil {
				t.Fatal("Dup, Free")
			}
		})
		if allocs != 0 {
			t.Errorf("kind %d: %v allocations per Put+Get+Dup+Free+Free", k, allocs)
		}
	}
	// With pages held: the steady state, no table or zspage churn.
	var keep [numKinds]Slot
	for k := range pages {
		keep[k], _ = s.Put(&pages[k])
	}
	for k := range pages {
		for name, f := range map[string]func(){
			"Put+Free": func() { sl, _ := s.Put(&pages[k]); s.Free(sl) },
			"Get":      func() { s.Get(keep[k], &dst) },
			"Dup+Free": func() { s.Dup(keep[k]); s.Free(keep[k]) },
			"Refs":     func() { s.Refs(keep[k]) },
			"Stats":    func() { _ = s.Stats() },
		} {
			if a := testing.AllocsPerRun(200, f); a != 0 {
				t.Errorf("kind %d: %s: %v allocations", k, name, a)
			}
		}
	}
	// Failures allocate nothing either.
	s.SetCapacity(0)
	if a := testing.AllocsPerRun(100, func() { s.Put(&pages[kindRandom]) }); a != 0 {
		t.Errorf("Put into a full store: %v allocations", a)
	}
	if a := testing.AllocsPerRun(100, func() { s.Get(1<<40, &dst) }); a != 0 {
		t.Errorf("Get of a bad slot: %v allocations", a)
	}
	mustCheck(t, s, m)
}

func TestSlotPTE(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	slots := []Slot{ZeroSlot, 1, 2, 1<<27 - 1, 1 << 27, 1 << 42, MaxSlot - 1, MaxSlot}
	for range 1000 {
		slots = append(slots, Slot(r.Uint64N(uint64(MaxSlot)+1)))
	}
	for _, s := range slots {
		pte := s.PTE()
		if pte&1 != 0 || pte&^PTESlotMask != 0 {
			t.Fatalf("slot %#x: entry %#x has bits outside the slot field", s, pte)
		}
		if pte == 0 {
			t.Fatalf("slot %#x encodes as the empty entry", s)
		}
		// The paging layer's marker bits and the high bits are ignored.
		for _, extra := range []uint64{0, 1 << 9, 1<<9 | 1<<11, 0xffe, 3 << 62} {
			if got := SlotOfPTE(pte | extra); got != s {
				t.Fatalf("slot %#x: entry %#x decodes as %#x", s, pte|extra, got)
			}
		}
		// L1TF: below 2^39, the address field points above 2^51.
		if s < 1<<39 && pte&(1<<51) == 0 {
			t.Fatalf("slot %#x: entry %#x addresses %#x", s, pte, pte&0x000f_ffff_ffff_f000)
		}
	}
	if PTESlotMask != 0x3fff_ffff_ffff_f000 {
		t.Fatalf("PTESlotMask %#x", PTESlotMask)
	}
	// What the compressed store issues stays far below MaxSlot.
	if uint64(slotOf(maxEntries-1, genMask)) > uint64(MaxSlot) {
		t.Fatal("store slots exceed MaxSlot")
	}
}

// TestCorrupt damages a stored block: Get fails with ErrCorrupt rather
// than fault or return a wrong page without saying so.
func TestCorrupt(t *testing.T) {
	m, s := newTestStore(64, 1<<20)
	var p, q [PageSize]byte
	fillCompressible(&p, 0x5000)
	sl, _ := s.Put(&p)
	e, _, _ := s.lookup(sl)
	h := s.header(e.loc &^ objMask)
	k, off := objectAt(h, e.loc&objMask)
	f := s.frames.Page(h.frames[k])
	f[off] = 0xff // the first token: 15+ literals, then lengths running past the end
	f[off+1] = 0xff
	if err := s.Get(sl, &q); err != ErrCorrupt {
		t.Fatalf("Get of a damaged block = %v", err)
	}
	if err := s.Free(sl); err != nil || m.held != 0 {
		t.Fatalf("Free of a damaged block: %v, %d frames held", err, m.held)
	}
}

func TestErrors(t *testing.T) {
	seen := map[string]bool{}
	for e := ErrFull; e <= ErrOption+1; e++ {
		msg := e.Error()
		if msg == "" || seen[msg] {
			t.Errorf("Error(%d): %q", e, msg)
		}
		seen[msg] = true
	}
}
