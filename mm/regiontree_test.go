package mm

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Host tests of the region map's tree: its invariants after every kind of
// change, deep trees (small nodes, and a million regions), ENOMEM at every
// point a change can need a node, first fit with alignment against a
// reference, and every frame back at the end.

// newSmallRegionMap returns an empty map whose nodes hold at most leafMax
// regions and branchMax children, so that a few hundred regions make a
// tree of many levels.
func newSmallRegionMap(t testing.TB, a *FrameAllocator, leafMax, branchMax int) *RegionMap {
	t.Helper()
	m := newRegionMap(t, a)
	m.leafMax, m.branchMax = leafMax, branchMax
	return m
}

// treeErr checks every invariant of m's tree and says what is wrong ("" if
// nothing): levels and counts of every node (at least minAt below the
// root, two children for an internal root), leaves all at one depth, the
// regions sorted, aligned, non-empty, non-overlapping and canonical, every
// internal entry exactly the summary of its child, and the map's own
// summary, region count and node count.
func treeErr(m *RegionMap) string {
	if m.root == 0 {
		if m.n != 0 || m.nodes != 0 || m.height != 0 {
			return fmt.Sprintf("uncreated map with n %d nodes %d height %d", m.n, m.nodes, m.height)
		}
		return ""
	}
	if m.height < 1 || m.height > maxHeight {
		return fmt.Sprintf("height %d", m.height)
	}
	var prev Region
	havePrev := false
	regions, nodes := 0, 0
	var walk func(v uintptr, level int) (start, end, gap uintptr, err string)
	walk = func(v uintptr, level int) (start, end, gap uintptr, err string) {
		nodes++
		h := nodeAt(v)
		n := int(h.n)
		root := v == m.va(m.root)
		switch {
		case int(h.level) != level:
			return 0, 0, 0, fmt.Sprintf("node %#x: level %d, want %d", m.pa(v), h.level, level)
		case n > m.capAt(level):
			return 0, 0, 0, fmt.Sprintf("node %#x level %d: %d entries, cap %d", m.pa(v), level, n, m.capAt(level))
		case !root && n < m.minAt(level):
			return 0, 0, 0, fmt.Sprintf("node %#x level %d: %d entries, min %d", m.pa(v), level, n, m.minAt(level))
		case root && level > 0 && n < 2:
			return 0, 0, 0, fmt.Sprintf("internal root with %d children", n)
		}
		for i := range n {
			var s, e, g uintptr
			if level == 0 {
				r := *leafEntry(v, i)
				if r.Start%rPage != 0 || r.End%rPage != 0 || r.Start >= r.End {
					return 0, 0, 0, fmt.Sprintf("region %v malformed", r)
				}
				if havePrev && prev.End > r.Start {
					return 0, 0, 0, fmt.Sprintf("regions %v %v out of order or overlapping", prev, r)
				}
				if havePrev && prev.End == r.Start && sameAttrs(&prev, &r) {
					return 0, 0, 0, fmt.Sprintf("regions %v %v touch with identical attributes", prev, r)
				}
				prev, havePrev = r, true
				regions++
				s, e = r.Start, r.End
			} else {
				b := *branchEntry(v, i)
				cs, ce, cg, err := walk(m.va(b.child), level-1)
				if err != "" {
					return 0, 0, 0, err
				}
				if b.start != cs || b.end != ce || b.gap != cg {
					return 0, 0, 0, fmt.Sprintf("node %#x level %d entry %d: summary %#x %#x %#x, child has %#x %#x %#x",
						m.pa(v), level, i, b.start, b.end, b.gap, cs, ce, cg)
				}
				s, e, g = cs, ce, cg
			}
			if i == 0 {
				start = s
			} else {
				gap = max(gap, s-end)
			}
			gap, end = max(gap, g), e
		}
		return start, end, gap, ""
	}
	s, e, g, err := walk(m.va(m.root), m.height-1)
	switch {
	case err != "":
		return err
	case regions != m.n:
		return fmt.Sprintf("%d regions, Len says %d", regions, m.n)
	case nodes != m.nodes:
		return fmt.Sprintf("%d nodes, the map counts %d", nodes, m.nodes)
	case m.n > 0 && (m.top.start != s || m.top.end != e || m.top.gap != g && !(m.topStale && m.top.gap > g)):
		return fmt.Sprintf("top %#x %#x %#x (stale %v), root has %#x %#x %#x", m.top.start, m.top.end, m.top.gap, m.topStale, s, e, g)
	case m.top.child != m.root:
		return "top does not name the root"
	}
	return ""
}

// dumpTree shows every node: its frame, level, count, and its keys (for
// failures and for comparing a map before and after a change that must
// not happen).
func dumpTree(m *RegionMap) string { return treeText(m, true) }

// shapeOf is dumpTree without the frames' addresses: the tree's shape
// and contents, to compare a copy with its original.
func shapeOf(m *RegionMap) string { return treeText(m, false) }

// treeText writes every node in preorder, with its frame's address when
// frames is set (then only the first 64 KiB: enough to read).
func treeText(m *RegionMap, frames bool) string {
	var sb strings.Builder
	top := m.top
	if !frames {
		top.child = 0
	}
	fmt.Fprintf(&sb, "height %d n %d nodes %d top %+v\n", m.height, m.n, m.nodes, top)
	if m.root == 0 {
		return sb.String()
	}
	var walk func(v uintptr, level int)
	walk = func(v uintptr, level int) {
		n := count(v, level)
		if frames && sb.Len() > 1<<16 {
			return
		}
		fmt.Fprintf(&sb, "%*s", 2*(m.height-1-level), "")
		if frames {
			fmt.Fprintf(&sb, "%#x ", m.pa(v))
		}
		fmt.Fprintf(&sb, "L%d n%d:", level, n)
		for i := range n {
			if level == 0 {
				r := leafEntry(v, i)
				fmt.Fprintf(&sb, " [%#x,%#x)%d/%d/%d", r.Start, r.End, r.Prot, r.Inherit, r.Flags)
			} else {
				b := branchEntry(v, i)
				fmt.Fprintf(&sb, " {%#x,%#x,%#x}", b.start, b.end, b.gap)
			}
		}
		sb.WriteByte('\n')
		for i := 0; level > 0 && i < n; i++ {
			walk(m.va(branchEntry(v, i).child), level-1)
		}
	}
	walk(m.va(m.root), m.height-1)
	return sb.String()
}

