// Context: handler (see regions.go and regiontree.go): //go:nosplit, no Go
// heap, no Go lock, no Go pointer stored, no recursion, no explicit panic.

package mm

// Removing a range from the tree: RemoveRange's three phases (see Removal
// on RegionMap), and the one-entry removal Insert does when it merges a
// region with both its neighbours.
//
// 1. The cut takes the range out. It walks up the two edges of the range
//    (the left path to the first region ending after start, the right
//    path to the last one starting before end) and in each node on them
//    keeps only what lies outside the range: the left edge keeps a
//    prefix, the right edge a suffix, their lowest common node both ends;
//    a node that keeps nothing is unlinked from its parent as a whole.
//    Every removed entry, a region at the leaves or a whole subtree above,
//    stays intact in its node's frame just past the node's new count
//    ("parked"), and the summaries along both edges are brought up to
//    date, so the map reads exactly as it will in the end. No entry is
//    added, so no frame is needed.
// 2. The release calls visit on every removed piece in address order and
//    gives the frames of removed subtrees back.
// 3. The rebalance restores the fill every node below the root must have,
//    on the two edges only, level by level from the leaves up.
//
// The linker bounds the stack of a chain of nosplit calls (800 bytes, and
// a fuzzing build's instrumentation about doubles every frame), so the
// chains stay short: removeRange runs each phase as steps, one level or
// one node at a time, and frames go back to the allocator only from its
// own frame (the release hands each dead node back; the rebalance leaves
// the nodes it merges away in m.w().dead for bury).

// removeRange removes [start, end), which splits no region, from the map
// (start < end, some region overlaps it): the three phases.
//
//go:nosplit
func (m *RegionMap) removeRange(start, end uintptr, visit func(Region)) {
	w := m.w()
	m.descend(&w.pathL, start, false)
	m.descend(&w.pathR, end-1, true)
	m.cutEdges(start, end)
	m.cutCommon(start, end)
	m.cutAbove()
	m.releaseStart(visit)
	for {
		v, ok := m.releaseNext(visit)
		if !ok {
			break
		}
		m.freeNode(v)
	}
	m.rebalanceStart(start)
	for l := 0; l < m.height-1; l++ {
		m.rebalanceLevel(l)
		m.bury()
	}
	m.collapseRoot()
	m.bury()
}

// ---- Phase 1: cut. ----

// park removes entries [a, b) of the node v holding n, keeping the order
// of those that stay and of those that go, and returns where the removed
// ones now lie: intact, just past the node's new count. Two memmoves when
// the frame has room past n; three reversals (a rotation in place)
// otherwise.
//
//go:nosplit
func park(v uintptr, level, n, a, b int) span {
	k := b - a
	if k <= 0 {
		return span{int32(n), int32(n)}
	}
	if b < n {
		if frameCap(level)-n >= k {
			moveEntries(entryAddr(v, level, n), entryAddr(v, level, a), level, k)
			moveEntries(entryAddr(v, level, a), entryAddr(v, level, b), level, n-b+k)
		} else {
			reverseEntries(v, level, a, b)
			reverseEntries(v, level, b, n)
			reverseEntries(v, level, a, n)
		}
	}
	nodeAt(v).n = uint32(n - k)
	return span{int32(n - k), int32(n)}
}

// trimLeft cuts region i of leaf v back to end at start if it begins
// below it, keeping the cut-off part as the first piece for visit, and
// returns the index of the first region that goes.
//
//go:nosplit
func (m *RegionMap) trimLeft(v uintptr, i int, start uintptr) int {
	w := m.w()
	e := leafEntry(v, i)
	if e.Start >= start {
		return i
	}
	w.pieceL, w.hasPieceL = *e, true
	w.pieceL.Start = start
	e.End = start
	return i + 1
}

// trimRight cuts region j of leaf v to begin at end if it ends above it,
// keeping the cut-off part as the last piece for visit, and returns one
// past the last region that goes.
//
//go:nosplit
func (m *RegionMap) trimRight(v uintptr, j int, end uintptr) int {
	w := m.w()
	e := leafEntry(v, j)
	if e.End <= end {
		return j + 1
	}
	w.pieceR, w.hasPieceR = *e, true
	w.pieceR.End = end
	e.Start = end
	return j
}

