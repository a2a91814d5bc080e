// Context: every method of RegionMap except Init and Bind runs in handler
// context: the page-fault handler reads the map (Find) and the system-call
// handlers serving hurd_vm_allocate, hurd_vm_deallocate, mmap and munmap
// and mprotect change it, and task creation, fork and exit (Create, Next,
// Clone, Destroy) may run there too (docs/DESIGN.md, "Handler context"). Init and Bind run in ordinary
// kernel context (boot, setting up the table of address spaces) because
// they store the map's one Go pointer.

package mm

// The region map of an address space
//
// A RegionMap is the sorted set of non-overlapping regions of one address
// space: which virtual pages are allocated, and with which protection,
// inheritance and VM flags. The fault handler asks it which region holds a
// faulting address; hurd_vm_allocate asks it for free space and inserts;
// hurd_vm_deallocate removes ranges, trimming and splitting regions;
// mprotect changes the protection of ranges (Protect).
//
// Handler context. The methods allocate nothing on the Go heap, take no Go
// lock, use no map, fmt, defer or recursion, and store no Go pointer (Init
// and Bind excepted, see above): the state is plain integers and the nodes
// live in frames taken from the FrameAllocator, reached through its
// physmap, never in demand-paged memory, so a fault handler reading them
// cannot fault. Errors are the Errno constants, so returning one allocates
// nothing. Node access is address arithmetic under counts clamped to what
// a frame holds (regiontree.go), so a damaged node cannot make an access
// leave its frame or a bounds check panic.
//
// Single-threaded by contract. The map has no lock: the kernel serializes
// every caller of one map (and of the frame allocator under it). Readers
// included: a Find concurrent with an Insert may see a node half moved.
// The changes keep their working state (paths, parked ranges, frames
// taken ahead) in a frame of the map's own (regionWork) rather than on the
// stack, and run as flat sequences of steps, because the linker bounds
// every chain of nosplit calls (800 bytes; a fuzzing build's
// instrumentation about doubles each frame).
//
// Storage: a B+tree of frames. Every node is one 4 KiB frame (an order-0
// allocation, so fragmented memory never stands in the way), starting with
// a 16-byte header (entry count, level). A leaf holds up to 170 regions
// (24 bytes each) sorted by address; an internal node up to 127 entries of
// 32 bytes: a child's frame, the Start of the child subtree's first region,
// the End of its last, and the largest free gap between two neighbouring
// regions in it. Every leaf is at the same depth. Every node but the root
// holds at least a quarter of what it can (42 regions, 31 children; an
// internal root at least 2), so n regions take at most n/42 leaves and the
// height h is at most 2 + log_31(n/84); the tree reaches height 2 past 170
// regions, 3 past 21,590 (127 full leaves), 4 past 2.7 million. A leaf
// split at the last (first) entry, as in regions added in address order,
// leaves the other side with all but a quarter, so such maps fill their
// leaves to three quarters: a million regions make 7,833 nodes (31 MiB),
// height 3. The map also keeps the root's own summary (first Start, last
// End, largest gap), its height, its region count and its node count; a
// RegionMap is 112 bytes. The map holds its root, a leaf when it is
// small, and its working state's frame from Create to Destroy, even when
// empty: two frames at the least. A RegionMap must not be copied once
// created: the copies would share the nodes.
//
// Merging. Insert merges the new region with a neighbour it touches (one
// ending exactly where it starts, or starting exactly where it ends) whose
// Prot, Inherit and Flags are all identical, as Mach's vm_map_enter and
// Linux's vma_merge do. Identical attributes make the merge invisible to
// the VM: every page keeps its protection, inheritance and flags. It keeps
// the maps of the Go runtime, which grows its heap by mapping chunks next
// to each other, short. So the map is canonical: no two touching regions
// have identical attributes, and the regions are a pure function of which
// pages are in the map with which attributes (the tree's shape is not: it
// depends on history). The price is that removing a range that was
// inserted on its own can split a merged region, which adds an entry and
// so can need frames (Linux's munmap has the same ENOMEM). RemoveRange
// never merges: removal cannot make two regions touch.
//
// Frames, and all or nothing. Only adding an entry takes frames: an Insert
// that merges with neither neighbour, a RemoveRange that splits a region,
// a Protect that splits the regions its range cuts. An entry splits every
// full node on the way from the leaf up, one new frame each, plus a new
// root when the root is full: at most height+1 frames, and for Protect's
// two splits at most 2*height+3 (the second bounded before the first, see
// protectSplits). The operation counts them first and takes them all before it
// changes anything (a node at a time from the allocator, never below keep
// free frames, see SetKeep); if one cannot be had it gives back what it
// took and fails with ENOMEM, the map untouched. Merging with a neighbour,
// trimming and removing never take a frame, and give frames back as nodes
// empty or merge. NodesNeeded tells how many frames a change of a range
// can take; Prepare takes them ahead, for a caller that must not fail
// halfway through work of its own.
//
// Removal. RemoveRange cuts the range out along its two edges, leaving the
// removed entries parked intact in their frames (regionremove.go), calls
// visit on the removed pieces while the map already reads as it will in
// the end, frees the removed subtrees, then merges or evens out the short
// nodes left on the two edges. Insert joining two regions and Protect
// merging pieces remove entries the same way. Destroy frees every node
// without reading a leaf.
//
// Cost, for n regions, height h = O(log n), node capacity B (170/127):
//
//	Find, Overlaps, Next      O(h): per level at most 26 keys read, in two rounds
//	                          of independent loads (firstAbove)
//	Insert                    O(h) and a memmove in the leaf: two lookups (one
//	                          past the last region), the summaries up the path
//	                          by touched, O(1) a level, O(B) at a level where
//	                          the change closed the node's largest gap; O(h B)
//	                          when nodes split
//	RemoveRange               within one leaf that stays full enough, as Insert;
//	                          otherwise O(h B + k) for k regions removed (k/42
//	                          nodes freed)
//	Protect                   O(h B) for each region in the range
//	FindFree                  O(1) when no gap between regions fits (the root's
//	                          summary says so) or lo is past every region;
//	                          O(h B) when align is a page, or more generally
//	                          when every gap of at least size below the answer
//	                          holds an aligned fit (plus one descent that finds
//	                          the big gap below lo); each gap of size or more
//	                          that does not (alignment) costs at most one more
//	                          descent, O(h B), so O(n) at worst
//	Destroy                   O(nodes) = O(n / 42), leaves not read
//	Clone                     O(nodes), one memmove a node
//	At(i)                     O(h + i/42)
//	Len                       O(1)
//
// A summary's largest gap is kept exact by touched, which rescans a node
// only when a change closed or shrank what may have been its largest gap;
// the root's own (m.top) is then left as a bound (topStale) until FindFree
// needs it.
//
// Measured: README, "Region map" (BenchmarkRegionMapVM, this map against
// the sorted array it replaced, through the VM, at 10 to 1,000,000
// regions) and regions_bench_test.go (the map alone). The tree pays for
// its levels and its summaries on small maps; the array pays for its
// memmoves and its first-fit scan from a few thousand regions on, and
// cannot hold more than 174,762 regions (one 4 MiB block).
type RegionMap struct {
	frames *FrameAllocator // where the nodes come from and go back to

	root   PhysAddr // the root node (0: not created)
	height int      // levels; 1 when the root is a leaf
	n      int      // regions
	nodes  int      // node frames held, spares not included
	top    branch   // the root's summary: what a parent would record of it
	// topStale says top.gap may be more than the largest gap (a bound,
	// left so by a change that closed the largest one: finding the next
	// largest means scanning the root, which FindFree does when it needs
	// the figure, and refreshTop).
	topStale bool
	keep     uint64 // free frames node allocation must leave (SetKeep)

	// leafMax and branchMax are how many entries a node may hold: the
	// frame's capacity, or less in tests that want deep trees of few
	// regions. Create sets them when zero.
	leafMax, branchMax int

	// work is the frame holding the changes' working state (regionWork),
	// taken by Create.
	work PhysAddr

	// hint is the region Find found last (End 0: none), which it looks
	// at before the tree: page faults come in runs within one region (a
	// task writing a buffer, the Go heap growing), and each would descend
	// the whole tree for it. Every change of the map clears it, so Find,
	// like every change, needs the map to itself (the space's lock).
	hint Region
}

