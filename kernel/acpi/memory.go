package acpi

import "encoding/binary"

// Memory gives the kernel's view of physical memory: the n bytes at
// physical address pa, or nil or fewer than n bytes where [pa, pa+n) is not
// memory the kernel maps (the kernel returns a slice of its physmap, so
// reading costs no copy). The package never writes through it.
type Memory func(pa uint64, n int) []byte

// read returns exactly n bytes at pa, or nil when Memory gives fewer
// (an address range that wraps past 2^64 is never memory).
func (mem Memory) read(pa uint64, n int) []byte {
	if n < 0 || pa+uint64(n) < pa {
		return nil
	}
	b := mem(pa, n)
	if len(b) < n {
		return nil
	}
	return b[:n]
}

// sum is the byte sum ACPI's checksums make zero (ACPI 6.5, 5.2.5.3 and
// 5.2.6: "the entire table, including the checksum field, must add to
// zero").
func sum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
