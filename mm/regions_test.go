package mm

import (
	"slices"
	"strconv"
	"syscall"
	"testing"
	"unsafe"
)

// Host tests of the region map. The map keeps its entries in frames of a
// FrameAllocator over a simulated physical window: an anonymous mapping
// outside the Go heap standing for physical [0, size), as frames_test.go
// does.

const rPage = regionPage

// regionFrames returns an allocator over a fresh window of size bytes at
// physical address 0.
func regionFrames(t testing.TB, size uintptr) *FrameAllocator {
	t.Helper()
	mem, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		t.Skipf("cannot map a %d-byte window: %v", size, err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	a := new(FrameAllocator)
	if err := a.Init(uintptr(unsafe.Pointer(&mem[0])), []PhysRange{{0, PhysAddr(size)}}, nil); err != nil {
		t.Fatal(err)
	}
	return a
}

// rgn is the region of pages [s, e) with protection p and zero flags.
func rgn(s, e uintptr, p Prot) Region {
	return Region{Start: s * rPage, End: e * rPage, Prot: p}
}

const protRW = ProtRead | ProtWrite

// newRegionMap returns an initialized map holding rs, inserted in order.
func newRegionMap(t testing.TB, a *FrameAllocator, rs ...Region) *RegionMap {
	t.Helper()
	m := new(RegionMap)
	if err := m.Init(a); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Destroy)
	for _, r := range rs {
		if err := m.Insert(r); err != nil {
			t.Fatalf("setup Insert(%v): %v", r, err)
		}
	}
	return m
}

// regionsOf returns the regions of m in address order, by Next.
func regionsOf(m *RegionMap) []Region {
	var rs []Region
	for r, ok := m.Next(0); ok; r, ok = m.Next(r.End) {
		rs = append(rs, r)
	}
	return rs
}

func sameRegions(t testing.TB, what string, got, want []Region) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

// checkRegionMap checks the whole tree (see regiontree_test.go): every
// invariant of the nodes and their summaries, and that the regions are
// sorted, aligned, non-empty, non-overlapping and canonical (no two
// touching ones with identical attributes).
func checkRegionMap(t testing.TB, m *RegionMap) {
	t.Helper()
	if err := treeErr(m); err != "" {
		t.Fatalf("tree: %s\n%s", err, dumpTree(m))
	}
}