// Region is [Start, End) of an address space with its attributes. Start and
// End are page aligned and Start < End, so no region can hold the last page
// of the 64-bit space (its End would wrap to 0).
type Region struct {
	Start, End uintptr
	Prot       Prot
	Inherit    Inherit
	Flags      uint32 // the VM's own (for example zero-fill, huge-page backed)
}

// Prot is the access a region allows: a set of the Prot bits.
type Prot uint8

const (
	ProtRead Prot = 1 << iota
	ProtWrite
	ProtExec
)

// Inherit says what a forked child gets of a region.
type Inherit uint8

const (
	// InheritCopy: the child gets a copy-on-write copy. vm.h's default,
	// hence the zero value.
	InheritCopy Inherit = iota
	// InheritShare: parent and child share the pages.
	InheritShare
	// InheritNone: the child gets nothing there.
	InheritNone
)

// regionPage is the virtual page size regions are aligned to.
const regionPage = 4096

// sameAttrs reports whether a and b may merge.
//
//go:nosplit
func sameAttrs(a, b *Region) bool {
	return a.Prot == b.Prot && a.Inherit == b.Inherit && a.Flags == b.Flags
}

// ---- Life cycle. ----

// Init makes m an empty map whose nodes live in frames from the given
// allocator, and takes its first two frames (see Create): ENOMEM if they
// cannot be had. It
// returns EINVAL if frames is nil or m already holds a tree (Init again
// only after Destroy; a zero RegionMap needs no Destroy). The allocator
// must outlive the map.
func (m *RegionMap) Init(frames *FrameAllocator) error {
	if frames == nil || m.root != 0 {
		return EINVAL
	}
	m.Bind(frames)
	return m.Create()
}

