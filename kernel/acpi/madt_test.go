package acpi

import (
	"slices"
	"testing"
)

func TestMADTEntries(t *testing.T) {
	b := madt(0xfee00000, madtPCATCompat,
		lapicEntry(0, 0, cpuEnabled),
		lapicEntry(1, 2, cpuEnabled),
		lapicEntry(2, 4, cpuOnlineCapable),
		lapicEntry(3, 6, 0),                 // neither: listed, not usable
		lapicEntry(9, invalidAPICID, 1),     // the broadcast ID: not a CPU
		x2apicEntry(300, cpuEnabled, 0x100), // an APIC ID only x2APIC can give
		x2apicEntry(invalidX2APICID, cpuEnabled, 0x101),
		ioapicEntry(1, 0xfec00000, 0),
		ioapicEntry(2, 0xfec01000, 24),
		overrideEntry(0, 0, 2, 0),
		overrideEntry(0, 9, 9, 0xd), // active high, level
		nmiSourceEntry(0x5, 23),
		lapicNMIEntry(0xff, 0, 1),
		x2apicNMIEntry(0, 0x100, 1),
		entry(0x7f, []byte{1, 2, 3, 4, 5}),                                      // unknown: skipped by its length
		entry(typeLocalAPIC, []byte{4, 8}, u32(cpuEnabled), []byte{0xaa, 0xbb}), // longer than 8: read
	)
	m, err := ParseMADT(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.LocalAPICAddress != 0xfee00000 || !m.PCATCompat {
		t.Errorf("local APIC %#x, PC-AT %v", m.LocalAPICAddress, m.PCATCompat)
	}
	want := []CPU{
		{0, 0, cpuEnabled, false},
		{1, 2, cpuEnabled, false},
		{2, 4, cpuOnlineCapable, false},
		{3, 6, 0, false},
		{0x100, 300, cpuEnabled, true},
		{4, 8, cpuEnabled, false},
	}
	if !slices.Equal(m.CPUs, want) {
		t.Errorf("CPUs\n got %+v\nwant %+v", m.CPUs, want)
	}
	usable := 0
	for _, c := range m.CPUs {
		if c.Usable() {
			usable++
		}
	}
	if usable != 5 || !m.CPUs[2].OnlineCapable() || m.CPUs[2].Enabled() || m.CPUs[3].Usable() {
		t.Errorf("flags: %d usable, %+v", usable, m.CPUs)
	}
	if !slices.Equal(m.IOAPICs, []IOAPIC{{1, 0xfec00000, 0}, {2, 0xfec01000, 24}}) {
		t.Errorf("I/O APICs %+v", m.IOAPICs)
	}
	if !slices.Equal(m.InterruptOverrides, []InterruptOverride{{0, 0, 2, 0}, {0, 9, 9, 0xd}}) {
		t.Errorf("overrides %+v", m.InterruptOverrides)
	}
	if o := m.InterruptOverrides[1]; o.Polarity() != 1 || o.Trigger() != 3 {
		t.Errorf("IRQ 9: polarity %d trigger %d, want 1 (high) and 3 (level)", o.Polarity(), o.Trigger())
	}
	if !slices.Equal(m.NMISources, []NMISource{{0x5, 23}}) {
		t.Errorf("NMI sources %+v", m.NMISources)
	}
	if !slices.Equal(m.LocalNMIs, []LocalNMI{{AllProcessors, 0, 1}, {0x100, 0, 1}}) {
		t.Errorf("local NMIs %+v", m.LocalNMIs)
	}
	const summary = "4 CPUs (APIC IDs 0,2,8,300, 1 by x2APIC entries), 1 more online-capable (APIC ID 4), " +
		"1 entry not enabled (APIC ID 6), local APIC at 0xfee00000, 2 I/O APICs at 0xfec00000, 0xfec01000"
	if s := m.String(); s != summary {
		t.Errorf("String\n got %q\nwant %q", s, summary)
	}
}

func TestMADTLocalAPICOverride(t *testing.T) {
	m, err := ParseMADT(madt(0xfee00000, 0, lapicEntry(0, 0, 1), lapicOverrideEntry(0x1_0000_fee0_0000)))
	if err != nil {
		t.Fatal(err)
	}
	if m.LocalAPICAddress != 0x1_0000_fee0_0000 {
		t.Errorf("local APIC at %#x, want the override's 0x10000fee00000", m.LocalAPICAddress)
	}
	if m.PCATCompat {
		t.Error("PC-AT compatible without the flag")
	}
	if s := m.String(); s != "1 CPU (APIC ID 0), local APIC at 0x10000fee00000, 0 I/O APICs" {
		t.Errorf("String %q", s)
	}
}

// Corrupt tables are refused with the right error, and never panic or
// loop (the test would hang).
func TestMADTRefused(t *testing.T) {
	good := madt(0xfee00000, 1, lapicEntry(0, 0, 1), ioapicEntry(0, 0xfec00000, 0))
	badSum := slices.Clone(good)
	badSum[len(badSum)-1]++
	longLength := slices.Clone(good)
	longLength[4] += 8 // Length past the bytes given
	fixChecksum(longLength, 9)
	shortLength := table("APIC", 1, u32(0xfee00000)) // no flags field
	wrongSig := slices.Clone(good)
	copy(wrongSig, "FACP")
	fixChecksum(wrongSig, 9)

	checkRefusals(t, ParseMADT, []refusal{
		{"bad checksum", badSum, ErrChecksum, "acpi: APIC checksum mismatch"},
		{"truncated buffer", good[:len(good)-4], ErrTruncated, "acpi: APIC gives length 64 with 60 bytes at hand"},
		{"length past the bytes", longLength, ErrTruncated, "gives length 72 with 64 bytes at hand"},
		{"length inside the header", shortLength, ErrTruncated, "leaves no room for its local APIC address"},
		{"shorter than a header", good[:20], ErrTruncated, "fewer than its 36-byte header"},
		{"wrong signature", wrongSig, ErrSignature, `signature "FACP", not "APIC"`},
		{"entry of length 0", madt(0xfee00000, 1, lapicEntry(0, 0, 1), []byte{typeLocalAPIC, 0, 1, 1, 1, 0, 0, 0}),
			ErrBadEntry, "MADT entry 1 at offset 0x34 has length 0"},
		{"entry of length 1", madt(0xfee00000, 1, []byte{0x7f, 1}), ErrBadEntry, "has length 1"},
		{"unknown entry of length 0", madt(0xfee00000, 1, []byte{0x42, 0, 0, 0}), ErrBadEntry, "has length 0"},
		{"entry past the table", madt(0xfee00000, 1, lapicEntry(0, 0, 1), []byte{typeIOAPIC, 12, 0, 0}),
			ErrBadEntry, "MADT entry 1 at offset 0x34 of length 12 runs past the table's end at 0x38"},
		{"lone type byte", madt(0xfee00000, 1, []byte{typeLocalAPIC}), ErrBadEntry, "no room for its type and length"},
		{"short local APIC entry", madt(0xfee00000, 1, []byte{typeLocalAPIC, 6, 0, 0, 1, 0}),
			ErrBadEntry, "(type 0) has length 6, shorter than its 8 bytes"},
		{"short x2APIC entry", madt(0xfee00000, 1, []byte{typeLocalX2APIC, 12, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}),
			ErrBadEntry, "(type 9) has length 12, shorter than its 16 bytes"},
		{"duplicate APIC ID", madt(0xfee00000, 1, lapicEntry(0, 0, 1), lapicEntry(1, 1, 1), lapicEntry(2, 1, 1)),
			ErrDuplicateID, "acpi: MADT lists APIC ID 1 for two usable processors"},
		{"duplicate across local APIC and x2APIC", madt(0xfee00000, 1, lapicEntry(0, 7, 1), x2apicEntry(7, 1, 1)),
			ErrDuplicateID, "APIC ID 7"},
		{"duplicate online-capable", madt(0xfee00000, 1, lapicEntry(0, 3, 1), lapicEntry(1, 3, cpuOnlineCapable)),
			ErrDuplicateID, "APIC ID 3"},
	})
}

// A duplicate among entries that are not usable is no conflict: the spec
// says to ignore them (firmware lists absent sockets so).
func TestMADTDuplicateOfUnusable(t *testing.T) {
	m, err := ParseMADT(madt(0xfee00000, 1, lapicEntry(0, 0, 1), lapicEntry(1, 0, 0), lapicEntry(2, 0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.CPUs) != 3 {
		t.Errorf("%d CPUs listed, want 3", len(m.CPUs))
	}
}
