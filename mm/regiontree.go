// Context: handler. Everything here runs inside RegionMap's methods, in the
// page-fault and system-call handlers (see regions.go): //go:nosplit, no Go
// heap, no Go lock, no Go pointer stored, no recursion, no explicit panic.
// Nodes are frames reached through the physmap by address arithmetic: every
// index is below a count clamped to the node's capacity, so no access can
// leave its frame and none is bounds checked.

package mm

import "unsafe"

// ---- Node layout. ----

// nodeHeader starts every node frame; the entries follow it.
type nodeHeader struct {
	n     uint32 // entries in use
	level uint32 // 0 for a leaf; the root's is the map's height-1
	_     uint64
}

// branch is an entry of an internal node: a child and what lookups and the
// free-space search need to know of the child's subtree without reading it.
// start and end sit at the offsets of Region's Start and End, so one binary
// search serves leaves and internal nodes alike.
type branch struct {
	start uintptr  // Start of the subtree's first region
	end   uintptr  // End of its last region
	gap   uintptr  // the largest free gap between two neighbouring regions of the subtree (0 for one region)
	child PhysAddr // the child node's frame
}

const (
	nodeHeaderSize = unsafe.Sizeof(nodeHeader{})
	regionSize     = unsafe.Sizeof(Region{}) // a leaf's entry
	branchSize     = unsafe.Sizeof(branch{}) // an internal node's entry

	// leafCap and branchCap are the entries a node frame holds: 170 regions
	// or 127 children.
	leafCap   = int((FrameSize - nodeHeaderSize) / regionSize)
	branchCap = int((FrameSize - nodeHeaderSize) / branchSize)

	// Offsets of the two keys in either kind of entry.
	keyStart = unsafe.Offsetof(Region{}.Start)
	keyEnd   = unsafe.Offsetof(Region{}.End)

	// maxHeight bounds the levels (a power of two, so that path[l&levelMask]
	// needs no bounds check). Every non-root node is at least a quarter
	// full, so 2^32 frames hold at most 8 levels of full-size nodes; the
	// tests' small nodes reach 12.
	maxHeight = 16
	levelMask = maxHeight - 1
)

// The layout must match the entry types: keys at the same offsets, and
// both kinds of node fitting one frame.
var (
	_ [unsafe.Offsetof(branch{}.start) - keyStart]struct{}
	_ [keyStart - unsafe.Offsetof(branch{}.start)]struct{}
	_ [unsafe.Offsetof(branch{}.end) - keyEnd]struct{}
	_ [keyEnd - unsafe.Offsetof(branch{}.end)]struct{}
	_ [FrameSize - nodeHeaderSize - uintptr(leafCap)*regionSize]struct{}
	_ [FrameSize - nodeHeaderSize - uintptr(branchCap)*branchSize]struct{}
)

// treePath is a way from the root to a leaf entry: the node at each level
// (its virtual address) and the entry taken there.
type treePath struct {
	node [maxHeight]uintptr
	idx  [maxHeight]int32
}

// span is a run [from, to) of a node's entries.
type span struct{ from, to int32 }

// regionWork is the working state of a map's changes, in a frame of the
// map's own (RegionMap.work) rather than on the stack, whose nosplit
// frames the linker bounds, or in the RegionMap, of which the kernel keeps
// a table (a slot costs no more than the state it needs when unused).
// Single-threaded by contract, as the map is. Readers use none of it but
// seek (FindFree, NodesNeeded): visit may call any reader while
// RemoveRange is under way.
type regionWork struct {
	pathL, pathR          treePath // Insert's lookups; RemoveRange's two edges
	seek                  treePath // FindFree's stack, NodesNeeded's lookup
	walk                  treePath // postorder's stack
	walkTop, walkLevel    int
	parkL, parkR          [maxHeight]span // what the cut parked, by level
	cutTop                int             // the level of the edges' lowest common node
	leftLives, rightLives bool            // the cut's edge nodes kept something
	pieceL, pieceR        Region          // the cut-off parts of trimmed regions, or a split's piece and rest
	hasPieceL, hasPieceR  bool
	relSpan, relEntry     int  // where releaseNext is in the parked spans
	relWalking            bool // and whether it is walking a removed subtree
	rebTwo, rebPend       int  // rebalanceLevel's state (see rebalanceStart)
	rebRight              bool
	pair                  nodePair   // what join joins
	spare                 frameStack // frames taken ahead for new nodes (takeSpares, Prepare)
	dead                  frameStack // nodes merged away, for bury to free
	carry                 branch     // insertAt's entry for a new right node
	joinEnd               uintptr    // Insert joining two regions: the right one's End
}

