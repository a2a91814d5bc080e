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

// noFrame ends the list of tables waiting to be freed (0 is a valid frame).
const noFrame = ^uint64(0)

// clearHow says what clear may assume and must do.
type clearHow uint8

const (
	// clearLive: Unmap of a live space. A range inside one 4 KiB table's
	// span in which the first walk finds nothing, present or soft, is
	// left as it is when that table is not empty: no second walk
	// (deallocating a page that was never touched is common). Only an
	// empty 4 KiB table needs the second walk's pruning then: tables above
	// it are emptied only by clear, which prunes them, but a 4 KiB table
	// can be emptied entry by entry (TakeLeaf, the pager's all-zero pages).
	clearLive clearHow = iota
	// clearRollback: Map's or Copy's roll-back, which may leave tables it
	// linked empty: the second walk always runs, to prune them.
	clearRollback
	// clearDead: Destroy. The space is loaded on no CPU (nothing to
	// invalidate) and every table goes.
	clearDead
)

// clear removes every leaf in [va, last] and frees the tables that become
// empty. Huge leaves at the edges must already be split (splitEdges), so
// every leaf met lies inside the range. It is the core of Unmap, of Map's
// roll-back and of Destroy (how: clearLive, clearRollback, clearDead).
//
// The order matters because the caller frees frames in release and paging
// frees tables: nothing may be reused while any CPU's TLB can still reach
// it.
//  1. Every leaf in the range is made non-present but keeps its address,
//     marked dying, and counted.
//  2. The translations go: under the invalidation limit a second walk
//     invalidates each dying leaf, past it one FlushAll; then one Sync
//     (the shootdown of them all).
//  3. A walk takes each dying leaf: zero it, release it. Tables left empty
//     are unlinked from their parent and chained through their first
//     word; they are not freed yet.
//  4. If any table was unlinked: one Invalidate, which also flushes the
//     paging-structure caches that may still point at them, and a Sync,
//     then FreeTable.
//
// Dying entries exist only inside clear: everywhere else a non-present entry
// is zero or soft (soft.go). Step 3 also removes the soft entries of the
// range, calling release(value, SoftSize).
//
//go:nosplit
func (pt *PageTable) clear(va, last uintptr, release func(pa uint64, size uintptr), how clearHow) {
	if last < va {
		return
	}
	w := walker{pt: pt}
	tlb := how != clearDead

	// 1. Mark, and count the soft entries.
	n, soft := 0, 0
	w.seek(va, PT, false)
	table := noFrame // the last 4 KiB table the walk went into
	if w.lvl == PT {
		table = w.path[PT&7]
	}
	for {
		e := w.slot()
		if *e&Present != 0 {
			if isTable(*e, w.lvl) {
				w.down(*e)
				if w.lvl == PT {
					table = w.path[PT&7]
				}
				continue
			}
			// (Not present first, then marked: only this walk reads
			// the mark.)
			clearBits(e, Present)
			setBits(e, dying)
			n++
		} else if *e != 0 {
			soft++ // not present and not zero: soft (dying ones exist only inside clear)
		}
		if w.next() || w.va > last {
			break
		}
	}
	if how == clearLive && n == 0 && soft == 0 && va/PD.Size() == last/PD.Size() &&
		(table == noFrame || !emptyNear(pt.table(table), PT.Index(va))) {
		return // nothing to release, and no table to prune
	}

	// 2. Invalidate, everywhere.
	if tlb && n > 0 {
		pt.invalidateDying(&w, va, last, n)
	}

	// 3. Release and prune.
	freed := noFrame
	w.seek(va, PT, false)
	for {
		e := w.slot()
		if *e&Present != 0 && isTable(*e, w.lvl) {
			w.down(*e)
			continue
		}
		if old := *e; old&(Present|dying) == dying {
			*e = 0
			if release != nil {
				release(leafPA(old, w.lvl), w.lvl.Size())
			}
		} else if w.lvl == PT && old.IsSoft() {
			// A soft entry (soft.go): never in a TLB, released as
			// its value.
			*e = 0
			if release != nil {
				release(old.SoftValue(), SoftSize)
			}
		}
		from := w.lvl
		wrapped := w.next()
		for l := from; l < w.lvl; l++ {
			pt.prune(&w, l, w.va-1, &freed)
		}
		if wrapped {
			break
		}
		if w.va > last {
			// The tables still on the path may have been emptied by
			// the end of the range.
			for l := w.lvl; l < PML4 && pt.prune(&w, l, w.va, &freed); l++ {
			}
			break
		}
	}

	// 4. Free the unlinked tables.
	if freed == noFrame {
		return
	}
	if tlb {
		pt.env.TLB.InvalidateTables(va)
		pt.env.TLB.Sync(pt.Root)
	}
	for freed != noFrame {
		t := pt.table(freed)
		next := uint64(t[0])
		t[0] = 0
		pt.env.Frames.FreeTable(freed)
		freed = next
	}
}

// invalidateDying drops the translations of the n dying leaves in [va,
// last] on every CPU: one by one under the invalidation limit, one
// FlushAll past it, then the shootdown. Under the limit it walks the range
// again to find them, with clear's walker w (clear seeks it again after):
// the mark walk cannot keep their addresses, for an array of them on the
// stack would break the nosplit chains' bound through Map's roll-back, and
// a walker of its own would too in a fuzzing build, whose instrumentation
// grows every frame (the linker checks it). For the same reason it is not
// nosplit itself: a rare path whose stack check starts a new bounded
// chain (docs/DESIGN.md, "Stacks").
func (pt *PageTable) invalidateDying(w *walker, va, last uintptr, n int) {
	if n > pt.env.invalidateLimit() {
		pt.env.TLB.FlushAll()
		pt.env.TLB.Sync(pt.Root)
		return
	}
	w.seek(va, PT, false)
	for {
		e := w.slot()
		if *e&Present != 0 && isTable(*e, w.lvl) {
			w.down(*e)
			continue
		}
		if *e&(Present|dying) == dying {
			pt.env.TLB.Invalidate(w.leafVA())
		}
		if w.next() || w.va > last {
			break
		}
	}
	pt.env.TLB.Sync(pt.Root)
}

// prune unlinks the level-l table on the walker's path if it is empty, and
// chains it on *freed. at is an address inside that table's span (it picks
// the parent entry). PDPTs under a pinned PML4 entry are kept. It reports
// whether the table was unlinked.
//
//go:nosplit
func (pt *PageTable) prune(w *walker, l Level, at uintptr, freed *uint64) bool {
	if l >= PML4 {
		return false
	}
	t := pt.table(w.path[l&7])
	if !empty(t) {
		return false
	}
	parent := &pt.table(w.path[(l+1)&7])[(l + 1).Index(at)]
	if *parent&Pinned != 0 {
		return false
	}
	*parent = 0
	t[0] = Entry(*freed)
	*freed = w.path[l&7]
	return true
}

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