// TestRegionInsert: where a region may go, what it merges with (Insert
// merges with touching neighbours of identical Prot, Inherit and Flags, and
// with nothing else), and every kind of overlap, misalignment and emptiness
// it refuses without changing anything.
func TestRegionInsert(t *testing.T) {
	shared := Region{Start: 10 * rPage, End: 12 * rPage, Prot: protRW, Inherit: InheritShare}
	flagged := Region{Start: 10 * rPage, End: 12 * rPage, Prot: protRW, Flags: 1}
	top := ^uintptr(0) &^ (rPage - 1) // the last page: no region can end after it
	cases := []struct {
		name   string
		before []Region
		insert Region
		err    error
		after  []Region
	}{
		{"into empty", nil, rgn(1, 2, protRW), nil, []Region{rgn(1, 2, protRW)}},
		{"below all", []Region{rgn(10, 12, protRW)}, rgn(2, 4, protRW), nil,
			[]Region{rgn(2, 4, protRW), rgn(10, 12, protRW)}},
		{"above all", []Region{rgn(10, 12, protRW)}, rgn(20, 21, protRW), nil,
			[]Region{rgn(10, 12, protRW), rgn(20, 21, protRW)}},
		{"between, no contact", []Region{rgn(10, 12, protRW), rgn(20, 22, protRW)}, rgn(14, 16, protRW), nil,
			[]Region{rgn(10, 12, protRW), rgn(14, 16, protRW), rgn(20, 22, protRW)}},
		{"page 0", []Region{rgn(10, 12, protRW)}, rgn(0, 1, protRW), nil,
			[]Region{rgn(0, 1, protRW), rgn(10, 12, protRW)}},
		{"up to the last page", nil, Region{Start: top - 2*rPage, End: top, Prot: protRW}, nil,
			[]Region{{Start: top - 2*rPage, End: top, Prot: protRW}}},

		// Merging.
		{"touching left, same: merged", []Region{rgn(10, 12, protRW)}, rgn(12, 14, protRW), nil,
			[]Region{rgn(10, 14, protRW)}},
		{"touching right, same: merged", []Region{rgn(10, 12, protRW)}, rgn(8, 10, protRW), nil,
			[]Region{rgn(8, 12, protRW)}},
		{"filling a gap between two same: one region", []Region{rgn(10, 12, protRW), rgn(14, 16, protRW), rgn(20, 21, protRW)},
			rgn(12, 14, protRW), nil, []Region{rgn(10, 16, protRW), rgn(20, 21, protRW)}},
		{"filling a gap, same as the left only", []Region{rgn(10, 12, protRW), rgn(14, 16, ProtRead)},
			rgn(12, 14, protRW), nil, []Region{rgn(10, 14, protRW), rgn(14, 16, ProtRead)}},
		{"filling a gap, same as the right only", []Region{rgn(10, 12, ProtRead), rgn(14, 16, protRW)},
			rgn(12, 14, protRW), nil, []Region{rgn(10, 12, ProtRead), rgn(12, 16, protRW)}},
		{"touching, different Prot: not merged", []Region{rgn(10, 12, protRW)}, rgn(12, 14, ProtRead), nil,
			[]Region{rgn(10, 12, protRW), rgn(12, 14, ProtRead)}},
		{"touching, different Inherit: not merged", []Region{shared}, rgn(12, 14, protRW), nil,
			[]Region{shared, rgn(12, 14, protRW)}},
		{"touching, different Flags: not merged", []Region{flagged}, rgn(8, 10, protRW), nil,
			[]Region{rgn(8, 10, protRW), flagged}},
		{"same attributes with a gap: not merged", []Region{rgn(10, 12, protRW)}, rgn(13, 14, protRW), nil,
			[]Region{rgn(10, 12, protRW), rgn(13, 14, protRW)}},

		// Overlaps: EEXIST, whatever the attributes.
		{"same range", []Region{rgn(10, 12, protRW)}, rgn(10, 12, protRW), EEXIST, nil},
		{"inside", []Region{rgn(10, 14, protRW)}, rgn(11, 13, ProtRead), EEXIST, nil},
		{"covering", []Region{rgn(10, 12, protRW)}, rgn(9, 13, protRW), EEXIST, nil},
		{"over the left edge", []Region{rgn(10, 12, protRW)}, rgn(8, 11, protRW), EEXIST, nil},
		{"over the right edge", []Region{rgn(10, 12, protRW)}, rgn(11, 13, protRW), EEXIST, nil},
		{"same start", []Region{rgn(10, 12, protRW)}, rgn(10, 11, protRW), EEXIST, nil},
		{"same end", []Region{rgn(10, 12, protRW)}, rgn(11, 12, protRW), EEXIST, nil},
		{"covering several", []Region{rgn(10, 12, protRW), rgn(14, 16, ProtRead)}, rgn(9, 17, protRW), EEXIST, nil},
		{"filling a gap and one page more", []Region{rgn(10, 12, protRW), rgn(14, 16, protRW)}, rgn(12, 15, protRW), EEXIST, nil},

		// Malformed: EINVAL.
		{"start misaligned", []Region{rgn(10, 12, protRW)}, Region{Start: 1, End: 2 * rPage}, EINVAL, nil},
		{"end misaligned", []Region{rgn(10, 12, protRW)}, Region{Start: rPage, End: 2*rPage + 8}, EINVAL, nil},
		{"empty", []Region{rgn(10, 12, protRW)}, rgn(3, 3, protRW), EINVAL, nil},
		{"reversed", []Region{rgn(10, 12, protRW)}, rgn(4, 3, protRW), EINVAL, nil},
		{"misaligned and overlapping: EINVAL first", []Region{rgn(10, 12, protRW)}, Region{Start: 10*rPage + 1, End: 11 * rPage}, EINVAL, nil},
		{"wrapping past the top", nil, Region{Start: top, End: 0}, EINVAL, nil},
	}
	a := regionFrames(t, 1<<20)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newRegionMap(t, a, c.before...)
			want := c.after
			if c.err != nil {
				want = c.before
			}
			if err := m.Insert(c.insert); err != c.err {
				t.Errorf("Insert(%v) = %v, want %v", c.insert, err, c.err)
			}
			sameRegions(t, "after", regionsOf(m), want)
			checkRegionMap(t, m)
		})
	}
}

