// Context: handler. Put, Get, Dup, Free, Refs, Stats and SetCapacity run
// where the kernel's page-fault and eviction paths run, under the rules of
// docs/DESIGN.md, "Handler context": no heap allocation, no Go locks, no
// stores of Go pointers, no panics (the compiler's run-time checks remain,
// as everywhere in handler code). Every byte they touch is the Compressed
// value itself or a frame from Frames. Init stores the Frames value (a Go
// pointer: kmain, before the runtime starts, or ordinary Go code); New
// allocates and is for ordinary Go code only.
//
// Single-threaded by contract: the caller serializes every call (the kernel
// takes one spinlock, interrupts off, around each): the compressor's tables
// and the gather buffer are the store's own, and so are its lists.

package store

import (
	"unsafe"

	"github.com/pierrec/lz4/v4"
)

// Compressed is the compressed backend: Linux's zram over zsmalloc, in
// frames the kernel lends it. Each page is compressed with LZ4's block
// format; compressed pages are packed into size-class zspages
// (zspage.go), pages that do not compress to maxCompressed bytes take a
// frame of their own as they are, and all-zero pages are not stored
// (ZeroSlot). A slot table (table.go) maps each slot to its data and
// counts its references.
//
// Its state is integers, arrays and the Frames value: it can be a
// package-level variable of the kernel (about 150 KiB, most of it the LZ4
// compressor's hash table), set up once with Init.
type Compressed struct {
	frames   Frames
	capPages uint64 // capacity in pages
	st       Stats

	// The slot table (table.go).
	top      [topEntries]uint64 // directory frames
	nEntries uint32             // entries made, a multiple of entriesPerFrame
	freeHead uint32             // first free entry's index plus one, 0 if none
	nextGen  uint64             // generation of a new table frame's entries: above every one freed

	// The zspages with free objects, by class: the head of each list
	// (zspage.go).
	partial [numSizes]uint64

	comp    lz4.Compressor
	compBuf [maxCompressed]byte // Put compresses here
	gather  [maxCompressed]byte // Get gathers an object that straddles two frames here
}

var _ Backend = (*Compressed)(nil)

// New returns a store over frames holding up to capacity uncompressed bytes
// (see Init). It allocates: not for handler context.
func New(frames Frames, capacity uint64) *Compressed {
	s := new(Compressed)
	s.Init(frames, capacity)
	return s
}

// Init makes s an empty store over frames that holds up to capacity bytes
// of uncompressed pages (rounded down to pages, at most MaxCapacity; 0
// stores nothing but zero pages). s must hold no page: Init forgets
// whatever it held.
func (s *Compressed) Init(frames Frames, capacity uint64) {
	s.frames = frames
	s.top = [topEntries]uint64{}
	s.nEntries, s.freeHead, s.nextGen = 0, 0, 0
	for c := range s.partial {
		s.partial[c] = nilPhys
	}
	s.st = Stats{}
	s.SetCapacity(capacity)
}

// SetCapacity changes the capacity, in uncompressed bytes (rounded down to
// pages, at most MaxCapacity). Below what the store holds, it refuses new
// pages until enough are freed.
func (s *Compressed) SetCapacity(capacity uint64) {
	s.capPages = min(capacity, MaxCapacity) / PageSize
	s.st.Capacity = s.capPages * PageSize
}

