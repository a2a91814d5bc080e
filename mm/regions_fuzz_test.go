package mm

import (
	"math/bits"
	"slices"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

// FuzzRegionMap decodes the fuzz input into a sequence of operations on a
// region map (Insert, RemoveRange, Protect, FindFree, Find, Overlaps, Prepare,
// SetKeep, Destroy and rebuild, Clone, and exhausting the frame allocator
// under it) inside a window of regionFuzzPages pages, runs each on the map and on
// a reference model (the attributes of every page of the window, or none),
// and checks every result, every error, every piece visit sees, the whole
// map and every invariant of its tree after every step. Because Insert
// merges touching regions of identical attributes, the map must be exactly
// the maximal runs of pages with identical attributes: the model needs no
// notion of a region at all. A change that adds an entry must fail with
// ENOMEM, changing nothing, exactly when the frames its splits take (worked
// out from the tree by wantNodesNeeded) cannot be had above keep.
//
// Input layout: byte 0 picks where the window lies (low, at the top of the
// lower canonical half, or at the very top of the 64-bit space) and, by
// byte 0 / 3, how many entries a node may hold (full frames, or three to
// eight entries for trees of many levels); then operations of 8 bytes
// each: an opcode and seven argument bytes (missing bytes read as zero).
func FuzzRegionMap(f *testing.F) {
	for _, seed := range regionSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runRegionMap(t, data)
	})
}

// TestRegionSeeds runs the seeds of regionSeeds through the fuzz body
// (go test runs the checked-in corpus too, as FuzzRegionMap's subtests).
func TestRegionSeeds(t *testing.T) {
	for _, seed := range regionSeeds() {
		runRegionMap(t, seed)
	}
}

// regionFuzzCaps are the node capacities byte 0 / 3 picks (leaf, branch):
// full-size nodes, and small ones that make trees of up to ten levels of
// the window's 512 regions at most.
var regionFuzzCaps = [...][2]int{{leafCap, branchCap}, {3, 5}, {4, 6}, {8, 8}}

const (
	regionFuzzPages = 1024 // the window: up to 512 regions
	regionFuzzOpLen = 8
)

// regionFuzzBases are where the window lies: low (page 0 just below it),
// just below the top of the lower canonical half, and ending one page
// below 2^64 (where rounding up and s+size overflow).
var regionFuzzBases = [...]uintptr{
	rPage,
	0x8000_0000_0000 - regionFuzzPages*rPage,
	^uintptr(0) - (regionFuzzPages+1)*rPage + 1,
}

// The frames under the maps: a 1 MiB window, mapped once per process and
// handed to a fresh allocator for every input.
var (
	regionFuzzOnce sync.Once
	regionFuzzMem  []byte
	regionFuzzErr  error
)

const regionFuzzArena = 1 << 20