// TestRegionFind: the region containing an address, its first and last
// byte included, nothing in gaps or past either end.
func TestRegionFind(t *testing.T) {
	a := regionFrames(t, 1<<20)
	rs := []Region{rgn(1, 3, protRW), rgn(3, 4, ProtRead), rgn(10, 20, protRW), rgn(21, 22, ProtExec)}
	m := newRegionMap(t, a, rs...)
	cases := []struct {
		va   uintptr
		want int // index into rs, -1: none
	}{
		{0, -1}, {rPage - 1, -1}, {rPage, 0}, {2*rPage + 17, 0}, {3*rPage - 1, 0},
		{3 * rPage, 1}, {4*rPage - 1, 1}, {4 * rPage, -1}, {9*rPage + 4095, -1},
		{10 * rPage, 2}, {15 * rPage, 2}, {20*rPage - 1, 2}, {20 * rPage, -1},
		{21 * rPage, 3}, {22*rPage - 1, 3}, {22 * rPage, -1}, {^uintptr(0), -1},
	}
	for _, c := range cases {
		r, ok := m.Find(c.va)
		if c.want < 0 {
			if ok {
				t.Errorf("Find(%#x) = %v, want none", c.va, r)
			}
		} else if !ok || r != rs[c.want] {
			t.Errorf("Find(%#x) = %v, %v, want %v", c.va, r, ok, rs[c.want])
		}
	}
	var empty RegionMap
	if r, ok := empty.Find(rPage); ok {
		t.Errorf("Find in a zero map = %v", r)
	}
}

// TestRegionOverlaps: any shared byte counts, touching does not, an empty
// or reversed range overlaps nothing.
func TestRegionOverlaps(t *testing.T) {
	a := regionFrames(t, 1<<20)
	m := newRegionMap(t, a, rgn(10, 12, protRW), rgn(20, 30, protRW))
	cases := []struct {
		start, end uintptr
		want       bool
	}{
		{0, 10 * rPage, false}, {0, 10*rPage + 1, true}, {12 * rPage, 20 * rPage, false},
		{12*rPage - 1, 12 * rPage, true}, {11 * rPage, 11 * rPage, false}, {25 * rPage, 24 * rPage, false},
		{0, ^uintptr(0), true}, {13 * rPage, 14 * rPage, false}, {29 * rPage, 31 * rPage, true},
		{30 * rPage, ^uintptr(0), false},
	}
	for _, c := range cases {
		if got := m.Overlaps(c.start, c.end); got != c.want {
			t.Errorf("Overlaps(%#x, %#x) = %v, want %v", c.start, c.end, got, c.want)
		}
	}
}

