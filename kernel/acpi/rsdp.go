package acpi

// The Root System Description Pointer: where the firmware says its tables
// are (ACPI 6.5, 5.2.5). A boot loader may hand over a copy (multiboot2's
// ACPI old and new RSDP tags carry the structure itself, GRUB fills them
// from the EFI system table under UEFI); without one, a PC BIOS leaves it
// somewhere the OS scans for (5.2.5.1).

const (
	rsdpSignature = "RSD PTR "
	// rsdpV1Length is the ACPI 1.0 structure, which the first checksum
	// covers; revision 2 adds the length, the XSDT address and an
	// extended checksum over the whole structure (5.2.5.3).
	rsdpV1Length = 20
	rsdpV2Length = 36

	// The BIOS data area's word at 0x40E holds the EBDA's real-mode
	// segment; the spec scans the EBDA's first KiB, then the BIOS
	// read-only area 0xE0000-0xFFFFF, on 16-byte boundaries (5.2.5.1).
	ebdaPointer  = 0x40e
	ebdaScanSize = 1024
	biosAreaBase = 0xe0000
	biosAreaSize = 0x20000
	rsdpAlign    = 16
)

// RSDP is a validated Root System Description Pointer.
type RSDP struct {
	// Address is where the scan found it; 0 when it came from the boot
	// loader, which hands over a copy.
	Address  uint64
	Revision uint8 // 0 for ACPI 1.0 (RSDT only), 2 and up for ACPI 2.0+
	OEMID    [6]byte
	RSDT     uint32 // physical address of the RSDT (32-bit entries)
	XSDT     uint64 // physical address of the XSDT (64-bit entries); 0 before revision 2
}

// ParseRSDP validates an RSDP given as bytes, as multiboot2's ACPI tags
// carry it (the old tag a 20-byte ACPI 1.0 copy, the new one the whole
// revision 2 structure): the signature, the checksum of the first 20
// bytes and, from revision 2 on, the extended checksum over its Length.
// Given only the first 20 bytes of a revision 2 RSDP, it returns their
// ACPI 1.0 view: the RSDT, no XSDT.
func ParseRSDP(b []byte) (RSDP, error) {
	r, f := parseRSDP(b, 0, false)
	return r, f.err()
}

// parseRSDP validates the RSDP in b, found at address at (for messages and
// RSDP.Address; found says whether there is an address to give).
func parseRSDP(b []byte, at uint64, found bool) (RSDP, Fault) {
	fault := func(code faultCode, a, b uint64) (RSDP, Fault) {
		return RSDP{}, Fault{code: code, at: at, hasAt: found, a: a, b: b}
	}
	if len(b) < rsdpV1Length {
		return fault(fRSDPShort, uint64(len(b)), 0)
	}
	if string(b[:8]) != rsdpSignature {
		return fault(fRSDPSignature, 0, 0)
	}
	if sum(b[:rsdpV1Length]) != 0 {
		return fault(fRSDPChecksum, 0, 0)
	}
	r := RSDP{Address: at, Revision: b[15], RSDT: le32(b, 16)}
	copy(r.OEMID[:], b[9:15])
	if r.Revision >= 2 {
		// Revision 2's Length covers the whole structure; take it from
		// the bytes, not as 36, so a later revision's longer structure
		// is checked whole too.
		if len(b) < rsdpV2Length {
			if !found {
				// A loader's copy of the ACPI 1.0 part alone
				// (multiboot2's old tag is 20 bytes): what it
				// holds is valid, and gives the RSDT only.
				return r, Fault{}
			}
			return fault(fRSDPShortV2, uint64(r.Revision), uint64(len(b)))
		}
		n := le32(b, 20)
		if n < rsdpV2Length || uint64(n) > uint64(len(b)) {
			return fault(fRSDPLength, uint64(n), uint64(len(b)))
		}
		if sum(b[:n]) != 0 {
			return fault(fRSDPExtChecksum, 0, 0)
		}
		r.XSDT = le64(b, 24)
	}
	return r, Fault{}
}

// FindRSDP scans for the RSDP as a PC BIOS leaves it and as Linux finds it
// (ACPICA's acpi_find_root_pointer): the first KiB of the EBDA, whose
// segment is the word at 0x40E, then 0xE0000-0xFFFFF, on 16-byte
// boundaries. A candidate whose signature matches but whose checksum does
// not is passed over, as the spec's "signature and checksum match" asks;
// when nothing valid is found the error names the first such candidate.
func FindRSDP(mem Memory) (RSDP, error) {
	r, f := findRSDP(mem)
	return r, f.err()
}

func findRSDP(mem Memory) (RSDP, Fault) {
	var firstBad Fault
	if w := mem.read(ebdaPointer, 2); w != nil {
		// A segment below 0x40 or at the VGA hole and above is no EBDA
		// (0 on machines without one).
		if ebda := uint64(le16(w, 0)) << 4; ebda > 0x400 && ebda < 0xa0000 {
			if r, ok := scanRSDP(mem, ebda, ebdaScanSize, &firstBad); ok {
				return r, Fault{}
			}
		}
	}
	if r, ok := scanRSDP(mem, biosAreaBase, biosAreaSize, &firstBad); ok {
		return r, Fault{}
	}
	if firstBad.Failed() {
		return RSDP{}, firstBad
	}
	return RSDP{}, Fault{code: fNoRSDP}
}

// scanRSDP looks for a valid RSDP in [base, base+size); it reads the area
// as one piece, or as much of it as Memory gives.
func scanRSDP(mem Memory, base uint64, size int, firstBad *Fault) (RSDP, bool) {
	area := mem(base, size)
	if len(area) > size {
		area = area[:size]
	}
	for off := 0; off+rsdpV1Length <= len(area); off += rsdpAlign {
		if string(area[off:off+8]) != rsdpSignature {
			continue
		}
		at := base + uint64(off)
		b := area[off:]
		if b[15] >= 2 {
			// The extended structure may run past the area (an RSDP
			// in the last 36 bytes below 1 MiB): read it whole.
			n := uint32(rsdpV2Length)
			if len(b) >= 24 {
				n = max(n, le32(b, 20))
			}
			if uint64(n) > uint64(len(b)) {
				if whole := mem.read(at, int(n)); whole != nil {
					b = whole
				}
			}
		}
		r, f := parseRSDP(b, at, true)
		if !f.Failed() {
			return r, true
		}
		if !firstBad.Failed() {
			*firstBad = f
		}
	}
	return RSDP{}, false
}
