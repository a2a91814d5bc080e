// Context: handler (the page-fault path, deallocation, fork, the pager's
// eviction under its space's lock): nosplit, no heap, no locks.
//
// Soft entries. A page the pager evicted leaves behind, in its 4 KiB
// page-table entry, a not-present entry that says where its data is: the
// Evicted bit and a value in bits 12..61 (the store's slot, encoded by
// store.Slot.PTE). The CPU ignores every bit of a not-present entry, so a
// soft entry costs no memory. paging does not know what the value means;
// it keeps soft entries through its operations:
//
//   - Unmap, UnmapSplit and Destroy remove them like leaves: release is
//     called with (value, SoftSize), so the caller frees the slot; a soft
//     entry needs no TLB invalidation (the CPU never cached it).
//   - ShareLeaves (fork) copies them into dst unchanged and calls visit
//     with (value, SoftSize), so the caller counts a reference to the slot.
//   - Protect and Change leave them alone: the fault that brings the page
//     back maps it with its region's protection of that time.
//   - Map, MapPage and MapPages refuse them (ErrMapped), as any used entry;
//     Translate and Leaf report them as not mapped.
//
// A soft entry occupies its table, which is therefore not freed while it
// holds one (empty sees a non-zero entry).
package paging

// SoftSize is the size release and visit callbacks see for a soft entry,
// with its value in place of the physical address: no frame is behind it.
// A callback written before soft entries existed loops over zero bytes and
// does nothing.
const SoftSize = 0

// softMask is the value field of a soft entry: bits 12..61.
const softMask Entry = 0x3fff_ffff_ffff_f000

// SoftMask is softMask for callers that build values (the store's
// PTESlotMask must lie within it).
const SoftMask = uint64(softMask)

// Soft returns the soft entry holding v (bits 12..61 of v; the others are
// dropped). v must not be 0 in those bits: the caller's encoding ensures it
// (store.Slot.PTE never is).
//
//go:nosplit
func Soft(v uint64) Entry { return Entry(v)&softMask | Evicted }

// IsSoft reports whether e is a soft entry.
//
//go:nosplit
func (e Entry) IsSoft() bool { return e&(Present|Evicted) == Evicted }

// SoftValue is the value of the soft entry e.
//
//go:nosplit
func (e Entry) SoftValue() uint64 { return uint64(e & softMask) }

// ptEntry returns the PT-level entry for va, or nil when no page table
// covers va (a hole above PT level, or a huge leaf), or pt is not live or
// va not canonical.
//
//go:nosplit
func (pt *PageTable) ptEntry(va uintptr) *Entry {
	if !pt.live() || !Canonical(va) {
		return nil
	}
	w := walker{pt: pt}
	w.seek(va, PT, false)
	if w.lvl != PT {
		return nil
	}
	return w.slot()
}

// SoftAt returns the value of the soft entry at va, if the entry of the
// 4 KiB page at va is one.
//
//go:nosplit
func (pt *PageTable) SoftAt(va uintptr) (v uint64, ok bool) {
	e := pt.ptEntry(va)
	if e == nil {
		return 0, false
	}
	x := loadEntry(e)
	if !x.IsSoft() {
		return 0, false
	}
	return x.SoftValue(), true
}

// TakeLeaf empties the present 4 KiB leaf at va and returns what it held,
// with the CPU's last Accessed and Dirty bits (one atomic exchange), after
// dropping its translation on every CPU (Invalidate and Sync): when it
// returns, no CPU can reach the frame through this table, and the caller
// may read it unchanging, compress it and reuse it. The table stays, so
// SetSoft or PutLeaf of the same va cannot fail for want of a table. ok is
// false, with nothing changed, when va is not mapped by a present 4 KiB
// leaf (a hole, a soft entry, a huge page).
//
// The caller holds the space's lock: between TakeLeaf and SetSoft or
// PutLeaf the entry is empty, and a fault must not see it so.
//
//go:nosplit
func (pt *PageTable) TakeLeaf(va uintptr) (old Entry, ok bool) {
	if old, ok = pt.TakeLeafDeferred(va); ok {
		pt.env.TLB.Sync(pt.Root)
	}
	return old, ok
}