// TestRegionFindFree: first fit, alignment, the lo and hi bounds, ENOSPC
// and the arguments it refuses.
func TestRegionFindFree(t *testing.T) {
	top := ^uintptr(0) &^ (rPage - 1)
	std := []Region{rgn(2, 4, protRW), rgn(5, 8, protRW), rgn(10, 16, protRW), rgn(18, 40, protRW)}
	cases := []struct {
		name                string
		before              []Region
		size, align, lo, hi uintptr
		want                uintptr
		err                 error
	}{
		{"empty map: lo", nil, rPage, rPage, 4 * rPage, 100 * rPage, 4 * rPage, nil},
		{"lo rounded up to a page", nil, rPage, 0, 4*rPage + 1, 100 * rPage, 5 * rPage, nil},
		{"first gap", std, rPage, rPage, 0, 100 * rPage, 0, nil},
		{"first gap that fits", std, 2 * rPage, rPage, 2 * rPage, 100 * rPage, 8 * rPage, nil},
		{"exact fit", std, 2 * rPage, rPage, 9 * rPage, 100 * rPage, 16 * rPage, nil},
		{"one page gap", std, rPage, rPage, 3 * rPage, 100 * rPage, 4 * rPage, nil},
		{"lo inside a region", std, rPage, rPage, 11 * rPage, 100 * rPage, 16 * rPage, nil},
		{"after the last region", std, 3 * rPage, rPage, 9 * rPage, 100 * rPage, 40 * rPage, nil},
		{"aligned to 16 KiB", std, rPage, 4 * rPage, rPage, 100 * rPage, 4 * rPage, nil},
		{"aligned to 16 KiB, two pages", std, 2 * rPage, 4 * rPage, rPage, 100 * rPage, 8 * rPage, nil},
		{"aligned to 32 KiB, three pages", std, 3 * rPage, 8 * rPage, rPage, 100 * rPage, 40 * rPage, nil},
		{"align below a page is a page", std, rPage, 8, 3 * rPage, 100 * rPage, 4 * rPage, nil},
		{"align 0 is a page", std, rPage, 0, 3 * rPage, 100 * rPage, 4 * rPage, nil},
		{"ending exactly at hi", std, 2 * rPage, rPage, 9 * rPage, 18 * rPage, 16 * rPage, nil},
		{"hi one page short", std, 2 * rPage, rPage, 9 * rPage, 17 * rPage, 0, ENOSPC},
		{"hi unaligned", std, 2 * rPage, rPage, 9 * rPage, 18*rPage - 1, 0, ENOSPC},
		{"full window", std, rPage, rPage, 18 * rPage, 40 * rPage, 0, ENOSPC},
		{"lo >= hi", nil, rPage, rPage, 50 * rPage, 50 * rPage, 0, ENOSPC},
		{"lo > hi", nil, rPage, rPage, 51 * rPage, 50 * rPage, 0, ENOSPC},
		{"larger than the space", nil, ^uintptr(0) &^ (rPage - 1), rPage, rPage, ^uintptr(0), 0, ENOSPC},
		{"the whole space but the last page", nil, top, rPage, 0, ^uintptr(0), 0, nil},
		{"at the top", []Region{{Start: 0, End: top - rPage}}, rPage, rPage, 0, ^uintptr(0), top - rPage, nil},
		{"rounding lo up passes the top", nil, rPage, 1 << 63, 1<<63 + 1, ^uintptr(0), 0, ENOSPC},
		{"rounding past a region passes the top", []Region{{Start: 1 << 63, End: 1<<63 + rPage}}, rPage, 1 << 63, 1 << 63, ^uintptr(0), 0, ENOSPC},
		{"largest alignment", []Region{rgn(0, 1, protRW)}, rPage, 1 << 63, 0, ^uintptr(0), 1 << 63, nil},
		// Rounding the jump past a region up to the alignment lands inside
		// the next region: it must be skipped too.
		{"jump lands inside the next region", []Region{rgn(0, 5, protRW), rgn(6, 18, protRW)}, rPage, 16 * rPage, 0, 100 * rPage, 32 * rPage, nil},
		{"jump passes a whole region", []Region{rgn(0, 5, protRW), rgn(6, 8, protRW), rgn(17, 18, protRW)}, rPage, 16 * rPage, 0, 100 * rPage, 16 * rPage, nil},

		{"size 0", nil, 0, rPage, 0, 100 * rPage, 0, EINVAL},
		{"size misaligned", nil, rPage + 1, rPage, 0, 100 * rPage, 0, EINVAL},
		{"align not a power of two", nil, rPage, 3 * rPage, 0, 100 * rPage, 0, EINVAL},
	}
	a := regionFrames(t, 1<<20)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newRegionMap(t, a, c.before...)
			got, err := m.FindFree(c.size, c.align, c.lo, c.hi)
			if got != c.want || err != c.err {
				t.Errorf("FindFree(%#x, %#x, %#x, %#x) = %#x, %v, want %#x, %v",
					c.size, c.align, c.lo, c.hi, got, err, c.want, c.err)
			}
			sameRegions(t, "map", regionsOf(m), c.before)
		})
	}
}