// The working state fits its frame.
var _ [FrameSize - unsafe.Sizeof(regionWork{})]struct{}

// ---- Memory access: the only code that turns node addresses into Go values. ----

//go:nosplit
func nodeAt(v uintptr) *nodeHeader { return (*nodeHeader)(ptrAt(v)) }

// entrySize is the size of an entry at the given level.
//
//go:nosplit
func entrySize(level int) uintptr {
	if level == 0 {
		return regionSize
	}
	return branchSize
}

// entryAddr is the address of entry i of node v at the given level.
//
//go:nosplit
func entryAddr(v uintptr, level, i int) uintptr {
	return v + nodeHeaderSize + uintptr(i)*entrySize(level)
}

//go:nosplit
func leafEntry(v uintptr, i int) *Region { return (*Region)(ptrAt(entryAddr(v, 0, i))) }

//go:nosplit
func branchEntry(v uintptr, i int) *branch { return (*branch)(ptrAt(entryAddr(v, 1, i))) }

// key reads the key at offset off (keyStart or keyEnd) of entry i.
//
//go:nosplit
func key(v uintptr, level, i int, off uintptr) uintptr {
	return *(*uintptr)(ptrAt(entryAddr(v, level, i) + off))
}

// moveEntries copies k entries from src to dst (overlap allowed): one
// memmove. No move is larger than a frame (the check); the mask shows the
// compiler the slices fit their array types, so there is no bounds check
// to fail, even where instrumentation hides the check from it.
//
//go:nosplit
func moveEntries(dst, src uintptr, level, k int) {
	n := uintptr(k) * entrySize(level)
	if k <= 0 || n > FrameSize {
		return
	}
	n &= 2*FrameSize - 1
	copy((*[2 * FrameSize]byte)(ptrAt(dst))[:n:n], (*[2 * FrameSize]byte)(ptrAt(src))[:n:n])
}

// reverseEntries reverses entries [a, b) of node v in place.
//
//go:nosplit
func reverseEntries(v uintptr, level, a, b int) {
	size := entrySize(level)
	for x, y := a, b-1; x < y; x, y = x+1, y-1 {
		px, py := entryAddr(v, level, x), entryAddr(v, level, y)
		for w := uintptr(0); w < size; w += 8 {
			p, q := (*uintptr)(ptrAt(px+w)), (*uintptr)(ptrAt(py+w))
			*p, *q = *q, *p
		}
	}
}

// ---- Node bookkeeping. ----

// w is the map's working state (the map is created).
//
//go:nosplit
func (m *RegionMap) w() *regionWork { return (*regionWork)(ptrAt(m.va(m.work))) }

// va is the virtual address of the node frame at pa.
//
//go:nosplit
func (m *RegionMap) va(pa PhysAddr) uintptr { return m.frames.physOffset + uintptr(pa) }

// pa is the physical address of the node at v.
//
//go:nosplit
func (m *RegionMap) pa(v uintptr) PhysAddr { return PhysAddr(v - m.frames.physOffset) }

// frameCap is how many entries a node frame at the given level holds.
//
//go:nosplit
func frameCap(level int) int {
	if level == 0 {
		return leafCap
	}
	return branchCap
}

// count is the number of entries of node v, clamped to what its frame
// holds: a damaged count cannot send an access outside the frame.
//
//go:nosplit
func count(v uintptr, level int) int { return min(int(nodeAt(v).n), frameCap(level)) }

