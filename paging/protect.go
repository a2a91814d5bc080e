// Context: handler (vm_protect and mprotect system calls, copy-on-write
// marking in fork): nosplit, no heap, no locks.

package paging

// Protect gives every mapped page in [va, va+size) the flags flags (the
// FlagMask bits; Accessed and Dirty are kept). Holes are ignored. A huge
// page only partly inside the range whose flags change is split first, the
// part outside keeping its flags; the frames for that are taken before
// anything changes, so on ErrNoMemory the tables are exactly as they were.
//
// Every changed leaf is invalidated (also when rights grow: a stale
// read-only entry would only cost a spurious fault, but the kernel's fault
// handler should not have to tell those apart); past the invalidation limit
// one FlushAll replaces the per-page invalidations.
//
//go:nosplit
func (pt *PageTable) Protect(va, size uintptr, flags Flags) error {
	last, err := pt.checkRange(va, size)
	if err != nil || size == 0 {
		return err
	}
	if flags&^FlagMask != 0 {
		return ErrFlags
	}
	if err := pt.splitEdges(va, last, flags, true); err != nil {
		return err
	}
	w := walker{pt: pt}
	n, limit := 0, pt.env.invalidateLimit()
	w.seek(va, PT, false)
	for {
		e := w.slot()
		if *e&Present != 0 {
			if isTable(*e, w.lvl) {
				w.down()
				continue
			}
			if nw := *e&^FlagMask | flags; nw != *e {
				*e = nw
				n++
				if n <= limit {
					pt.env.TLB.Invalidate(w.leafVA())
				}
			}
		}
		if w.next() || w.va > last {
			break
		}
	}
	if n > limit {
		pt.env.TLB.FlushAll()
	}
	return nil
}
