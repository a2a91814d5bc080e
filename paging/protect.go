// Context: handler (the mprotect system call, the copy-on-write fault):
// nosplit, no heap, no locks.

package paging

// Protect gives every mapped page in [va, va+size) the flags flags (the
// FlagMask bits; Accessed and Dirty are kept): Change(va, size, FlagMask,
// flags).
//
//go:nosplit
func (pt *PageTable) Protect(va, size uintptr, flags Flags) error {
	return pt.Change(va, size, FlagMask, flags)
}

// Change clears the flags clear and then sets the flags set (FlagMask
// bits) in every mapped page of [va, va+size); Accessed and Dirty are
// kept, holes ignored. It is what mprotect needs, where pages of one range
// differ (a copy-on-write page stays read-only when the range becomes
// writable: the change there sets nothing, and the next write faults). A
// huge page only partly inside the range that the change alters is split
// first, the part outside keeping its flags; the frames for that are taken
// before anything changes, so on ErrNoMemory the tables are exactly as
// they were.
//
// A withheld leaf (withhold.go) in the range becomes present again, with
// the change applied: the access mprotect gives back.
//
// Every changed leaf is invalidated (also when rights grow: a stale
// read-only entry would only cost a spurious fault, but the kernel's fault
// handler should not have to tell those apart); past the invalidation limit
// one FlushAll replaces the per-page invalidations; one Sync shoots them
// down before Change returns.
//
//go:nosplit
func (pt *PageTable) Change(va, size uintptr, clear, set Flags) error {
	last, err := pt.checkRange(va, size)
	if err != nil || size == 0 {
		return err
	}
	if (clear|set)&^FlagMask != 0 {
		return ErrFlags
	}
	c := change{clear: clear, set: set, only: true}
	if err := pt.splitEdges(va, last, c); err != nil {
		return err
	}
	pt.changeLeaves(va, last, c)
	return nil
}

// changeLeaves is Change's walk, in a frame of its own so that the nosplit
// chain through splitEdges stays short.
//
//go:nosplit
func (pt *PageTable) changeLeaves(va, last uintptr, c change) {
	w := walker{pt: pt}
	n, limit := 0, pt.env.invalidateLimit()
	w.seek(va, PT, false)
	for {
		e := w.slot()
		if *e&Present != 0 {
			if isTable(*e, w.lvl) {
				w.down(*e)
				continue
			}
			if old, nw := updateEntry(e, Entry(c.clear), Entry(c.set)); nw != old {
				n++
				if n <= limit {
					pt.env.TLB.Invalidate(w.leafVA())
				}
			}
		} else if e.IsWithheld() && c.set&Withheld == 0 {
			// Present again (withhold.go): a gained translation,
			// nothing cached to invalidate.
			*e = c.apply(*e&^Withheld) | Present
		}
		if w.next() || w.va > last {
			break
		}
	}
	if n > limit {
		pt.env.TLB.FlushAll()
	}
	if n > 0 {
		pt.env.TLB.Sync(pt.Root)
	}
}