// wayTo returns the nodes from the leaf up to the root that a change at va
// goes through, worked out here the plain way: at each level the first
// child ending above va, else the last.
func wayTo(m *RegionMap, va uintptr) []uintptr {
	way := make([]uintptr, m.height)
	v := m.va(m.root)
	for l := m.height - 1; ; l-- {
		way[l] = v
		if l == 0 {
			return way
		}
		n, i := count(v, l), 0
		for i < n-1 && branchEntry(v, i).end <= va {
			i++
		}
		v = m.va(branchEntry(v, i).child)
	}
}

// wantNodesNeeded is NodesNeeded for an insertion at va: the full nodes
// from the leaf up (and a new root if they all are). With after, the
// insertion comes after one at that address: a node both ways pass counts
// as full one entry short of it.
func wantNodesNeeded(m *RegionMap, va uintptr, after ...uintptr) int {
	way := wayTo(m, va)
	var first []uintptr
	if len(after) > 0 {
		first = wayTo(m, after[0])
	}
	for l, v := range way {
		limit := m.capAt(l)
		if first != nil && first[l] == v {
			limit--
		}
		if count(v, l) < limit {
			return l
		}
	}
	return len(way) + 1
}

// TestRegionFirstAbove: the search of every lookup, on leaves and internal
// nodes of every size a frame holds, against a plain count, for every key
// and the values between them, both keys.
func TestRegionFirstAbove(t *testing.T) {
	a := regionFrames(t, 1<<20)
	pa, err := a.Alloc(0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Free(pa, 0)
	v := a.physOffset + uintptr(pa)
	for level := range 2 {
		for n := 0; n <= frameCap(level); n++ {
			for i := range n { // entry i: [4i+2, 4i+4) pages, in units of 1
				*(*uintptr)(ptrAt(entryAddr(v, level, i) + keyStart)) = uintptr(4*i + 2)
				*(*uintptr)(ptrAt(entryAddr(v, level, i) + keyEnd)) = uintptr(4*i + 4)
			}
			for va := uintptr(0); va <= uintptr(4*n+5); va++ {
				for _, off := range []uintptr{keyStart, keyEnd} {
					want := 0
					for i := range n {
						if *(*uintptr)(ptrAt(entryAddr(v, level, i) + off)) <= va {
							want++
						}
					}
					if got := firstAbove(v, level, n, off, va); got != want {
						t.Fatalf("level %d, %d entries, key %d, va %d: %d, want %d", level, n, off, va, got, want)
					}
				}
			}
		}
	}
}

// TestRegionTreeGrowth: a comb of one-page regions grows the tree a level
// at a time; every region and gap is found; removing them one by one
// (from the top, from the bottom, in a random order, all at once) shrinks
// it back to its root leaf; the frames the map holds are its nodes, and
// Destroy gives them all back.
func TestRegionTreeGrowth(t *testing.T) {
	a := regionFrames(t, 16<<20)
	free0 := a.FreeFrames()
	m := newRegionMap(t, a)
	held := func() int { return int(free0-a.FreeFrames()) - 1 } // less the working state's frame
	if m.height != 1 || m.nodes != 1 || held() != 1 {
		t.Fatalf("a new map: height %d nodes %d node frames %d, want 1 1 1", m.height, m.nodes, held())
	}
	regionComb(t, m, leafCap)
	if m.height != 1 || m.nodes != 1 {
		t.Fatalf("%d regions: height %d nodes %d, want one leaf", leafCap, m.height, m.nodes)
	}
	const n = 30000 // three levels
	for i := uintptr(leafCap); i < n; i++ {
		if err := m.Insert(rgn(2*i, 2*i+1, protRW)); err != nil {
			t.Fatal(err)
		}
		if i == uintptr(leafCap) && (m.height != 2 || m.nodes != 3) {
			t.Fatalf("one more region: height %d nodes %d, want a root over two leaves", m.height, m.nodes)
		}
	}
	checkRegionMap(t, m)
	// Appending splits a full leaf as 128+42: 30,000 regions in 233 leaves
	// under two internal nodes and a root.
	if m.height != 3 || m.nodes != held() || m.nodes > n/(leafCap*3/4)+5 {
		t.Fatalf("%d regions: height %d, %d nodes, %d frames held", n, m.height, m.nodes, held())
	}
	t.Logf("%d regions: height %d, %d nodes", n, m.height, m.nodes)
	for i := range uintptr(n) {
		if r, ok := m.Find(2*i*rPage + 5); !ok || r != rgn(2*i, 2*i+1, protRW) {
			t.Fatalf("Find page %d = %v, %v", 2*i, r, ok)
		}
		if _, ok := m.Find((2*i + 1) * rPage); ok {
			t.Fatalf("Find gap page %d found something", 2*i+1)
		}
	}

	removeAll := func(what string, order []int) {
		t.Helper()
		for k, i := range order {
			if err := m.RemoveRange(uintptr(2*i)*rPage, uintptr(2*i+1)*rPage, nil); err != nil {
				t.Fatal(err)
			}
			if k%997 == 0 || m.Len() < 400 {
				checkRegionMap(t, m)
			}
			if m.nodes != held() {
				t.Fatalf("%s: map counts %d nodes, holds %d frames", what, m.nodes, held())
			}
		}
		if m.Len() != 0 || m.height != 1 || m.nodes != 1 {
			t.Fatalf("%s: emptied: Len %d height %d nodes %d", what, m.Len(), m.height, m.nodes)
		}
		checkRegionMap(t, m)
	}
	down, up := make([]int, n), make([]int, n)
	for i := range n {
		down[i], up[i] = n-1-i, i
	}
	removeAll("from the top", down)
	regionComb(t, m, n)
	removeAll("from the bottom", up)
	regionComb(t, m, n)
	rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { up[i], up[j] = up[j], up[i] })
	removeAll("in a random order", up)

	regionComb(t, m, n)
	if err := m.RemoveRange(0, 2*n*rPage, nil); err != nil {
		t.Fatal(err)
	}
	if m.Len() != 0 || m.height != 1 || held() != 1 {
		t.Fatalf("after removing all at once: Len %d height %d frames %d", m.Len(), m.height, held())
	}
	regionComb(t, m, n)
	m.Destroy()
	if got := a.FreeFrames(); got != free0 {
		t.Fatalf("after Destroy: %d free frames, want %d", got, free0)
	}
	if m.Len() != 0 {
		t.Fatal("Len after Destroy")
	}
}