// Bind ties m to the allocator its nodes come from, without allocating.
// It is the only method that stores a Go pointer: the kernel binds its maps
// once in ordinary code, then Creates and Destroys them in handler
// context. Binding to the allocator m already has stores nothing.
func (m *RegionMap) Bind(frames *FrameAllocator) {
	if m.frames != frames {
		m.frames = frames
	}
}

// SetKeep makes node allocation fail with ENOMEM rather than leave fewer
// than n frames free in the allocator: the VM keeps a reserve for the Go
// runtime's heap that a task's map must not take. 0 (the zero value) keeps
// nothing back. Handler context.
//
//go:nosplit
func (m *RegionMap) SetKeep(n uint64) { m.keep = n }

// Create gives a bound, empty map its root and the frame of its working
// state (two frames): ENOMEM if they cannot be had above keep, EINVAL if m
// is unbound or holds a tree. Handler context.
//
//go:nosplit
func (m *RegionMap) Create() error {
	if m.frames == nil || m.root != 0 {
		return EINVAL
	}
	if m.leafMax <= 0 || m.leafMax > leafCap {
		m.leafMax = leafCap
	}
	if m.branchMax <= 0 || m.branchMax > branchCap {
		m.branchMax = branchCap
	}
	// Two frames: the working state's, then (through it) the root's.
	if m.frames.FreeFrames() < m.keep+2 {
		return ENOMEM
	}
	pa, err := m.frames.Alloc(0)
	if err != nil {
		return ENOMEM
	}
	m.work = pa
	*m.w() = regionWork{}
	if err := m.takeSpares(1); err != nil {
		_ = m.frames.Free(pa, 0) // ours and live: cannot fail
		m.work = 0
		return err
	}
	v := m.newNode(0)
	m.root, m.height, m.n = m.pa(v), 1, 0
	m.top, m.topStale, m.hint = branch{child: m.root}, false, Region{}
	return nil
}

// Destroy gives every node back to the allocator in one pass over the
// internal nodes (leaves are freed from their parents' entries, unread),
// and any frames taken ahead and the working state's, and leaves m empty
// and uncreated but still
// bound (Create or Init may follow). It does nothing to a zero or
// destroyed map. The allocator pointer is left in place rather than
// cleared: clearing it would be a pointer store, with a write barrier.
//
//go:nosplit
func (m *RegionMap) Destroy() {
	if m.root != 0 {
		m.freeTree(false)
	}
	if m.work != 0 {
		m.drain(&m.w().spare)
		_ = m.frames.Free(m.work, 0) // ours and live: cannot fail
	}
	m.root, m.work, m.height, m.n, m.nodes, m.top, m.topStale = 0, 0, 0, 0, 0, branch{}, false
	m.hint = Region{}
}

// freeTree frees every node of the tree in one pass over its internal
// nodes (leaves are freed from their parents' entries, unread), the root
// too unless keepRoot. The map's counts are the caller's to reset.
//
//go:nosplit
func (m *RegionMap) freeTree(keepRoot bool) {
	root := m.va(m.root)
	m.walkFrom(root, m.height-1)
	for {
		v, l, ok := m.postorder(1)
		if !ok {
			return
		}
		for i := 0; l == 1 && i < count(v, 1); i++ {
			m.freeNode(m.va(branchEntry(v, i).child))
		}
		if v != root || !keepRoot {
			m.freeNode(v)
		}
	}
}

