// Package memmap makes sense of the memory map a boot loader hands over
// (the multiboot mmap entries, which are the BIOS's E820 map or GRUB's
// reading of UEFI's map): it turns the firmware's list, which may be
// unsorted, overlapping, nested, empty in places or wrapping past 2^64,
// into sorted, disjoint ranges the kernel can trust (Sanitize), and says in
// words what each range is (Range.What).
//
// It runs in the kernel before the Go runtime has initialised anything
// (kmain), so nothing here allocates, locks or touches a variable: the
// caller passes the arrays. It is an ordinary package so that host tests
// run it over hostile maps and over the maps QEMU's firmware really gives
// (testdata).
package memmap

// Kind is what the firmware says a range is: the multiboot (and E820)
// type numbers. Numbers it does not know are kept as they are and treated
// like Reserved.
type Kind uint32

const (
	Usable   Kind = 1 // RAM free for the kernel
	Reserved Kind = 2 // not for the kernel: firmware, devices, or nothing
	ACPI     Kind = 3 // ACPI reclaimable: RAM holding the ACPI tables
	NVS      Kind = 4 // ACPI NVS: RAM the firmware keeps across sleep
	Bad      Kind = 5 // RAM the firmware found faulty

	// Unused is the kernel's own kind, never the firmware's: usable RAM
	// the kernel leaves alone because the map has more usable ranges than
	// the frame allocator takes (KeepLargest).
	Unused Kind = 0x100
)

// PageSize is the granularity of what the kernel maps and hands out.
const PageSize = 4096

// MaxAddr bounds every range: x86-64 physical addresses have at most 52
// bits, so nothing above is memory, and clamping there keeps the
// arithmetic of a wrapping entry from overflowing.
const MaxAddr = 1 << 52

// Entry is one entry of the boot loader's map, as given.
type Entry struct {
	Base, Length uint64
	Kind         Kind
}

// Range is [Start, End) of one kind; Sanitize's output.
type Range struct {
	Start, End uint64
	Kind       Kind
}

// Len is the range's size in bytes.
func (r Range) Len() uint64 { return r.End - r.Start }

// IsRAM reports whether the kind is memory (the kernel's or the
// firmware's) rather than address space: these are the ranges the kernel
// maps into its physmap.
func (k Kind) IsRAM() bool {
	switch k {
	case Usable, Unused, ACPI, NVS:
		return true
	}
	return false
}

// String is the firmware's name for the kind.
func (k Kind) String() string {
	switch k {
	case Usable:
		return "usable"
	case Reserved:
		return "reserved"
	case ACPI:
		return "ACPI reclaimable"
	case NVS:
		return "ACPI NVS"
	case Bad:
		return "bad"
	case Unused:
		return "usable, left unused"
	}
	return "unknown"
}

// Known reports whether the kind is one of the kinds above; the kernel
// prints the number of the others.
func (k Kind) Known() bool { return k >= Usable && k <= Bad || k == Unused }

// rank orders the kinds for overlaps: where entries overlap, the highest
// rank wins. Anything beats usable (a byte is usable only if every entry
// covering it says so); address space that may be a device beats RAM the
// firmware keeps, so that a range both "reserved" and "ACPI" is never
// mapped as memory; faulty RAM beats everything.
func (k Kind) rank() int {
	switch k {
	case Usable:
		return 0
	case ACPI:
		return 1
	case NVS:
		return 2
	case Bad:
		return 4
	}
	return 3 // Reserved, and every kind this package does not know
}
