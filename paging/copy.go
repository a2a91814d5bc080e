// Context: handler (the system calls that fork a task, and the
// copy-on-write fault): nosplit, no heap, no locks, no recursion.

package paging

// ShareLeaves makes dst map every page pt maps in [va, va+size): the same
// physical pages, the same flags, and the same page sizes (a huge page stays
// one huge page). It is fork's copy of the page tables: with readOnly, the
// pages become read-only in both pt and dst (copy-on-write; huge pages cut
// by the range's edges are split first, as Protect does, and pt's changed
// translations are invalidated), and the caller counts a reference for each
// leaf it is shown: visit(pas, size) gets the leaves in batches of up to
// ShareBatch, all of one size (the physical address of each, or for soft
// entries (soft.go), copied as they are, their values with SoftSize;
// withheld entries (withhold.go) go over withheld, as leaves). The
// batches spare fork a call and its register reloads per page; every leaf
// copied is shown before ShareLeaves returns, on error too. pas is valid
// only during the call. Leaves are copied entry by entry in one walk of
// each tree, where mapping them one by one would walk both trees from the
// root for every page.
//
// The batch is kept in pt (no stack array: visit's argument would make it
// escape): calls of ShareLeaves on one pt must not overlap, which the
// VM's space lock ensures (it forks a space under its lock).
//
// The write-protection of pt's pages is invalidated on this CPU, and
// reaches the other CPUs at the caller's SyncTLB, which it makes before
// the parent's threads may rely on it (before fork returns): a fork calls
// ShareLeaves once a region, and pays one shootdown for them all.
//
// dst must map nothing in the range yet: a leaf already there is
// ErrMapped (leaves copied before it stay, and the caller destroys dst). A
// leaf of pt that reaches outside the range is shared for the part inside,
// in 4 KiB pages. ErrNoMemory when dst needs a table and Frames has none,
// with the same outcome. Nothing in dst needs TLB invalidation (it only
// gains translations).
//
//go:nosplit
func (pt *PageTable) ShareLeaves(dst *PageTable, va, size uintptr, readOnly bool, visit func(pas []uint64, size uintptr)) error {
	last, err := pt.checkRange(va, size)
	if err != nil || size == 0 {
		return err
	}
	if !dst.live() {
		return ErrEnv
	}
	if readOnly {
		if err := pt.splitEdges(va, last, change{}); err != nil {
			return err
		}
	}
	n, err := pt.shareLeaves(dst, va, last, readOnly, visit)
	pt.flushShared(visit)
	if n > pt.env.invalidateLimit() {
		pt.env.TLB.FlushAll()
	}
	return err
}

// shareLeaves is ShareLeaves's walk (its own frame, so that the nosplit
// chains stay short); it returns how many of pt's leaves it write-protected,
// having invalidated the first invalidateLimit of them.
//
//go:nosplit
func (pt *PageTable) shareLeaves(dst *PageTable, va, last uintptr, readOnly bool, visit func(pas []uint64, size uintptr)) (n int, err error) {
	b := &pt.share
	limit := pt.env.invalidateLimit()
	w := walker{pt: pt}
	d := walker{pt: dst}
	// The dst page table that takes 4 KiB leaves for the 2 MiB around
	// curWindow: consecutive small leaves go into it without a walk.
	var curTable *Table
	curWindow := ^uintptr(0)
	// Stopping at the PD level, so that a first page table wholly inside
	// the range takes the whole-table copy below like the others.
	w.seek(va, PD, false)
	for {
		e := w.slot()
		if *e&Present != 0 && w.lvl == PD && isTable(*e, PD) {
			// A whole page table inside the range: copy its 512 entries
			// in one loop, as Linux's copy_pte_range does.
			win := w.va &^ (HugePageSize - 1)
			if win >= va && win+HugePageSize-1 <= last {
				if err := d.seek(win, PT, true); err != nil {
					return n, err
				}
				if d.lvl != PT {
					return n, ErrMapped
				}
				src, dt := pt.table(e.Addr()), dst.table(d.path[PT])
				for i := range src {
					se := src[i]
					if se&Present == 0 {
						if se != 0 && !pt.shareNotPresent(&src[i], &dt[i], readOnly, visit) {
							return n, ErrMapped
						}
						continue
					}
					if dt[i] != 0 {
						return n, ErrMapped
					}
					if readOnly && se&Writable != 0 {
						clearBits(&src[i], Writable)
						se &^= Writable
						n++
						if n <= limit {
							pt.env.TLB.Invalidate(win + uintptr(i)*PageSize)
						}
					}
					dt[i] = se &^ (Accessed | Dirty)
					// (shared, written out: the loop every page of a
					// fork takes.)
					if b.n == ShareBatch || b.size != PageSize {
						pt.flushShared(visit)
						b.size = PageSize
					}
					b.pas[b.n%ShareBatch] = se.Addr()
					b.n++
				}
				if w.next() || w.va > last {
					break
				}
				continue
			}
		}
		if w.lvl == PT && (e.IsSoft() || e.IsWithheld()) {
			lo := w.leafVA()
			if err := d.seek(lo, PT, true); err != nil {
				return n, err
			}
			if d.lvl != PT || !pt.shareNotPresent(e, d.slot(), readOnly, visit) {
				return n, ErrMapped
			}
		}
		if *e&Present != 0 {
			if isTable(*e, w.lvl) {
				w.down(*e)
				continue
			}
			lo, l := w.leafVA(), w.lvl
			hi := lo + l.Size() - 1
			pa := leafPA(*e, l)
			if readOnly && *e&Writable != 0 {
				clearBits(e, Writable)
				n++
				if n <= limit {
					pt.env.TLB.Invalidate(lo)
				}
			}
			if lo >= va && hi <= last && l == PT && lo&^(HugePageSize-1) == curWindow {
				s := &curTable[PT.Index(lo)]
				if *s != 0 {
					return n, ErrMapped
				}
				*s = *e &^ (Accessed | Dirty)
				pt.shared(pa, PageSize, visit)
			} else if lo >= va && hi <= last {
				if err := d.seek(lo, l, true); err != nil {
					return n, err
				}
				s := d.slot()
				if *s != 0 || d.lvl != l {
					return n, ErrMapped
				}
				*s = *e &^ (Accessed | Dirty)
				if l == PT {
					curTable, curWindow = dst.table(d.path[PT]), lo&^(HugePageSize-1)
				}
				pt.shared(pa, l.Size(), visit)
			} else {
				// The part of a huge leaf inside the range, page by page.
				for p := max(lo, va); p <= min(hi, last); p += PageSize {
					if err := d.seek(p, PT, true); err != nil {
						return n, err
					}
					s := d.slot()
					if *s != 0 || d.lvl != PT {
						return n, ErrMapped
					}
					off := uint64(p - lo)
					*s = Entry(pa+off)&addrMask | *e&(FlagMask|Present) // Huge is not a PT-level bit
					pt.shared(pa+off, PageSize, visit)
					if p+PageSize == 0 {
						break
					}
				}
			}
		}
		if w.next() || w.va > last {
			break
		}
	}
	return n, nil
}

