package acpi

import (
	"errors"
	"slices"
	"testing"
)

func TestParseRSDP(t *testing.T) {
	r, err := ParseRSDP(rsdp(0x1000, 0x2000))
	if err != nil {
		t.Fatal(err)
	}
	if r.Revision != 2 || r.RSDT != 0x1000 || r.XSDT != 0x2000 || string(r.OEMID[:]) != "HURDVM" || r.Address != 0 {
		t.Errorf("%+v", r)
	}
	r, err = ParseRSDP(rsdp(0x1000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if r.Revision != 0 || r.RSDT != 0x1000 || r.XSDT != 0 {
		t.Errorf("%+v", r)
	}
	// The first 20 bytes of a revision 2 RSDP: the RSDT only.
	r, err = ParseRSDP(rsdp(0x1000, 0x2000)[:rsdpV1Length])
	if err != nil || r.Revision != 2 || r.RSDT != 0x1000 || r.XSDT != 0 {
		t.Errorf("%+v, %v", r, err)
	}
	// multiboot2's old tag may carry more than 20 bytes of a revision 0
	// RSDP (GRUB copies sizeof its v1 struct); the rest is not read.
	if _, err := ParseRSDP(append(rsdp(0x1000, 0), 0xff, 0xff, 0xff)); err != nil {
		t.Error(err)
	}
}

func TestRSDPRefused(t *testing.T) {
	v2 := rsdp(0x1000, 0x2000)
	badSum := slices.Clone(v2)
	badSum[8]++
	badExt := slices.Clone(v2)
	badExt[32]++
	badSig := slices.Clone(v2)
	badSig[0] = 'X'
	longLength := slices.Clone(v2)
	longLength[20] = 40
	fixChecksum(longLength[:rsdpV1Length], 8)
	fixChecksum(longLength, 32)
	checkRefusals(t, ParseRSDP, []refusal{
		{"checksum", badSum, ErrChecksum, "acpi: RSDP checksum mismatch"},
		{"extended checksum", badExt, ErrChecksum, "acpi: RSDP extended checksum mismatch"},
		{"signature", badSig, ErrSignature, `does not start with "RSD PTR "`},
		{"short", v2[:19], ErrTruncated, "RSDP has 19 bytes, fewer than 20"},
		{"length past the bytes", longLength, ErrTruncated, "gives length 40 with 36 bytes at hand"},
	})
}

func TestFindRSDPInBIOSArea(t *testing.T) {
	m := newMachine(madt(0xfee00000, 1, lapicEntry(0, 0, 1)))
	r, err := FindRSDP(m.memory())
	if err != nil {
		t.Fatal(err)
	}
	if r.Address != testRSDPAt || r.XSDT != testXSDTAt {
		t.Errorf("%+v", r)
	}
}

// The EBDA's first KiB is searched first, through the segment at 0x40E.
func TestFindRSDPInEBDA(t *testing.T) {
	bda := make([]byte, 0x100)
	bda[0x0e], bda[0x0f] = 0xc0, 0x9f // segment 0x9fc0: the EBDA at 0x9fc00
	ebda := make([]byte, 1024)
	copy(ebda[0x3f0:], rsdp(0x1000, 0)) // the last 16-byte slot of the KiB... almost
	copy(ebda[0x100:], rsdp(0x2000, 0))
	m := (&machine{}).put(0x400, bda).put(0x9fc00, ebda).
		put(biosAreaBase, append(make([]byte, 0x100), rsdp(0x3000, 0)...))
	r, err := FindRSDP(m.memory())
	if err != nil {
		t.Fatal(err)
	}
	if r.Address != 0x9fd00 || r.RSDT != 0x2000 {
		t.Errorf("found %+v, want the EBDA's at 0x9fd00", r)
	}
}

// A candidate with the signature and a bad checksum is passed over; the
// valid one after it is found; with none valid, the error names the bad one.
func TestFindRSDPSkipsBadCandidates(t *testing.T) {
	bios := make([]byte, biosAreaSize)
	bad := rsdp(0x1000, 0)
	bad[8]++
	copy(bios[0x10:], bad)
	copy(bios[0x20:], "RSD PTR ") // a signature alone, e.g. in BIOS code
	unaligned := rsdp(0x3000, 0)
	copy(bios[0x38:], unaligned) // not on a 16-byte boundary: not found
	m := (&machine{}).put(biosAreaBase, bios)
	_, err := FindRSDP(m.memory())
	if !errors.Is(err, ErrChecksum) || err.Error() != "acpi: RSDP checksum mismatch at 0xe0010" {
		t.Errorf("error %v, want the checksum mismatch at 0xe0010", err)
	}
	copy(bios[0x400:], rsdp(0x2000, 0))
	r, err := FindRSDP(m.memory())
	if err != nil || r.Address != 0xe0400 {
		t.Errorf("found %+v, %v; want the RSDP at 0xe0400", r, err)
	}
}

func TestFindRSDPNone(t *testing.T) {
	// No memory at all, an empty BIOS area, a BDA pointing at no EBDA.
	for _, m := range []*machine{
		{},
		(&machine{}).put(biosAreaBase, make([]byte, biosAreaSize)),
		(&machine{}).put(0x400, []byte{0x0e: 0xff, 0x0f: 0xff}),
	} {
		_, err := FindRSDP(m.memory())
		if !errors.Is(err, ErrNotFound) || err.Error() != "acpi: no RSDP in the EBDA or at 0xe0000-0xfffff" {
			t.Errorf("error %v", err)
		}
	}
}

// A revision 2 RSDP in the last 32 bytes below 1 MiB runs past the BIOS
// area: the scan reads it whole.
func TestFindRSDPAtTheEnd(t *testing.T) {
	mem := make([]byte, biosAreaSize+0x100)
	copy(mem[biosAreaSize-32:], rsdp(0x1000, 0x2000))
	m := (&machine{}).put(biosAreaBase, mem)
	r, err := FindRSDP(m.memory())
	if err != nil || r.Address != 0xfffe0 || r.XSDT != 0x2000 {
		t.Errorf("%+v, %v", r, err)
	}
}

// In a scan, a revision 2 RSDP must be whole: one cut off by the end of
// memory is refused.
func TestFindRSDPCutOff(t *testing.T) {
	bios := make([]byte, biosAreaSize-8)
	copy(bios[len(bios)-24:], rsdp(0x1000, 0x2000))
	_, err := FindRSDP((&machine{}).put(biosAreaBase, bios).memory())
	wantError(t, nil, err, ErrTruncated, "RSDP at 0xfffe0 is revision 2 but has 24 bytes, fewer than 36")
}
