// Context: handler. The interfaces here are called from the page-fault and
// eviction paths, under the rules of docs/DESIGN.md, "Handler context";
// their implementations must obey them too. Errors are constants.

package store

// Backend holds the pages the pager evicts. The fault path knows only this
// interface: the compressed store (Compressed) is the first backend, a block
// device can be a second one, or a tier behind the first, without a change
// there.
//
// Calls are serialized by the caller (the kernel takes the store's spinlock
// around each call); a backend has no lock of its own.
type Backend interface {
	// Put stores a copy of page and returns its slot, with one
	// reference. An all-zero page is not stored: Put returns ZeroSlot
	// and nil. When the backend cannot take the page, Put returns an
	// error (ErrFull, ErrNoFrames) and holds nothing more than before.
	Put(page *[PageSize]byte) (Slot, error)
	// Get copies the page s holds into dst. The slot keeps its
	// references: the pager frees it (or keeps it, for a page still
	// shared) when it is done with it. Get of ZeroSlot clears dst.
	Get(s Slot, dst *[PageSize]byte) error
	// Dup adds a reference to s: a page shared copy-on-write by a parent
	// and its child after fork is one slot, referenced from both page
	// tables. Dup of ZeroSlot does nothing.
	Dup(s Slot) error
	// Free drops one reference to s and releases the page with the last
	// one. Free of ZeroSlot does nothing.
	Free(s Slot) error
	// Refs returns the number of references to s: 0 for ZeroSlot or a
	// slot not in use. The pager uses it to tell a page it alone holds
	// (bring it back and free the slot) from a shared one.
	Refs(s Slot) uint32
	// Stats returns the backend's counters.
	Stats() Stats
}

// Frames gives the compressed store the 4 KiB frames it packs pages into,
// and holds its metadata in. The kernel implements it over mm's frame
// allocator and the physmap, the host tests over simulated memory. The
// methods are called in handler context and must obey its rules.
type Frames interface {
	// Alloc returns the physical address of a free 4 KiB frame (contents
	// undefined), or ok == false when there is none. Physical address 0
	// is a frame like any other.
	Alloc() (phys uint64, ok bool)
	// Free takes back a frame Alloc gave.
	Free(phys uint64)
	// Page returns the frame at phys, which Alloc gave and Free has not
	// taken back, as memory the caller may read and write.
	Page(phys uint64) *[PageSize]byte
}

// Error is a backend's error. The values are constants, so returning one
// allocates nothing (mm.ErrnoOf maps any of them to ENOMEM).
type Error uint8

const (
	// ErrFull: the store holds its capacity of uncompressed bytes.
	ErrFull Error = 1 + iota
	// ErrNoFrames: the frame source has no frame for the page or for the
	// store's metadata.
	ErrNoFrames
	// ErrBadSlot: the slot is not one the backend gave and still holds
	// (never issued, freed, or of an older generation): a pager bug.
	ErrBadSlot
	// ErrCorrupt: the stored data did not decompress to a whole page.
	ErrCorrupt
	// ErrRefs: Dup would overflow the slot's reference count.
	ErrRefs
	// ErrBusy: the backend cannot answer without waiting (a block
	// device's read or write in flight). The compressed store never
	// returns it; a pager that handles it (blocks the thread, then
	// retries the fault) is ready for a device behind this interface.
	ErrBusy
	// ErrOption: a capacity option's value does not parse.
	ErrOption
)

// Error returns a constant description of e.
func (e Error) Error() string {
	switch e {
	case ErrFull:
		return "store: full (capacity of uncompressed bytes reached)"
	case ErrNoFrames:
		return "store: no free frame"
	case ErrBadSlot:
		return "store: slot not in use"
	case ErrCorrupt:
		return "store: stored page does not decompress"
	case ErrRefs:
		return "store: too many references to one slot"
	case ErrBusy:
		return "store: busy, try again"
	case ErrOption:
		return "store: bad capacity option (want a size such as 512M, 4G, 25% or off)"
	}
	return "store: unknown error"
}

// Stats are a backend's counters, for mm.ReadStats. Live counts describe the
// store now; cumulative ones count since Init.
type Stats struct {
	Capacity uint64 // uncompressed bytes the store may hold

	// Live.
	Pages             uint64 // pages held (slots in use; a shared slot once)
	RawPages          uint64 // of Pages, those stored as they are (incompressible)
	Refs              uint64 // references to the slots in use (> Pages when shared)
	UncompressedBytes uint64 // Pages * PageSize
	CompressedBytes   uint64 // bytes the pages take once compressed (a raw page PageSize)
	DataFrames        uint64 // frames holding pages: size-class frames and raw frames
	TableFrames       uint64 // frames holding the slot table

	// Cumulative.
	Puts      uint64 // pages Put was given, zero pages included
	ZeroPages uint64 // all-zero pages Put was given (not stored)
	Gets      uint64
	FullPuts  uint64 // Puts refused with ErrFull
	FramePuts uint64 // Puts refused with ErrNoFrames
}

// Frames is every frame the store holds.
func (s Stats) Frames() uint64 { return s.DataFrames + s.TableFrames }
