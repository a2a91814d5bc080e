// Context: handler (vm_deallocate and munmap system calls, the fault
// handler's copy-on-write replacement; Destroy from the task-destroy system
// call): nosplit, no heap, no locks.

package paging

// Unmap removes whatever is mapped in [va, va+size); holes are ignored.
// va and size must be 4 KiB aligned and the range canonical.
//
// A huge page only partly inside the range is split first (a table is
// allocated, and the part outside the range keeps its translation, flags and
// Accessed/Dirty bits). Splitting is the only thing that needs frames: they
// are all taken before anything changes, so on ErrNoMemory the tables are
// exactly as they were.
//
// release, if not nil, is called once per removed leaf with the physical
// address and size (PageSize, HugePageSize or GiantPageSize) of the page it
// mapped (for a soft entry, soft.go: its value and SoftSize), after the TLB no longer holds the translation, so the caller may
// free the frame at once. It runs in the same context as Unmap and must not
// call back into pt. Tables left empty are freed (pinned PDPTs excepted),
// also only after the TLB has been invalidated.
//
//go:nosplit
func (pt *PageTable) Unmap(va, size uintptr, release func(pa uint64, size uintptr)) error {
	last, err := pt.checkRange(va, size)
	if err != nil || size == 0 {
		return err
	}
	if err := pt.splitEdges(va, last, change{}); err != nil {
		return err
	}
	pt.clear(va, last, release, clearLive)
	return nil
}

// UnmapSplit is Unmap of a range whose edges SplitEdges has just split: it
// skips looking at them again (two walks, on the VM's deallocation path),
// and so needs no frame and cannot fail. A huge page straddling an edge
// here would be removed whole: call it only after SplitEdges of the same
// range returned nil.
//
//go:nosplit
func (pt *PageTable) UnmapSplit(va, size uintptr, release func(pa uint64, size uintptr)) {
	last, err := pt.checkRange(va, size)
	if err != nil || size == 0 {
		return
	}
	pt.clear(va, last, release, clearLive)
}

// SplitEdges splits the huge pages that straddle va or va+size, so that
// afterwards every leaf of [va, va+size) lies wholly inside it; no
// translation changes. It takes every table it needs before changing
// anything (ErrNoMemory leaves the tables as they were). After it,
// UnmapSplit of the same range needs no frame and cannot fail: a caller
// that must change other state between the two (the VM removes regions)
// splits first, so that it never has to undo that state.
//
// The split huge pages are invalidated on this CPU only: the other CPUs
// drop them with the operation's one shootdown, the Sync of the
// UnmapSplit or Unmap of the same range that follows (which always has
// leaves to invalidate when something was split), or else SyncTLB, which
// the caller makes before it returns.
//
//go:nosplit
func (pt *PageTable) SplitEdges(va, size uintptr) error {
	last, err := pt.checkRange(va, size)
	if err != nil || size == 0 {
		return err
	}
	return pt.splitEdges(va, last, change{})
}

// EdgeTables is how many table frames SplitEdges of [va, va+size) would
// take: 0 to 4.
//
//go:nosplit
func (pt *PageTable) EdgeTables(va, size uintptr) int {
	last, err := pt.checkRange(va, size)
	if err != nil || size == 0 {
		return 0
	}
	return pt.edgeTables(va, last, change{})
}

// noFrame ends a list of frames chained through their first word (0 is a
// valid frame).
const noFrame = ^uint64(0)

// clearHow says what clear may assume and must do.
type clearHow uint8

const (
	// clearLive: Unmap of a live space. Every CPU may hold translations:
	// one shootdown before anything is released. A table above the PT
	// level that the range only partly covers is looked at only when
	// something in it was removed: nothing but clear empties such a
	// table, and clear frees it then. (A 4 KiB table can be emptied entry
	// by entry, by TakeLeaf or the pager's all-zero pages: clear always
	// looks at those.)
	clearLive clearHow = iota
	// clearRollback: Map's or Copy's roll-back, which may leave tables it
	// linked empty: every table the range reaches is looked at.
	clearRollback
	// clearDead: Destroy. The space is loaded on no CPU (nothing to
	// invalidate) and every table goes.
	clearDead
)