// TestRegionDeepTree: a million regions (three levels of full-size
// nodes): every invariant holds, lookups and first fit work, a removal
// spanning half of them visits every piece in order, and everything comes
// back.
func TestRegionDeepTree(t *testing.T) {
	if testing.Short() {
		t.Skip("a million regions")
	}
	a := regionFrames(t, 128<<20)
	free0 := a.FreeFrames()
	m := newRegionMap(t, a)
	const n = 1_000_000
	regionComb(t, m, n)
	checkRegionMap(t, m)
	if m.height != 3 {
		t.Errorf("height %d, want 3", m.height)
	}
	t.Logf("%d regions: height %d, %d nodes (%d MiB)", n, m.height, m.nodes, m.nodes>>8)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		p := uintptr(rng.IntN(2 * n))
		r, ok := m.Find(p*rPage + 100)
		if ok != (p%2 == 0) || ok && r != rgn(p, p+1, protRW) {
			t.Fatalf("Find page %d = %v, %v", p, r, ok)
		}
	}
	if s, err := m.FindFree(2*rPage, rPage, 0, 1<<50); s != 2*n*rPage-rPage || err != nil {
		t.Errorf("FindFree past the comb = %#x, %v", s, err)
	}
	if s, err := m.FindFree(rPage, 2*rPage, rPage, 1<<50); s != 2*n*rPage || err != nil {
		t.Errorf("FindFree, no aligned gap = %#x, %v", s, err)
	}
	// Make one gap that fits, deep in the middle.
	mid := uintptr(n/2) * 2
	if err := m.RemoveRange(mid*rPage, (mid+3)*rPage, nil); err != nil {
		t.Fatal(err)
	}
	if s, err := m.FindFree(4*rPage, rPage, 0, 1<<50); s != (mid-1)*rPage || err != nil {
		t.Errorf("FindFree of the one gap = %#x, %v, want %#x", s, err, (mid-1)*rPage)
	}
	if err := m.Insert(rgn(mid, mid+1, protRW)); err != nil {
		t.Fatal(err)
	}
	if err := m.Insert(rgn(mid+2, mid+3, protRW)); err != nil {
		t.Fatal(err)
	}
	checkRegionMap(t, m)

	// Half of them at once, partial regions at both ends.
	lo, hi := uintptr(n/4)*2, uintptr(3*n/4)*2
	next, pieces := lo, 0
	err := m.RemoveRange(lo*rPage, hi*rPage, func(r Region) {
		if r != rgn(next, next+1, protRW) {
			t.Fatalf("piece %d: %v, want page %d", pieces, r, next)
		}
		next += 2
		pieces++
	})
	if err != nil || pieces != n/2 {
		t.Fatalf("RemoveRange of half: %v, %d pieces", err, pieces)
	}
	checkRegionMap(t, m)
	if m.Len() != n/2 {
		t.Fatalf("Len %d, want %d", m.Len(), n/2)
	}
	if err := m.RemoveRange(0, 4*n*rPage, nil); err != nil {
		t.Fatal(err)
	}
	if m.height != 1 || m.nodes != 1 || a.FreeFrames() != free0-2 {
		t.Fatalf("emptied: height %d nodes %d, %d frames held (the root and the working state's)", m.height, m.nodes, free0-a.FreeFrames())
	}
	m.Destroy()
	if a.FreeFrames() != free0 {
		t.Fatal("frames not given back")
	}
}