// cutEdges begins phase 1: m.w().pathL and m.w().pathR lead to the first and the
// last region [start, end) touches. Below their lowest common node (whose
// level it records in m.w().cutTop), the left edge keeps a prefix of each
// node and the right edge a suffix; a node keeping nothing stays whole and
// goes with its parent's parked entries (m.w().leftLives and m.w().rightLives say
// whether the edge nodes of the last level kept anything).
//
//go:nosplit
func (m *RegionMap) cutEdges(start, end uintptr) {
	w := m.w()
	lp, rp := &w.pathL, &w.pathR
	c := 0
	for c < m.height-1 && lp.node[c&levelMask] != rp.node[c&levelMask] {
		c++
	}
	w.cutTop = c
	w.hasPieceL, w.hasPieceR = false, false
	w.leftLives, w.rightLives = true, true
	for l := 0; l < c; l++ {
		x, i := lp.node[l&levelMask], int(lp.idx[l&levelMask])
		n := count(x, l)
		keep := i
		if l == 0 {
			keep = m.trimLeft(x, i, start)
		} else if w.leftLives {
			setSummary(x, i, lp.node[(l-1)&levelMask], l-1)
			keep = i + 1
		}
		w.leftLives = keep > 0
		w.parkL[l&levelMask] = span{}
		if w.leftLives {
			w.parkL[l&levelMask] = park(x, l, n, keep, n)
		}

		y, j := rp.node[l&levelMask], int(rp.idx[l&levelMask])
		n = count(y, l)
		drop := j + 1
		if l == 0 {
			drop = m.trimRight(y, j, end)
		} else if w.rightLives {
			setSummary(y, j, rp.node[(l-1)&levelMask], l-1)
			drop = j
		}
		w.rightLives = drop < n
		w.parkR[l&levelMask] = span{}
		if w.rightLives {
			w.parkR[l&levelMask] = park(y, l, n, 0, drop)
		}
	}
}

// cutCommon goes on with the edges' lowest common node, which loses what
// lies between them (m.w().leftLives then says whether it kept anything).
//
//go:nosplit
func (m *RegionMap) cutCommon(start, end uintptr) {
	w := m.w()
	lp, rp, c := &w.pathL, &w.pathR, w.cutTop
	x, i, j := lp.node[c&levelMask], int(lp.idx[c&levelMask]), int(rp.idx[c&levelMask])
	n := count(x, c)
	a, b := i, j+1
	if c == 0 {
		a, b = m.trimLeft(x, i, start), m.trimRight(x, j, end)
	} else {
		if w.leftLives {
			setSummary(x, i, lp.node[(c-1)&levelMask], c-1)
			a = i + 1
		}
		if w.rightLives {
			setSummary(x, j, rp.node[(c-1)&levelMask], c-1)
			b = j
		}
	}
	w.parkL[c&levelMask] = span{}
	w.leftLives = a > 0 || b < n || c == m.height-1
	if w.leftLives {
		w.parkL[c&levelMask] = park(x, c, n, a, b)
	}
}

// cutAbove ends phase 1 above the common node: an emptied node goes from
// its parent (the root stays, empty if need be), and summaries change up
// to where one comes out the same.
//
//go:nosplit
func (m *RegionMap) cutAbove() {
	w := m.w()
	lp := &w.pathL
	lives, changed := w.leftLives, true
	for l := w.cutTop + 1; l < m.height; l++ {
		x, i := lp.node[l&levelMask], int(lp.idx[l&levelMask])
		w.parkL[l&levelMask] = span{}
		if lives {
			if changed {
				changed = setSummary(x, i, lp.node[(l-1)&levelMask], l-1)
			}
			continue
		}
		n := count(x, l)
		if n == 1 && l < m.height-1 {
			continue
		}
		w.parkL[l&levelMask] = park(x, l, n, i, i+1)
		lives = true
	}
	if changed {
		m.refreshTop()
	}
}

// ---- Phase 2: release. ----

// releaseStart begins phase 2: visit sees the left trimmed piece first.
// Then releaseNext goes through what the cut parked in address order (the
// left edge's parked entries from the leaf up, the common node's and
// those above it, the right edge's from the top down).
//
//go:nosplit
func (m *RegionMap) releaseStart(visit func(Region)) {
	w := m.w()
	if visit != nil && w.hasPieceL {
		visit(w.pieceL)
	}
	w.relSpan, w.relEntry, w.relWalking = 0, -1, false
}

