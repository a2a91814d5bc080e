// Context: handler (see compressed.go).

package store

import "unsafe"

// The slot table: one 16-byte entry per stored page, in frames from Frames,
// found through two levels of frames (the store's top array of directory
// frames, each listing 512 table frames of 256 entries): up to maxEntries
// pages. A Slot is an entry's index plus one, with the entry's generation
// above it. The indirection is zsmalloc's handle: the page table holds the
// slot, the slot holds where the data is, so the data can move (a future
// compaction of half-empty zspages) without touching any page table.
//
// The table grows a frame at a time when no entry is free, and is released
// whole when the last page leaves the store, so an empty store holds no
// frame. Until then it keeps its high-water mark: 16 bytes per page stored
// at the peak (Linux's zram allocates its whole table, 16 bytes per page of
// capacity, up front).
const (
	entrySize       = 16
	entriesPerFrame = PageSize / entrySize // 256
	dirPerFrame     = PageSize / 8         // 512 table frames per directory frame
	entriesPerDir   = dirPerFrame * entriesPerFrame
	topEntries      = 512
	maxEntries      = topEntries * entriesPerDir // 2^26

	// MaxCapacity is the largest capacity a store takes: one page per
	// slot-table entry, 256 GiB of uncompressed pages.
	MaxCapacity = maxEntries * PageSize

	// A Slot: index+1 in the low indexBits, generation in the next
	// genBits, zero above (43 bits of the 50 SlotBits).
	indexBits = 27
	genBits   = 16
	indexMask = 1<<indexBits - 1
	genMask   = 1<<genBits - 1
)

// entry is one slot. In use: loc is the page's place (a zspage's first
// frame with the object's index in the low 12 bits, or the frame of a raw
// page) and info holds the reference count (bits 0-31, never 0), the
// generation (32-47) and the stored length (48-60, PageSize for a raw
// page). Free: refs 0, the generation kept, loc the next free entry's index
// plus one (0 ends the list).
type entry struct {
	loc, info uint64
}

const (
	refsMask  = 1<<32 - 1
	genShift  = 32
	lenShift  = 48
	maxRefs   = refsMask
	entryFree = 0
)

func (e *entry) refs() uint64   { return e.info & refsMask }
func (e *entry) gen() uint64    { return e.info >> genShift & genMask }
func (e *entry) length() uint32 { return uint32(e.info >> lenShift) }

var _ [1]struct{} = [unsafe.Sizeof(entry{}) / entrySize]struct{}{}

// entry returns entry i, which must be below s.nEntries.
func (s *Compressed) entry(i uint32) *entry {
	dir := (*[dirPerFrame]uint64)(unsafe.Pointer(s.frames.Page(s.top[i/entriesPerDir%topEntries])))
	tab := (*[entriesPerFrame]entry)(unsafe.Pointer(s.frames.Page(dir[i/entriesPerFrame%dirPerFrame])))
	return &tab[i%entriesPerFrame]
}

// slotOf is the slot naming entry i, of generation gen.
func slotOf(i uint32, gen uint64) Slot {
	return Slot(gen<<indexBits | uint64(i+1))
}

// lookup returns the entry sl names, if it is in use and of sl's
// generation.
func (s *Compressed) lookup(sl Slot) (*entry, uint32, bool) {
	v := uint64(sl)
	idx := v & indexMask
	if idx == 0 || idx > uint64(s.nEntries) || v>>(indexBits+genBits) != 0 {
		return nil, 0, false
	}
	i := uint32(idx - 1)
	e := s.entry(i)
	if e.refs() == 0 || e.gen() != v>>indexBits {
		return nil, 0, false
	}
	return e, i, true
}

// allocEntry takes a free entry, growing the table when there is none. The
// entry keeps its generation; the caller fills it.
func (s *Compressed) allocEntry() (uint32, bool) {
	if s.freeHead == 0 && !s.growTable() {
		return 0, false
	}
	i := s.freeHead - 1
	s.freeHead = uint32(s.entry(i).loc)
	return i, true
}

// freeEntry puts entry i back on the free list, its generation advanced so
// that the slot that named it no longer does.
func (s *Compressed) freeEntry(i uint32, e *entry) {
	gen := (e.gen() + 1) & genMask
	s.nextGen = max(s.nextGen, gen)
	e.info = gen<<genShift | entryFree
	e.loc = uint64(s.freeHead)
	s.freeHead = i + 1
}

// growTable adds a table frame (and a directory frame, at a directory's
// start) of free entries. It fails with nothing changed when Frames has no
// frame or the table is at maxEntries.
func (s *Compressed) growTable() bool {
	n := s.nEntries
	if n >= maxEntries {
		return false
	}
	t := n / entriesPerDir
	newDir := n%entriesPerDir == 0
	if newDir {
		d, ok := s.frames.Alloc()
		if !ok {
			return false
		}
		s.top[t] = d
		s.st.TableFrames++
	}
	f, ok := s.frames.Alloc()
	if !ok {
		if newDir {
			s.frames.Free(s.top[t])
			s.st.TableFrames--
		}
		return false
	}
	s.st.TableFrames++
	dir := (*[dirPerFrame]uint64)(unsafe.Pointer(s.frames.Page(s.top[t])))
	dir[n/entriesPerFrame%dirPerFrame] = f
	tab := (*[entriesPerFrame]entry)(unsafe.Pointer(s.frames.Page(f)))
	gen := s.nextGen << genShift
	for j := range tab {
		tab[j] = entry{loc: uint64(n) + uint64(j) + 2, info: gen}
	}
	tab[entriesPerFrame-1].loc = uint64(s.freeHead) // 0: the list was empty
	s.freeHead = n + 1
	s.nEntries = n + entriesPerFrame
	return true
}

// releaseTable gives every table and directory frame back; the store must
// hold no page. Entries made afterwards start at a generation above every
// one given so far (nextGen), so slots from before stay stale.
func (s *Compressed) releaseTable() {
	for n := uint32(0); n < s.nEntries; n += entriesPerFrame {
		t := n / entriesPerDir
		dir := (*[dirPerFrame]uint64)(unsafe.Pointer(s.frames.Page(s.top[t])))
		s.frames.Free(dir[n/entriesPerFrame%dirPerFrame])
		s.st.TableFrames--
		if n%entriesPerDir == entriesPerDir-entriesPerFrame || n+entriesPerFrame >= s.nEntries {
			s.frames.Free(s.top[t])
			s.st.TableFrames--
		}
	}
	s.nEntries, s.freeHead = 0, 0
}