// TestRegionSmallNodes: the fuzz body on random inputs with nodes of
// three regions and five children, where a few hundred regions make trees
// of five levels: splits at every level up to new roots, merges,
// evening out and rotations across levels, removals spanning levels, and
// every result, piece and tree invariant checked against the model.
func TestRegionSmallNodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	deepest := 0
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	for seed := range seeds {
		data := []byte{byte(len(regionFuzzBases)*1 + seed%len(regionFuzzBases))} // caps {3, 5}
		op := func(code byte, args ...byte) {
			b := make([]byte, regionFuzzOpLen)
			b[0] = code
			copy(b[1:], args)
			data = append(data, b...)
		}
		page := func() (byte, byte) { p := rng.IntN(regionFuzzPages); return byte(p >> 8), byte(p) }
		for range 1500 {
			switch x := rng.IntN(20); {
			case x < 10: // one page, anywhere, one of four attributes
				ph, pl := page()
				op(0, ph, pl, 0, 1, 0, 0, byte(rng.IntN(4)))
			case x < 13: // remove a few pages, or a long stretch
				ph, pl := page()
				op(1, ph, pl, 0, byte(1+rng.IntN(4)+rng.IntN(2)*rng.IntN(300)), byte(rng.IntN(8)&4))
			case x < 14: // a comb
				ph, pl := page()
				op(5, ph, pl, byte(rng.IntN(64)), byte(rng.IntN(256)), byte(rng.IntN(2)), byte(rng.IntN(8)))
			case x < 16:
				op(2, byte(1+rng.IntN(4)), byte(12+rng.IntN(10)), 0, byte(rng.IntN(256)), 0xff, 0xff)
			case x < 18:
				ph, pl := page()
				op(3, ph, pl, byte(rng.IntN(64)))
			case x < 19:
				op(6, byte(rng.IntN(4)), byte(rng.IntN(8)))
			default:
				op(7, byte(rng.IntN(4)))
			}
		}
		deepest = max(deepest, runRegionMap(t, data))
	}
	if deepest < 5 {
		t.Errorf("the deepest tree had %d levels, want 5 or more", deepest)
	}
	t.Logf("deepest tree: %d levels", deepest)
}

// TestRegionENOMEMEveryNode: a change that needs k nodes fails with ENOMEM
// and leaves the map identical, node for node, when fewer than k frames
// are free (or fewer than k above keep), for every count short of k, and
// succeeds taking exactly k when there are. Merges, trims and whole
// removals need none and work with no frame free at all.
func TestRegionENOMEMEveryNode(t *testing.T) {
	a := regionFrames(t, 4<<20)
	free0 := a.FreeFrames()
	m := newSmallRegionMap(t, a, 3, 5)

	// Three-page regions with one-page gaps, their attributes alternating
	// so that none merge, added in a random order until some change of
	// the given kind needs a node at every level and a new root.
	const slots = 600
	rng := rand.New(rand.NewPCG(7, 8))
	order := rng.Perm(slots)
	spot := func(split bool) uintptr {
		for len(order) > 0 {
			for j := range uintptr(slots) {
				at := (4*j + 3) * rPage // a gap
				if split {
					at = (4*j + 1) * rPage // the middle page of a region
				}
				if m.Overlaps(at, at+rPage) == split && m.NodesNeeded(at, at+rPage) == m.height+1 && m.height >= 4 {
					return at
				}
			}
			p := uintptr(4 * order[0])
			if err := m.Insert(Region{Start: p * rPage, End: (p + 3) * rPage, Prot: ProtRead, Flags: uint32(order[0] % 2)}); err != nil {
				t.Fatal(err)
			}
			order = order[1:]
		}
		t.Fatalf("no change needs a node at each of %d levels", m.height)
		return 0
	}

	for _, split := range []bool{false, true} {
		at := spot(split)
		name, do := "Insert", func() error { return m.Insert(Region{Start: at, End: at + rPage, Prot: ProtExec}) }
		if split {
			name, do = "RemoveRange splitting", func() error { return m.RemoveRange(at, at+rPage, nil) }
		}
		checkRegionMap(t, m)
		need := m.height + 1
		if want := wantNodesNeeded(m, at); want != need {
			t.Fatalf("%s: NodesNeeded %d, worked out %d", name, need, want)
		}
		t.Logf("%s: height %d, %d regions, %d nodes: %d nodes needed", name, m.height, m.Len(), m.nodes, need)
		before, regions := dumpTree(m), regionsOf(m)
		for _, viaKeep := range []bool{false, true} {
			for k := 0; k < need; k++ {
				var release func()
				if viaKeep {
					// Plenty free, but only k above keep.
					m.SetKeep(a.FreeFrames() - uint64(k))
				} else {
					release = holdFrames(t, a, uint64(k))
				}
				freeBefore := a.FreeFrames()
				if err := do(); err != ENOMEM {
					t.Fatalf("%s with %d frames to spare of %d: %v, want ENOMEM", name, k, need, err)
				}
				if after := dumpTree(m); after != before || a.FreeFrames() != freeBefore {
					t.Fatalf("%s with %d frames to spare: the map changed\nbefore:\n%s\nafter:\n%s", name, k, before, after)
				}
				m.SetKeep(0)
				if release != nil {
					release()
				}
			}
		}
		sameRegions(t, name+": regions after the failures", regionsOf(m), regions)

		// Exactly enough.
		release := holdFrames(t, a, uint64(need))
		if err := do(); err != nil {
			t.Fatalf("%s with %d frames: %v", name, need, err)
		}
		if a.FreeFrames() != 0 {
			t.Errorf("%s took %d frames, want %d", name, uint64(need)-a.FreeFrames(), need)
		}
		checkRegionMap(t, m)

		// With nothing free: trimming a region, putting the page back (a
		// merge), removing it whole.
		r, ok := m.Next(0)
		for ok && r.End-r.Start < 2*rPage {
			r, ok = m.Next(r.End)
		}
		if err := m.RemoveRange(r.End-rPage, r.End, nil); err != nil {
			t.Errorf("trimming %v with no frame free: %v", r, err)
		}
		if err := m.Insert(Region{Start: r.End - rPage, End: r.End, Prot: r.Prot, Inherit: r.Inherit, Flags: r.Flags}); err != nil {
			t.Errorf("merging with no frame free: %v", err)
		}
		if err := m.RemoveRange(r.Start, r.End, nil); err != nil {
			t.Errorf("removing %v whole with no frame free: %v", r, err)
		}
		checkRegionMap(t, m)
		release()
	}
	m.Destroy()
	if a.FreeFrames() != free0 {
		t.Errorf("%d free frames at the end, want %d", a.FreeFrames(), free0)
	}
}

