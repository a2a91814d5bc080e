// Context: any, including the trap, fault and system-call handlers: this file
// holds only constants and small leaf functions (nosplit, no heap).

package paging

// Entry is one 64-bit x86-64 page-table entry, at any of the four levels.
// Which bits mean what depends on the level and on Huge (Intel SDM vol. 3,
// tables 4-14 to 4-20); the constants below are the bits paging uses.
type Entry uint64

// Hardware bits of an entry.
const (
	Present      Entry = 1 << 0 // the entry is valid; with it clear the CPU ignores every other bit
	Writable     Entry = 1 << 1 // writes allowed (supervisor writes too while CR0.WP is set)
	User         Entry = 1 << 2 // ring 3 may access
	WriteThrough Entry = 1 << 3 // PWT
	CacheDisable Entry = 1 << 4 // PCD
	Accessed     Entry = 1 << 5 // set by the CPU on use
	Dirty        Entry = 1 << 6 // set by the CPU on write (leaves only)
	Huge         Entry = 1 << 7 // PS: in a PDPT or PD entry, the entry maps a 1 GiB or 2 MiB page
	Global       Entry = 1 << 8 // the translation survives a CR3 reload (leaves only, CR4.PGE)
	NoExecute    Entry = 1 << 63
)

// Software bits: the CPU ignores bits 9-11 of every entry, paging uses two of
// them in PML4 entries to know which PDPTs are shared between address spaces
// (see PageTable.Pin and PageTable.ShareKernelHalf). Keeping this in the
// entry itself, instead of a side table, lets the state travel with the entry
// and costs no memory.
const (
	// Pinned marks a PML4 entry whose PDPT is never freed when it becomes
	// empty, because other address spaces link the same PDPT.
	Pinned Entry = 1 << 9
	// Borrowed marks a PML4 entry that links a PDPT owned by another
	// PageTable: Destroy leaves that PDPT alone.
	Borrowed Entry = 1 << 10
	// dying marks, inside Unmap only, a leaf that is no longer present but
	// not yet released (see clear). Clearing Present alone is not enough:
	// a leaf mapping physical 0 with no flags would then read as an empty
	// entry, and its page would never be invalidated nor released.
	dying Entry = 1 << 11
	// Evicted marks a soft entry: a page-table (PT-level) entry that is
	// not present but records where the page's data went (the pager's
	// store slot, docs/DESIGN.md "Pager"). Bit 10 is Borrowed in PML4
	// entries, which are present; a soft entry is never present and
	// exists only in PTs, so the two never meet. See soft.go.
	Evicted Entry = 1 << 10
	// Withheld marks a withheld leaf: a 4 KiB (PT-level) leaf made not
	// present by Withhold (mprotect's PROT_NONE) that keeps its frame,
	// its flags and Accessed/Dirty for the Change that gives the access
	// back. Bit 9 is Pinned in PML4 entries, which are never leaves; a
	// withheld entry exists only in PTs. See withhold.go.
	Withheld Entry = 1 << 9
)

// addrMask is the physical-address field, bits 12 to 51 (MAXPHYADDR is at
// most 52 bits on x86-64).
const addrMask Entry = 0x000f_ffff_ffff_f000

// MaxPhysAddr bounds the physical addresses an entry can hold.
const MaxPhysAddr = 1 << 52

// Addr returns the physical-address field of e (bits 12..51). For a huge
// leaf the low bits of the field hold the PAT bit (bit 12), which paging
// never sets; callers wanting the page frame mask it with the page size.
//
//go:nosplit
func (e Entry) Addr() uint64 { return uint64(e & addrMask) }

// Flags are the permission and cache bits a caller chooses in Map and
// Protect: a subset of the Entry bits (FlagMask), so Flags is an alias of
// Entry and callers write paging.Writable|paging.NoExecute directly.
// Present is implied and must not be passed; Accessed and Dirty belong to
// the CPU; Huge is paging's choice.
type Flags = Entry

// FlagMask is every bit a caller may pass as Flags.
const FlagMask = Writable | User | WriteThrough | CacheDisable | Global | NoExecute

// tableLink is how an entry that points to a lower table is written: present,
// writable and user, so that the leaf alone decides the access rights (x86
// combines the rights of every level of the walk with AND).
const tableLink = Present | Writable | User

// Page sizes: the leaf sizes of the PT, PD and PDPT levels.
const (
	PageSize      = 4096
	HugePageSize  = 2 << 20
	GiantPageSize = 1 << 30
)

// Level names one of the four levels of the walk. The values follow the
// SDM's numbering (the PML4 is the level-4 table), so the shift of the
// address bits a level indexes is 3 + 9*level.
type Level int

const (
	PT   Level = 1 + iota // page table: 4 KiB leaves
	PD                    // page directory: 2 MiB leaves (Huge) or PTs
	PDPT                  // page-directory-pointer table: 1 GiB leaves (Huge) or PDs
	PML4                  // the root: PDPTs only, never leaves
)

// Shift is the lowest virtual-address bit that indexes a table at level l.
// The mask changes nothing for the four levels; it tells the compiler the
// shift count is below 64, which spares every walk step the code Go
// otherwise adds for oversized shifts.
//
//go:nosplit
func (l Level) Shift() uint { return (3 + 9*uint(l)) & 63 }

// Size is the span of virtual addresses one entry of a level-l table covers:
// the page size of a leaf at that level (512 GiB for the PML4, which has no
// leaves).
//
//go:nosplit
func (l Level) Size() uintptr { return 1 << l.Shift() }

// Index is the slot of va in a level-l table.
//
//go:nosplit
func (l Level) Index(va uintptr) int { return int(va>>l.Shift()) & 511 }

// String names the level (no fmt: handler-safe).
func (l Level) String() string {
	switch l {
	case PT:
		return "PT"
	case PD:
		return "PD"
	case PDPT:
		return "PDPT"
	case PML4:
		return "PML4"
	}
	return "Level(?)"
}

// Canonical reports whether va is a canonical 48-bit address: bits 63..47
// all equal (4-level paging; LA57 is not supported).
//
//go:nosplit
func Canonical(va uintptr) bool { return uintptr(int64(va<<16)>>16) == va }

// SlotBase is the first virtual address covered by PML4 slot i (0..511):
// slots 256 and up are the higher half, sign-extended.
//
//go:nosplit
func SlotBase(i int) uintptr { return uintptr(int64(uint64(i&511)<<(PML4.Shift()+16)) >> 16) }
