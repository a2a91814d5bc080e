// Context: handler (the mprotect system call): nosplit, no heap, no locks.
//
// Withheld leaves. mprotect(PROT_NONE) must take every access away from a
// page that already has a frame, and give the same frame back, bytes
// intact, when a later mprotect allows access again. x86 has no present
// entry that forbids reads, so Withhold clears Present and sets Withheld:
// the entry keeps the frame's address, its flags and its Accessed and
// Dirty bits (Linux's _PAGE_PROTNONE does the same with another software
// bit). Any access faults then, and the VM refuses it by the region's
// protection. Only 4 KiB leaves are withheld: Withhold first splits the
// huge pages of its range.
//
// A withheld entry is a leaf for every operation that owns frames, and not
// a translation for everything that reads them:
//
//   - Change (mprotect granting access again) makes it present with the
//     change applied; nothing to invalidate (no CPU caches a non-present
//     entry).
//   - Unmap, UnmapSplit and Destroy release its frame (release(pa,
//     PageSize)), with no invalidation for it.
//   - ShareLeaves (fork) copies it withheld, write-protected in both
//     spaces when readOnly, and shows visit its frame: the child shares the
//     frame copy-on-write like any leaf.
//   - Translate, Leaf, Mapped, TakeLeaf and Young see no present leaf; Map
//     and MapPage find the entry used (ErrMapped).
package paging

// IsWithheld reports whether e is a withheld leaf.
//
//go:nosplit
func (e Entry) IsWithheld() bool { return e&(Present|Withheld) == Withheld }

// SplitAll splits every huge page that maps part of [va, va+size) down to
// 4 KiB leaves, one table at a time; no translation changes. On ErrNoMemory
// the pages split so far stay split (the same translations, finer tables)
// and their invalidations have been shot down. Otherwise, as SplitEdges,
// the split pages are invalidated on this CPU only, and the operation's
// Sync that follows (Withhold's, or the caller's SyncTLB) reaches the
// others.
//
//go:nosplit
func (pt *PageTable) SplitAll(va, size uintptr) error {
	last, err := pt.checkRange(va, size)
	if err != nil || size == 0 {
		return err
	}
	w := walker{pt: pt}
	w.seek(va, PT, false)
	for {
		e := w.slot()
		if *e&Present != 0 && w.lvl > PT {
			if *e&Huge != 0 {
				table, ok := pt.env.Frames.AllocTable()
				if !ok {
					pt.env.TLB.Sync(pt.Root)
					return ErrNoMemory
				}
				pt.split(e, w.lvl, table, w.leafVA())
			}
			w.down(*e) // a table now: the huge page's pieces are split in turn
			continue
		}
		if w.next() || w.va > last {
			return nil
		}
	}
}

// Withhold makes every 4 KiB leaf of [va, va+size) a withheld entry (see
// above), after SplitAll of the range (ErrNoMemory from it, with nothing
// withheld). The leaves' translations are invalidated (past the
// invalidation limit one FlushAll), with one Sync for them and the splits
// before Withhold returns: then no CPU reaches the frames through pt.
// Holes, soft entries and withheld entries stay as they are.
//
//go:nosplit
func (pt *PageTable) Withhold(va, size uintptr) error {
	if err := pt.SplitAll(va, size); err != nil || size == 0 {
		return err
	}
	// Change's walk, with a change no caller of Change may ask for:
	// Present off and Withheld on, atomically, keeping Accessed and Dirty
	// (SplitAll left only 4 KiB leaves). Its Sync, which always has leaves
	// to invalidate when SplitAll split something, shoots the splits down
	// too.
	pt.changeLeaves(va, va+size-1, change{clear: Present, set: Withheld})
	return nil
}

// shareNotPresent is ShareLeaves's copy of the not-present, non-zero
// entry e into the empty entry d (false, with nothing done, if d is not
// empty): a soft entry (soft.go) goes over unchanged, the caller counting
// a reference to its value; a withheld one as a leaf, write-protected
// first when readOnly (no invalidation: no CPU caches it), its frame shown
// to visit. Anything else (a dying entry exists only inside clear) is
// left alone. Out of the whole-table copy's loop, which every page of a
// fork takes: inside, its cases cost each present page instructions.
//
//go:nosplit
//go:noinline
func (pt *PageTable) shareNotPresent(e, d *Entry, readOnly bool, visit func(pas []uint64, size uintptr)) bool {
	if *d != 0 {
		return false
	}
	switch {
	case e.IsSoft():
		*d = *e
		pt.shared(e.SoftValue(), SoftSize, visit)
	case e.IsWithheld():
		if readOnly {
			*e &^= Writable // (no CPU writes a non-present entry)
		}
		pt.shared(e.Addr(), PageSize, visit)
		*d = *e &^ (Accessed | Dirty)
	}
	return true
}