// TestRegionKeepAndPrepare: node allocation leaves keep frames free;
// Prepare takes height+1 frames ahead so that a change cannot fail, and
// the change gives back what it did not use; Create respects keep too.
func TestRegionKeepAndPrepare(t *testing.T) {
	a := regionFrames(t, 1<<20)
	free0 := a.FreeFrames()
	m := newSmallRegionMap(t, a, 3, 5)
	p := uintptr(0)
	for ; p < 60 || m.NodesNeeded(p*rPage, (p+1)*rPage) < 2; p += 2 {
		if err := m.Insert(rgn(p, p+1, protRW)); err != nil {
			t.Fatal(err)
		}
	}
	need := m.NodesNeeded(p*rPage, (p+1)*rPage)
	m.SetKeep(a.FreeFrames() - uint64(need) + 1)
	if err := m.Insert(rgn(p, p+1, protRW)); err != ENOMEM {
		t.Errorf("Insert %d short of keep = %v, want ENOMEM", need, err)
	}
	m.SetKeep(a.FreeFrames() - uint64(need))
	if err := m.Insert(rgn(p, p+1, protRW)); err != nil {
		t.Errorf("Insert leaving exactly keep = %v", err)
	}
	if a.FreeFrames() != m.keep {
		t.Errorf("%d frames free after the Insert, keep is %d", a.FreeFrames(), m.keep)
	}
	m.SetKeep(0)

	// Prepare, then nothing free: the change still works.
	if err := m.Prepare(); err != nil {
		t.Fatal(err)
	}
	if m.w().spare.n != m.height+1 {
		t.Errorf("Prepare took %d frames, want %d", m.w().spare.n, m.height+1)
	}
	m.Destroy() // its frames go back too
	if a.FreeFrames() != free0 {
		t.Errorf("%d free frames after Destroy, want %d", a.FreeFrames(), free0)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	for p = 0; p < 60 || m.NodesNeeded(p*rPage, (p+1)*rPage) < 2; p += 2 {
		if err := m.Insert(rgn(p, p+1, protRW)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Prepare(); err != nil {
		t.Fatal(err)
	}
	release := holdFrames(t, a, 0)
	if err := m.Insert(rgn(p, p+1, ProtRead)); err != nil {
		t.Errorf("Insert after Prepare with nothing free = %v", err)
	}
	if m.w().spare.n != 0 {
		t.Errorf("%d spare frames kept after the change", m.w().spare.n)
	}
	if err := m.Prepare(); err != ENOMEM || m.w().spare.n != 0 {
		t.Errorf("Prepare with nothing free = %v, %d taken", err, m.w().spare.n)
	}
	release()
	// Prepare's frames go back with Destroy too.
	if err := m.Prepare(); err != nil {
		t.Fatal(err)
	}
	checkRegionMap(t, m)
	if held := free0 - a.FreeFrames() - uint64(m.w().spare.n) - 1; held != uint64(m.nodes) {
		t.Errorf("%d node frames held, %d nodes", held, m.nodes)
	}
	m.Destroy()
	if a.FreeFrames() != free0 {
		t.Errorf("%d free frames after Destroy, want %d", a.FreeFrames(), free0)
	}

	var c RegionMap
	c.Bind(a)
	c.SetKeep(a.FreeFrames() - 1) // Create takes two frames
	if err := c.Create(); err != ENOMEM {
		t.Errorf("Create leaving less than keep = %v, want ENOMEM", err)
	}
	c.SetKeep(a.FreeFrames() - 2)
	if err := c.Create(); err != nil {
		t.Errorf("Create leaving keep = %v", err)
	}
	c.Destroy()
	if a.FreeFrames() != free0 {
		t.Errorf("%d free frames after Create and Destroy, want %d", a.FreeFrames(), free0)
	}
}

// TestRegionFragmented: with only single free frames scattered over
// memory (no two buddies free), a map of 20,000 regions grows and shrinks
// all the same: it never needs more than one frame at a time.
func TestRegionFragmented(t *testing.T) {
	a := regionFrames(t, 4<<20)
	free0 := a.FreeFrames()
	var held []PhysAddr
	for {
		p, err := a.Alloc(0)
		if err != nil {
			break
		}
		held = append(held, p)
	}
	slices.Sort(held)
	var kept []PhysAddr
	for i, p := range held {
		if i%2 == 0 {
			if err := a.Free(p, 0); err != nil {
				t.Fatal(err)
			}
		} else {
			kept = append(kept, p)
		}
	}
	if st := a.Stats(); st.FreeByOrder[0] != st.FreeFrames {
		t.Fatalf("free blocks by order %v: not only single frames", st.FreeByOrder)
	}
	m := newRegionMap(t, a)
	regionComb(t, m, 20000)
	checkRegionMap(t, m)
	if err := m.RemoveRange(1000*rPage, 30000*rPage, nil); err != nil {
		t.Fatal(err)
	}
	checkRegionMap(t, m)
	m.Destroy()
	for _, p := range kept {
		if err := a.Free(p, 0); err != nil {
			t.Fatal(err)
		}
	}
	if a.FreeFrames() != free0 {
		t.Errorf("%d free frames at the end, want %d", a.FreeFrames(), free0)
	}
}

// firstFitRef is FindFree over a sorted slice, gap by gap, in exact
// arithmetic.
func firstFitRef(rs []Region, size, align, lo, hi uintptr) (uintptr, error) {
	if size == 0 || size%rPage != 0 || align&(align-1) != 0 {
		return 0, EINVAL
	}
	align = max(align, rPage)
	fit := func(gs, ge uint64) (uintptr, bool) { // [gs, ge), ge 1<<64 as 0 with top
		q, r := bits.Div64(0, gs, uint64(align))
		if r != 0 {
			q++
		}
		hiBits, s := bits.Mul64(q, uint64(align))
		if hiBits != 0 {
			return 0, false
		}
		e, carry := bits.Add64(s, uint64(size), 0)
		if carry != 0 || e > uint64(hi) || (ge != 0 && e > ge) {
			return 0, false
		}
		return uintptr(s), true
	}
	prevEnd := uint64(lo)
	for _, r := range rs {
		if uint64(r.End) <= prevEnd {
			continue
		}
		if uint64(r.Start) > prevEnd {
			if s, ok := fit(prevEnd, uint64(r.Start)); ok {
				return s, nil
			}
		}
		prevEnd = uint64(r.End)
	}
	if s, ok := fit(prevEnd, 0); ok {
		return s, nil
	}
	return 0, ENOSPC
}

// TestRegionFindFreeAligned: first fit with 4 KiB, 2 MiB and 1 GiB
// alignment against firstFitRef, over maps of a few to thousands of
// regions of every size from a page to gigabytes, in full-size and small
// nodes, with lo and hi anywhere.
func TestRegionFindFreeAligned(t *testing.T) {
	a := regionFrames(t, 8<<20)
	rng := rand.New(rand.NewPCG(9, 10))
	aligns := []uintptr{rPage, 1 << 21, 1 << 30}
	sizes := func() uintptr {
		switch rng.IntN(4) {
		case 0:
			return uintptr(1+rng.IntN(4)) * rPage
		case 1:
			return uintptr(1+rng.IntN(1024)) * rPage
		case 2:
			return uintptr(1+rng.IntN(2)) << 21
		}
		return uintptr(1+rng.IntN(3))<<30 - uintptr(rng.IntN(2))*rPage
	}
	for trial := range 24 {
		var m *RegionMap
		if trial%2 == 0 {
			m = newRegionMap(t, a)
		} else {
			m = newSmallRegionMap(t, a, 3+trial%5, 5+trial%4)
		}
		base := uintptr(rng.IntN(1<<20)) << 30 // anywhere in the 64-bit space
		n := []int{3, 50, 400, 3000}[trial%4]
		va := base
		for i := range n {
			va += uintptr(rng.IntN(3)) * sizes() // gaps, often none
			size := sizes()
			if va+size < va {
				break
			}
			r := Region{Start: va, End: va + size, Prot: Prot(i % 3)}
			if err := m.Insert(r); err != nil {
				t.Fatal(err)
			}
			va += size
		}
		rs := regionsOf(m)
		checkRegionMap(t, m)
		span := va - base + 1<<31
		for range 400 {
			size, align := sizes(), aligns[rng.IntN(3)]
			lo := base - 1<<30 + uintptr(rng.Int64N(int64(span)))
			hi := lo + uintptr(rng.Int64N(int64(span)))
			if rng.IntN(4) == 0 {
				hi = ^uintptr(0)
			}
			if rng.IntN(8) == 0 {
				lo += uintptr(rng.IntN(4096)) // unaligned
			}
			got, err := m.FindFree(size, align, lo, hi)
			want, wantErr := firstFitRef(rs, size, align, lo, hi)
			if got != want || err != wantErr {
				t.Fatalf("trial %d (%d regions, height %d): FindFree(%#x, %#x, %#x, %#x) = %#x, %v, want %#x, %v",
					trial, len(rs), m.height, size, align, lo, hi, got, err, want, wantErr)
			}
		}
		m.Destroy()
	}
}

// TestRegionProtect: the protection of every piece in the range changes,
// regions cut by either end split (only where the protection changes),
// pieces merge with identical neighbours, gaps stay gaps.
func TestRegionProtect(t *testing.T) {
	const ro, rx = ProtRead, ProtRead | ProtExec
	std := []Region{rgn(2, 6, protRW), rgn(6, 8, ro), rgn(10, 16, protRW), rgn(18, 20, rx)}
	cases := []struct {
		name       string
		before     []Region
		start, end uintptr
		prot       Prot
		err        error
		after      []Region
	}{
		{"a whole region", std, 10 * rPage, 16 * rPage, ro, nil,
			[]Region{rgn(2, 6, protRW), rgn(6, 8, ro), rgn(10, 16, ro), rgn(18, 20, rx)}},
		{"the middle: two splits", std, 12 * rPage, 14 * rPage, ro, nil,
			[]Region{rgn(2, 6, protRW), rgn(6, 8, ro), rgn(10, 12, protRW), rgn(12, 14, ro), rgn(14, 16, protRW), rgn(18, 20, rx)}},
		{"the left part", std, 10 * rPage, 12 * rPage, rx, nil,
			[]Region{rgn(2, 6, protRW), rgn(6, 8, ro), rgn(10, 12, rx), rgn(12, 16, protRW), rgn(18, 20, rx)}},
		{"the right part, merging with the next", std, 4 * rPage, 6 * rPage, ro, nil,
			[]Region{rgn(2, 4, protRW), rgn(4, 8, ro), rgn(10, 16, protRW), rgn(18, 20, rx)}},
		{"merging left and right", []Region{rgn(2, 4, ro), rgn(4, 6, protRW), rgn(6, 8, ro)}, 4 * rPage, 6 * rPage, ro, nil,
			[]Region{rgn(2, 8, ro)}},
		{"spanning gaps and regions", std, 0, 30 * rPage, ro, nil,
			[]Region{rgn(2, 8, ro), rgn(10, 16, ro), rgn(18, 20, ro)}},
		{"cutting into both ends of a span", std, 3 * rPage, 19 * rPage, rx, nil,
			[]Region{rgn(2, 3, protRW), rgn(3, 8, rx), rgn(10, 16, rx), rgn(18, 20, rx)}},
		{"the same protection: nothing", std, 11 * rPage, 12 * rPage, protRW, nil, std},
		{"a gap: nothing", std, 8 * rPage, 10 * rPage, ro, nil, std},
		{"empty: nothing", std, 11 * rPage, 11 * rPage, ro, nil, std},
		{"misaligned", std, 11*rPage + 1, 12 * rPage, ro, EINVAL, std},
		{"reversed", std, 12 * rPage, 11 * rPage, ro, EINVAL, std},
	}
	a := regionFrames(t, 1<<20)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newRegionMap(t, a, c.before...)
			if err := m.Protect(c.start, c.end, c.prot); err != c.err {
				t.Errorf("Protect(%#x, %#x, %d) = %v, want %v", c.start, c.end, c.prot, err, c.err)
			}
			sameRegions(t, "after", regionsOf(m), c.after)
			checkRegionMap(t, m)
		})
	}

	// Deep trees of small nodes: protect every third page of a comb, then
	// all of it back, merging into one region.
	m := newSmallRegionMap(t, a, 3, 5)
	if err := m.Insert(rgn(0, 600, protRW)); err != nil {
		t.Fatal(err)
	}
	for p := uintptr(1); p < 600; p += 3 {
		if err := m.Protect(p*rPage, (p+1)*rPage, ro); err != nil {
			t.Fatal(err)
		}
	}
	checkRegionMap(t, m)
	if m.Len() != 401 || m.height < 4 {
		t.Fatalf("%d regions, height %d", m.Len(), m.height)
	}
	if err := m.Protect(0, 600*rPage, protRW); err != nil {
		t.Fatal(err)
	}
	sameRegions(t, "all back", regionsOf(m), []Region{rgn(0, 600, protRW)})
	checkRegionMap(t, m)
}