// capAt is how many entries the map lets a node at the given level hold:
// the frame's capacity, or less in tests that want deep trees.
//
//go:nosplit
func (m *RegionMap) capAt(level int) int {
	if level == 0 {
		return m.leafMax
	}
	return m.branchMax
}

// minAt is the fewest entries a node below the root may hold: a quarter
// of capAt, at least one region per leaf and two children per internal
// node. Any minimum up to half of capAt keeps a B-tree balanced; a quarter
// leaves more room between merging and splitting, so that no sequence of
// inserts and removals at one place keeps doing both.
//
//go:nosplit
func (m *RegionMap) minAt(level int) int {
	if level == 0 {
		return max(m.leafMax/4, 1)
	}
	return max(m.branchMax/4, 2)
}

// frameStack is a few of the map's frames set aside: spares taken ahead
// for new nodes, or nodes merged away waiting to be freed.
type frameStack struct {
	n  int
	pa [2 * maxHeight]PhysAddr
}

//go:nosplit
func (s *frameStack) push(pa PhysAddr) {
	if n := s.n; uint(n) < uint(len(s.pa)) {
		s.pa[n] = pa
		s.n = n + 1
	}
}

//go:nosplit
func (s *frameStack) pop() (PhysAddr, bool) {
	n := s.n - 1
	if uint(n) >= uint(len(s.pa)) {
		s.n = 0
		return 0, false
	}
	s.n = n
	return s.pa[n], true
}

// drain gives every frame on s back to the allocator.
//
//go:nosplit
func (m *RegionMap) drain(s *frameStack) {
	for {
		pa, ok := s.pop()
		if !ok {
			return
		}
		_ = m.frames.Free(pa, 0) // ours and live: cannot fail
	}
}

// dropSpares gives back the frames taken ahead, if the map is created.
//
//go:nosplit
func (m *RegionMap) dropSpares() {
	if m.work != 0 && m.w().spare.n != 0 {
		m.drain(&m.w().spare)
	}
}

// takeSpares makes sure the map holds need spare frames for new nodes,
// allocating what it lacks, so that an operation can take every node it
// may need before it changes anything. An allocation that would leave
// fewer than keep frames free fails: then every spare goes back and it is
// ENOMEM.
//
//go:nosplit
func (m *RegionMap) takeSpares(need int) error {
	w := m.w()
	if need > len(w.spare.pa) {
		m.drain(&w.spare)
		return ENOMEM
	}
	for w.spare.n < need {
		pa, ok := m.takeFrame()
		if !ok {
			m.drain(&w.spare)
			return ENOMEM
		}
		w.spare.push(pa)
	}
	return nil
}

// takeFrame takes one frame from the allocator for the map, unless that
// would leave fewer than keep free.
//
//go:nosplit
func (m *RegionMap) takeFrame() (PhysAddr, bool) {
	if m.frames.FreeFrames() <= m.keep {
		return 0, false
	}
	pa, err := m.frames.Alloc(0)
	return pa, err == nil
}

// newNode makes an empty node at the given level from a spare frame (the
// caller took enough with takeSpares) and returns its address.
//
//go:nosplit
func (m *RegionMap) newNode(level int) uintptr {
	pa, _ := m.w().spare.pop()
	v := m.va(pa)
	*nodeAt(v) = nodeHeader{level: uint32(level)}
	m.nodes++
	return v
}

// freeNode gives the node at v back to the allocator.
//
//go:nosplit
func (m *RegionMap) freeNode(v uintptr) {
	_ = m.frames.Free(m.pa(v), 0) // ours and live: cannot fail
	m.nodes--
}

// ---- Search. ----