// releaseNext shows visit the removed regions up to the next node to free
// and returns it (the caller frees it: the frame is no longer read); false
// at the end, after visit has seen the right trimmed piece.
//
//go:nosplit
func (m *RegionMap) releaseNext(visit func(Region)) (uintptr, bool) {
	w := m.w()
	for {
		if w.relWalking {
			if x, l, ok := m.postorder(0); ok {
				if l == 0 {
					n := count(x, 0)
					m.n -= n
					for i := 0; visit != nil && i < n; i++ {
						visit(*leafEntry(x, i))
					}
				}
				return x, true
			}
			w.relWalking = false
		}
		// Span k: the left edge's (and above) at level k, then the right
		// edge's from level cutTop-1 down.
		k, last := w.relSpan, m.height+w.cutTop
		if k >= last {
			if visit != nil && w.hasPieceR {
				visit(w.pieceR)
			}
			return 0, false
		}
		v, l, sp := w.pathL.node[k&levelMask], k, w.parkL[k&levelMask]
		if k >= m.height {
			l = last - 1 - k
			v, sp = w.pathR.node[l&levelMask], w.parkR[l&levelMask]
		}
		e := max(w.relEntry+1, int(sp.from))
		if e >= int(sp.to) {
			w.relSpan, w.relEntry = k+1, -1
			continue
		}
		w.relEntry = e
		if l == 0 {
			m.n--
			if visit != nil {
				visit(*leafEntry(v, e))
			}
			continue
		}
		m.walkFrom(m.va(branchEntry(v, e).child), l-1)
		w.relWalking = true
	}
}

// walkFrom starts a post-order walk (postorder) of the subtree rooted at
// node v, at level top, in m.w().walk.
//
//go:nosplit
func (m *RegionMap) walkFrom(v uintptr, top int) {
	w := m.w()
	w.walkTop, w.walkLevel = top, top
	w.walk.node[top&levelMask], w.walk.idx[top&levelMask] = v, 0
}

// postorder returns the next node of the walk walkFrom started, children
// before their parent and in address order, going no lower than level
// lowest (a node there is returned without its children), and its level;
// false when the walk is over. It reads a node only before returning it,
// so the caller may free what it gets.
//
//go:nosplit
func (m *RegionMap) postorder(lowest int) (uintptr, int, bool) {
	w := &m.w().walk
	for l := m.w().walkLevel; l <= m.w().walkTop; l = m.w().walkLevel {
		x := w.node[l&levelMask]
		if i := int(w.idx[l&levelMask]); l > lowest && i < count(x, l) {
			w.idx[l&levelMask] = int32(i + 1)
			m.w().walkLevel = l - 1
			w.node[(l-1)&levelMask], w.idx[(l-1)&levelMask] = m.va(branchEntry(x, i).child), 0
			continue
		}
		m.w().walkLevel = l + 1
		return x, l, true
	}
	return 0, 0, false
}

// ---- Phase 3: rebalance. ----

// After the cut only nodes on the two edges can hold fewer entries than
// minAt: the last node of each level wholly before the range (the left
// path, to the last region below start) and the first after it (the right
// path). Level by level from the leaves: the two edge nodes, neighbours
// though their parents may differ, are merged when they fit in one node,
// else evened out if either is short; a node still short then takes from,
// or merges with, a neighbour (a sibling, or the next node on the right
// edge). A short node that has no neighbour at all is its parent's only
// child, so its parent is short too: it waits ("pend") until a level above
// gives its parent siblings' children, and is then fixed on the way back
// down. Nothing is allocated; merged-away nodes wait in m.w().dead for bury.

// rebalanceStart begins phase 3: fresh paths to the regions on either
// side of the removed range.
//
//go:nosplit
func (m *RegionMap) rebalanceStart(start uintptr) {
	w := m.w()
	lp, rp := &w.pathL, &w.pathR
	hasL := false
	if start > 0 {
		_, _, hasL = m.descend(lp, start-1, true)
	}
	_, _, hasR := m.descend(rp, start, false)
	w.rebRight = !hasL // short nodes' fixes follow the left edge, or the right with nothing left of the range
	w.rebTwo = 0       // below it the two edges run through different nodes
	if hasL && hasR {
		for w.rebTwo < m.height-1 && lp.node[w.rebTwo&levelMask] != rp.node[w.rebTwo&levelMask] {
			w.rebTwo++
		}
	}
	w.rebPend = -1
	if !hasL && !hasR {
		w.rebPend = m.height // the map is empty: nothing to do but collapse the root
	}
}

