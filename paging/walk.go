// Context: handler (trap, page-fault and system-call handlers reach it
// through Map, MapPages, Unmap, Protect and Translate): nosplit, no heap, no
// locks, no recursion (the nosplit stack bound is static).

package paging

// walker is the one walk of the tables that every operation uses. It sits on
// one entry: the entry of the level-lvl table that covers va. path holds the
// tables from the root down to lvl, so an operation can look at or free the
// tables it leaves without walking again.
//
// Point operations (Translate, the descent of Map) use seek. Range
// operations visit [va, last] in address order with seek once, then down
// into lower tables and next to the following entry, which climbs out of
// finished tables; that iteration is an explicit-stack depth-first walk, so
// it needs neither recursion nor heap.
type walker struct {
	pt   *PageTable
	va   uintptr
	lvl  Level
	path [8]uint64 // path[l]: physical address of the level-l table covering va, l >= lvl (8 so that l&7 needs no bounds check)
}

// slot returns the entry the walker sits on.
//
//go:nosplit
func (w *walker) slot() *Entry {
	return &w.pt.table(w.path[w.lvl&7])[w.lvl.Index(w.va)]
}

// seek puts the walker on the entry that maps va at level to, starting from
// the root. It stops higher when the walk cannot go on: at a leaf (a huge
// page) or, unless alloc is set, at an entry that is not present. With alloc
// it creates the missing tables on the way (zeroed frames from Frames, linked
// with tableLink); if Frames runs dry it returns ErrNoMemory and leaves the
// tables it linked so far in place, empty: callers remove them with clear,
// which frees empty tables.
//
//go:nosplit
func (w *walker) seek(va uintptr, to Level, alloc bool) error {
	w.va, w.lvl = va, PML4
	w.path[PML4] = w.pt.Root
	for w.lvl > to {
		e := w.slot()
		if *e&Present == 0 {
			if !alloc {
				return nil
			}
			pa, ok := w.pt.env.Frames.AllocTable()
			if !ok {
				return ErrNoMemory
			}
			*e = Entry(pa)&addrMask | tableLink
		} else if *e&Huge != 0 {
			return nil
		}
		w.down(*e)
	}
	return nil
}

// down steps from the table entry e, the one the walker sits on (its
// caller has just read it), into the table e links, onto the entry
// covering va.
//
//go:nosplit
func (w *walker) down(e Entry) {
	w.lvl--
	w.path[w.lvl&7] = e.Addr()
}

// isTable reports whether the present entry e at level l links a lower table
// rather than mapping a page.
//
//go:nosplit
func isTable(e Entry, l Level) bool { return l > PT && e&Huge == 0 }

// next moves to the entry after the current one at the same level. When that
// runs off the end of the current table it climbs to the parent's next entry,
// as often as needed; the tables between the old and the new lvl are then
// finished (the caller may free them; the entry that linked a finished
// level-l table is at path[l+1], index (l+1).Index(w.va-1)). It reports
// whether va wrapped past the top of the address space.
//
//go:nosplit
func (w *walker) next() (wrapped bool) {
	size := w.lvl.Size()
	w.va = w.va&^(size-1) + size
	for w.lvl < PML4 && w.lvl.Index(w.va) == 0 {
		w.lvl++
	}
	return w.va == 0
}

// leafVA is the first address of the page mapped by the entry the walker
// sits on.
//
//go:nosplit
func (w *walker) leafVA() uintptr { return w.va &^ (w.lvl.Size() - 1) }

// leafPA is the physical address of the page a leaf entry e at level l maps
// (for huge leaves the PAT bit and reserved low bits are masked off).
//
//go:nosplit
func leafPA(e Entry, l Level) uint64 { return e.Addr() &^ uint64(l.Size()-1) }

// leafAt returns the present leaf that maps va and its level, or nil.
//
//go:nosplit
func (pt *PageTable) leafAt(va uintptr) (*Entry, Level) {
	w := walker{pt: pt}
	w.seek(va, PT, false)
	e := w.slot()
	if *e&Present == 0 {
		return nil, w.lvl
	}
	return e, w.lvl
}

// emptySoon reports whether every entry of t is zero or dying (clear
// zeroes the dying ones, unmap.go), looking first at the eight entries
// around index i: beside an entry just cleared are the likeliest to be in
// use, where a scan from the start of a sparse table may pass many unused
// ones first. It tests eight entries per branch, and eight zero entries
// (the common case in a sparse table) cost one OR each.
//
//go:nosplit
func emptySoon(t *Table, i int) bool {
	if c := (*[8]Entry)(t[i&^7&511:][:8]); c[0]|c[1]|c[2]|c[3]|c[4]|c[5]|c[6]|c[7] != 0 && used8(c) {
		return false
	}
	for i := 0; i < len(t); i += 8 {
		if c := (*[8]Entry)(t[i : i+8]); c[0]|c[1]|c[2]|c[3]|c[4]|c[5]|c[6]|c[7] != 0 && used8(c) {
			return false
		}
	}
	return true
}

// used8 reports whether one of the eight entries is neither zero nor
// dying, without a branch per entry: an entry whose dying bit is set
// counts as zero (no present entry carries the bit).
//
//go:nosplit
func used8(c *[8]Entry) bool {
	return notDying(c[0])|notDying(c[1])|notDying(c[2])|notDying(c[3])|
		notDying(c[4])|notDying(c[5])|notDying(c[6])|notDying(c[7]) != 0
}

// notDying is e, or 0 if e is dying.
//
//go:nosplit
func notDying(e Entry) Entry { return e & ((e&dying)/dying - 1) }

// empty reports whether every entry of t is zero (the tests' check that no
// empty table is left linked; clear's own test is emptySoon). (A count of used entries per table would
// avoid the scan, but the frame has no room for it: the CPU owns all 512
// entries, and the few software bits per entry are too scattered to keep a
// 10-bit count cheaply.)
//
//go:nosplit
func empty(t *Table) bool {
	for i := 0; i < len(t); i += 8 {
		c := (*[8]Entry)(t[i : i+8])
		if c[0]|c[1]|c[2]|c[3]|c[4]|c[5]|c[6]|c[7] != 0 {
			return false
		}
	}
	return true
}