// gather is what clear's first walk knows of the tables on its path, a
// bit a level: changed, it marked or condemned something in the level-l
// table since it went in; kept, something in it stays. It needs no list
// of what it gathers: the frames stay in the tables, marked dying.
type gather struct {
	va, last      uintptr
	how           clearHow
	changed, kept uint8
	condemned     bool // some table was
}

// clear removes every leaf in [va, last] and frees the tables that become
// empty. Huge leaves at the edges must already be split (splitEdges), so
// every leaf met lies inside the range. It is the core of Unmap, of Map's
// roll-back and of Destroy (how: clearLive, clearRollback, clearDead).
//
// It is Linux's mmu_gather without a list: one operation, one shootdown,
// and nothing released (a leaf's frame through release, a table through
// FreeTable) before every CPU that could reach it has dropped it. The
// deferred frames need no list because they stay where they are, in the
// tables, marked, until the shootdown is done:
//  1. A walk marks every entry of the range dying: a leaf is made
//     non-present but keeps its address (and is counted); a soft entry
//     keeps its value. As the walk leaves a table all of whose entries
//     are now zero or dying, it condemns it: the entry that links it is
//     made non-present and dying too, with the table's address kept, so
//     that no page walk can enter it any more, and its own table may be
//     condemned in turn. A table wholly inside the range is known empty
//     from the walk itself (gather.kept: it saw every entry), one it
//     only partly covers is scanned (leave).
//  2. The translations go, everywhere: under the invalidation limit a
//     second walk invalidates each dying leaf, past it one FlushAll; if a
//     table was condemned, InvalidateTables, which also drops the
//     paging-structure caches that may still point at it (and reaches
//     idle CPUs); then one Sync, the operation's one shootdown.
//  3. A walk that goes into condemned tables as into live ones takes each
//     dying entry (zero it, release it) and frees each condemned table as
//     it leaves it, all zero by then.
//
// Dying entries exist only inside clear: everywhere else a non-present entry
// is zero, soft (soft.go) or withheld (withhold.go). Neither is ever in a
// TLB; a soft entry is released as its value (release(value, SoftSize)),
// a withheld one as its frame.
//
//go:nosplit
func (pt *PageTable) clear(va, last uintptr, release func(pa uint64, size uintptr), how clearHow) {
	if last < va {
		return
	}
	w := walker{pt: pt}

	// 1. Mark, and condemn the tables left empty.
	n, soft := 0, 0
	g := gather{va: va, last: last, how: how}
	w.seek(va, PT, false)
	for {
		if w.lvl == PT {
			i, j := w.ptRun(last)
			m, k := markPT(pt.table(w.path[PT&7]), i, j)
			n, soft = n+m, soft+k
		} else if e := w.slot(); *e&Present != 0 {
			if isTable(*e, w.lvl) {
				w.down(*e)
				continue
			}
			markDying(e) // a huge leaf
			n++
			g.changed |= 1 << (w.lvl & 7) // (a 4 KiB table is looked at anyway: leave)
		}
		from := w.lvl
		wrapped := w.next()
		for l := from; l < w.lvl; l++ {
			pt.leave(&w, l, w.va-1, &g)
		}
		if wrapped {
			break
		}
		if w.va > last {
			// The tables still on the path may have been emptied by
			// the end of the range. (An Unmap that found nothing,
			// deallocating pages never touched, has leave's answer
			// at once: it would scan only the 4 KiB table the walk
			// ends in, if any, and stop at the first that stays.)
			if n == 0 && soft == 0 && !g.condemned && how == clearLive &&
				(w.lvl > PT || !emptySoon(pt.table(w.path[PT&7]), PT.Index(va-1))) {
				return
			}
			for l := w.lvl; l < PML4 && pt.leave(&w, l, w.va, &g); l++ {
			}
			break
		}
	}
	condemned := g.condemned
	if n == 0 && soft == 0 && !condemned {
		return // nothing to release, no table to free: no second walk
	}

	// 2. Invalidate, everywhere: the one shootdown.
	if how != clearDead && (n > 0 || condemned) {
		if n > pt.env.invalidateLimit() {
			pt.env.TLB.FlushAll()
		} else if n > 0 {
			pt.invalidateDying(&w, va, last)
		}
		if condemned {
			pt.env.TLB.InvalidateTables(va)
		}
		pt.env.TLB.Sync(pt.Root)
	}

	// 3. Release, and free the condemned tables.
	w.seek(va, PT, false)
	for {
		if w.lvl == PT {
			i, j := w.ptRun(last)
			releasePT(pt.table(w.path[PT&7]), i, j, release)
		} else if e := w.slot(); linksTable(*e, w.lvl) {
			w.down(*e)
			continue
		} else if old := *e; old&(Present|dying) == dying { // a huge leaf
			*e = 0
			if release != nil {
				release(leafPA(old, w.lvl), w.lvl.Size())
			}
		}
		from := w.lvl
		wrapped := w.next()
		for l := from; l < w.lvl; l++ {
			pt.freeCondemned(&w, l, w.va-1)
		}
		if wrapped {
			break
		}
		if w.va > last {
			for l := w.lvl; l < PML4 && pt.freeCondemned(&w, l, w.va); l++ {
			}
			break
		}
	}
}