// TestRegionProtectENOMEM: a Protect that splits at both ends fails with
// ENOMEM and changes nothing when the frames its splits can need are not
// there, at every count short of them; one that splits nothing works with
// no frame free.
func TestRegionProtectENOMEM(t *testing.T) {
	a := regionFrames(t, 4<<20)
	m := newSmallRegionMap(t, a, 3, 5)
	for i := range uintptr(300) {
		if err := m.Insert(Region{Start: 4 * i * rPage, End: (4*i + 3) * rPage, Prot: ProtRead, Flags: uint32(i % 2)}); err != nil {
			t.Fatal(err)
		}
	}
	// The range cuts region 100 and region 200, both full-path.
	start, end := uintptr(401*rPage), uintptr(802*rPage)
	need := wantNodesNeeded(m, start) + wantNodesNeeded(m, end, start)
	if need < 2 {
		t.Fatalf("need %d", need)
	}
	before := dumpTree(m)
	for k := 0; k < need; k++ {
		release := holdFrames(t, a, uint64(k))
		if err := m.Protect(start, end, ProtExec); err != ENOMEM {
			t.Fatalf("Protect with %d of %d frames: %v, want ENOMEM", k, need, err)
		}
		if after := dumpTree(m); after != before || a.FreeFrames() != uint64(k) {
			t.Fatalf("Protect with %d frames changed the map\nbefore:\n%s\nafter:\n%s", k, before, after)
		}
		release()
	}
	release := holdFrames(t, a, uint64(need))
	if err := m.Protect(start, end, ProtExec); err != nil {
		t.Fatalf("Protect with %d frames: %v", need, err)
	}
	checkRegionMap(t, m)
	release()
	release = holdFrames(t, a, 0)
	if err := m.Protect(start, end, ProtRead); err != nil { // merges back, splits nothing
		t.Fatalf("Protect splitting nothing, no frame free: %v", err)
	}
	if err := m.Protect(5*rPage, 6*rPage, ProtRead); err != nil { // the same protection
		t.Fatalf("Protect changing nothing, no frame free: %v", err)
	}
	release()
	checkRegionMap(t, m)
}