// TestRegionRemoveRange: whole regions, the left or right part of one, the
// middle (a split), a range spanning several regions and the gaps between
// them, nothing at all; and the pieces visit sees, in address order, after
// the map has changed.
func TestRegionRemoveRange(t *testing.T) {
	std := []Region{rgn(2, 4, protRW), rgn(4, 8, ProtRead), rgn(10, 16, protRW), rgn(18, 20, ProtExec)}
	cases := []struct {
		name       string
		before     []Region
		start, end uintptr
		err        error
		after      []Region
		pieces     []Region
	}{
		{"whole region", std, 10 * rPage, 16 * rPage, nil,
			[]Region{rgn(2, 4, protRW), rgn(4, 8, ProtRead), rgn(18, 20, ProtExec)},
			[]Region{rgn(10, 16, protRW)}},
		{"whole region and the gaps around it", std, 8 * rPage, 18 * rPage, nil,
			[]Region{rgn(2, 4, protRW), rgn(4, 8, ProtRead), rgn(18, 20, ProtExec)},
			[]Region{rgn(10, 16, protRW)}},
		{"left part", std, 10 * rPage, 12 * rPage, nil,
			[]Region{rgn(2, 4, protRW), rgn(4, 8, ProtRead), rgn(12, 16, protRW), rgn(18, 20, ProtExec)},
			[]Region{rgn(10, 12, protRW)}},
		{"left part from a gap", std, 9 * rPage, 12 * rPage, nil,
			[]Region{rgn(2, 4, protRW), rgn(4, 8, ProtRead), rgn(12, 16, protRW), rgn(18, 20, ProtExec)},
			[]Region{rgn(10, 12, protRW)}},
		{"right part", std, 13 * rPage, 16 * rPage, nil,
			[]Region{rgn(2, 4, protRW), rgn(4, 8, ProtRead), rgn(10, 13, protRW), rgn(18, 20, ProtExec)},
			[]Region{rgn(13, 16, protRW)}},
		{"right part into a gap", std, 13 * rPage, 17 * rPage, nil,
			[]Region{rgn(2, 4, protRW), rgn(4, 8, ProtRead), rgn(10, 13, protRW), rgn(18, 20, ProtExec)},
			[]Region{rgn(13, 16, protRW)}},
		{"middle: split", std, 12 * rPage, 14 * rPage, nil,
			[]Region{rgn(2, 4, protRW), rgn(4, 8, ProtRead), rgn(10, 12, protRW), rgn(14, 16, protRW), rgn(18, 20, ProtExec)},
			[]Region{rgn(12, 14, protRW)}},
		{"one page in the middle", []Region{rgn(0, 3, protRW)}, rPage, 2 * rPage, nil,
			[]Region{rgn(0, 1, protRW), rgn(2, 3, protRW)}, []Region{rgn(1, 2, protRW)}},
		{"spanning several and the gaps, partial at both ends", std, 3 * rPage, 19 * rPage, nil,
			[]Region{rgn(2, 3, protRW), rgn(19, 20, ProtExec)},
			[]Region{rgn(3, 4, protRW), rgn(4, 8, ProtRead), rgn(10, 16, protRW), rgn(18, 19, ProtExec)}},
		{"spanning several, partial at the left", std, 5 * rPage, 16 * rPage, nil,
			[]Region{rgn(2, 4, protRW), rgn(4, 5, ProtRead), rgn(18, 20, ProtExec)},
			[]Region{rgn(5, 8, ProtRead), rgn(10, 16, protRW)}},
		{"spanning several, partial at the right", std, 4 * rPage, 11 * rPage, nil,
			[]Region{rgn(2, 4, protRW), rgn(11, 16, protRW), rgn(18, 20, ProtExec)},
			[]Region{rgn(4, 8, ProtRead), rgn(10, 11, protRW)}},
		{"two touching regions", std, 2 * rPage, 8 * rPage, nil,
			[]Region{rgn(10, 16, protRW), rgn(18, 20, ProtExec)},
			[]Region{rgn(2, 4, protRW), rgn(4, 8, ProtRead)}},
		{"everything", std, 0, ^uintptr(0) &^ (rPage - 1), nil, nil, std},
		{"a gap: nothing", std, 8 * rPage, 10 * rPage, nil, std, nil},
		{"below all: nothing", std, 0, 2 * rPage, nil, std, nil},
		{"above all: nothing", std, 20 * rPage, 100 * rPage, nil, std, nil},
		{"empty map: nothing", nil, 0, 100 * rPage, nil, nil, nil},
		{"empty range: nothing", std, 12 * rPage, 12 * rPage, nil, std, nil},
		{"start misaligned", std, 12*rPage + 1, 14 * rPage, EINVAL, std, nil},
		{"end misaligned", std, 12 * rPage, 14*rPage - 1, EINVAL, std, nil},
		{"reversed", std, 14 * rPage, 12 * rPage, EINVAL, std, nil},
	}
	a := regionFrames(t, 1<<20)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newRegionMap(t, a, c.before...)
			var pieces []Region
			err := m.RemoveRange(c.start, c.end, func(r Region) {
				// The map has already changed when visit runs.
				if m.Overlaps(r.Start, r.End) {
					t.Errorf("visit(%v): the piece is still in the map", r)
				}
				sameRegions(t, "map during visit", regionsOf(m), c.after)
				pieces = append(pieces, r)
			})
			if err != c.err {
				t.Errorf("RemoveRange(%#x, %#x) = %v, want %v", c.start, c.end, err, c.err)
			}
			sameRegions(t, "after", regionsOf(m), c.after)
			sameRegions(t, "pieces", pieces, c.pieces)
			checkRegionMap(t, m)

			// The same without visit.
			m2 := newRegionMap(t, a, c.before...)
			if err := m2.RemoveRange(c.start, c.end, nil); err != c.err {
				t.Errorf("RemoveRange(%#x, %#x, nil) = %v, want %v", c.start, c.end, err, c.err)
			}
			sameRegions(t, "after, nil visit", regionsOf(m2), c.after)
		})
	}
}