// ShareBatch is the most leaves ShareLeaves shows its visit at once.
const ShareBatch = 64

// shareBatch is ShareLeaves's batch for its visit: the leaves waiting and
// their size.
type shareBatch struct {
	pas  [ShareBatch]uint64
	n    uint
	size uintptr
}

// shared adds the leaf pa of size bytes to the batch for visit, showing
// the batch first if it is full or of another size.
//
//go:nosplit
func (pt *PageTable) shared(pa uint64, size uintptr, visit func(pas []uint64, size uintptr)) {
	b := &pt.share
	if b.n == ShareBatch || b.size != size {
		pt.flushShared(visit)
		b.size = size
	}
	b.pas[b.n%ShareBatch] = pa
	b.n++
}

// flushShared shows visit the leaves waiting in the batch.
//
//go:nosplit
func (pt *PageTable) flushShared(visit func(pas []uint64, size uintptr)) {
	b := &pt.share
	if b.n > 0 && visit != nil {
		visit(b.pas[:min(b.n, ShareBatch)], b.size)
	}
	b.n = 0
}

// Replace points the 4 KiB page at va, which must be mapped, at the frame
// pa with flags, and invalidates its old translation: the copy-on-write
// fault's swap of a shared frame for a private copy, in one walk and with
// no table freed. A huge page around va is split first, so that only this
// page changes (ErrNoMemory, with nothing changed, if that needs a table
// Frames cannot give). ErrNotMapped if nothing maps va.
//
//go:nosplit
func (pt *PageTable) Replace(va uintptr, pa uint64, flags Flags) error {
	if !pt.live() || !Canonical(va) {
		return ErrNonCanonical
	}
	if va%PageSize != 0 || pa%PageSize != 0 {
		return ErrMisaligned
	}
	if flags&^FlagMask != 0 {
		return ErrFlags
	}
	e, l := pt.leafAt(va)
	if e == nil {
		return ErrNotMapped
	}
	if l != PT {
		if err := pt.splitEdges(va, va+PageSize-1, change{}); err != nil {
			return err
		}
		e, l = pt.leafAt(va)
		if e == nil || l != PT {
			return ErrNotMapped
		}
	}
	*e = Entry(pa)&addrMask | flags | Present
	pt.env.TLB.Invalidate(va)
	pt.env.TLB.Sync(pt.Root) // the caller may free the old frame next
	return nil
}

// MapPage maps the one 4 KiB page at va to pa with flags: MapPages for a
// single page, as the page-fault handler needs it, in a single walk that
// creates the missing tables (no separate check of the range first).
// ErrMapped if something maps va already; ErrNoMemory if a table is
// missing and Frames has none, with the tables as they were.
//
//go:nosplit
func (pt *PageTable) MapPage(va uintptr, pa uint64, flags Flags) error {
	if !pt.live() || !Canonical(va) {
		return ErrNonCanonical
	}
	if va%PageSize != 0 || pa%PageSize != 0 {
		return ErrMisaligned
	}
	if flags&^FlagMask != 0 {
		return ErrFlags
	}
	if pa >= MaxPhysAddr {
		return ErrPhysAddr
	}
	w := walker{pt: pt}
	if err := w.seek(va, PT, true); err != nil {
		// Tables linked on the way are empty: clear frees them, after
		// an invalidation, since the CPU may have cached the entries
		// that linked them in its paging-structure caches meanwhile.
		pt.clear(va, va+PageSize-1, nil, clearRollback)
		return err
	}
	e := w.slot()
	if w.lvl != PT || *e != 0 {
		return ErrMapped
	}
	*e = Entry(pa)&addrMask | flags | Present
	return nil
}