// rebalanceLevel is phase 3 at level l, below the root.
//
//go:nosplit
func (m *RegionMap) rebalanceLevel(l int) {
	w := m.w()
	if w.rebPend >= m.height {
		return
	}
	s := &w.pathL
	if w.rebRight {
		s = &w.pathR
	}
	two := l < w.rebTwo
	if two {
		m.pairEdges(l)
		m.join(l)
		if m.joined(s, l) {
			w.pathR.node[l&levelMask] = 0
		}
	}
	for range 3 {
		x := s.node[l&levelMask]
		if w.rebPend >= 0 && count(x, l) >= 2 {
			// x has siblings' children now: fix what waited, top down.
			for k := l - 1; k >= w.rebPend; k-- {
				if count(s.node[k&levelMask], k) < m.minAt(k) && m.pickNeighbour(s, k, false) {
					m.join(k)
					m.joined(s, k)
				}
			}
			w.rebPend = -1
		}
		if count(x, l) >= m.minAt(l) {
			break
		}
		if !m.pickNeighbour(s, l, two) {
			if w.rebPend < 0 {
				w.rebPend = l
			}
			break
		}
		m.join(l)
		m.joined(s, l)
	}
	if two {
		// Entries moved between the two edges' subtrees: their parents'
		// records of them changed. (Moves between siblings change no
		// parent's summary.)
		lp, rp := &w.pathL, &w.pathR
		setSummary(lp.node[(l+1)&levelMask], int(lp.idx[(l+1)&levelMask]), lp.node[l&levelMask], l)
		if b := rp.node[l&levelMask]; b != 0 {
			setSummary(rp.node[(l+1)&levelMask], int(rp.idx[(l+1)&levelMask]), b, l)
		}
	}
}

// nodePair is two neighbouring nodes at one level for join: each node and
// where it sits in its parent, and what join did.
type nodePair struct {
	left, right uintptr
	pl, pr      uintptr // their parents
	il, ir      int     // their entries there
	even        bool    // even them out if they do not fit in one
	nl          int     // left's count before the join
	merged      bool    // the join merged right into left
	moved       int     // entries the join moved from left to right (negative: the other way)
}

// pairEdges sets m.w().pair to the two edge nodes at level l (neighbours,
// their parents on the two paths), to be merged when they fit in one and
// evened out when either is short. The right one may be empty (its
// children merged away below): then it simply goes.
//
//go:nosplit
func (m *RegionMap) pairEdges(l int) {
	w := m.w()
	lp, rp := &w.pathL, &w.pathR
	a, b := lp.node[l&levelMask], rp.node[l&levelMask]
	w.pair = nodePair{left: a, right: b, pl: lp.node[(l+1)&levelMask], il: int(lp.idx[(l+1)&levelMask]),
		pr: rp.node[(l+1)&levelMask], ir: int(rp.idx[(l+1)&levelMask]),
		even: count(a, l) < m.minAt(l) || count(b, l) < m.minAt(l)}
}

// pickNeighbour sets m.w().pair to the short node at level l of path p and a
// neighbour to make it whole from: its left sibling, else its right
// sibling, else (two: below the edges' common node) the first node of the
// right edge's parent. It reports false if there is none: the node is its
// parent's only child.
//
//go:nosplit
func (m *RegionMap) pickNeighbour(p *treePath, l int, two bool) bool {
	w := m.w()
	x := p.node[l&levelMask]
	parent, ix := p.node[(l+1)&levelMask], int(p.idx[(l+1)&levelMask])
	w.pair = nodePair{left: x, right: 0, pl: parent, il: ix, pr: parent, ir: ix + 1, even: true}
	switch {
	case ix > 0:
		w.pair.left, w.pair.il, w.pair.right, w.pair.ir = m.va(branchEntry(parent, ix-1).child), ix-1, x, ix
	case ix+1 < count(parent, l+1):
		w.pair.right = m.va(branchEntry(parent, ix+1).child)
	case two && w.pathR.node[(l+1)&levelMask] != 0 && w.pathR.node[(l+1)&levelMask] != parent:
		pr, ir := w.pathR.node[(l+1)&levelMask], int(w.pathR.idx[(l+1)&levelMask])
		if ir >= count(pr, l+1) {
			return false
		}
		w.pair.pr, w.pair.ir, w.pair.right = pr, ir, m.va(branchEntry(pr, ir).child)
	default:
		return false
	}
	return true
}