// Clone makes dst, a created and empty map, a copy of m: the same regions
// with the same attributes, in a tree of the same shape, node for node, in
// frames from dst's allocator (dst's root frame holds the copy of m's
// root). It returns EINVAL if dst is not created or not empty (m itself
// included, unless empty), and ENOMEM if a node cannot be had above dst's
// keep: dst is then left empty, every frame it took given back. O(nodes):
// each node is copied once with one memmove, no region is looked at, so
// it is the quick way to copy a big map. Handler context.
//
//go:nosplit
func (m *RegionMap) Clone(dst *RegionMap) error {
	if dst.root == 0 || dst.n != 0 {
		return EINVAL
	}
	dst.hint = Region{}
	if m.n == 0 {
		return nil // an empty map (or a zero one) copies as dst is
	}
	// dst is empty, so its root is an empty leaf (a removal that empties
	// the map collapses it to one). Walk m's tree in preorder (pathL:
	// m's nodes and the entry to copy next; pathR: their copies), copying
	// each child into a frame of its own and linking the copy into its
	// parent's copy.
	w := dst.w()
	src, to := &w.pathL, &w.pathR
	top := m.height - 1
	root := dst.va(dst.root)
	copyNode(root, m.va(m.root), top)
	dst.leafMax, dst.branchMax, dst.height = m.leafMax, m.branchMax, m.height
	src.node[top&levelMask], src.idx[top&levelMask], to.node[top&levelMask] = m.va(m.root), 0, root
	for l := top; l > 0 && l <= top; {
		x, i := src.node[l&levelMask], int(src.idx[l&levelMask])
		if i >= count(x, l) {
			l++
			continue
		}
		pa, ok := dst.takeFrame()
		if !ok {
			dst.unclone(l)
			return ENOMEM
		}
		child, c := m.va(branchEntry(x, i).child), dst.va(pa)
		copyNode(c, child, l-1)
		branchEntry(to.node[l&levelMask], i).child = pa
		dst.nodes++
		src.idx[l&levelMask] = int32(i + 1)
		if l > 1 {
			l--
			src.node[l&levelMask], src.idx[l&levelMask], to.node[l&levelMask] = child, 0, c
		}
	}
	dst.n, dst.top, dst.topStale = m.n, m.top, m.topStale
	dst.top.child = dst.root
	return nil
}

// unclone undoes a Clone that ran out of frames while it copied the
// children of the node at level l of its way down: each copy on the way
// keeps the entries that point at copies already (their subtrees are
// whole), the tree of copies is freed but for its root, and the root
// becomes an empty leaf again.
//
//go:nosplit
func (m *RegionMap) unclone(l int) {
	w := m.w()
	for k := l; k < m.height; k++ {
		nodeAt(w.pathR.node[k&levelMask]).n = uint32(w.pathL.idx[k&levelMask])
	}
	m.freeTree(true)
	*nodeAt(m.va(m.root)) = nodeHeader{}
	m.height, m.n, m.nodes, m.top, m.topStale = 1, 0, 1, branch{child: m.root}, false
}

// copyNode copies the node at src, at the given level, to the frame at
// dst: its header and its entries (what lies past them is never read).
//
//go:nosplit
func copyNode(dst, src uintptr, level int) {
	n := nodeHeaderSize + uintptr(count(src, level))*entrySize(level)
	n &= FrameSize*2 - 1 // at most a frame (count is clamped): no bounds check
	copy((*[2 * FrameSize]byte)(ptrAt(dst))[:n:n], (*[2 * FrameSize]byte)(ptrAt(src))[:n:n])
}

// NodesNeeded returns the most frames an Insert of a region [start, end)
// (whatever its attributes) or a RemoveRange(start, end) can take from
// the allocator now: for a free range, what inserting an entry there
// takes (none if the region merges with a neighbour, which this does not
// look at); for a range strictly inside one region, what splitting it
// takes; 0 otherwise (a RemoveRange that trims or removes, an Insert that
// fails). start and end are taken as given (page aligned, start < end).
//
//go:nosplit
func (m *RegionMap) NodesNeeded(start, end uintptr) int {
	if m.root == 0 || start >= end {
		return 0
	}
	v, i, ok := m.descend(&m.w().seek, start, false)
	if ok {
		if r := leafEntry(v, i); r.Start < end {
			if r.Start < start && r.End > end {
				return m.splitsNeeded(&m.w().seek, nil)
			}
			return 0
		}
	} else if _, _, ok := m.descend(&m.w().seek, ^uintptr(0), true); !ok {
		m.w().seek.node[0] = m.va(m.root) // empty: the root leaf
	}
	return m.splitsNeeded(&m.w().seek, nil)
}

// Prepare takes from the allocator, ahead of time, every frame the next
// Insert or RemoveRange could need (the tree's height plus one), so that
// it cannot fail with ENOMEM; that call (or a Protect) gives back what it
// did not use. Destroy gives them back too. ENOMEM (nothing taken) if they cannot all
// be had above keep; EINVAL if m is not created. Handler context.
//
//go:nosplit
func (m *RegionMap) Prepare() error {
	if m.root == 0 {
		return EINVAL
	}
	return m.takeSpares(min(m.height+1, len(m.w().spare.pa)))
}

// ---- Lookup. ----

// Len returns the number of regions.
//
//go:nosplit
func (m *RegionMap) Len() int { return m.n }