// TestRegionNext: Next walks every region in order from any address, and
// finds nothing past the last.
func TestRegionNext(t *testing.T) {
	a := regionFrames(t, 1<<20)
	m := newSmallRegionMap(t, a, 3, 5)
	var want []Region
	for i := range uintptr(100) {
		r := rgn(3*i+1, 3*i+3, Prot(i%4))
		want = append(want, r)
		if err := m.Insert(r); err != nil {
			t.Fatal(err)
		}
	}
	sameRegions(t, "Next from 0", regionsOf(m), want)
	for p := uintptr(0); p < 310; p++ {
		r, ok := m.Next(p*rPage + 7)
		i := p / 3 // page 3i is the gap before region i
		if i >= 100 {
			if ok {
				t.Fatalf("Next(page %d) = %v past the last", p, r)
			}
			continue
		}
		if !ok || r != want[i] {
			t.Fatalf("Next(page %d) = %v, %v, want %v", p, r, ok, want[i])
		}
	}
}

// TestRegionClone: the copy has the same regions, lives on its own, and
// has the original's shape node for node; the refusals of the array's
// Clone (a destination that is not created, or not empty) hold.
func TestRegionClone(t *testing.T) {
	a := regionFrames(t, 8<<20)
	free0 := a.FreeFrames()
	src := newRegionMap(t, a, rgn(1, 3, protRW), Region{Start: 5 * rPage, End: 9 * rPage, Prot: ProtRead, Inherit: InheritShare, Flags: 7})
	dst := newRegionMap(t, a)
	if err := src.Clone(dst); err != nil {
		t.Fatal(err)
	}
	sameRegions(t, "clone", regionsOf(dst), regionsOf(src))
	checkRegionMap(t, dst)
	if err := src.RemoveRange(0, 100*rPage, nil); err != nil {
		t.Fatal(err)
	}
	if dst.Len() != 2 {
		t.Fatalf("the clone changed with the original: %v", regionsOf(dst))
	}
	if err := dst.Insert(rgn(20, 21, protRW)); err != nil {
		t.Fatal(err)
	}
	if src.Len() != 0 {
		t.Fatalf("the original changed with the clone: %v", regionsOf(src))
	}

	// Errors: the destination must be created and empty.
	var zero RegionMap
	if err := dst.Clone(&zero); err != EINVAL {
		t.Errorf("Clone into a zero map = %v, want EINVAL", err)
	}
	if err := dst.Clone(src); err != nil {
		t.Errorf("Clone into an emptied map = %v", err)
	}
	if err := dst.Clone(src); err != EINVAL {
		t.Errorf("Clone into a non-empty map = %v, want EINVAL", err)
	}
	if err := dst.Clone(dst); err != EINVAL {
		t.Errorf("Clone into itself = %v, want EINVAL", err)
	}
	var empty RegionMap
	if err := empty.Clone(newRegionMap(t, a)); err != nil {
		t.Errorf("Clone of a zero map = %v", err)
	}

	// Big maps and deep ones: the same tree, node for node but the frames.
	for _, shape := range [][2]int{{leafCap, branchCap}, {3, 5}} {
		big := newSmallRegionMap(t, a, shape[0], shape[1])
		regionComb(t, big, 2000)
		if err := big.RemoveRange(100*rPage, 1200*rPage, nil); err != nil { // nodes not all full
			t.Fatal(err)
		}
		cp := newRegionMap(t, a)
		if err := big.Clone(cp); err != nil {
			t.Fatal(err)
		}
		checkRegionMap(t, cp)
		if cp.height != big.height || cp.nodes != big.nodes || shapeOf(cp) != shapeOf(big) {
			t.Errorf("caps %v: clone has height %d and %d nodes, want %d and %d", shape, cp.height, cp.nodes, big.height, big.nodes)
		}
		sameRegions(t, "big clone", regionsOf(cp), regionsOf(big))
		// The copy works on its own: emptied and rebuilt.
		if err := cp.RemoveRange(0, 1<<40, nil); err != nil {
			t.Fatal(err)
		}
		regionComb(t, cp, 300)
		checkRegionMap(t, cp)
		cp.Destroy()
		big.Destroy()
	}
	for _, m := range []*RegionMap{src, dst} {
		m.Destroy()
	}
	// The maps newRegionMap made inline are destroyed by its cleanup;
	// count what is still out: that one's root and working state.
	if got := free0 - a.FreeFrames(); got != 2 {
		t.Errorf("%d frames out, want 2 (the inline map)", got)
	}
}

