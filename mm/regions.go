// Context: every method of RegionMap except Init and Bind runs in handler
// context: the page-fault handler reads the map (Find) and the system-call
// handlers serving hurd_vm_allocate, hurd_vm_deallocate, mmap and munmap
// change it, and task creation and exit (Create, Clone, Destroy) may run
// there too (docs/DESIGN.md, "Handler context"). Init and Bind run in ordinary kernel
// context (boot, setting up the table of address spaces) because they store
// the map's one Go pointer.

package mm

import "unsafe"

// The region map of an address space
//
// A RegionMap is the sorted set of non-overlapping regions of one address
// space: which virtual pages are allocated, and with which protection,
// inheritance and VM flags. The fault handler asks it which region holds a
// faulting address; hurd_vm_allocate asks it for free space and inserts;
// hurd_vm_deallocate removes ranges, trimming and splitting regions.
//
// Handler context. The methods allocate nothing on the Go heap, take no Go
// lock, use no map, fmt or defer, and store no Go pointer (Init and Bind
// excepted, see above): the state is plain integers and the entries live in
// frames taken from the FrameAllocator, reached through its physmap, never
// in demand-paged memory, so a fault handler reading them cannot fault.
// Errors are the Errno constants, so returning one allocates nothing.
//
// Single-threaded by contract. The map has no lock: the kernel serializes
// every caller of one map (and of the frame allocator under it), as it does
// for the allocator. Readers included: a Find concurrent with an Insert may
// see entries half moved.
//
// Storage. The entries are one sorted array of Region values (24 bytes) in
// one power-of-two block of frames: 170 entries in a frame, 174762 in the
// largest block (order MaxOrder, 4 MiB), beyond which Insert says ENOMEM.
// Find and every search are binary searches over it; Insert and RemoveRange
// move the entries after the change point with a memmove or two. An array
// beats a tree here: the maps are short (a process has tens to hundreds of
// regions), lookups dominate, and there are no per-entry allocations that
// could fail halfway through an operation. When the array is full, the next
// operation that adds an entry allocates a block twice the size, copies and
// frees the old one; if that block cannot be had the operation fails with
// ENOMEM before changing anything. RemoveRange gives memory back: when a
// removal leaves the array at most a quarter full it moves the entries to
// the smallest block that leaves them half full (the gap between a quarter
// and a half keeps an insert/remove pair at the boundary from moving the
// array every time). A shrink that cannot get its smaller block just keeps
// the big one: it is an optimization, never an error. The map always holds
// at least one frame between Init (or Create) and Destroy. Blocks come from
// Alloc, not AllocZeroed: no slot past Len is ever read before it is
// written. A RegionMap must not be copied once initialized (the copies would
// share one block); Clone is the way to copy one.
//
// Merging. Insert merges the new region with a neighbour it touches (one
// ending exactly where it starts, or starting exactly where it ends) whose
// Prot, Inherit and Flags are all identical, as Mach's vm_map_enter and
// Linux's vma_merge do. Identical attributes make the merge invisible to
// the VM: every page keeps its protection, inheritance and flags. It keeps
// the maps of the Go runtime, which grows its heap by mapping chunks next
// to each other, short. So the map is canonical: no two touching entries
// have identical attributes, and the entries are a pure function of which
// pages are in the map with which attributes. The price is that removing a
// range that was inserted on its own can split a merged entry, so
// deallocating exactly what was allocated can need one more entry and fail
// with ENOMEM when no bigger block can be had (Linux's munmap has the same
// ENOMEM). Undoing an Insert at once never fails, though: an Insert that
// merged on both sides freed the very slot the split takes. RemoveRange
// never merges: removal cannot make two entries touch.
type RegionMap struct {
	frames *FrameAllocator // where the blocks come from and go back to

	base  uintptr  // virtual address of the block (0: no block)
	pa    PhysAddr // its physical address, for Free
	order int      // the block holds 2^order frames
	n     int      // entries in use
	cap   int      // entries the block holds
	keep  uint64   // free frames the map leaves to others (SetKeep)
}

// SetKeep makes the map leave at least n frames free: a block that would
// take the allocator below n is refused (ENOMEM), as if there were none.
//
//go:nosplit
func (m *RegionMap) SetKeep(n uint64) { m.keep = n }

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

// regionSize is the size of one entry in the block.
const regionSize = unsafe.Sizeof(Region{})

// sameAttrs reports whether a and b may merge.
//
//go:nosplit
func sameAttrs(a, b *Region) bool {
	return a.Prot == b.Prot && a.Inherit == b.Inherit && a.Flags == b.Flags
}

// ---- Memory access: the only code that turns the block into Go values. ----