// At returns the i-th region in address order for 0 <= i < Len, and the
// zero Region otherwise (the sorted array this tree replaced panicked
// there, as a slice index does; handler code has no panics). It descends
// to the first leaf and moves along the leaves: O(h + i/42). Next is the
// way to walk the map.
//
//go:nosplit
func (m *RegionMap) At(i int) Region {
	if i < 0 || i >= m.n {
		return Region{}
	}
	p := &m.w().seek
	v, _, ok := m.descend(p, 0, false) // the first leaf
	for ok {
		if n := count(v, 0); i >= n {
			i -= n
			v, ok = m.nextLeaf(p)
			continue
		}
		return *leafEntry(v, i)
	}
	return Region{}
}

// nextLeaf moves p from its leaf to the next leaf in address order and
// returns it (false past the last one).
//
//go:nosplit
func (m *RegionMap) nextLeaf(p *treePath) (uintptr, bool) {
	l := 1
	for ; l < m.height; l++ {
		if i := int(p.idx[l&levelMask]) + 1; i < count(p.node[l&levelMask], l) {
			p.idx[l&levelMask] = int32(i)
			break
		}
	}
	if l >= m.height {
		return 0, false
	}
	for ; l > 0; l-- {
		v := m.va(branchEntry(p.node[l&levelMask], int(p.idx[l&levelMask])).child)
		p.node[(l-1)&levelMask], p.idx[(l-1)&levelMask] = v, 0
	}
	return p.node[0], true
}

// Find returns the region containing va.
//
//go:nosplit
func (m *RegionMap) Find(va uintptr) (Region, bool) {
	if h := &m.hint; h.Start <= va && va < h.End {
		return *h, true
	}
	if v, i, ok := m.descend(nil, va, false); ok {
		if r := leafEntry(v, i); r.Start <= va {
			m.hint = *r
			return *r, true
		}
	}
	return Region{}, false
}

// Next returns the first region ending above va: the one containing va,
// or else the first one after it. Next(0), then Next(r.End) of each region
// returned, visits every region in address order, O(log n) a step.
//
//go:nosplit
func (m *RegionMap) Next(va uintptr) (Region, bool) {
	if v, i, ok := m.descend(nil, va, false); ok {
		return *leafEntry(v, i), true
	}
	return Region{}, false
}

// Overlaps reports whether any region shares a byte with [start, end).
// An empty or reversed range overlaps nothing.
//
//go:nosplit
func (m *RegionMap) Overlaps(start, end uintptr) bool {
	if start >= end {
		return false
	}
	v, i, ok := m.descend(nil, start, false)
	return ok && leafEntry(v, i).Start < end
}

// FindFree returns the lowest start s with s >= lo, s+size <= hi and s a
// multiple of align such that [s, s+size) overlaps no region: first fit
// (see Cost on RegionMap for the bound). An align below the page size (0
// included) means the page size; size must be a non-zero multiple of the
// page size and align a power of two, or it is EINVAL. lo and hi need not
// be aligned. ENOSPC if no such s exists (including when lo >= hi, or when
// rounding up would pass the top of the address space).
//
//go:nosplit
func (m *RegionMap) FindFree(size, align, lo, hi uintptr) (uintptr, error) {
	if size == 0 || size%regionPage != 0 || align&(align-1) != 0 {
		return 0, EINVAL
	}
	if align < regionPage {
		align = regionPage
	}
	above := lo // where the space above every region starts
	if m.n > 0 {
		// Below the first region and between regions (unless lo is past
		// them all): the walk, unless the root's summary says no gap
		// between regions is big enough (a bound until refreshed).
		if m.topStale && lo < m.top.end && m.top.gap >= size {
			m.refreshTop()
		}
		switch {
		case lo >= m.top.end:
		case m.top.gap >= size:
			if s, ok := m.searchGaps(size, align, lo, hi); ok {
				return s, nil
			}
		default:
			if s, ok := fitGap(lo, m.top.start, size, align, hi); ok {
				return s, nil
			}
		}
		above = max(lo, m.top.end)
	}
	if s, ok := fitGap(above, ^uintptr(0), size, align, hi); ok {
		return s, nil
	}
	return 0, ENOSPC
}

// alignUpVA rounds x up to a multiple of the power of two a; false if that
// passes the top of the address space.
//
//go:nosplit
func alignUpVA(x, a uintptr) (uintptr, bool) {
	if x > ^uintptr(0)-(a-1) {
		return 0, false
	}
	return (x + a - 1) &^ (a - 1), true
}

// ---- Changes. ----