// TestRegionCloneENOMEM: a Clone that runs out of frames at any node of the
// copy (or of frames above dst's keep) fails with ENOMEM and leaves dst an
// empty map holding just its root, every frame it took given back; with
// exactly enough it succeeds.
func TestRegionCloneENOMEM(t *testing.T) {
	a := regionFrames(t, 4<<20)
	src := newSmallRegionMap(t, a, 3, 5)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, i := range rng.Perm(400) {
		if err := src.Insert(Region{Start: uintptr(2*i) * rPage, End: uintptr(2*i+1) * rPage, Prot: ProtRead, Flags: uint32(i % 3)}); err != nil {
			t.Fatal(err)
		}
	}
	if src.height < 4 {
		t.Fatalf("height %d, want a deep tree", src.height)
	}
	dst := newRegionMap(t, a)
	need := src.nodes - 1 // dst's root holds the copy of src's root
	for _, viaKeep := range []bool{false, true} {
		for k := range need {
			var release func()
			if viaKeep {
				dst.SetKeep(a.FreeFrames() - uint64(k))
			} else {
				release = holdFrames(t, a, uint64(k))
			}
			free := a.FreeFrames()
			if err := src.Clone(dst); err != ENOMEM {
				t.Fatalf("Clone of %d nodes with %d frames: %v, want ENOMEM", src.nodes, k, err)
			}
			if a.FreeFrames() != free || dst.Len() != 0 || dst.height != 1 || dst.nodes != 1 {
				t.Fatalf("after a failed Clone with %d frames: %d frames taken, %s", k, free-a.FreeFrames(), dumpTree(dst))
			}
			checkRegionMap(t, dst)
			dst.SetKeep(0)
			if release != nil {
				release()
			}
		}
	}
	release := holdFrames(t, a, uint64(need))
	if err := src.Clone(dst); err != nil {
		t.Fatalf("Clone with exactly %d frames: %v", need, err)
	}
	release()
	checkRegionMap(t, dst)
	if shapeOf(dst) != shapeOf(src) {
		t.Errorf("clone\n%s\nwant\n%s", shapeOf(dst), shapeOf(src))
	}
}

// TestRegionAt: At(i) is the i-th region of Next's walk, over one leaf and
// over trees of many levels, and the zero Region out of range.
func TestRegionAt(t *testing.T) {
	a := regionFrames(t, 8<<20)
	for _, shape := range [][2]int{{leafCap, branchCap}, {3, 5}, {8, 8}} {
		m := newSmallRegionMap(t, a, shape[0], shape[1])
		for _, n := range []int{0, 1, 2, 100, 1000} {
			if err := m.RemoveRange(0, 1<<40, nil); err != nil {
				t.Fatal(err)
			}
			regionComb(t, m, n)
			rs := regionsOf(m)
			for i, r := range rs {
				if got := m.At(i); got != r {
					t.Fatalf("caps %v, %d regions: At(%d) = %v, want %v", shape, n, i, got, r)
				}
			}
			for _, i := range []int{-1, n, n + 1, 1 << 40} {
				if got := m.At(i); got != (Region{}) {
					t.Errorf("caps %v, %d regions: At(%d) = %v, want the zero Region", shape, n, i, got)
				}
			}
		}
	}
	var zero RegionMap
	if got := zero.At(0); got != (Region{}) {
		t.Errorf("At(0) of a zero map = %v", got)
	}
}