// TakeLeafDeferred is TakeLeaf without the shootdown: the leaf is empty
// and this CPU's translation gone, but other CPUs may still reach the
// frame until the caller's SyncTLB. The pager takes a batch of leaves
// this way and pays one shootdown for all of them, before it reads any.
//
//go:nosplit
func (pt *PageTable) TakeLeafDeferred(va uintptr) (old Entry, ok bool) {
	e := pt.ptEntry(va)
	if e == nil || va%PageSize != 0 {
		return 0, false
	}
	for {
		old = loadEntry(e)
		if old&Present == 0 {
			return 0, false
		}
		if swapIfSame(e, old, 0) {
			break
		}
	}
	pt.env.TLB.Invalidate(va)
	return old, true
}

// SyncTLB makes the invalidations since the last Sync hold on every CPU
// that may use pt (TLB.Sync): after TakeLeafDeferred.
//
//go:nosplit
func (pt *PageTable) SyncTLB() { pt.env.TLB.Sync(pt.Root) }

// PutLeaf writes e, a present 4 KiB leaf TakeLeaf returned, back into the
// empty entry at va (the eviction that could not store the page). Adding a
// translation needs no invalidation. ErrMapped if the entry is not empty;
// ErrNotMapped if no page table covers va.
//
//go:nosplit
func (pt *PageTable) PutLeaf(va uintptr, e Entry) error {
	return pt.setEmpty(va, e)
}

// SetSoft writes the soft entry holding v into the empty 4 KiB entry at
// va (after TakeLeaf). ErrMapped if the entry is not empty; ErrNotMapped if
// no page table covers va.
//
//go:nosplit
func (pt *PageTable) SetSoft(va uintptr, v uint64) error {
	return pt.setEmpty(va, Soft(v))
}

//go:nosplit
func (pt *PageTable) setEmpty(va uintptr, nw Entry) error {
	if va%PageSize != 0 {
		return ErrMisaligned
	}
	e := pt.ptEntry(va)
	if e == nil {
		if !pt.live() || !Canonical(va) {
			return ErrNonCanonical
		}
		return ErrNotMapped
	}
	if !swapIfSame(e, 0, nw) {
		return ErrMapped
	}
	return nil
}

// TakeSoft empties the soft entry at va and returns its value: the major
// fault's first step, before it maps the frame it filled (MapPage, which
// then finds the entry empty). ok is false, with nothing changed, when the
// entry is not soft.
//
//go:nosplit
func (pt *PageTable) TakeSoft(va uintptr) (v uint64, ok bool) {
	e := pt.ptEntry(va)
	if e == nil {
		return 0, false
	}
	x := loadEntry(e)
	if !x.IsSoft() || !swapIfSame(e, x, 0) {
		return 0, false
	}
	return x.SoftValue(), true
}

// Young reports whether the present 4 KiB leaf at va has its Accessed bit
// set and clears it (one atomic AND): the pager's clock. No invalidation:
// a CPU that still caches the translation will not set the bit again until
// its TLB entry goes, so a page in constant use through one CPU's TLB may
// look idle for a while; x86 Linux accepts the same (ptep_clear_flush_young
// does not flush). present is false when va is not a present 4 KiB leaf.
//
//go:nosplit
func (pt *PageTable) Young(va uintptr) (young, present bool) {
	e := pt.ptEntry(va)
	if e == nil {
		return false, false
	}
	x := loadEntry(e)
	if x&Present == 0 {
		return false, false
	}
	if x&Accessed == 0 {
		return false, true
	}
	clearBits(e, Accessed)
	return true, true
}