// firstAbove returns the index of the first of the n entries of node v
// whose key at offset off is above va (n if none): the one search of every
// lookup in the map. With keyEnd it finds the entry holding va or the
// first one after it; with keyStart, one past the last entry starting at
// or below va. The keys are sorted, so the answer is the number of keys at
// or below va. In a node of more than 32 entries it counts them in two
// rounds of independent loads: 15 keys that cut the node into 16 blocks,
// then every key of the one block left (at most 11). In a node out of the
// cache (the leaves of a million regions fill 30 MiB) the misses of a
// round overlap, where a binary search would wait for six in a row. Small
// nodes take a binary search whose step compiles to a conditional move.
// Neither way mispredicts a branch on the keys.
//
//go:nosplit
func firstAbove(v uintptr, level, n int, off, va uintptr) int {
	size := entrySize(level)
	base := v + nodeHeaderSize + off
	lo := 0
	if n > 32 {
		step := (n + 15) >> 4 // the blocks [k*step, (k+1)*step): 3 entries at least
		if step <= 0 {
			return 0 // cannot be: it shows the compiler the division below needs no check
		}
		lo = countAtOrBelow(base+uintptr(step-1)*size, uintptr(step)*size, min(n/step, 15), va) * step
		return lo + countAtOrBelow(base+uintptr(lo)*size, size, min(step, n-lo), va)
	}
	for n > 1 {
		half := n >> 1
		if *(*uintptr)(ptrAt(base + uintptr(lo+half)*size)) <= va {
			lo += half
		}
		n -= half
	}
	if n == 1 && *(*uintptr)(ptrAt(base + uintptr(lo)*size)) <= va {
		lo++
	}
	return lo
}

// countAtOrBelow counts the keys at or below va among the k words at p,
// p+stride, and so on.
//
//go:nosplit
func countAtOrBelow(p, stride uintptr, k int, va uintptr) int {
	c := 0
	for range k {
		if *(*uintptr)(ptrAt(p)) <= va {
			c++
		}
		p += stride
	}
	return c
}

// descend walks from the root to a region: the first one whose End is
// above va, or with last, the last one whose Start is at or below va. It
// returns the leaf and the index there, false if there is no such region,
// and records the way in p unless p is nil.
//
//go:nosplit
func (m *RegionMap) descend(p *treePath, va uintptr, last bool) (uintptr, int, bool) {
	if m.root == 0 {
		return 0, 0, false
	}
	v := m.va(m.root)
	for l := m.height - 1; l >= 0; l-- {
		n := count(v, l)
		var i int
		if last {
			i = firstAbove(v, l, n, keyStart, va) - 1
		} else {
			i = firstAbove(v, l, n, keyEnd, va)
		}
		if i < 0 || i >= n {
			return v, 0, false
		}
		if p != nil {
			p.node[l&levelMask], p.idx[l&levelMask] = v, int32(i)
		}
		if l == 0 {
			return v, i, true
		}
		v = m.va(branchEntry(v, i).child)
	}
	return 0, 0, false
}

// descendLast walks from the root to the last region, along the last
// entry of every node (no search), records the way in p, and returns the
// leaf and the index there (false if the map is empty).
//
//go:nosplit
func (m *RegionMap) descendLast(p *treePath) (uintptr, int, bool) {
	if m.root == 0 {
		return 0, 0, false
	}
	v := m.va(m.root)
	for l := m.height - 1; l >= 0; l-- {
		i := count(v, l) - 1
		if i < 0 {
			return v, 0, false
		}
		p.node[l&levelMask], p.idx[l&levelMask] = v, int32(i)
		if l == 0 {
			return v, i, true
		}
		v = m.va(branchEntry(v, i).child)
	}
	return 0, 0, false
}

// fitGap returns the lowest multiple of align at or above gs at which size
// bytes fit below both ge and hi: where a free gap [gs, ge) can take the
// request.
//
//go:nosplit
func fitGap(gs, ge, size, align, hi uintptr) (uintptr, bool) {
	s, ok := alignUpVA(gs, align)
	if !ok || s > hi || hi-s < size || s > ge || ge-s < size {
		return 0, false
	}
	return s, true
}