// regionComb inserts n one-page regions with one-page gaps from page 0: no
// two touch, so none merge.
func regionComb(t testing.TB, m *RegionMap, n int) {
	t.Helper()
	for i := range uintptr(n) {
		if err := m.Insert(rgn(2*i, 2*i+1, protRW)); err != nil {
			t.Fatalf("Insert #%d: %v", i, err)
		}
	}
}

// TestRegionLifeCycle: the zero value, Init's refusals, Destroy, and Init
// in two steps (Bind, then Create).
func TestRegionLifeCycle(t *testing.T) {
	a := regionFrames(t, 1<<20)
	free0 := a.Stats().FreeFrames
	var m RegionMap
	if m.Len() != 0 || m.Overlaps(0, ^uintptr(0)) {
		t.Error("zero map not empty")
	}
	if err := m.Insert(rgn(1, 2, protRW)); err != EINVAL {
		t.Errorf("Insert into a zero map = %v, want EINVAL", err)
	}
	if err := m.RemoveRange(0, 10*rPage, nil); err != nil {
		t.Errorf("RemoveRange on a zero map = %v", err)
	}
	if s, err := m.FindFree(rPage, rPage, rPage, 10*rPage); s != rPage || err != nil {
		t.Errorf("FindFree on a zero map = %#x, %v", s, err)
	}
	m.Destroy()
	if err := m.Init(nil); err != EINVAL {
		t.Errorf("Init(nil) = %v, want EINVAL", err)
	}
	if err := m.Init(a); err != nil {
		t.Fatal(err)
	}
	if err := m.Init(a); err != EINVAL {
		t.Errorf("Init twice = %v, want EINVAL", err)
	}
	if err := m.Insert(rgn(1, 2, protRW)); err != nil {
		t.Fatal(err)
	}
	m.Destroy()
	if err := m.Insert(rgn(1, 2, protRW)); err != EINVAL {
		t.Errorf("Insert after Destroy = %v, want EINVAL", err)
	}
	if a.Stats().FreeFrames != free0 {
		t.Error("frames not given back")
	}

	// Bind and Create: Init in two steps, the second for handler context.
	var b RegionMap
	if err := b.Create(); err != EINVAL {
		t.Errorf("Create unbound = %v, want EINVAL", err)
	}
	b.Bind(a)
	if b.Len() != 0 || a.Stats().FreeFrames != free0 {
		t.Error("Bind allocated")
	}
	if err := b.Create(); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(); err != EINVAL {
		t.Errorf("Create twice = %v, want EINVAL", err)
	}
	if err := b.Insert(rgn(1, 2, protRW)); err != nil {
		t.Fatal(err)
	}
	b.Destroy()
	if err := b.Create(); err != nil || b.Len() != 0 {
		t.Errorf("Create after Destroy = %v, Len %d", err, b.Len())
	}
	b.Destroy()
	release := holdFrames(t, a, 0)
	if err := b.Create(); err != ENOMEM || b.root != 0 {
		t.Errorf("Create with no frame = %v", err)
	}
	release()
	if a.Stats().FreeFrames != free0 {
		t.Error("frames not given back")
	}
}

