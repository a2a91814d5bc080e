package mm

import (
	"math/rand/v2"
	"testing"

	"hurdvm/paging"
)

// A call that fails changes nothing: vm.h does not say so in words, but a
// caller told ENOMEM must be able to go on as if it had not called. These
// tests fail each operation at every point where it can run out of
// frames, and compare the whole address space before and after.

// holdFrames allocates free frames until exactly keep are left and returns
// a function that frees them again.
func holdFrames(t testing.TB, fa *FrameAllocator, keep uint64) (release func()) {
	t.Helper()
	var held []PhysAddr
	for fa.FreeFrames() > keep {
		p, err := fa.Alloc(0)
		if err != nil {
			t.Fatalf("cannot hold frames down to %d: %v", keep, err)
		}
		held = append(held, p)
	}
	return func() {
		for _, p := range held {
			if err := fa.Free(p, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// spaceImage is what an address space shows a program: its regions and,
// for every page of [lo, hi), whether it is mapped and what its first byte
// holds.
type spaceImage struct {
	regions []Region
	pages   map[uintptr]int // page -> first byte, -1 when unmapped
}

func imageOf(m *testMachine, as *AddressSpace, lo, hi uintptr) spaceImage {
	img := spaceImage{pages: map[uintptr]int{}}
	for r, ok := as.Regions.Next(0); ok; r, ok = as.Regions.Next(r.End) {
		img.regions = append(img.regions, r)
	}
	for va := lo; va < hi; va += PageSize {
		pa, _, _, ok := as.PT.Translate(va)
		if !ok {
			img.pages[va] = -1
			continue
		}
		img.pages[va] = int(m.ar.bytes(PhysAddr(pa), 1)[0])
	}
	return img
}

func sameImage(t testing.TB, what string, got, want spaceImage) {
	t.Helper()
	if len(got.regions) != len(want.regions) {
		t.Fatalf("%s: %d regions, want %d", what, len(got.regions), len(want.regions))
	}
	for i := range got.regions {
		if got.regions[i] != want.regions[i] {
			t.Fatalf("%s: region %d is %+v, want %+v", what, i, got.regions[i], want.regions[i])
		}
	}
	for va, w := range want.pages {
		if g := got.pages[va]; g != w {
			t.Fatalf("%s: page %#x holds %d (-1: unmapped), want %d", what, va, g, w)
		}
	}
}

// A deallocation that cuts a hole in a map_now region across two 2 MiB
// pages needs a region-map entry (the region splits in two) and two page
// tables (each huge page splits). Whatever the frames run out on, a failed
// call leaves the region and every page as they were, and a VM_HERE
// allocation of the hole is refused rather than handed pages that still
// hold the old bytes. The region map is filled with a comb of small
// regions so that the split needs the map to grow, whatever its node or
// array size: the comb's length runs over a range around it.
func TestDeallocateENOMEMChangesNothing(t *testing.T) {
	for comb := 160; comb <= 180; comb++ {
		for keep := uint64(0); keep <= 5; keep++ {
			m := newTestMachine(t, 64<<20)
			as := m.space()
			big := mustAllocate(t, as, 0, 4<<20, 0, true)
			if big%paging.HugePageSize != 0 {
				t.Fatalf("map_now region at %#x is not 2 MiB aligned", big)
			}
			for va := big; va < big+4<<20; va += PageSize {
				m.write(as, va, byte(va>>12)|1)
			}
			combAt := big + 8<<20
			for i := 0; i < comb; i++ {
				mustAllocate(t, as, combAt+uintptr(2*i)*PageSize, PageSize, VM_HERE, false)
			}
			lo, hi := big, big+4<<20
			before := imageOf(m, as, lo, hi)

			hole, holeEnd := big+1<<20, big+3<<20
			release := holdFrames(t, &m.fa, keep)
			err := as.Deallocate(hole, holeEnd-hole)
			release()
			switch err {
			case ENOMEM:
				sameImage(t, "after a failed deallocation", imageOf(m, as, lo, hi), before)
				a := hole
				if e := as.Allocate(&a, holeEnd-hole, VM_HERE|VM_ZEROFILL, false); e != EEXIST {
					t.Fatalf("comb %d, %d frames: VM_HERE over the region a failed deallocation kept: %v, want EEXIST", comb, keep, e)
				}
			case nil:
				for va := hole; va < holeEnd; va += PageSize {
					if _, _, _, ok := as.PT.Translate(va); ok {
						t.Fatalf("comb %d, %d frames: %#x still mapped after the deallocation succeeded", comb, keep, va)
					}
				}
				a := hole
				mustAllocate(t, as, a, holeEnd-hole, VM_HERE|VM_ZEROFILL, false)
				for va := hole; va < holeEnd; va += PageSize {
					if b := m.read(as, va); b != 0 {
						t.Fatalf("comb %d, %d frames: zero-fill page %#x reads %d", comb, keep, va, b)
					}
				}
			default:
				t.Fatalf("comb %d, %d frames: Deallocate: %v", comb, keep, err)
			}
			for va := lo; va < hi; va += PageSize {
				if va >= hole && va < holeEnd {
					continue
				}
				if b := m.read(as, va); b != byte(va>>12)|1 {
					t.Fatalf("comb %d, %d frames: page %#x outside the hole reads %d", comb, keep, va, b)
				}
			}
			as.Destroy()
		}
	}
}

// smallNodeSpace is a task space whose region map has nodes of three
// regions and five children, so that a few hundred regions make a tree of
// five levels or more: one new entry can then split a node at every level
// and add a root, height+1 frames, where full-size nodes need 22,000
// regions for three levels.
func smallNodeSpace(t *testing.T, m *testMachine) *AddressSpace {
	t.Helper()
	as := new(AddressSpace)
	as.Bind(&m.vm)
	as.Regions.leafMax, as.Regions.branchMax = 3, 5
	if err := as.Create(testWindowStart, testWindowEnd); err != nil {
		t.Fatal(err)
	}
	return as
}

// The region map's nodes are frames too: every call that adds an entry
// (VM_HERE into a gap, a deallocation or a Protect that splits a region,
// a fork copying the map, a new space's map) fails with ENOMEM at every
// count of free frames short of what the tree's splits take, and changes
// nothing: the regions, every page and its byte, the map's tree node for
// node, the free frames. With exactly the frames the map says it needs
// (NodesNeeded), the call succeeds.
func TestRegionNodesENOMEMChangesNothing(t *testing.T) {
	m := newTestMachine(t, 32<<20)
	as := smallNodeSpace(t, m)
	page := func(p int) uintptr { return testWindowStart + uintptr(p)*PageSize }
	// Three-page regions with three-page gaps, added in a random order
	// until both a gap and a region's middle page need a node at every
	// level: an allocation in the middle of a gap touches no region (a new
	// entry), freeing a region's middle page splits it.
	const slots = 800
	rng := rand.New(rand.NewPCG(5, 6))
	order := rng.Perm(slots)
	spot := func(off int) uintptr {
		for {
			best, bestAt := 0, uintptr(0)
			for j := range slots {
				at := page(6*j + off)
				if as.Regions.Overlaps(at, at+PageSize) != (off == 1) {
					continue
				}
				if n := as.Regions.NodesNeeded(at, at+PageSize); n > best {
					best, bestAt = n, at
				}
			}
			if best == as.Regions.height+1 && best >= 5 || len(order) == 0 && best >= 4 {
				return bestAt
			}
			if len(order) == 0 {
				t.Fatalf("no page needs a node at more than %d of %d levels", best, as.Regions.height)
			}
			mustAllocate(t, as, page(6*order[0]), 3*PageSize, VM_HERE, false)
			m.write(as, page(6*order[0]+1), byte(order[0])|1)
			order = order[1:]
		}
	}
	lo, hi := page(0), page(6*slots)

	// failsThenWorks runs do with k = 0, 1, ... frames free until it
	// succeeds: each failure must be ENOMEM and change nothing. It
	// returns the k it succeeded with.
	failsThenWorks := func(name string, do func() error) int {
		t.Helper()
		before, tree := imageOf(m, as, lo, hi), dumpTree(&as.Regions)
		for k := uint64(0); ; k++ {
			release := holdFrames(t, &m.fa, k)
			err := do()
			took := k - m.fa.FreeFrames()
			release()
			if err == nil {
				checkRegionMap(t, &as.Regions)
				t.Logf("%s: height %d, %d regions: ENOMEM with 0 to %d frames free, done with %d", name, as.Regions.height, as.Regions.Len(), k-1, k)
				return int(k)
			}
			if err != ENOMEM {
				t.Fatalf("%s with %d frames free: %v, want ENOMEM", name, k, err)
			}
			if took != 0 || dumpTree(&as.Regions) != tree {
				t.Fatalf("%s with %d frames free failed but took %d frames or changed the map", name, k, took)
			}
			sameImage(t, name+" failed", imageOf(m, as, lo, hi), before)
			if k > 4*maxHeight {
				t.Fatalf("%s fails with %d frames free", name, k)
			}
		}
	}

	at := spot(4)
	need := as.Regions.NodesNeeded(at, at+PageSize)
	if k := failsThenWorks("Allocate VM_HERE", func() error {
		a := at
		return as.Allocate(&a, PageSize, VM_HERE|VM_ZEROFILL, false)
	}); k != need {
		t.Errorf("Allocate VM_HERE needed %d frames, NodesNeeded said %d", k, need)
	}

	at = spot(1)
	need = as.Regions.NodesNeeded(at, at+PageSize)
	if k := failsThenWorks("Deallocate splitting a region", func() error { return as.Deallocate(at, PageSize) }); k != need {
		t.Errorf("Deallocate needed %d frames, NodesNeeded said %d", k, need)
	}
	if _, ok := as.Regions.Find(at); ok {
		t.Errorf("%#x still in a region after its deallocation", at)
	}

	// Protect of a region's middle page splits it at both ends.
	at = spot(1)
	h, need := as.Regions.height, as.Regions.NodesNeeded(at, at+PageSize)
	if k := failsThenWorks("Protect splitting a region twice", func() error { return as.Protect(at, PageSize, ProtRead) }); k < need || k > 2*h+3 {
		t.Errorf("Protect needed %d frames, want %d (its first split) to %d", k, need, 2*h+3)
	}
	if r, _ := as.Regions.Find(at); r.Start != at || r.End != at+PageSize || r.Prot != ProtRead {
		t.Errorf("after Protect the page is in %+v", r)
	}

	// A fork copies the map into the child's: with too few frames the
	// child is destroyed (as the kernel's taskNew does) and everything is
	// back; the parent is unchanged.
	before := imageOf(m, as, lo, hi)
	free := m.free()
	for k := uint64(0); ; k += 7 {
		release := holdFrames(t, &m.fa, k)
		child := smallNodeSpaceOrNil(m)
		var err error = ENOMEM
		if child != nil {
			if err = as.ForkInto(child); err != nil {
				child.Destroy()
			}
		}
		release()
		sameImage(t, "parent after a fork", imageOf(m, as, lo, hi), before)
		if err == nil {
			sameImage(t, "child", imageOf(m, child, lo, hi), before)
			child.Destroy()
			break
		}
		if err != ENOMEM || m.free() != free {
			t.Fatalf("fork with %d frames free: %v, %d frames not back", k, err, int(free)-int(m.free()))
		}
	}

	as.Destroy()
}

// smallNodeSpaceOrNil is smallNodeSpace for a fork's child, nil when the
// space cannot be created (ENOMEM, nothing left behind).
func smallNodeSpaceOrNil(m *testMachine) *AddressSpace {
	as := new(AddressSpace)
	as.Bind(&m.vm)
	as.Regions.leafMax, as.Regions.branchMax = 3, 5
	if as.Create(testWindowStart, testWindowEnd) != nil {
		return nil
	}
	return as
}

// A new space's region map takes two frames (its root and its working
// state) with the space's page-table root: with fewer free, Create fails
// with ENOMEM and leaves nothing behind.
func TestCreateENOMEMLeavesNothing(t *testing.T) {
	m := newTestMachine(t, 8<<20)
	for k := uint64(0); k < 3; k++ {
		free := m.free()
		release := holdFrames(t, &m.fa, k)
		as := new(AddressSpace)
		as.Bind(&m.vm)
		if err := as.Create(testWindowStart, testWindowEnd); err != ENOMEM {
			t.Fatalf("Create with %d frames free: %v, want ENOMEM", k, err)
		}
		release()
		if m.free() != free {
			t.Fatalf("Create with %d frames free left %d frames taken", k, free-m.free())
		}
	}
	release := holdFrames(t, &m.fa, 3)
	as := m.space()
	release()
	as.Destroy()
}

// A map_now allocation that fills the gap between two regions of its
// attributes joins them into one region; when its pages then cannot be
// had, the call must end as if never made. Taking the region out of the
// joined one again is a split, a new entry, which can need nodes the
// tree no longer has room for (the join's removal may have merged two
// leaves into a full one), and there are no frames left to give it:
// so the pages come first and the region only after them. With small
// nodes every gap of the comb is tried, with no frame free and with a few.
func TestMapNowJoinENOMEMChangesNothing(t *testing.T) {
	m := newTestMachine(t, 16<<20)
	as := smallNodeSpace(t, m)
	page := func(p int) uintptr { return testWindowStart + uintptr(p)*PageSize }
	const n = 60
	for i := range n {
		mustAllocate(t, as, page(2*i), PageSize, VM_HERE, false)
	}
	lo, hi := page(0), page(2*n)
	for i := range n - 1 {
		for k := uint64(0); k < 4; k++ {
			before, tree := imageOf(m, as, lo, hi), dumpTree(&as.Regions)
			gap := page(2*i + 1)
			release := holdFrames(t, &m.fa, k)
			free := m.free()
			a := gap
			err := as.Allocate(&a, PageSize, VM_HERE, true)
			took := free - m.free()
			release()
			if err != ENOMEM {
				t.Fatalf("gap %d, %d frames free: map_now of a page with too few frames: %v, want ENOMEM", i, k, err)
			}
			if took != 0 || dumpTree(&as.Regions) != tree {
				t.Fatalf("gap %d, %d frames free: the failed call took %d frames or changed the map\nbefore:\n%s\nafter:\n%s",
					i, k, took, tree, dumpTree(&as.Regions))
			}
			sameImage(t, "after a failed map_now", imageOf(m, as, lo, hi), before)
		}
	}
	checkRegionMap(t, &as.Regions)
	as.Destroy()
}