// searchGaps is FindFree's walk of the tree: the gaps from lo up to the
// last region, in address order, entering only the subtrees whose largest
// gap is at least size (m.w().seek is its stack). It returns the first fit
// below hi, if any.
//
//go:nosplit
func (m *RegionMap) searchGaps(size, align, lo, hi uintptr) (uintptr, bool) {
	p := &m.w().seek
	prevEnd := lo // the end of the last region passed, at least lo
	top := m.height - 1
	l := top
	v := m.va(m.root)
	p.node[l&levelMask] = v
	p.idx[l&levelMask] = int32(firstAbove(v, l, count(v, l), keyEnd, lo))
	for {
		v := p.node[l&levelMask]
		i := int(p.idx[l&levelMask])
		if l == 0 {
			// In a leaf, the gaps go by in a plain loop to the first
			// that is large enough: a first fit may pass most of a
			// node's entries, and the general step below costs three
			// times as much per entry.
			n := count(v, 0)
			e := entryAddr(v, 0, i)
			for ; i < n; i, e = i+1, e+regionSize {
				if start := *(*uintptr)(ptrAt(e + keyStart)); start > prevEnd && start-prevEnd >= size {
					break
				}
				if prevEnd = max(prevEnd, *(*uintptr)(ptrAt(e + keyEnd))); prevEnd >= hi {
					return 0, false
				}
			}
			p.idx[0] = int32(i)
		}
		if i >= count(v, l) {
			if l == top {
				return 0, false
			}
			l++
			p.idx[l&levelMask]++
			continue
		}
		// The gap before entry i, then the gaps inside it. Most entries
		// fail the plain size tests, which come first.
		if start := key(v, l, i, keyStart); start > prevEnd && start-prevEnd >= size {
			if s, ok := fitGap(prevEnd, start, size, align, hi); ok {
				return s, true
			}
			if _, ok := fitGap(prevEnd, ^uintptr(0), size, align, hi); !ok {
				return 0, false // every gap from here on starts too high
			}
		}
		if l > 0 {
			if b := branchEntry(v, i); b.gap >= size {
				child := m.va(b.child)
				l--
				p.node[l&levelMask] = child
				p.idx[l&levelMask] = int32(firstAbove(child, l, count(child, l), keyEnd, lo))
				continue
			}
		}
		prevEnd = max(prevEnd, key(v, l, i, keyEnd))
		if prevEnd >= hi {
			return 0, false
		}
		p.idx[l&levelMask] = int32(i + 1)
	}
}

// ---- Summaries. ----

// summarize records in b what the parent of node v records of it: the
// Start of its first region, the End of its last, and the largest gap
// between neighbouring regions below it (all zero for an empty node). It
// reports whether that changed b.
//
//go:nosplit
func summarize(b *branch, v uintptr, level int) bool {
	n := count(v, level)
	var start, end, gap uintptr
	e := v + nodeHeaderSize
	if n > 0 {
		start = *(*uintptr)(ptrAt(e + keyStart))
		end = start
	}
	// Two loops, so that a leaf's (the most scanned) is a plain run of
	// loads and maxima, with no branch on the keys.
	if level == 0 {
		for i := 0; i < n; i, e = i+1, e+regionSize {
			gap = max(gap, *(*uintptr)(ptrAt(e + keyStart))-end)
			end = *(*uintptr)(ptrAt(e + keyEnd))
		}
	} else {
		for i := 0; i < n; i, e = i+1, e+branchSize {
			gap = max(gap, *(*uintptr)(ptrAt(e + keyStart))-end, (*branch)(ptrAt(e)).gap)
			end = *(*uintptr)(ptrAt(e + keyEnd))
		}
	}
	if b.start == start && b.end == end && b.gap == gap {
		return false
	}
	b.start, b.end, b.gap = start, end, gap
	return true
}

// setSummary records in entry i of parent what its child v (one level
// lower) now holds, and reports whether that changed anything.
//
//go:nosplit
func setSummary(parent uintptr, i int, v uintptr, level int) bool {
	return summarize(branchEntry(parent, i), v, level)
}

// refreshTop recomputes the summary of the whole map from the root.
//
//go:nosplit
func (m *RegionMap) refreshTop() {
	m.top.child, m.topStale = m.root, false
	summarize(&m.top, m.va(m.root), m.height-1)
}