// slots returns the block as a slice of its cap entries (nil with no
// block). The block is in the physmap (on the host, a test arena), never in
// the Go heap. Reading the uintptr's bits as a pointer, rather than
// converting it, keeps vet's unsafeptr check quiet about a conversion it
// cannot see is safe. Every other access goes through this slice, so it is
// bounds checked.
//
//go:nosplit
func (m *RegionMap) slots() []Region {
	addr := m.base
	return unsafe.Slice((*Region)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), m.cap)
}

// blockCap is the number of entries a block of 2^order frames holds.
//
//go:nosplit
func blockCap(order int) int {
	return int(FrameSize << order / regionSize)
}

// ---- Life cycle. ----

// Init makes m an empty map whose entries live in frames from the given
// allocator, and takes its first block (one frame): ENOMEM if there is
// none. It returns EINVAL if frames is nil or m already holds a block (Init
// again only after Destroy; a zero RegionMap needs no Destroy). The
// allocator must outlive the map.
func (m *RegionMap) Init(frames *FrameAllocator) error {
	if frames == nil || m.base != 0 {
		return EINVAL
	}
	m.Bind(frames)
	return m.Create()
}

// Bind ties m to the allocator its blocks come from, without allocating.
// It is the only method that stores a Go pointer: the kernel binds its maps
// once in ordinary code, then Creates and Destroys them in handler
// context. Binding to the allocator m already has stores nothing.
func (m *RegionMap) Bind(frames *FrameAllocator) {
	if m.frames != frames {
		m.frames = frames
	}
}

// Create gives a bound, empty map its first block (one frame): ENOMEM if
// there is none, EINVAL if m is unbound or holds a block. Handler context.
//
//go:nosplit
func (m *RegionMap) Create() error {
	if m.frames == nil || m.base != 0 {
		return EINVAL
	}
	pa, err := m.frames.Alloc(0)
	if err != nil {
		return err
	}
	m.setBlock(pa, 0)
	m.n = 0
	return nil
}

// Destroy gives the map's block back to the allocator and leaves m empty and
// uninitialized but still bound (Create or Init may follow). It does nothing
// to a zero or destroyed map. The allocator pointer is left in place rather
// than cleared: clearing it would be a pointer store, with a write barrier.
//
//go:nosplit
func (m *RegionMap) Destroy() {
	if m.base == 0 {
		return
	}
	// The block is ours and live: Free cannot fail.
	_ = m.frames.Free(m.pa, m.order)
	m.base, m.pa, m.order, m.n, m.cap = 0, 0, 0, 0, 0
}

// setBlock makes the block of 2^order frames at pa the map's.
//
//go:nosplit
func (m *RegionMap) setBlock(pa PhysAddr, order int) {
	m.base = m.frames.physOffset + uintptr(pa)
	m.pa = pa
	m.order = order
	m.cap = blockCap(order)
}

// move puts the entries in a new block of 2^order frames (big enough for
// them) and frees the old one. It changes nothing if the block cannot be
// had.
//
//go:nosplit
func (m *RegionMap) move(order int) error {
	if order > MaxOrder || m.frames.FreeFrames() < m.keep+1<<order {
		return ENOMEM
	}
	pa, err := m.frames.Alloc(order)
	if err != nil {
		return err
	}
	old := m.slots()[:m.n]
	oldPA, oldOrder := m.pa, m.order
	m.setBlock(pa, order)
	copy(m.slots(), old)
	_ = m.frames.Free(oldPA, oldOrder)
	return nil
}

// room makes sure the array has a free slot for one more entry.
//
//go:nosplit
func (m *RegionMap) room() error {
	if m.n < m.cap {
		return nil
	}
	return m.move(m.order + 1)
}

// ---- Lookup. ----

// Len returns the number of regions.
//
//go:nosplit
func (m *RegionMap) Len() int { return m.n }

// At returns the i-th region in address order (0 <= i < Len; it panics
// otherwise, like a slice index).
//
//go:nosplit
func (m *RegionMap) At(i int) Region { return m.slots()[:m.n][i] }