// ptRun returns the indexes i..j of the entries of the 4 KiB table the
// walker is in that lie in [w.va, last], and moves the walker onto the
// last of them: clear's walks go through a 4 KiB table in a loop of their
// own (markPT, releasePT), as fork's copy of a whole table does, where the
// walker's step per entry would cost more than the entry's work. (The
// three are not inlined: clear's frame is on the nosplit chain through
// Map's roll-back, whose bound a fuzzing build reaches.)
//
//go:nosplit
//go:noinline
func (w *walker) ptRun(last uintptr) (i, j int) {
	i, j = PT.Index(w.va), 511
	if k := (last - w.va) / PageSize; k < uintptr(j-i) {
		j = i + int(k)
	}
	w.va += uintptr(j-i) * PageSize
	return i, j
}

// markPT is clear's first walk through the entries i..j of the 4 KiB
// table t: each leaf is marked dying (one locked add; it keeps its
// address), each soft or withheld entry too (its value or frame kept),
// and counted: the leaves as n, to invalidate, the others as soft, which
// no CPU caches.
//
//go:nosplit
//go:noinline
func markPT(t *Table, i, j int) (n, soft int) {
	for ; i <= j; i++ {
		e := &t[i&511]
		if *e&Present != 0 {
			markDying(e)
			n++
		} else if *e != 0 && (e.IsSoft() || e.IsWithheld()) {
			*e |= dying // no CPU writes a non-present entry
			soft++
		}
	}
	return n, soft
}

// releasePT is clear's last walk through the entries i..j of the 4 KiB
// table t: each dying entry is zeroed and released, a leaf or a withheld
// entry as its frame, a soft entry (the only one with Evicted) as its
// value.
//
//go:nosplit
//go:noinline
func releasePT(t *Table, i, j int, release func(pa uint64, size uintptr)) {
	for ; i <= j; i++ {
		e := &t[i&511]
		switch old := *e; old & (Present | dying | Evicted) {
		case dying:
			*e = 0
			if release != nil {
				release(old.Addr(), PageSize)
			}
		case dying | Evicted:
			*e = 0
			if release != nil {
				release(old.SoftValue(), SoftSize)
			}
		}
	}
}

// invalidateDying invalidates, on this CPU and in the batch of the next
// Sync, each dying leaf in [va, last]. It walks the range again to find
// them, with clear's walker w (clear seeks it again after): the mark walk
// cannot keep their addresses, for an array of them on the stack would
// break the nosplit chains' bound through Map's roll-back, and a walker of
// its own would too in a fuzzing build, whose instrumentation grows every
// frame (the linker checks it). For the same reason it is not nosplit
// itself: a rare path whose stack check starts a new bounded chain
// (docs/DESIGN.md, "Stacks").
func (pt *PageTable) invalidateDying(w *walker, va, last uintptr) {
	w.seek(va, PT, false)
	for {
		e := w.slot()
		if linksTable(*e, w.lvl) {
			w.down(*e)
			continue
		}
		if *e&(Present|dying|Evicted|Withheld) == dying { // (not a soft or withheld entry: never in a TLB)
			pt.env.TLB.Invalidate(w.leafVA())
		}
		if w.next() || w.va > last {
			break
		}
	}
}