// join joins the nodes of m.w().pair at level l: the right one's entries move
// into the left one and the right one goes (its entry dropped, the node
// left in m.w().dead) when they fit in one node; otherwise, with even, half of
// the difference moves across. joined then records the outcome.
//
//go:nosplit
func (m *RegionMap) join(l int) {
	pr := &m.w().pair
	left, right := pr.left, pr.right
	nl, nr := count(left, l), count(right, l)
	pr.nl, pr.merged, pr.moved = nl, nl+nr <= m.capAt(l), 0
	switch {
	case pr.merged:
		moveEntries(entryAddr(left, l, nl), entryAddr(right, l, 0), l, nr)
		nodeAt(left).n = uint32(nl + nr)
		m.discard(right)
	case pr.even:
		want := (nl + nr) / 2 // left's new count
		k := nl - want
		if k > 0 {
			moveEntries(entryAddr(right, l, k), entryAddr(right, l, 0), l, nr)
			moveEntries(entryAddr(right, l, 0), entryAddr(left, l, want), l, k)
		} else {
			moveEntries(entryAddr(left, l, nl), entryAddr(right, l, 0), l, -k)
			moveEntries(entryAddr(right, l, 0), entryAddr(right, l, -k), l, nr+k)
		}
		nodeAt(left).n, nodeAt(right).n = uint32(want), uint32(nr+k)
		pr.moved = k
	}
}

// joined records what join did to m.w().pair at level l: the parents' entries
// for the two nodes (a merged-away node's dropped), and path p kept on the
// region it leads to. It reports whether they merged.
//
//go:nosplit
func (m *RegionMap) joined(p *treePath, l int) bool {
	pr := &m.w().pair
	if pr.merged {
		dropEntry(pr.pr, l+1, pr.ir)
	} else if pr.moved != 0 {
		setSummary(pr.pr, pr.ir, pr.right, l)
	}
	setSummary(pr.pl, pr.il, pr.left, l)
	if p.node[l&levelMask] == pr.right { // p's node was the right one
		switch {
		case pr.merged:
			p.node[l&levelMask] = pr.left
			p.idx[l&levelMask] += int32(pr.nl)
			p.idx[(l+1)&levelMask] = int32(pr.il)
		case pr.moved > 0:
			p.idx[l&levelMask] += int32(pr.moved)
		}
	}
	return pr.merged
}

// discard leaves node v, merged away, for bury to free. m.w().dead holds
// more than one rebalance level can merge away (at most one per level on
// the way back down, and four at its own) and bury empties it after each.
//
//go:nosplit
func (m *RegionMap) discard(v uintptr) { m.w().dead.push(m.pa(v)) }

// bury gives back the nodes discard left.
//
//go:nosplit
func (m *RegionMap) bury() {
	w := m.w()
	m.nodes -= w.dead.n
	m.drain(&w.dead)
}

// dropEntry removes entry i of node v.
//
//go:nosplit
func dropEntry(v uintptr, level, i int) {
	n := count(v, level)
	if i < 0 || i >= n {
		return
	}
	moveEntries(entryAddr(v, level, i), entryAddr(v, level, i+1), level, n-i-1)
	nodeAt(v).n = uint32(n - 1)
}

// collapseRoot lets a root with one child give way to it, as often as
// need be (the old roots wait in m.w().dead for bury); an emptied root becomes
// an empty leaf.
//
//go:nosplit
func (m *RegionMap) collapseRoot() {
	for m.height > 1 {
		v, l := m.va(m.root), m.height-1
		switch count(v, l) {
		case 0:
			nodeAt(v).level = 0
			m.height = 1
			return
		case 1:
			m.discard(v)
			m.root = branchEntry(v, 0).child
			m.top.child = m.root
			m.height--
		default:
			return
		}
	}
}