// TestRegionNoAllocs: no path touches the Go heap: every operation, error
// paths, splits and merges of nodes up to a new root and back, Destroy,
// and RemoveRange with a (non-escaping) visit closure.
func TestRegionNoAllocs(t *testing.T) {
	a := regionFrames(t, 8<<20)
	m := newRegionMap(t, a)
	regionComb(t, m, 1000) // a root over six leaves
	small := newSmallRegionMap(t, a, 3, 5)
	dst := new(RegionMap)
	var n int
	var last Region
	cases := []struct {
		name string
		f    func()
	}{
		{"Find", func() { last, _ = m.Find(51 * rPage) }},
		{"Next, Len", func() { last, _ = m.Next(uintptr(m.Len()) * rPage) }},
		{"Overlaps", func() { _ = m.Overlaps(10*rPage, 20*rPage) }},
		{"FindFree", func() { _, _ = m.FindFree(2*rPage, 4*rPage, 0, 1<<30) }},
		{"FindFree, no gap fits", func() { _, _ = m.FindFree(2*rPage, rPage, 0, 2000*rPage) }},
		{"FindFree, aligned walk", func() { _, _ = m.FindFree(rPage, 1<<21, rPage, 1<<40) }},
		{"NodesNeeded", func() { n += m.NodesNeeded(3*rPage, 4*rPage) }},
		{"Insert+RemoveRange", func() {
			_ = m.Insert(rgn(1001, 1002, ProtRead))
			_ = m.RemoveRange(1001*rPage, 1002*rPage, func(r Region) { n++; last = r })
		}},
		{"split and merge", func() {
			_ = m.Insert(rgn(2001, 2010, protRW))
			_ = m.RemoveRange(2004*rPage, 2005*rPage, func(r Region) { n++ })
			_ = m.Insert(rgn(2004, 2005, protRW))
			_ = m.RemoveRange(2001*rPage, 2010*rPage, nil)
		}},
		{"RemoveRange spanning leaves", func() {
			_ = m.RemoveRange(101*rPage, 901*rPage, func(r Region) { n++; last = r })
			for i := uintptr(51); i <= 450; i++ {
				_ = m.Insert(rgn(2*i+1, 2*i+2, ProtRead))
			}
			_ = m.RemoveRange(101*rPage, 902*rPage, nil)
			for i := uintptr(51); i <= 450; i++ {
				_ = m.Insert(rgn(2*i, 2*i+1, protRW))
			}
		}},
		{"deep tree: splits to a new root and back", func() {
			for i := uintptr(0); i < 200; i++ {
				_ = small.Insert(rgn(2*i, 2*i+1, protRW))
			}
			_ = small.RemoveRange(0, 400*rPage, func(r Region) { n++ })
		}},
		{"Protect: two splits, then merged back", func() {
			_ = m.Insert(rgn(3001, 3010, protRW))
			_ = m.Protect(3003*rPage, 3005*rPage, ProtRead)
			_ = m.Protect(3000*rPage, 3020*rPage, protRW)
			_ = m.RemoveRange(3001*rPage, 3010*rPage, nil)
		}},
		{"Prepare", func() {
			_ = m.Prepare()
			_ = m.Insert(rgn(5000, 5001, protRW))
			_ = m.RemoveRange(5000*rPage, 5001*rPage, nil)
		}},
		{"errors", func() {
			_ = m.Insert(rgn(0, 1, protRW))
			_ = m.Insert(Region{Start: 1, End: rPage})
			_ = m.RemoveRange(1, rPage, nil)
			_, _ = m.FindFree(0, rPage, 0, rPage)
		}},
		{"Init, Destroy", func() {
			_ = dst.Init(a)
			_ = dst.Insert(rgn(1, 2, protRW))
			dst.Destroy()
		}},
		{"At", func() { last = m.At(777) }},
		{"Clone, Destroy", func() {
			_ = dst.Init(a)
			_ = m.Clone(dst)
			dst.Destroy()
		}},
		{"Bind, SetKeep, Create, Destroy", func() {
			dst.Bind(a)
			dst.SetKeep(1)
			_ = dst.Create()
			dst.Destroy()
			dst.SetKeep(0)
		}},
	}
	for _, c := range cases {
		if got := testing.AllocsPerRun(100, c.f); got != 0 {
			t.Errorf("%s: %v allocations per run", c.name, got)
		}
	}
	checkRegionMap(t, m)
	if m.Len() != 1000 {
		t.Errorf("Len %d after the runs, want 1000", m.Len())
	}
	_, _ = n, last
}