func regionFuzzFrames(t *testing.T) *FrameAllocator {
	regionFuzzOnce.Do(func() {
		regionFuzzMem, regionFuzzErr = syscall.Mmap(-1, 0, regionFuzzArena,
			syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	})
	if regionFuzzErr != nil {
		t.Skipf("cannot map the fuzz arena: %v", regionFuzzErr)
	}
	a := new(FrameAllocator)
	if err := a.Init(uintptr(unsafe.Pointer(&regionFuzzMem[0])), []PhysRange{{0, regionFuzzArena}}, nil); err != nil {
		t.Fatal(err)
	}
	return a
}

// regionModel is the reference model: for each page of the window, whether
// it is in the map and with which attributes (Start and End unused).
type regionModel struct {
	base uintptr
	used [regionFuzzPages]bool
	attr [regionFuzzPages]Region
}

func (md *regionModel) addr(p int) uintptr { return md.base + uintptr(p)*rPage }

// same reports whether pages p and q are both in the map with identical
// attributes (pages outside the window are never in it).
func (md *regionModel) same(p, q int) bool {
	if p < 0 || q < 0 || p >= regionFuzzPages || q >= regionFuzzPages {
		return false
	}
	return md.used[p] && md.used[q] && sameAttrs(&md.attr[p], &md.attr[q])
}

// regions returns what the map must hold: the maximal runs of pages in the
// map with identical attributes, in address order.
func (md *regionModel) regions() []Region {
	var rs []Region
	for p := 0; p < regionFuzzPages; {
		if !md.used[p] {
			p++
			continue
		}
		q := p + 1
		for q < regionFuzzPages && md.same(p, q) {
			q++
		}
		r := md.attr[p]
		r.Start, r.End = md.addr(p), md.addr(q)
		rs = append(rs, r)
		p = q
	}
	return rs
}

// run returns the maximal run of pages with identical attributes holding
// page p (which is in the map), as the region the map must hold there.
func (md *regionModel) run(p int) Region {
	s, e := p, p+1
	for md.same(s-1, p) {
		s--
	}
	for md.same(e, p) {
		e++
	}
	r := md.attr[p]
	r.Start, r.End = md.addr(s), md.addr(e)
	return r
}

// pieces returns the parts of the runs inside pages [p, q): what
// RemoveRange's visit must see.
func (md *regionModel) pieces(p, q int) []Region {
	var out []Region
	for _, r := range md.regions() {
		s, e := max(r.Start, md.addr(p)), min(r.End, md.addr(q))
		if s < e {
			r.Start, r.End = s, e
			out = append(out, r)
		}
	}
	return out
}

// pageOf returns the window page holding va.
func (md *regionModel) pageOf(va uintptr) (int, bool) {
	if va < md.base || va-md.base >= regionFuzzPages*rPage {
		return 0, false
	}
	return int((va - md.base) / rPage), true
}

// overlaps reports whether any page in the map shares a byte with
// [start, end), the obvious way.
func (md *regionModel) overlaps(start, end uintptr) bool {
	if start%rPage == 0 && end%rPage == 0 && start < end {
		// The fast way for page ranges inside the window.
		p, ok1 := md.pageOf(start)
		q, ok2 := md.pageOf(end - 1)
		if ok1 && ok2 {
			for x := p; x <= q; x++ {
				if md.used[x] {
					return true
				}
			}
			return false
		}
	}
	for p := range regionFuzzPages {
		if md.used[p] && start < end && md.addr(p) < end && start < md.addr(p)+rPage {
			return true
		}
	}
	return false
}

// findFree is FindFree by enumeration: every multiple of align from lo up,
// in exact arithmetic, until one fits below hi and overlaps nothing. Pages
// outside the window are free, so the first candidate past the window (or
// wholly below it) is free; that bounds the walk.
func (md *regionModel) findFree(size, align, lo, hi uintptr) (uintptr, error) {
	if size == 0 || size%rPage != 0 || align&(align-1) != 0 {
		return 0, EINVAL
	}
	align = max(align, rPage)
	q, r := lo/align, lo%align
	if r != 0 {
		q++
	}
	hiBits, s := bits.Mul64(uint64(q), uint64(align))
	if hiBits != 0 {
		return 0, ENOSPC
	}
	var used [regionFuzzPages + 1]int // prefix sums of used pages
	for p := range regionFuzzPages {
		used[p+1] = used[p]
		if md.used[p] {
			used[p+1]++
		}
	}
	wEnd := md.addr(regionFuzzPages)
	for {
		end, carry := bits.Add64(s, uint64(size), 0)
		if carry != 0 || end > uint64(hi) {
			return 0, ENOSPC
		}
		// Pages of the window inside [s, end).
		first := max(uint64(md.base), s)
		last := min(uint64(wEnd), end)
		if first >= last || used[(last-uint64(md.base))/rPage]-used[(first-uint64(md.base))/rPage] == 0 {
			return uintptr(s), nil
		}
		if s, carry = bits.Add64(s, uint64(align), 0); carry != 0 {
			return 0, ENOSPC
		}
	}
}

// regionFuzzInput reads the fuzz bytes.
type regionFuzzInput struct{ data []byte }

func (in *regionFuzzInput) op() ([regionFuzzOpLen]byte, bool) {
	var op [regionFuzzOpLen]byte
	if len(in.data) == 0 {
		return op, false
	}
	n := copy(op[:], in.data)
	in.data = in.data[n:]
	return op, true
}

func u16(b []byte) int { return int(b[0])<<8 | int(b[1]) }

// attrOf decodes a byte into attributes: every Prot, every Inherit, and
// eight Flags values.
func attrOf(b byte) Region {
	return Region{Prot: Prot(b & 7), Inherit: Inherit((b >> 3 & 3) % 3), Flags: uint32(b >> 5)}
}

// span decodes a page range [p, p+l) inside the window (l may be 0), then
// spoils it as mode says: 0 and 4-7 leave it, 1 misaligns the start by
// off bytes, 2 the end, 3 swaps start and end.
func (md *regionModel) span(b []byte, mode, off int) (start, end uintptr, p, q int) {
	p = u16(b) % (regionFuzzPages + 1)
	q = p + u16(b[2:])%(regionFuzzPages+1-p)
	start, end = md.addr(p), md.addr(q)
	switch mode {
	case 1:
		start += uintptr(off%(rPage-1) + 1)
	case 2:
		end += uintptr(off%(rPage-1) + 1)
	case 3:
		start, end = end, start
	}
	return start, end, p, q
}

// aligned reports whether start and end are page aligned with start < end
// (or <= with allowEmpty).
func aligned(start, end uintptr, allowEmpty bool) bool {
	if start%rPage != 0 || end%rPage != 0 {
		return false
	}
	return start < end || allowEmpty && start == end
}

// regionFuzz is the state of one run.
type regionFuzz struct {
	t       *testing.T
	a       *FrameAllocator
	free0   uint64
	md      regionModel
	m       *RegionMap
	held    []PhysAddr // frames taken to exhaust the allocator
	step    int
	deepest int // the most levels the tree had
}

func (fz *regionFuzz) exhausted() bool { return fz.held != nil }

// exhaust takes frames until only left are free.
func (fz *regionFuzz) exhaust(left uint64) {
	fz.held = []PhysAddr{}
	for fz.a.FreeFrames() > left {
		p, err := fz.a.Alloc(0)
		if err != nil {
			return
		}
		fz.held = append(fz.held, p)
	}
}

// room is how many new nodes the map can have now: its spares and the
// free frames above keep.
func (fz *regionFuzz) room() int {
	n := fz.m.w().spare.n
	if free := fz.a.FreeFrames(); free > fz.m.keep {
		n += int(free - fz.m.keep)
	}
	return n
}

// nodesFor checks NodesNeeded(start, end) against wantNodesNeeded (a
// change at start adding an entry) and returns it.
func (fz *regionFuzz) nodesFor(start, end uintptr) int {
	fz.t.Helper()
	got, want := fz.m.NodesNeeded(start, end), wantNodesNeeded(fz.m, start)
	if got != want {
		fz.t.Fatalf("step %d: NodesNeeded(%#x, %#x) = %d, worked out %d\n%s", fz.step, start, end, got, want, dumpTree(fz.m))
	}
	return got
}

func (fz *regionFuzz) release() {
	for _, p := range fz.held {
		if err := fz.a.Free(p, 0); err != nil {
			fz.t.Fatal(err)
		}
	}
	fz.held = nil
}

// check compares the whole map with the model, checks the tree, and counts
// the frames: every frame is free, held by the test, or the map's (a node
// or a spare).
func (fz *regionFuzz) check(what string) {
	t := fz.t
	t.Helper()
	// Walk the model's runs and the map's regions together (the slow,
	// allocating comparison only to report a difference).
	md, m := &fz.md, fz.m
	got, ok := m.Next(0)
	same, i := true, 0
	atK, atWant := -1, Region{} // At is checked at an index of the step's choosing
	if n := m.Len(); n > 0 {
		atK = fz.step * 7919 % n
	}
	for p := 0; same && p < regionFuzzPages; {
		if !md.used[p] {
			p++
			continue
		}
		r := md.run(p)
		same = ok && got == r
		if i == atK {
			atWant = r
		}
		got, ok = m.Next(got.End)
		i++
		p += int((r.End - r.Start) / rPage)
	}
	if !same || ok || i != m.Len() {
		t.Fatalf("step %d (%s): map\n got  %v\n want %v", fz.step, what, regionsOf(m), md.regions())
	}
	if atK >= 0 {
		if got := m.At(atK); got != atWant {
			t.Fatalf("step %d (%s): At(%d) = %v, want %v", fz.step, what, atK, got, atWant)
		}
	}
	if got := m.At(m.Len()); got != (Region{}) {
		t.Fatalf("step %d (%s): At(Len) = %v", fz.step, what, got)
	}
	if err := treeErr(m); err != "" {
		t.Fatalf("step %d (%s): tree: %s\n%s", fz.step, what, err, dumpTree(m))
	}
	fz.deepest = max(fz.deepest, m.height)
	out := uint64(len(fz.held) + m.nodes + m.w().spare.n + 1) // + the working state's frame
	if free := fz.a.Stats().FreeFrames; free+out != fz.free0 {
		t.Fatalf("step %d (%s): %d free + %d out != %d", fz.step, what, free, out, fz.free0)
	}
}

// clone copies the map into a new one, with (spare below 64) only spare
// frames free above the copy's keep; it must fail with ENOMEM, leaving
// the copy empty, exactly when the copy's nodes but its root cannot be
// had. With swap the copy replaces the map (the old one is destroyed), so
// that every later step runs on a clone.
func (fz *regionFuzz) clone(swap bool, spareByte byte) {
	spare := uint64(spareByte)
	t, m := fz.t, fz.m
	dst := new(RegionMap)
	dst.Bind(fz.a)
	if fz.a.FreeFrames() < 2 || dst.Create() != nil {
		return // no room for the copy's root and working state
	}
	if free := fz.a.FreeFrames(); spare < 64 && spare < free {
		dst.SetKeep(free - spare) // sometimes just short of what it needs
	}
	var want error
	if fz.a.FreeFrames() < dst.keep || m.n > 0 && uint64(m.nodes-1) > fz.a.FreeFrames()-dst.keep {
		want = ENOMEM
	}
	free := fz.a.FreeFrames()
	fz.wantErr("Clone", m.Clone(dst), want)
	if err := treeErr(dst); err != "" {
		t.Fatalf("step %d: the clone: %s\n%s", fz.step, err, dumpTree(dst))
	}
	if want != nil {
		if dst.n != 0 || dst.nodes != 1 || fz.a.FreeFrames() != free {
			t.Fatalf("step %d: a failed Clone left %d regions, %d nodes, %d frames taken", fz.step, dst.n, dst.nodes, free-fz.a.FreeFrames())
		}
	} else if got, want := shapeOf(dst), shapeOf(m); got != want {
		t.Fatalf("step %d: the clone\n%s\nwant\n%s", fz.step, got, want)
	}
	dst.SetKeep(m.keep)
	if swap && want == nil {
		fz.m = dst
		m.Destroy()
		return
	}
	dst.Destroy()
}

// protect runs one Protect on the map and the model. It splits the
// region cut at start, and the one cut at end, where the protection
// changes; the frames that can take are known from the tree (a bound for
// the second split).
func (fz *regionFuzz) protect(start, end uintptr, p, q int, prot Prot) {
	md := &fz.md
	var want error
	switch {
	case !aligned(start, end, true):
		want = EINVAL
	case start < end:
		cut := func(x int) bool { // x-1 and x in one region, whose protection changes
			return x > 0 && x < regionFuzzPages && md.same(x-1, x) && md.attr[x].Prot != prot
		}
		need := 0
		switch {
		case cut(p) && cut(q):
			need = wantNodesNeeded(fz.m, start) + wantNodesNeeded(fz.m, end, start)
		case cut(p):
			need = wantNodesNeeded(fz.m, start)
		case cut(q):
			need = wantNodesNeeded(fz.m, end)
		}
		if need > fz.room() {
			want = ENOMEM
		}
	}
	before := ""
	if want == ENOMEM {
		before = dumpTree(fz.m)
	}
	fz.wantErr("Protect", fz.m.Protect(start, end, prot), want)
	fz.unchanged("Protect", before)
	if want == nil {
		for x := p; x < q; x++ {
			md.attr[x].Prot = prot
		}
	}
}

// unchanged checks that a change that failed with ENOMEM left the tree as
// it was, node for node (before is its dump then, "" if it did not fail).
func (fz *regionFuzz) unchanged(what, before string) {
	fz.t.Helper()
	if before == "" {
		return
	}
	if after := dumpTree(fz.m); after != before {
		fz.t.Fatalf("step %d: %s failed with ENOMEM but changed the tree\nbefore:\n%s\nafter:\n%s", fz.step, what, before, after)
	}
}

func (fz *regionFuzz) wantErr(what string, got, want error) {
	fz.t.Helper()
	if got != want {
		fz.t.Fatalf("step %d: %s = %v, want %v", fz.step, what, got, want)
	}
}

// insert runs one Insert of pages [p, q) (bounds spoiled as start, end say)
// on the map and the model.
func (fz *regionFuzz) insert(start, end uintptr, p, q int, attr Region) {
	md := &fz.md
	r := attr
	r.Start, r.End = start, end
	var want error
	switch {
	case !aligned(start, end, false):
		want = EINVAL
	case md.overlaps(start, end):
		want = EEXIST
	default:
		// A new entry is needed unless r merges with a neighbour.
		left := p > 0 && md.used[p-1] && sameAttrs(&md.attr[p-1], &r)
		right := q < regionFuzzPages && md.used[q] && sameAttrs(&md.attr[q], &r)
		if !left && !right && fz.nodesFor(start, end) > fz.room() {
			want = ENOMEM
		}
	}
	before := ""
	if want == ENOMEM {
		before = dumpTree(fz.m)
	}
	fz.wantErr("Insert", fz.m.Insert(r), want)
	fz.unchanged("Insert", before)
	if want == nil {
		for x := p; x < q; x++ {
			md.used[x], md.attr[x] = true, attr
		}
	}
}

// remove runs one RemoveRange on the map and the model.
func (fz *regionFuzz) remove(start, end uintptr, p, q int, withVisit bool) {
	md := &fz.md
	var want error
	var pieces []Region
	switch {
	case !aligned(start, end, true):
		want = EINVAL
	default:
		if withVisit {
			pieces = md.pieces(p, q)
		}
		// A split: pages p-1 and q in one run, the range strictly inside it.
		split := p > 0 && q < regionFuzzPages && p < q && md.same(p-1, q)
		for x := p; split && x < q; x++ {
			split = md.same(p-1, x)
		}
		if split && fz.nodesFor(start, end) > fz.room() {
			want, pieces = ENOMEM, nil
		}
	}
	before := ""
	if want == ENOMEM {
		before = dumpTree(fz.m)
	}
	var got []Region
	var visit func(Region)
	if withVisit {
		visit = func(r Region) {
			// After the change: the piece is gone already.
			if fz.m.Overlaps(r.Start, r.End) {
				fz.t.Fatalf("step %d: visit(%v) while the map still holds it", fz.step, r)
			}
			got = append(got, r)
		}
	}
	fz.wantErr("RemoveRange", fz.m.RemoveRange(start, end, visit), want)
	fz.unchanged("RemoveRange", before)
	if withVisit && !slices.Equal(got, pieces) {
		fz.t.Fatalf("step %d: RemoveRange(%#x, %#x) visited\n got  %v\n want %v", fz.step, start, end, got, pieces)
	}
	if want == nil && start < end {
		for x := p; x < q; x++ {
			md.used[x] = false
		}
	}
}

// fuzzAddr decodes two bytes into an address near the window: anywhere from
// 32 pages below it to 32 pages above it, at a 128-byte grain, or (for the
// top two values) 0 and the top of the address space.
func (md *regionModel) fuzzAddr(b []byte) uintptr {
	switch v := u16(b); v {
	case 0xffff:
		return ^uintptr(0)
	case 0xfffe:
		return 0
	default:
		const span = (regionFuzzPages + 64) * rPage / 128
		return md.base - 32*rPage + uintptr(v%span)*128
	}
}

// runRegionMap runs one input and returns the most levels the tree had.
func runRegionMap(t *testing.T, data []byte) int {
	if len(data) == 0 {
		return 0
	}
	fz := &regionFuzz{t: t, a: regionFuzzFrames(t)}
	fz.free0 = fz.a.Stats().FreeFrames
	fz.md.base = regionFuzzBases[int(data[0])%len(regionFuzzBases)]
	caps := regionFuzzCaps[int(data[0])/len(regionFuzzBases)%len(regionFuzzCaps)]
	fz.m = new(RegionMap)
	fz.m.leafMax, fz.m.branchMax = caps[0], caps[1]
	if err := fz.m.Init(fz.a); err != nil {
		t.Fatal(err)
	}
	md := &fz.md
	in := &regionFuzzInput{data: data[1:]}
	for {
		op, ok := in.op()
		if !ok {
			break
		}
		fz.step++
		var what string
		switch op[0] % 8 {
		case 0: // Insert: span, mode, attribute
			what = "Insert"
			start, end, p, q := md.span(op[1:5], int(op[5]&3), int(op[6]))
			fz.insert(start, end, p, q, attrOf(op[7]))

		case 1: // RemoveRange: span, mode (bit 2: nil visit), offset
			what = "RemoveRange"
			start, end, p, q := md.span(op[1:5], int(op[5]&3), int(op[6]))
			fz.remove(start, end, p, q, op[5]&4 == 0)

		case 2: // FindFree: size, align, lo, hi
			what = "FindFree"
			size := uintptr(op[1]) * rPage
			switch {
			case op[1] == 255:
				size = ^uintptr(0) &^ (rPage - 1)
			case op[2]&0x80 != 0:
				size++ // misaligned
			}
			align := uintptr(1) << (op[2] % 64)
			switch op[2] >> 6 {
			case 1:
				align = 0
			case 3:
				align = 3 * rPage // not a power of two
			}
			lo, hi := md.fuzzAddr(op[3:5]), md.fuzzAddr(op[5:7])
			if op[7]&1 != 0 {
				hi = lo + uintptr(op[7])*rPage // a narrow window (may wrap)
			}
			got, err := fz.m.FindFree(size, align, lo, hi)
			want, wantErr := md.findFree(size, align, lo, hi)
			if got != want || err != wantErr {
				t.Fatalf("step %d: FindFree(%#x, %#x, %#x, %#x) = %#x, %v, want %#x, %v",
					fz.step, size, align, lo, hi, got, err, want, wantErr)
			}

		case 3: // Find
			what = "Find"
			va := md.fuzzAddr(op[1:3]) + uintptr(op[3]&63)
			got, ok := fz.m.Find(va)
			var want Region
			p, inWin := md.pageOf(va)
			if inWin && md.used[p] {
				want = md.run(p)
			}
			if ok != (inWin && md.used[p]) || got != want {
				t.Fatalf("step %d: Find(%#x) = %v, %v, want %v", fz.step, va, got, ok, want)
			}

		case 4: // Overlaps of any two addresses, or (op[5] odd) Protect of a span
			if op[5]&1 != 0 {
				what = "Protect"
				start, end, p, q := md.span(op[1:5], int(op[5]>>1&3), int(op[6]))
				fz.protect(start, end, p, q, Prot(op[7]&7))
				break
			}
			what = "Overlaps"
			start, end := md.fuzzAddr(op[1:3]), md.fuzzAddr(op[3:5])
			if got, want := fz.m.Overlaps(start, end), md.overlaps(start, end); got != want {
				t.Fatalf("step %d: Overlaps(%#x, %#x) = %v, want %v", fz.step, start, end, got, want)
			}

		case 5: // comb: many Inserts (or RemoveRanges) of a few pages each
			what = "comb"
			p0 := u16(op[1:3]) % regionFuzzPages
			count := int(op[3])
			length := 1 + int(op[4]&3)
			gap := int(op[4] >> 2 & 3)
			period := 1 + int(op[4]>>4&3)
			for i := range count {
				p := p0 + i*(length+gap)
				q := p + length
				if q > regionFuzzPages {
					break
				}
				if op[5]&1 == 0 {
					fz.insert(md.addr(p), md.addr(q), p, q, attrOf(op[6]+byte(i%period)))
				} else {
					fz.remove(md.addr(p), md.addr(q), p, q, op[5]&2 == 0)
				}
			}

		case 6: // Prepare, SetKeep, Destroy and build again, or Clone
			what = "keep"
			m := fz.m
			switch op[1] % 5 {
			case 0:
				what = "Prepare"
				var want error
				if min(m.height+1, len(m.w().spare.pa)) > fz.room() {
					want = ENOMEM
				}
				fz.wantErr("Prepare", m.Prepare(), want)
			case 1: // leave only k frames above keep
				what = "SetKeep"
				k := uint64(op[2] % 8)
				m.SetKeep(fz.a.FreeFrames() - min(k, fz.a.FreeFrames()))
			case 2:
				what = "SetKeep"
				m.SetKeep(0)
			case 3:
				what = "Destroy"
				if fz.exhausted() || m.keep != 0 {
					break // building again needs frames
				}
				m.Destroy()
				if free := fz.a.FreeFrames(); free+uint64(len(fz.held)) != fz.free0 {
					t.Fatalf("step %d: after Destroy %d free, want %d", fz.step, free, fz.free0)
				}
				if err := m.Create(); err != nil {
					t.Fatal(err)
				}
				// In an order of the input's choosing: from either end.
				rs := md.regions()
				if op[2]&1 != 0 {
					slices.Reverse(rs)
				}
				for _, r := range rs {
					if err := m.Insert(r); err != nil {
						t.Fatalf("step %d: building again: Insert(%v): %v", fz.step, r, err)
					}
				}
			case 4:
				what = "Clone"
				fz.clone(op[2]&1 != 0, op[3])
			}

		case 7: // exhaust the allocator but for 0-3 frames, or give its frames back
			what = "exhaust"
			if fz.exhausted() {
				fz.release()
			} else {
				fz.exhaust(uint64(op[1] % 4))
			}
		}
		fz.check(what)
	}
	fz.release()
	fz.m.Destroy()
	if free := fz.a.Stats().FreeFrames; free != fz.free0 {
		t.Fatalf("at the end: %d free frames, want %d", free, fz.free0)
	}
	return fz.deepest
}

// regionSeeds are hand-made inputs that reach the interesting states
// quickly: merges, splits, a tree of three leaves and back, ENOMEM on a
// full root leaf, Prepare and keep, trees of many levels of small nodes
// with removals across them, and FindFree at the top of the address
// space.
func regionSeeds() [][]byte {
	op := func(code byte, args ...byte) []byte {
		b := make([]byte, regionFuzzOpLen)
		b[0] = code
		copy(b[1:], args)
		return b
	}
	u := func(v int) (byte, byte) { return byte(v >> 8), byte(v) }
	ins := func(p, l int, mode, off, attr byte) []byte {
		ph, pl := u(p)
		lh, ll := u(l)
		return op(0, ph, pl, lh, ll, mode, off, attr)
	}
	rem := func(p, l int, mode byte) []byte {
		ph, pl := u(p)
		lh, ll := u(l)
		return op(1, ph, pl, lh, ll, mode, 0)
	}
	comb := func(p, count int, shape, mode, attr byte) []byte {
		ph, pl := u(p)
		return op(5, ph, pl, byte(count), shape, mode, attr)
	}
	findFree := func(size, align byte, lo, hi int, narrow byte) []byte {
		lh, ll := u(lo)
		hh, hl := u(hi)
		return op(2, size, align, lh, ll, hh, hl, narrow)
	}
	protect := func(p, l int, prot byte) []byte {
		ph, pl := u(p)
		lh, ll := u(l)
		return op(4, ph, pl, lh, ll, 1, 0, prot)
	}
	find := func(a int, off byte) []byte {
		ah, al := u(a)
		return op(3, ah, al, off)
	}
	cat := func(base byte, ops ...[]byte) []byte {
		return append([]byte{base}, slices.Concat(ops...)...)
	}
	var seeds [][]byte
	for base := range byte(len(regionFuzzBases)) {
		seeds = append(seeds,
			// Merges and a split, with finds and a first fit between.
			cat(base, ins(10, 4, 0, 0, 3), ins(14, 2, 0, 0, 3), ins(8, 2, 0, 0, 3),
				ins(20, 1, 0, 0, 4), ins(16, 4, 0, 0, 3), find(48*rPage/128, 5),
				rem(12, 2, 0), ins(12, 2, 0, 0, 3), rem(12, 2, 4), findFree(2, 12, 0, 0xffff, 0),
				ins(3, 2, 1, 7, 3), ins(3, 2, 3, 0, 3), rem(13, 1, 2), op(4, 0, 0, 0xff, 0xff)),
			// A comb of 500 one-page regions (three leaves under a root), a
			// spanning removal that merges them back into one, Prepare
			// and keep on the way.
			cat(base, comb(0, 255, 0x04, 0, 1), comb(510, 255, 0x34, 0, 9), op(6, 2),
				rem(100, 800, 0), findFree(3, 14, 0, 0xffff, 0), op(6, 0)),
			// A full root leaf (170 regions), then with nothing free ENOMEM
			// for the Insert and the split that need two more nodes, the
			// merges and removals that need none, Prepare refused, keep,
			// and a release.
			cat(base, comb(0, 170, 0x04, 0, 1), op(7), ins(600, 1, 0, 0, 2),
				ins(1, 1, 0, 0, 1), ins(700, 4, 0, 0, 5), rem(701, 2, 0), ins(600, 1, 0, 0, 2),
				rem(0, 9, 0), op(6), op(7), op(6, 1), rem(701, 2, 0), comb(200, 100, 0x14, 0, 1),
				op(6, 3), comb(0, 255, 0x04, 3, 0)),
			// FindFree with the largest alignments and the extremes of lo and hi.
			cat(base, ins(0, 1, 0, 0, 0), ins(1023, 1, 0, 0, 0), findFree(1, 63, 0xfffe, 0xffff, 0),
				findFree(255, 12, 0, 0xffff, 0), findFree(1, 0x40, 0x700, 0x800, 0),
				findFree(1, 0xc0, 0, 0xffff, 0), findFree(2, 20, 0x10, 0, 5), findFree(0, 12, 0, 0xffff, 0)),
			// Small nodes (three regions, five children): combs in two
			// orders make five levels; removals across levels, inserts,
			// splits and Protects with one to three frames free, Protects
			// that merge across levels, and a Destroy built back from the
			// top down.
			cat(base+byte(len(regionFuzzBases)), comb(0, 200, 0x04, 0, 1), comb(401, 100, 0x14, 0, 2),
				rem(37, 300, 0), comb(40, 60, 0x08, 0, 3), op(7, 2), ins(403, 1, 0, 0, 7),
				rem(421, 1, 0), comb(600, 40, 0x05, 0, 4), op(7), op(7, 1), rem(2, 1, 0),
				protect(650, 30, 5), protect(20, 300, 3), op(7), ins(1, 1, 0, 0, 6), protect(0, 1024, 1),
				op(6, 3, 1), rem(0, 1024, 0), comb(0, 255, 0x04, 0, 5), protect(100, 200, 2),
				op(6, 4, 1, 5), op(6, 4, 1, 200), rem(30, 100, 0), op(6, 4, 0, 255)),
		)
	}
	return seeds
}
