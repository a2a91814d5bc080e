// Context: handler (the page-fault handler maps the frame it just took; the
// vm_allocate system call maps ranges): nosplit, no heap, no locks.

package paging

// Map maps [va, va+size) to [pa, pa+size) with flags, using 1 GiB pages
// (when Env.GiantPages) and 2 MiB pages wherever va, pa and the remaining
// size allow, 4 KiB pages elsewhere. va, pa and size must be 4 KiB aligned
// and the range canonical; size 0 maps nothing.
//
// If anything in the range is already mapped, Map returns ErrMapped and
// changes nothing. If Frames runs out of table frames, Map returns
// ErrNoMemory and the tables are as they were: the leaves it placed are
// removed again (with their TLB invalidations, since the CPU may have cached
// them) and every table it allocated is freed.
//
// Installing a translation needs no TLB invalidation: the CPU caches nothing
// from a non-present entry (SDM vol. 3 section 4.10.4.3).
//
//go:nosplit
func (pt *PageTable) Map(va uintptr, pa uint64, size uintptr, flags Flags) error {
	return pt.mapRange(va, pa, size, flags, true)
}

// MapPages is Map with 4 KiB pages only, for callers that will later change
// single pages (demand paging, copy-on-write) and want no splits then.
//
//go:nosplit
func (pt *PageTable) MapPages(va uintptr, pa uint64, size uintptr, flags Flags) error {
	return pt.mapRange(va, pa, size, flags, false)
}

//go:nosplit
func (pt *PageTable) mapRange(va uintptr, pa uint64, size uintptr, flags Flags, huge bool) error {
	last, err := pt.checkRange(va, size)
	if err != nil {
		return err
	}
	if pa%PageSize != 0 {
		return ErrMisaligned
	}
	if flags&^FlagMask != 0 {
		return ErrFlags
	}
	if size == 0 {
		return nil
	}
	if pa >= MaxPhysAddr || uint64(last-va) >= MaxPhysAddr-pa {
		return ErrPhysAddr
	}
	if pt.mapped(va, last) {
		return ErrMapped
	}

	w := walker{pt: pt}
	cur, p := va, pa
	for {
		l := PT
		if huge {
			l = pt.largest(cur, p, last-cur)
		}
		if err := w.seek(cur, l, true); err != nil {
			pt.clear(va, last, nil, clearRollback)
			return err
		}
		if w.lvl != l {
			// A huge leaf above l: mapped() saw nothing, so this cannot
			// happen while the invariants hold; fail safe.
			pt.clear(va, cur-1, nil, clearRollback)
			return ErrMapped
		}
		t := pt.table(w.path[l&7])
		bits := flags | Present
		if l > PT {
			bits |= Huge
		}
		step := l.Size()
		for i := l.Index(cur); ; i++ {
			if t[i&511] != 0 {
				// A table with nothing mapped in it: cannot happen
				// while empty tables are freed; fail safe.
				if cur != va {
					pt.clear(va, cur-1, nil, clearRollback)
				}
				return ErrMapped
			}
			t[i&511] = Entry(p) | bits
			if last-cur < step {
				return nil
			}
			cur += step
			p += uint64(step)
			if i == 511 || (huge && pt.largest(cur, p, last-cur) != l) {
				break // next table, or another page size: walk again
			}
		}
	}
}

// largest is the biggest leaf level that can map cur to p with left+1 bytes
// still to map.
//
//go:nosplit
func (pt *PageTable) largest(cur uintptr, p uint64, left uintptr) Level {
	if pt.env.GiantPages && (uint64(cur)|p)%GiantPageSize == 0 && left >= GiantPageSize-1 {
		return PDPT
	}
	if (uint64(cur)|p)%HugePageSize == 0 && left >= HugePageSize-1 {
		return PD
	}
	return PT
}

// mapped reports whether any page in [va, last] is mapped.
//
//go:nosplit
func (pt *PageTable) mapped(va, last uintptr) bool {
	w := walker{pt: pt}
	w.seek(va, PT, false)
	for {
		e := *w.slot()
		if e&Present != 0 {
			if !isTable(e, w.lvl) {
				return true
			}
			w.down(e)
			continue
		}
		if w.next() || w.va > last {
			return false
		}
	}
}