// propagate carries a change of the node at p.node[from] up to the root's
// summary, stopping where a summary comes out unchanged.
//
//go:nosplit
func (m *RegionMap) propagate(p *treePath, from int) {
	for l := from; l < m.height-1; l++ {
		if !setSummary(p.node[(l+1)&levelMask], int(p.idx[(l+1)&levelMask]), p.node[l&levelMask], l) {
			return
		}
	}
	m.refreshTop()
}

// touched carries a change made inside the leaf at the end of p (no node
// split or merged) up to the root's summary, reading a few entries per
// level rather than every node on the way: each summary takes its first
// Start and last End from the node's two ends, and its largest gap from
// the old one, given lost, the largest gap between the node's entries
// that the change shrank or closed (0 if none), and gained, the largest it
// opened or widened. Only when lost may have been the largest (lost >= the
// old largest) is the node scanned again. How the summary changed gives
// the next level's lost and gained: the child's own largest gap, and the
// gaps between it and its two neighbours. It stops where a summary comes
// out unchanged. An empty node, or one that was, takes propagate's way.
//
//go:nosplit
func (m *RegionMap) touched(p *treePath, lost, gained uintptr) {
	for l := 0; l < m.height; l++ {
		v := p.node[l&levelMask]
		n := count(v, l)
		b, parent, pi := &m.top, uintptr(0), 0
		if l < m.height-1 {
			parent, pi = p.node[(l+1)&levelMask], int(p.idx[(l+1)&levelMask])
			b = branchEntry(parent, pi)
		}
		old := *b
		if n == 0 || old.end == 0 { // a summary's End is 0 only when its node is empty
			m.propagate(p, l)
			return
		}
		b.start, b.end = key(v, l, 0, keyStart), key(v, l, n-1, keyEnd)
		switch {
		case lost == 0 || lost < old.gap:
			b.gap = max(old.gap, gained)
		case parent == 0:
			// The root's own summary: the old largest gap stays as a
			// bound, rather than a scan of the root at every change
			// that closes the largest gap (FindFree refreshes it).
			b.gap = max(old.gap, gained)
			m.topStale = true
		default:
			summarize(b, v, l)
		}
		if *b == old || parent == 0 {
			return
		}
		lost, gained = 0, 0
		if b.gap < old.gap {
			lost = old.gap
		} else if b.gap > old.gap {
			gained = b.gap
		}
		if pi > 0 {
			prevEnd := branchEntry(parent, pi-1).end
			if b.start < old.start {
				lost = max(lost, old.start-prevEnd)
			} else if b.start > old.start {
				gained = max(gained, b.start-prevEnd)
			}
		}
		if pi+1 < count(parent, l+1) {
			nextStart := branchEntry(parent, pi+1).start
			if b.end > old.end {
				lost = max(lost, nextStart-old.end)
			} else if b.end < old.end {
				gained = max(gained, nextStart-b.end)
			}
		}
	}
}

// gapAfter is the gap between region i of leaf v and the next one in the
// leaf (0 if i is its last).
//
//go:nosplit
func gapAfter(v uintptr, i int) uintptr {
	if i < 0 || i+1 >= count(v, 0) {
		return 0
	}
	return leafEntry(v, i+1).Start - leafEntry(v, i).End
}

// inserted carries the insertion of an entry into the leaf at the end of
// p up: propagate from level, the highest node insertAt changed, when it
// split nodes; otherwise touched, with the gap the new region p.idx[0]
// went into (lost) when it has neighbours on both sides in the leaf, or
// the new gap beside it (gained) when it is at an end.
//
//go:nosplit
func (m *RegionMap) inserted(p *treePath, level int) {
	if level > 0 {
		m.propagate(p, level)
		return
	}
	v, i := p.node[0], int(p.idx[0])
	switch n := count(v, 0); {
	case i > 0 && i+1 < n:
		m.touched(p, leafEntry(v, i+1).Start-leafEntry(v, i-1).End, 0)
	case i > 0:
		m.touched(p, 0, gapAfter(v, i-1))
	default:
		m.touched(p, 0, gapAfter(v, i))
	}
}