// after returns the index of the first region ending after va (m.n if
// none): the one containing va, or else the first one above it.
//
//go:nosplit
func (m *RegionMap) after(va uintptr) int {
	s := m.slots()[:m.n]
	lo, hi := 0, len(s)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s[mid].End <= va {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Find returns the region containing va, by binary search.
//
//go:nosplit
func (m *RegionMap) Find(va uintptr) (Region, bool) {
	i := m.after(va)
	if i < m.n {
		if r := m.slots()[i]; r.Start <= va {
			return r, true
		}
	}
	return Region{}, false
}

// Next returns the first region ending after va (the one containing va, or
// else the first one above it): Next(0), then Next(r.End), visits every
// region in address order.
//
//go:nosplit
func (m *RegionMap) Next(va uintptr) (Region, bool) {
	if i := m.after(va); i < m.n {
		return m.slots()[i], true
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
	i := m.after(start)
	return i < m.n && m.slots()[i].Start < end
}

// FindFree returns the lowest start s with s >= lo, s+size <= hi and s a
// multiple of align such that [s, s+size) overlaps no region: first fit,
// in O(log n + regions skipped). An align below the page size (0
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
	s, ok := alignUpVA(lo, align)
	if !ok {
		return 0, ENOSPC
	}
	r := m.slots()[:m.n]
	for i := m.after(s); ; i++ {
		if s > hi || hi-s < size {
			return 0, ENOSPC
		}
		// [s, s+size) fits below hi (so s+size does not wrap). Regions
		// before i end at or below s; the first one starting below s+size
		// is in the way: try again past its end.
		if i == len(r) {
			return s, nil
		}
		if r[i].End <= s {
			continue // left behind by rounding the last jump up
		}
		if r[i].Start >= s+size {
			return s, nil
		}
		if s, ok = alignUpVA(r[i].End, align); !ok {
			return 0, ENOSPC
		}
	}
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
// not initialized, EEXIST if r overlaps a region (touching is fine), and
// ENOMEM if the array is full and no bigger block can be had. On error
// nothing changes. The attributes are the VM's: Insert stores them as they
// are and only compares them.
//
//go:nosplit
func (m *RegionMap) Insert(r Region) error {
	if r.Start%regionPage != 0 || r.End%regionPage != 0 || r.Start >= r.End || m.base == 0 {
		return EINVAL
	}
	i := m.after(r.Start)
	s := m.slots()[:m.n]
	if i < len(s) && s[i].Start < r.End {
		return EEXIST
	}
	left := i > 0 && s[i-1].End == r.Start && sameAttrs(&s[i-1], &r)
	right := i < len(s) && s[i].Start == r.End && sameAttrs(&s[i], &r)
	switch {
	case left && right: // r fills the gap between two: they become one
		s[i-1].End = s[i].End
		copy(s[i:], s[i+1:])
		m.n--
	case left:
		s[i-1].End = r.End
	case right:
		s[i].Start = r.Start
	default:
		if err := m.room(); err != nil {
			return err
		}
		s = m.slots()[:m.n+1]
		copy(s[i+1:], s[i:])
		s[i] = r
		m.n++
	}
	return nil
}

// Protect gives every region piece in [start, end) the protection prot.
// Regions cut by start or end are split first, which takes up to two more
// entries (ENOMEM, and nothing changed, when they cannot be had); pieces
// that then touch a neighbour of identical attributes merge with it, so
// the map stays canonical. Gaps are left alone. start and end must be page
// aligned with start <= end, or it is EINVAL.
//
//go:nosplit
func (m *RegionMap) Protect(start, end uintptr, prot Prot) error {
	if start%regionPage != 0 || end%regionPage != 0 || start > end || m.base == 0 {
		return EINVAL
	}
	if start == end {
		return nil
	}
	for m.n+2 > m.cap {
		if err := m.move(m.order + 1); err != nil {
			return err
		}
	}
	m.splitAt(start)
	m.splitAt(end)
	s := m.slots()[:m.n]
	first := m.after(start)
	last := first
	for ; last < len(s) && s[last].Start < end; last++ {
		s[last].Prot = prot
	}
	// Merge from the neighbour before the first piece to the one after
	// the last, compacting in place.
	lo, hi := max(first-1, 0), min(last+1, len(s))
	w := lo
	for r := lo + 1; r < hi; r++ {
		if s[w].End == s[r].Start && sameAttrs(&s[w], &s[r]) {
			s[w].End = s[r].End
			continue
		}
		w++
		s[w] = s[r]
	}
	if gone := hi - (w + 1); gone > 0 {
		copy(s[w+1:], s[hi:])
		m.n -= gone
	}
	return nil
}

// splitAt makes a a region boundary: the region holding a strictly inside
// becomes two with its attributes. There must be room for one entry.
//
//go:nosplit
func (m *RegionMap) splitAt(a uintptr) {
	i := m.after(a)
	if i == m.n || m.slots()[i].Start >= a {
		return
	}
	s := m.slots()[:m.n+1]
	copy(s[i+1:], s[i:])
	s[i].End = a
	s[i+1].Start = a
	m.n++
}

// RemoveRange removes [start, end) from the map: regions wholly inside go,
// regions partly inside are trimmed, and a region covering the range with
// room on both sides is split in two, which needs one more entry: ENOMEM
// then if the array is full and no bigger block can be had. Gaps are
// ignored; a range with no region in it changes nothing. start and end
// must be page aligned with start <= end, or it is EINVAL; start == end
// removes nothing. On error nothing changes and visit is not called.
//
// visit, if not nil, is called once for every removed piece (the part of a
// region inside the range, with the region's attributes), in address
// order, after the map has changed: when it runs, the range is already
// gone, so a fault there while the VM unmaps pages and frees frames in
// visit finds no region and cannot map a page back in. visit may read the
// map but must not change it (the removed entries it is shown are parked
// in the array's free slots until it returns). The map shrinks, if it
// does, after the last visit.
//
//go:nosplit
func (m *RegionMap) RemoveRange(start, end uintptr, visit func(Region)) error {
	if start%regionPage != 0 || end%regionPage != 0 || start > end {
		return EINVAL
	}
	i := m.after(start)
	if start == end || i == m.n || m.slots()[i].Start >= end {
		return nil
	}
	if r := &m.slots()[i]; r.Start < start && r.End > end {
		return m.split(i, start, end, visit)
	}
	// The work is split in three so that the stack frames of cut (with its
	// calls to visit) and of shrink (with the allocator's) never add up:
	// the linker checks the nosplit chains against a fixed bound.
	m.cut(i, start, end, visit)
	m.shrink()
	return nil
}

// split removes [start, end) from the middle of region i, leaving two
// regions: the one case that needs one more entry.
//
//go:nosplit
func (m *RegionMap) split(i int, start, end uintptr, visit func(Region)) error {
	if err := m.room(); err != nil {
		return err
	}
	s := m.slots()[:m.n+1]
	copy(s[i+1:], s[i:])
	s[i].End = start
	s[i+1].Start = end
	m.n++
	if visit != nil {
		piece := s[i]
		piece.Start, piece.End = start, end
		visit(piece)
	}
	return nil
}

// cut removes [start, end) when it splits no region: i is the first region
// ending after start, and it starts below end.
//
//go:nosplit
func (m *RegionMap) cut(i int, start, end uintptr, visit func(Region)) {
	s := m.slots()[:m.n]

	// j: one past the last region starting below end (region i does).
	lo, hi := i+1, len(s)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s[mid].Start < end {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	j := lo

	// Trim the partial regions at either end, remembering where the pieces
	// cut off end (left) and start (right); [a, b) are the regions wholly
	// inside.
	a, b := i, j
	var leftEnd, rightStart uintptr
	var hasLeft, hasRight bool
	if s[i].Start < start {
		leftEnd, hasLeft = s[i].End, true
		s[i].End = start
		a++
	}
	if b > a && s[b-1].End > end {
		rightStart, hasRight = s[b-1].Start, true
		s[b-1].Start = end
		b--
	}

	// Close the hole left by the regions wholly inside, parking them in the
	// array's free slots until visit has seen them: past the old end if
	// there is room there (two memmoves), else right after the regions that
	// stay, by rotating [a, n) left by their number. Either way the
	// right-trimmed region, if any, moves from b to a.
	k := b - a
	var parked []Region
	if k > 0 {
		n := len(s)
		if m.cap-n >= k {
			parked = m.slots()[n : n+k]
			copy(parked, s[a:b])
			copy(s[a:], s[b:])
		} else {
			reverseRegions(s[a:b])
			reverseRegions(s[b:])
			reverseRegions(s[a:])
			parked = s[n-k:]
		}
		m.n -= k
	}

	if visit == nil {
		return
	}
	if hasLeft {
		piece := s[i]
		piece.Start, piece.End = start, leftEnd
		visit(piece)
	}
	for x := range parked {
		visit(parked[x])
	}
	if hasRight {
		piece := s[a]
		piece.Start, piece.End = rightStart, end
		visit(piece)
	}
}

// reverseRegions reverses s in place.
//
//go:nosplit
func reverseRegions(s []Region) {
	for x, y := 0, len(s)-1; x < y; x, y = x+1, y-1 {
		s[x], s[y] = s[y], s[x]
	}
}

// shrink moves the entries to a smaller block when at most a quarter of
// the array is in use (see Storage on RegionMap).
//
//go:nosplit
func (m *RegionMap) shrink() {
	if m.order == 0 || m.n > m.cap/4 {
		return
	}
	k := 0
	for k < m.order && blockCap(k) < 2*m.n {
		k++
	}
	if k < m.order {
		_ = m.move(k) // no smaller block: keep the big one
	}
}

// Clone copies every region of m into dst, an empty initialized map, for
// fork: dst then has the same regions, attributes included. It returns
// EINVAL if dst is not initialized or not empty (m itself included, unless
// empty), and ENOMEM if dst needs a bigger block and none can be had,
// leaving dst empty. Clone takes dst's block from dst's allocator.
//
//go:nosplit
func (m *RegionMap) Clone(dst *RegionMap) error {
	if dst.base == 0 || dst.n != 0 {
		return EINVAL
	}
	if m.n > dst.cap {
		k := dst.order + 1
		for blockCap(k) < m.n {
			k++
		}
		if err := dst.move(k); err != nil {
			return err
		}
	}
	copy(dst.slots(), m.slots()[:m.n])
	dst.n = m.n
	return nil
}