// removeRef is RemoveRange on a plain slice: what stays, and the pieces.
func removeRef(rs []Region, start, end uintptr) (after, pieces []Region) {
	for _, r := range rs {
		if r.End <= start || r.Start >= end {
			after = append(after, r)
			continue
		}
		if r.Start < start {
			l := r
			l.End = start
			after = append(after, l)
		}
		p := r
		p.Start, p.End = max(r.Start, start), min(r.End, end)
		pieces = append(pieces, p)
		if r.End > end {
			h := r
			h.Start = end
			after = append(after, h)
		}
	}
	return after, pieces
}

// TestRegionRemoveNearlyFull: RemoveRange parks the regions it removes in
// a leaf's free slots while visit runs; with fewer free slots than regions
// removed (a full leaf included) it rotates them into place instead. Both
// ways give the same map and the same pieces.
func TestRegionRemoveNearlyFull(t *testing.T) {
	a := regionFrames(t, 1<<20)
	full := leafCap
	for _, spare := range []int{0, 1, 2, 3, 10} {
		for _, k := range []int{1, 2, 3, 5} {
			n := full - spare
			for _, x := range []int{0, 1, n / 2, n - k - 1, n - k} {
				// Two-page regions with one-page gaps; the range cuts into
				// region x, removes k-1 whole ones, and cuts into region x+k
				// when there is one.
				m := newRegionMap(t, a)
				var rs []Region
				for i := range uintptr(n) {
					r := rgn(3*i, 3*i+2, Prot(i%8))
					rs = append(rs, r)
					if err := m.Insert(r); err != nil {
						t.Fatal(err)
					}
				}
				start, end := uintptr(3*x+1)*rPage, uintptr(3*(x+k)+1)*rPage
				wantAfter, wantPieces := removeRef(rs, start, end)
				var pieces []Region
				if err := m.RemoveRange(start, end, func(r Region) { pieces = append(pieces, r) }); err != nil {
					t.Fatal(err)
				}
				what := "spare " + strconv.Itoa(spare) + " k " + strconv.Itoa(k) + " x " + strconv.Itoa(x)
				sameRegions(t, what+": after", regionsOf(m), wantAfter)
				sameRegions(t, what+": pieces", pieces, wantPieces)
				checkRegionMap(t, m)
				m.Destroy()
			}
		}
	}
}

// TestFindHintFollowsChanges: Find remembers the region it found last and
// answers from it first; every change of the map must make it forget, or
// Find would answer with a region that was removed, protected otherwise
// or cut.
func TestFindHintFollowsChanges(t *testing.T) {
	a := regionFrames(t, 1<<20)
	m := newRegionMap(t, a, rgn(10, 20, protRW), rgn(30, 40, ProtRead))
	find := func(page uintptr) (Region, bool) { return m.Find(page*rPage + 5) }
	if r, ok := find(15); !ok || r != rgn(10, 20, protRW) {
		t.Fatalf("Find: %+v %v", r, ok)
	}
	if err := m.Protect(12*rPage, 14*rPage, ProtRead); err != nil {
		t.Fatal(err)
	}
	if r, ok := find(13); !ok || r != rgn(12, 14, ProtRead) {
		t.Fatalf("after Protect: %+v %v, want pages [12, 14) read-only", r, ok)
	}
	if err := m.RemoveRange(12*rPage, 14*rPage, nil); err != nil {
		t.Fatal(err)
	}
	if r, ok := find(13); ok {
		t.Fatalf("after RemoveRange: found %+v", r)
	}
	if r, ok := find(16); !ok || r != rgn(14, 20, protRW) {
		t.Fatalf("Find: %+v %v", r, ok)
	}
	if err := m.Insert(rgn(20, 30, protRW)); err != nil { // joins [14, 20) and [20, 30)
		t.Fatal(err)
	}
	if r, ok := find(16); !ok || r != rgn(14, 30, protRW) {
		t.Fatalf("after Insert: %+v %v, want pages [14, 30)", r, ok)
	}
	m.Destroy()
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if r, ok := find(16); ok {
		t.Fatalf("after Destroy and Create: found %+v", r)
	}
}