// Put stores page: nothing for a page of zeroes (ZeroSlot); LZ4's block
// compressed into a size class when that takes at most three quarters of a
// page; the page as it is in a frame of its own otherwise. It fails with
// ErrFull when the store holds its capacity and with ErrNoFrames when
// Frames has too few frames for the page and the table entry; either way
// it holds no more than before.
func (s *Compressed) Put(page *[PageSize]byte) (Slot, error) {
	s.st.Puts++
	if isZero(page) {
		s.st.ZeroPages++
		return ZeroSlot, nil
	}
	if s.st.Pages >= s.capPages {
		s.st.FullPuts++
		return 0, ErrFull
	}
	// With compBuf shorter than lz4.CompressBlockBound(PageSize), the
	// compressor returns 0 (maybe with an error) for a page whose block
	// would not fit, giving up early on incompressible data.
	n, err := s.comp.CompressBlock(page[:], s.compBuf[:])
	var loc uint64
	if err != nil || n <= 0 || n > maxCompressed {
		n = PageSize
		f, ok := s.frames.Alloc()
		if !ok {
			s.st.FramePuts++
			return 0, ErrNoFrames
		}
		*s.frames.Page(f) = *page
		s.st.DataFrames++
		loc = f
	} else {
		var ok bool
		if loc, ok = s.allocObject(classFor(n)); !ok {
			s.st.FramePuts++
			return 0, ErrNoFrames
		}
		s.writeObject(loc, s.compBuf[:n])
	}
	i, ok := s.allocEntry()
	if !ok {
		s.release(loc, n)
		s.st.FramePuts++
		return 0, ErrNoFrames
	}
	e := s.entry(i)
	gen := e.gen()
	e.loc = loc
	e.info = 1 | gen<<genShift | uint64(n)<<lenShift
	s.st.Pages++
	s.st.Refs++
	s.st.CompressedBytes += uint64(n)
	if n == PageSize {
		s.st.RawPages++
	}
	return slotOf(i, gen), nil
}

// Get decompresses (or copies) the page sl holds into dst. It fails with
// ErrBadSlot for a slot the store does not hold, and with ErrCorrupt, dst
// partly written, if the stored block does not decompress to a page.
func (s *Compressed) Get(sl Slot, dst *[PageSize]byte) error {
	s.st.Gets++
	if sl == ZeroSlot {
		clear(dst[:])
		return nil
	}
	e, _, ok := s.lookup(sl)
	if !ok {
		return ErrBadSlot
	}
	n := int(e.length())
	if n == PageSize {
		*dst = *s.frames.Page(e.loc)
		return nil
	}
	m, err := lz4.UncompressBlock(s.readObject(e.loc, n), dst[:])
	if err != nil || m != PageSize {
		return ErrCorrupt
	}
	return nil
}

// Dup adds a reference to sl.
func (s *Compressed) Dup(sl Slot) error {
	if sl == ZeroSlot {
		return nil
	}
	e, _, ok := s.lookup(sl)
	if !ok {
		return ErrBadSlot
	}
	if e.refs() == maxRefs {
		return ErrRefs
	}
	e.info++
	s.st.Refs++
	return nil
}

// Free drops a reference to sl, and with the last one releases its data
// (a zspage left empty and a raw page's frame go back to Frames at once)
// and its entry (the whole table when the store is left empty).
func (s *Compressed) Free(sl Slot) error {
	if sl == ZeroSlot {
		return nil
	}
	e, i, ok := s.lookup(sl)
	if !ok {
		return ErrBadSlot
	}
	e.info--
	s.st.Refs--
	if e.refs() != 0 {
		return nil
	}
	n := int(e.length())
	s.release(e.loc, n)
	s.freeEntry(i, e)
	s.st.Pages--
	s.st.CompressedBytes -= uint64(n)
	if n == PageSize {
		s.st.RawPages--
	}
	if s.st.Pages == 0 {
		s.releaseTable()
	}
	return nil
}

// release gives back the data at loc, n bytes stored.
func (s *Compressed) release(loc uint64, n int) {
	if n == PageSize {
		s.frames.Free(loc)
		s.st.DataFrames--
		return
	}
	s.freeObject(loc)
}

// Refs returns the number of references to sl, 0 if the store does not hold
// it.
func (s *Compressed) Refs(sl Slot) uint32 {
	e, _, ok := s.lookup(sl)
	if !ok {
		return 0
	}
	return uint32(e.refs())
}

// Stats returns the store's counters.
func (s *Compressed) Stats() Stats {
	st := s.st
	st.UncompressedBytes = st.Pages * PageSize
	return st
}

// isZero reports whether every byte of page is zero, 64 bytes at a time.
func isZero(page *[PageSize]byte) bool {
	w := (*[PageSize / 8]uint64)(unsafe.Pointer(page))
	for i := 0; i < len(w); i += 8 {
		if w[i]|w[i+1]|w[i+2]|w[i+3]|w[i+4]|w[i+5]|w[i+6]|w[i+7] != 0 {
			return false
		}
	}
	return true
}
