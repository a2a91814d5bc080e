package memmap

// The words the boot console uses for the map. A firmware's "reserved" is
// alarming when it reads as memory taken away: QEMU reserves 12 GiB just
// below 1 TiB that is no memory at all (address space for devices), and
// the few hundred KiB below 4 GiB are the BIOS's data and ROM. These words
// say which is which.

// Class is what a range is to someone reading the boot console.
type Class int

const (
	// KernelRAM is the RAM the kernel uses.
	KernelRAM Class = iota
	// Kept is what the firmware keeps or the kernel does not use: RAM
	// holding the ACPI tables or the firmware's state, faulty or unused
	// RAM, and reserved ranges below 4 GiB or among the RAM (BIOS data and
	// ROM, firmware memory, device registers). Some of it is RAM, some
	// is not; the map does not say.
	Kept
	// NotRAM is reserved address space at or above 4 GiB with no RAM
	// above it: room for devices, never memory.
	NotRAM
)

// RAMEnd is the end of the highest RAM range of m (sanitized): reserved
// ranges above it are address space, not memory.
func RAMEnd(m []Range) uint64 {
	end := uint64(0)
	for _, r := range m {
		if r.Kind.IsRAM() || r.Kind == Bad {
			end = max(end, r.End)
		}
	}
	return end
}

// Class says what r is in a map whose RAM ends at ramEnd (RAMEnd).
func (r Range) Class(ramEnd uint64) Class {
	switch {
	case r.Kind == Usable:
		return KernelRAM
	case r.Kind.IsRAM() || r.Kind == Bad:
		return Kept
	case r.Start >= 4<<30 && r.Start >= ramEnd:
		return NotRAM
	}
	return Kept
}

// What says in words what r is, in a map whose RAM ends at ramEnd.
// Kinds the firmware gave that this package does not know read like
// reserved ones; the caller may add the number (Kind.Known).
func (r Range) What(ramEnd uint64) string {
	switch r.Kind {
	case Usable:
		return "RAM the kernel uses"
	case Unused:
		return "RAM left unused (more ranges than the frame allocator takes)"
	case ACPI:
		return "RAM the firmware keeps: the ACPI tables"
	case NVS:
		return "RAM the firmware keeps for itself (ACPI NVS)"
	case Bad:
		return "RAM the firmware found faulty, never used"
	}
	switch {
	case r.End <= 1<<20:
		return "kept by the firmware (BIOS data and ROM)"
	case r.Class(ramEnd) == NotRAM:
		return "address space reserved for devices, not RAM"
	case r.Start < 4<<30:
		return "kept by the firmware or devices"
	}
	return "kept by the firmware"
}
