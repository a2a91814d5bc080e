// Context: handler (reached from Unmap and Protect): nosplit, no heap, no
// locks.

package paging

// reserve holds the table frames an operation takes before it changes
// anything, so that running out of frames can only happen while the tables
// are still untouched. Splitting the two edges of a range needs at most four
// (a 1 GiB page down to 4 KiB pages at each edge).
type reserve struct {
	pa [4]uint64
	n  int
}

// fill takes frames until r holds need of them; on failure it gives back
// what it took and reports false.
//
//go:nosplit
func (pt *PageTable) fill(r *reserve, need int) bool {
	for r.n < need {
		pa, ok := pt.env.Frames.AllocTable()
		if !ok {
			pt.giveBack(r)
			return false
		}
		r.pa[r.n&3] = pa
		r.n++
	}
	return true
}

//go:nosplit
func (pt *PageTable) giveBack(r *reserve) {
	for r.n > 0 {
		r.n--
		pt.env.Frames.FreeTable(r.pa[r.n&3])
	}
}

// change is what Change does to each leaf: clear some flags, set others.
// A zero change with only unset stands for "split whatever the edges cut"
// (Unmap, ShareLeaves, Replace).
type change struct {
	clear, set Flags
	only       bool // split a leaf only if the change alters it
}

// apply is leaf e after the change.
//
//go:nosplit
func (c change) apply(e Entry) Entry { return e&^c.clear | c.set }

// skips reports whether the change leaves e alone, so that a huge leaf
// cut by an edge of the range need not be split.
//
//go:nosplit
func (c change) skips(e Entry) bool { return c.only && c.apply(e) == e }

// edgeNeed returns the leaf that maps a, its level, and how many tables it
// takes to make a a page boundary: none if a is unmapped, in a 4 KiB page or
// at the start of its page, one to split a 2 MiB page, one or two for a
// 1 GiB page. For Change, a leaf the change leaves alone needs no split.
//
//go:nosplit
func (pt *PageTable) edgeNeed(a uintptr, c change) (*Entry, Level, int) {
	e, l := pt.leafAt(a)
	if e == nil || l == PT || a&(l.Size()-1) == 0 || c.skips(*e) {
		return e, l, 0
	}
	if l == PDPT && a%HugePageSize != 0 {
		return e, l, 2
	}
	return e, l, 1
}

// splitEdges splits the huge pages that straddle va or last+1, so that
// afterwards every leaf the range touches lies wholly inside it. The frames
// are all reserved first: on ErrNoMemory nothing has changed.
//
//go:nosplit
func (pt *PageTable) splitEdges(va, last uintptr, c change) error {
	need := pt.edgeTables(va, last, c)
	if need == 0 {
		return nil
	}
	var r reserve
	if !pt.fill(&r, need) {
		return ErrNoMemory
	}
	pt.splitAt(va, &r, c)
	if end, hasEnd := rangeEnd(last); hasEnd {
		pt.splitAt(end, &r, c)
	}
	pt.giveBack(&r) // empty: the count is exact
	return nil
}

// edgeTables is how many tables splitEdges needs for [va, last].
//
//go:nosplit
func (pt *PageTable) edgeTables(va, last uintptr, c change) int {
	eA, lA, need := pt.edgeNeed(va, c)
	end, hasEnd := rangeEnd(last)
	if hasEnd && sameEdgeWalk(eA == nil, lA, va, end) {
		return need
	}
	if hasEnd {
		eB, lB, nB := pt.edgeNeed(end, c)
		if nB > 0 && need > 0 && eB == eA {
			// One huge page holds both edges: splitting it at va also
			// serves end, except for a second 2 MiB child of a 1 GiB
			// page that end cuts and va does not.
			nB = 0
			if lB == PDPT && end%HugePageSize != 0 &&
				(va%HugePageSize == 0 || va/HugePageSize != end/HugePageSize) {
				nB = 1
			}
		}
		need += nB
	}
	return need
}

// sameEdgeWalk reports whether the walk to end would end where the walk to
// va did, finding nothing to split: that one ended on nothing mapped
// (unmapped) or in a 4 KiB table (level PT), and end lies under the same
// entry, or in the same 4 KiB table, none of whose entries is huge. The
// common small range then takes one walk, not two. (Not inlined: the
// nosplit chain through edgeTables has no room for its locals.)
//
//go:nosplit
//go:noinline
func sameEdgeWalk(unmapped bool, l Level, va, end uintptr) bool {
	span := l.Size()
	if l == PT {
		span = PD.Size()
	}
	return (unmapped || l == PT) && va^end < span // (span is a power of two)
}

// splitAt splits the huge leaves around a until a is a page boundary, with
// frames from r.
//
//go:nosplit
func (pt *PageTable) splitAt(a uintptr, r *reserve, c change) {
	for r.n > 0 {
		e, l := pt.leafAt(a)
		if e == nil || l == PT || a&(l.Size()-1) == 0 || c.skips(*e) {
			return
		}
		r.n--
		pt.split(e, l, r.pa[r.n&3], a&^(l.Size()-1))
	}
}

// split replaces the huge leaf e at level l (mapping va) by a link to table,
// which it fills with 512 leaves one level down that map the same memory
// with the same bits: flags, Accessed, Dirty, Global. The PAT bit of huge
// pages (bit 12) is not carried over: paging never sets it.
//
// The translation is unchanged, but the TLB may hold the huge page while
// the CPU starts caching the small ones; the SDM (vol. 3 section 4.10.2.3)
// leaves the choice between them to the CPU and some parts (AMD erratum 383)
// misbehave, so the huge page is invalidated, on every CPU, as Linux
// does: here on this CPU, on the others with the operation's one
// shootdown (the Sync of the Unmap, Change or Replace that split it, or
// SplitEdges' caller's), which holds before the operation returns or
// anything is freed. The entry is replaced in place, not made non-present
// first: the physmap is split this way too, and a CPU reading through it
// meanwhile must not fault.
//
//go:nosplit
func (pt *PageTable) split(e *Entry, l Level, table uint64, va uintptr) {
	child := l - 1
	step := uint64(child.Size())
	t := pt.table(table)
	// Filled from the leaf, then linked in its place if the hardware set
	// no bit in it meanwhile (atomic.go), else filled again.
	for {
		old := loadEntry(e)
		attrs := old &^ addrMask
		if child == PT {
			attrs &^= Huge // bit 7 of a PT entry is PAT, not PS
		}
		pa := leafPA(old, l)
		for i := range t {
			t[i] = Entry(pa+uint64(i)*step) | attrs
		}
		if swapIfSame(e, old, Entry(table)&addrMask|tableLink) {
			break
		}
	}
	pt.env.TLB.Invalidate(va)
}