// ---- Insertion. ----

// splitsNeeded is how many new nodes inserting one entry into the leaf at
// the end of p takes: one per full node from the leaf up, and a new root
// when the root is full too (a huge count when the tree may not grow).
// With other, an insertion on that way comes first: a node both ways pass
// counts as full one entry short of it (the first may give it one, or
// split it), which bounds what the second takes.
//
//go:nosplit
func (m *RegionMap) splitsNeeded(p, other *treePath) int {
	for l := 0; l < m.height; l++ {
		v, limit := p.node[l&levelMask], m.capAt(l)
		if other != nil && other.node[l&levelMask] == v {
			limit--
		}
		if count(v, l) < limit {
			return l
		}
	}
	if m.height >= maxHeight {
		return maxHeight + 1 // more than takeSpares can ever give
	}
	return m.height + 1
}

// splitPoint is how many of the cap+1 entries of a full node taking an
// entry at index i stay in the left node of the split. In the middle it
// halves; an entry added at either end leaves the other node as full as
// it may be, so that regions added in address order (first fit, a heap
// growing up) fill nodes to three quarters rather than one half.
//
//go:nosplit
func splitPoint(i, limit, least int) int {
	switch i {
	case limit:
		return limit + 1 - least
	case 0:
		return least
	}
	return (limit + 1) / 2
}

// insertAt puts r into the leaf at the end of p at index p.idx[0],
// splitting full nodes up the way with spare frames (the caller took
// splitsNeeded of them). It returns the level of the highest node it
// changed, from which the caller propagates the summaries.
//
//go:nosplit
func (m *RegionMap) insertAt(p *treePath, r *Region) int {
	carry := &m.w().carry // above the leaf: the entry for the new right node
	for l := 0; l < m.height; l++ {
		v, i := p.node[l&levelMask], int(p.idx[l&levelMask])
		n, limit := count(v, l), m.capAt(l)
		i = min(max(i, 0), n)
		if n < limit {
			moveEntries(entryAddr(v, l, i+1), entryAddr(v, l, i), l, n-i)
			putEntry(v, l, i, r, carry)
			nodeAt(v).n = uint32(n + 1)
			return l
		}
		// Split v: the new node w takes the right part.
		w := m.newNode(l)
		left := splitPoint(i, limit, m.minAt(l))
		if i < left {
			moveEntries(entryAddr(w, l, 0), entryAddr(v, l, left-1), l, n-left+1)
			moveEntries(entryAddr(v, l, i+1), entryAddr(v, l, i), l, left-1-i)
			putEntry(v, l, i, r, carry)
		} else {
			j := i - left
			moveEntries(entryAddr(w, l, 0), entryAddr(v, l, left), l, j)
			moveEntries(entryAddr(w, l, j+1), entryAddr(v, l, i), l, n-i)
			putEntry(w, l, j, r, carry)
		}
		nodeAt(v).n, nodeAt(w).n = uint32(left), uint32(n+1-left)
		if l == m.height-1 {
			// The root split: a new root over v and w.
			root := m.newNode(l + 1)
			branchEntry(root, 0).child, branchEntry(root, 1).child = m.pa(v), m.pa(w)
			nodeAt(root).n = 2
			setSummary(root, 0, v, l)
			setSummary(root, 1, w, l)
			m.root = m.pa(root)
			m.height++
			return l + 1
		}
		parent, pi := p.node[(l+1)&levelMask], int(p.idx[(l+1)&levelMask])
		setSummary(parent, pi, v, l)
		summarize(carry, w, l)
		carry.child = m.pa(w)
		p.idx[(l+1)&levelMask] = int32(pi + 1)
	}
	return m.height - 1
}

// putEntry writes the entry being inserted at index i of node v: r in a
// leaf, b above.
//
//go:nosplit
func putEntry(v uintptr, level, i int, r *Region, b *branch) {
	if level == 0 {
		*leafEntry(v, i) = *r
	} else {
		*branchEntry(v, i) = *b
	}
}
