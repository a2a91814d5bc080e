// Context: any, including handlers: constants only.

package paging

// Error is the type of every error paging returns. The errors are string
// constants: comparable with ==, and returning one as an error interface
// allocates nothing (the compiler points the interface at static data), so
// the fault and system-call paths may return them. Internal functions pass
// them on as error, never through a variable of type Error, which would be
// converted (and allocated) at run time.
type Error string

func (e Error) Error() string { return string(e) }

const (
	// ErrMapped: Map over a range where something is mapped (nothing is
	// changed), or ShareKernelHalf over a slot that is in use.
	ErrMapped Error = "paging: range already mapped"
	// ErrMisaligned: va, pa or size not a multiple of 4 KiB, or a table
	// frame from Frames that is not page-aligned.
	ErrMisaligned Error = "paging: address or size not 4 KiB aligned"
	// ErrNonCanonical: the range does not lie inside one canonical half
	// (it starts or ends in the hole, crosses it, or wraps around).
	ErrNonCanonical Error = "paging: non-canonical virtual address range"
	// ErrPhysAddr: the physical range does not fit in 52 bits.
	ErrPhysAddr Error = "paging: physical address beyond 52 bits"
	// ErrFlags: flags outside FlagMask.
	ErrFlags Error = "paging: flags outside FlagMask"
	// ErrNoMemory: Frames had no table frame. The operation changed
	// nothing (see the package documentation).
	ErrNoMemory Error = "paging: out of page-table frames"
	// ErrEnv: an Env without Frames or TLB, or a PageTable used before Init.
	ErrEnv Error = "paging: incomplete Env"
	// ErrSlot: a PML4 slot range outside 0..511 or reversed.
	ErrSlot Error = "paging: bad PML4 slot range"
	// ErrNotPinned: ShareKernelHalf of a slot the source has not pinned.
	ErrNotPinned Error = "paging: PML4 slot not pinned in the source"
	// ErrNotMapped: Replace of an address with no 4 KiB leaf.
	ErrNotMapped Error = "paging: no 4 KiB page mapped there"
)