// Insert adds r to the map, merged with any touching neighbour of
// identical attributes (see Merging on RegionMap). It returns EINVAL if r's
// bounds are not page aligned or r is empty (Start >= End) or the map is
// not created, EEXIST if r overlaps a region (touching is fine), and
// ENOMEM if r needs a new entry and the nodes that takes (see Frames on
// RegionMap) cannot be had. On error nothing changes. The attributes are
// the VM's: Insert stores them as they are and only compares them. Frames
// taken by Prepare go back at the end, used or not.
//
//go:nosplit
func (m *RegionMap) Insert(r Region) error {
	m.hint = Region{}
	// The steps run one after the other, not nested: the linker bounds
	// the stack of nosplit chains.
	change, err := m.placeInsert(&r)
	switch change {
	case changeAdd:
		p := &m.w().pathL
		if err = m.takeSpares(m.splitsNeeded(p, nil)); err == nil {
			m.inserted(p, m.insertAt(p, &r))
			m.n++
		}
	case changeJoin:
		// r fills the gap between two: they become one. The right one
		// goes (a removal, which needs no frame; m.w().pathL is on it),
		// then the left one stretches over both.
		if !m.removeInLeaf(r.End, m.w().joinEnd) {
			m.removeRange(r.End, m.w().joinEnd, nil)
		}
		m.stretch(r.Start-1, m.w().joinEnd)
	}
	m.dropSpares()
	return err
}

// What Insert and RemoveRange still have to do after their lookups.
const (
	changeDone = iota // nothing, or done already
	changeAdd         // add an entry at m.w().pathL (Insert: r; RemoveRange: the rest of a split region)
	changeJoin        // Insert: join the regions on both sides of r
	changeCut         // RemoveRange: cut the range out
)

// placeInsert checks r and finds where it goes: what overlaps it and the
// neighbours it may merge with. A merge with one neighbour it makes itself.
//
//go:nosplit
func (m *RegionMap) placeInsert(r *Region) (int, error) {
	if r.Start%regionPage != 0 || r.End%regionPage != 0 || r.Start >= r.End || m.root == 0 {
		return changeDone, EINVAL
	}
	w := m.w()
	// The first region ending above r.Start: in the way, the right
	// neighbour, or further up.
	v, i, ok := m.descend(&w.pathL, r.Start, false)
	if ok && leafEntry(v, i).Start < r.End {
		return changeDone, EEXIST
	}
	right := ok && leafEntry(v, i).Start == r.End && sameAttrs(leafEntry(v, i), r)

	// The region before it: in the same leaf (w.pathL), or found on
	// w.pathR; past every region, the last one, on w.pathL (where r
	// then goes after it).
	lp := &w.pathL
	lv, li, hasLeft := v, i-1, ok && i > 0
	if !ok {
		lv, li, hasLeft = m.descendLast(lp)
	} else if !hasLeft && r.Start > 0 {
		lp = &w.pathR
		lv, li, hasLeft = m.descend(lp, r.Start-1, true)
	}
	left := hasLeft && leafEntry(lv, li).End == r.Start && sameAttrs(leafEntry(lv, li), r)

	switch {
	case left && right:
		w.joinEnd = leafEntry(v, i).End
		return changeJoin, nil
	case left:
		lost := gapAfter(lv, li) // the gap r went into, if its right side is in this leaf
		leafEntry(lv, li).End = r.End
		m.touched(lp, lost, 0)
	case right:
		lost := gapAfter(v, i-1)
		leafEntry(v, i).Start = r.Start
		m.touched(&w.pathL, lost, 0)
	default:
		if !ok {
			// Past the last region (or into the empty root).
			if hasLeft {
				w.pathL.idx[0] = int32(li + 1)
			} else {
				w.pathL.node[0], w.pathL.idx[0] = m.va(m.root), 0
			}
		}
		return changeAdd, nil
	}
	return changeDone, nil
}

// Protect gives every region piece in [start, end) the protection prot.
// A region that start or end cuts and whose protection changes is split
// first, which takes up to two more entries: the nodes they can need (see
// Frames on RegionMap) are taken before anything changes (ENOMEM, and
// nothing changed, when they cannot be had). Pieces that then touch a
// neighbour of identical attributes merge with it, so the map stays
// canonical. Gaps are left alone. start and end must be page aligned with
// start <= end, or it is EINVAL. O(log n) for each region in the range.
//
//go:nosplit
func (m *RegionMap) Protect(start, end uintptr, prot Prot) error {
	m.hint = Region{}
	err := m.protectSplits(start, end, prot)
	for _, at := range [2]uintptr{start, end} {
		if err == nil && start < end && m.placeSplit(at, prot) {
			// The two pieces cover what the region did: no summary
			// changes unless nodes split.
			if l := m.insertAt(&m.w().pathL, &m.w().pieceR); l > 0 {
				m.propagate(&m.w().pathL, l)
			}
			m.n++
		}
	}
	if err == nil && start < end {
		m.setProt(start, end, prot)
		// Merge runs of identical touching regions, from the region
		// before start to the one starting at end: each run's first
		// region stretches over the rest, which goes (no frame needed).
		from := start
		if start > 0 {
			from = start - 1
		}
		for {
			rest, runEnd, ok := m.nextRun(from, end)
			if !ok {
				break
			}
			m.removeRange(rest, runEnd, nil)
			m.stretch(rest-1, runEnd)
			from = runEnd
		}
	}
	m.dropSpares()
	return err
}

