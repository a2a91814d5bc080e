// Context: any, including handlers: constants and leaf functions.

package store

// PageSize is the size of the pages a Backend stores and of the frames the
// compressed store packs them into.
const PageSize = 4096

// Slot names a page held by a Backend: what the page-table entry of an
// evicted page records, and what Get, Dup and Free take back.
//
// A Slot is SlotBits wide. ZeroSlot (0) is the all-zero page, which no
// backend stores; every other value a backend returns is in [1, MaxSlot].
// The value is the backend's business (the compressed store puts an index
// into its slot table in the low 27 bits and a generation in the next 16,
// so that a stale slot is caught rather than read: Compressed.Get).
type Slot uint64

const (
	// SlotBits is the width of a Slot: it fits the not-present entry
	// layout below, bits 12 to 61 of a page-table entry.
	SlotBits = 50
	// ZeroSlot is the page of zeroes. Put returns it for an all-zero page
	// and stores nothing; the pager should make the entry empty again, so
	// that the page comes back as demand-zero (a pre-zeroed frame, no
	// copy). Get, Dup, Free and Refs accept it all the same: Get clears
	// dst, Dup and Free do nothing, Refs says 0.
	ZeroSlot Slot = 0
	// MaxSlot is the largest slot a backend may return. The all-ones
	// value is never used, so an encoded slot is never the all-zero
	// field, whatever the slot (see PTE).
	MaxSlot Slot = 1<<SlotBits - 2
)

// The not-present page-table entry of an evicted page. The CPU ignores every
// bit of an x86-64 entry whose bit 0 (Present) is clear, so the pager may
// put the slot there. The layout:
//
//	bit  0       Present: 0
//	bits 1..11   the paging layer's own: it should mark slot entries with a
//	             software bit (paging's leaves already use bit 11 for a
//	             transient state inside Unmap, so another of 9..11)
//	bits 12..61  the slot, inverted
//	bits 62..63  0
//
// The slot is stored inverted, as Linux stores its swap offsets
// (arch/x86/include/asm/pgtable-invert.h): on CPUs open to L1 Terminal
// Fault (CVE-2018-3620) a not-present entry's address bits (12..51) may
// still be used speculatively to look up the L1 cache. Inverted, a small
// slot's address bits are nearly all ones: an address above any RAM, whose
// lines no cache holds. It also means the slot field of an encoded entry is
// never zero (MaxSlot excludes the all-ones slot), so an encoded ZeroSlot
// is not the empty entry.
const (
	PTESlotShift = 12
	// PTESlotMask covers the slot's bits in an entry.
	PTESlotMask uint64 = (1<<SlotBits - 1) << PTESlotShift
)

// PTE returns s as the slot field of a not-present page-table entry: bits
// 12..61 as PTESlotMask says, every other bit 0. The paging layer ORs in
// its own marker bit.
//
//go:nosplit
func (s Slot) PTE() uint64 {
	return ^(uint64(s) << PTESlotShift) & PTESlotMask
}

// SlotOfPTE returns the slot a not-present entry made by PTE holds; the
// bits outside PTESlotMask are ignored.
//
//go:nosplit
func SlotOfPTE(pte uint64) Slot {
	return Slot((^pte & PTESlotMask) >> PTESlotShift)
}