// leave is clear's first walk leaving the level-l table on its path
// (at is an address inside that table's span): it condemns the table if
// every entry in it is now zero or dying, and records in g what the
// table's parent keeps. A table wholly inside the range is empty unless
// the walk kept something in it (g.kept: it saw every entry); one the
// range only partly covers is scanned, in clearLive only if the walk
// changed something in it or it is a 4 KiB table (clearHow). It reports
// whether the table was condemned.
//
// Not nosplit, as invalidateDying: clear's frame holds the walker and g,
// and a fuzzing build's instrumentation would take the chain through Map's
// roll-back past the linker's bound; its stack check starts a new bounded
// chain (docs/DESIGN.md, "Stacks"), once a table.
func (pt *PageTable) leave(w *walker, l Level, at uintptr, g *gather) bool {
	if l >= PML4 {
		return false
	}
	bit := uint8(1) << (l & 7)
	span := (l + 1).Size()
	base := at &^ (span - 1)
	empty := false
	switch {
	case base >= g.va && base+span-1 <= g.last:
		empty = g.kept&bit == 0
	case l == PT || g.how != clearLive || g.changed&bit != 0:
		// The entry just before the range is the likeliest in use
		// (first fit puts regions after the ones in use).
		near := at
		if g.va > base {
			near = g.va - 1
		}
		empty = emptySoon(pt.table(w.path[l&7]), l.Index(near))
	}
	g.changed &^= bit // (the next level-l table starts afresh)
	g.kept &^= bit
	if empty && pt.condemn(w, l, at) {
		g.changed |= bit << 1
		g.condemned = true
		return true
	}
	g.kept |= bit << 1
	return false
}

// condemn makes the level-l table on the walker's path unreachable, its
// entries all zero or dying (clear, step 1): the entry that links it
// becomes non-present and dying, its address kept for clear's last walk,
// which frees it. at is an address inside that table's span (it picks the
// parent entry). PDPTs under a pinned PML4 entry are kept: it reports
// whether the table was condemned.
//
//go:nosplit
func (pt *PageTable) condemn(w *walker, l Level, at uintptr) bool {
	parent := &pt.table(w.path[(l+1)&7])[(l + 1).Index(at)]
	if *parent&Pinned != 0 {
		return false
	}
	// A CPU's page walk may set Accessed in the link meanwhile: locked
	// operations, as for leaves.
	clearBits(parent, Present)
	setBits(parent, dying)
	return true
}

// freeCondemned frees the level-l table on the walker's path if clear
// condemned it, once clear's last walk has zeroed its entries: the entry
// that linked it is zeroed, the table given back. at is as for condemn. It
// reports whether the table was freed.
//
//go:nosplit
func (pt *PageTable) freeCondemned(w *walker, l Level, at uintptr) bool {
	if l >= PML4 {
		return false
	}
	parent := &pt.table(w.path[(l+1)&7])[(l + 1).Index(at)]
	if *parent&(Present|dying) != dying {
		return false
	}
	*parent = 0
	pt.env.Frames.FreeTable(w.path[l&7])
	return true
}

// linksTable reports whether the entry e at level l links a lower table:
// a present one, or one clear has condemned (non-present, dying, and not
// a huge leaf).
//
//go:nosplit
func linksTable(e Entry, l Level) bool { return l > PT && e&Huge == 0 && e&(Present|dying) != 0 }

// Destroy frees every table pt owns, the root included, calling release (if
// not nil) for each leaf in them. PDPTs borrowed from another PageTable
// (ShareKernelHalf) are unlinked but left alone; PDPTs pt pinned itself are
// freed, so destroy an address space only after every PageTable that
// borrows from it. pt must not be loaded in CR3 on any CPU: Destroy does no
// TLB invalidation. pt is unusable afterwards (Create makes it new again).
//
//go:nosplit
func (pt *PageTable) Destroy(release func(pa uint64, size uintptr)) {
	if !pt.live() {
		return
	}
	root := pt.table(pt.Root)
	for i := range root {
		e := root[i]
		if e == 0 {
			continue
		}
		if e&Borrowed != 0 {
			root[i] = 0
			continue
		}
		base := SlotBase(i)
		pt.clear(base, base+PML4.Size()-1, release, clearDead)
		if e := root[i]; e != 0 { // a pinned PDPT, empty now
			root[i] = 0
			pt.env.Frames.FreeTable(e.Addr())
		}
	}
	pt.env.Frames.FreeTable(pt.Root)
	pt.Root, pt.created = 0, false // the Env stays bound: clearing it would be a pointer store
}