// protectSplits checks Protect's range and takes the nodes its splits can
// need: a split where a region is cut at start, and one at end, each only
// if the region's protection changes. The second split's count is bounded
// from before the first: a node both ways pass counts as full one entry
// short of it (the first split may give it one).
//
//go:nosplit
func (m *RegionMap) protectSplits(start, end uintptr, prot Prot) error {
	if start%regionPage != 0 || end%regionPage != 0 || start > end || m.root == 0 {
		return EINVAL
	}
	if start == end {
		return nil
	}
	atStart := m.cutsRegion(&m.w().pathL, start, prot)
	atEnd := m.cutsRegion(&m.w().pathR, end, prot)
	need := 0
	switch {
	case atStart && atEnd:
		need = m.splitsNeeded(&m.w().pathL, nil) + m.splitsNeeded(&m.w().pathR, &m.w().pathL)
	case atStart:
		need = m.splitsNeeded(&m.w().pathL, nil)
	case atEnd:
		need = m.splitsNeeded(&m.w().pathR, nil)
	}
	return m.takeSpares(need)
}

// cutsRegion reports whether a lies strictly inside a region whose
// protection is not prot, leaving p on that region.
//
//go:nosplit
func (m *RegionMap) cutsRegion(p *treePath, a uintptr, prot Prot) bool {
	v, i, ok := m.descend(p, a, false)
	return ok && leafEntry(v, i).Start < a && leafEntry(v, i).Prot != prot
}

// placeSplit prepares the split of the region a lies strictly inside, if
// its protection is not prot: it cuts the region back to end at a and
// leaves the rest, to go in at m.w().pathL, in m.w().pieceR.
//
//go:nosplit
func (m *RegionMap) placeSplit(a uintptr, prot Prot) bool {
	if !m.cutsRegion(&m.w().pathL, a, prot) {
		return false
	}
	m.cutRegion(a, a)
	return true
}

// cutRegion cuts the region at the end of m.w().pathL back to end at end and
// leaves in m.w().pieceR the part from start on (start >= end), to be inserted
// after it at m.w().pathL.
//
//go:nosplit
func (m *RegionMap) cutRegion(end, start uintptr) {
	w := m.w()
	v, i := w.pathL.node[0], int(w.pathL.idx[0])
	e := leafEntry(v, i)
	w.pieceR = *e
	w.pieceR.Start = start
	e.End = end
	w.pathL.idx[0] = int32(i + 1)
}

// setProt gives every region starting in [start, end) the protection prot
// (the regions at either end already end there: Protect split them).
// Protection is in no summary: only the leaves change.
//
//go:nosplit
func (m *RegionMap) setProt(start, end uintptr, prot Prot) {
	for a := start; a < end; {
		v, i, ok := m.descend(nil, a, false)
		if !ok {
			return
		}
		for n := count(v, 0); i < n; i++ {
			e := leafEntry(v, i)
			if e.Start >= end {
				return
			}
			e.Prot, a = prot, e.End
		}
	}
}

// nextRun finds the first two touching regions of identical attributes
// from the region holding or following from, the first of them starting
// at or below limit, and how far their run goes: it returns where the
// rest of the run starts (the first region's End) and the run's End.
//
//go:nosplit
func (m *RegionMap) nextRun(from, limit uintptr) (uintptr, uintptr, bool) {
	r, ok := m.Next(from)
	for ok && r.Start <= limit {
		n, more := m.Next(r.End)
		if !more {
			break
		}
		if n.Start == r.End && sameAttrs(&r, &n) {
			end := n.End
			for {
				x, more := m.Next(end)
				if !more || x.Start != end || !sameAttrs(&r, &x) {
					return r.End, end, true
				}
				end = x.End
			}
		}
		r = n
	}
	return 0, 0, false
}

// stretch makes the region holding a end at end (the space up to end
// free), as merging asks.
//
//go:nosplit
func (m *RegionMap) stretch(a, end uintptr) {
	w := m.w()
	v, i, _ := m.descend(&w.pathL, a, true)
	lost := gapAfter(v, i)
	leafEntry(v, i).End = end
	m.touched(&w.pathL, lost, 0)
}

// RemoveRange removes [start, end) from the map: regions wholly inside go,
// regions partly inside are trimmed, and a region covering the range with
// room on both sides is split in two, which needs one more entry: ENOMEM
// then if the nodes that takes (see Frames on RegionMap) cannot be had.
// Gaps are ignored; a range with no region in it changes nothing. start
// and end must be page aligned with start <= end, or it is EINVAL;
// start == end removes nothing. On error nothing changes and visit is not
// called. Frames taken by Prepare go back at the end, used or not.
//
// visit, if not nil, is called once for every removed piece (the part of a
// region inside the range, with the region's attributes), in address
// order, after the map has changed: when it runs, the range is already
// gone, so a fault there while the VM unmaps pages and frees frames in
// visit finds no region and cannot map a page back in. visit may read the
// map (Find, Next, Overlaps, FindFree, Len, NodesNeeded) but must not
// change it (the removed entries it is shown are parked in the nodes' free
// slots until it returns). Nodes left short by the removal are merged or
// evened out after the last visit.
//
//go:nosplit
func (m *RegionMap) RemoveRange(start, end uintptr, visit func(Region)) error {
	m.hint = Region{}
	change, err := m.placeRemove(start, end)
	switch change {
	case changeAdd:
		// A split: the region was cut back to end at start; the rest
		// goes in after it, with the gap [start, end) between them.
		if l := m.insertAt(&m.w().pathL, &m.w().pieceR); l > 0 {
			m.propagate(&m.w().pathL, l)
		} else {
			m.touched(&m.w().pathL, 0, end-start)
		}
		m.n++
		if visit != nil {
			visit(m.w().pieceL)
		}
	case changeCut:
		if visit != nil || !m.removeInLeaf(start, end) {
			m.removeRange(start, end, visit)
		}
	}
	m.dropSpares()
	m.hint = Region{} // (visit may have read the map)
	return err
}

// removeInLeaf is the short way of removing [start, end) (which splits no
// region) when it can be taken: every region the range touches lies in
// the leaf at the end of m.w().pathL, which starts with the first of them,
// and the leaf keeps enough entries (or is the root). Then the regions
// inside go with one memmove, those across an edge are trimmed, and the
// summaries are brought up to date: no cut, release or rebalance. It
// reports whether it did so; otherwise nothing changed. (With a visit the
// removed regions must stay readable until it has seen them: removeRange.)
//
//go:nosplit
func (m *RegionMap) removeInLeaf(start, end uintptr) bool {
	p := &m.w().pathL
	v, i := p.node[0], int(p.idx[0])
	n := count(v, 0)
	if i < 0 || i >= n || leafEntry(v, n-1).End < end {
		return false // the range may go on into the next leaf
	}
	a := i // the first region removed whole
	if leafEntry(v, i).Start < start {
		a++
	}
	b := a // one past the last region removed whole
	for b < n && leafEntry(v, b).End <= end {
		b++
	}
	if m.height > 1 && n-(b-a) < m.minAt(0) {
		return false // the leaf would be short: the rebalance's work
	}
	// With regions kept on both sides the gaps between them become one,
	// wider than each (gained, below); at an end of the leaf they close
	// (lost: the widest of them).
	var lost uintptr
	if a == 0 || b == n {
		for k := max(a-1, 0); k < b && k+1 < n; k++ {
			lost = max(lost, gapAfter(v, k))
		}
	}
	if a > i {
		leafEntry(v, i).End = start
	}
	if b < n && leafEntry(v, b).Start < end {
		leafEntry(v, b).Start = end
	}
	moveEntries(entryAddr(v, 0, a), entryAddr(v, 0, b), 0, n-b)
	nodeAt(v).n = uint32(n - (b - a))
	m.n -= b - a
	m.touched(p, lost, gapAfter(v, a-1))
	return true
}

// placeRemove checks the range and finds what it removes. A split it
// prepares: it takes the nodes the new entry needs (or fails, changing
// nothing), cuts the region back to end at start, and leaves the removed
// piece in m.w().pieceL and the rest, to go in at m.w().pathL, in m.w().pieceR.
//
//go:nosplit
func (m *RegionMap) placeRemove(start, end uintptr) (int, error) {
	if start%regionPage != 0 || end%regionPage != 0 || start > end {
		return changeDone, EINVAL
	}
	if start == end || m.root == 0 {
		return changeDone, nil
	}
	v, i, ok := m.descend(&m.w().pathL, start, false)
	if !ok || leafEntry(v, i).Start >= end {
		return changeDone, nil
	}
	e := leafEntry(v, i)
	if e.Start >= start || e.End <= end {
		return changeCut, nil
	}
	if err := m.takeSpares(m.splitsNeeded(&m.w().pathL, nil)); err != nil {
		return changeDone, err
	}
	m.w().pieceL = *e
	m.w().pieceL.Start, m.w().pieceL.End = start, end
	m.cutRegion(start, end)
	return changeAdd, nil
}
