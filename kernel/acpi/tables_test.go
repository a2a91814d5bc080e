package acpi

import (
	"errors"
	"slices"
	"testing"
)

func testMADT() []byte {
	return madt(0xfee00000, 1, lapicEntry(0, 0, 1), lapicEntry(1, 1, 1), ioapicEntry(0, 0xfec00000, 0))
}

func TestDiscoverHandMade(t *testing.T) {
	m := newMachine(testMADT())
	got, err := Discover(m.memory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.String(); s != "2 CPUs (APIC IDs 0-1), local APIC at 0xfee00000, 1 I/O APIC at 0xfec00000" {
		t.Errorf("String %q", s)
	}
	r, _ := FindRSDP(m.memory())
	tabs, err := r.Tables(m.memory())
	if err != nil {
		t.Fatal(err)
	}
	if string(tabs.Root.Signature[:]) != "XSDT" || tabs.RootAddress != testXSDTAt || tabs.Len() != 1 || tabs.Address(0) != testMADTAt {
		t.Errorf("tables %+v", tabs)
	}
	b, at, err := tabs.Find("APIC")
	if err != nil || at != testMADTAt || !slices.Equal(b, testMADT()) {
		t.Errorf("Find: %v at %#x", err, at)
	}
	if _, _, err := tabs.Find("HPET"); !errors.Is(err, ErrNotFound) || err.Error() != "acpi: no HPET table in the XSDT" {
		t.Errorf("Find(HPET): %v", err)
	}
}

// A bad XSDT sends the walk to the RSDT, and says why.
func TestXSDTFallsBackToRSDT(t *testing.T) {
	m := newMachine(testMADT())
	xsdt := table("XSDT", 1, u64(testMADTAt))
	xsdt[20]++ // checksum now wrong
	m.put(testXSDTAt, xsdt)
	r, err := FindRSDP(m.memory())
	if err != nil {
		t.Fatal(err)
	}
	tabs, err := r.Tables(m.memory())
	if err != nil {
		t.Fatal(err)
	}
	if string(tabs.Root.Signature[:]) != "RSDT" || !errors.Is(tabs.XSDTError, ErrChecksum) {
		t.Errorf("root %q, XSDT error %v", tabs.Root.Signature, tabs.XSDTError)
	}
	if _, err := tabs.ReadMADT(); err != nil {
		t.Error(err)
	}
}

func TestTablesRefused(t *testing.T) {
	good := testMADT()
	badSum := slices.Clone(good)
	badSum[40] ^= 1
	for _, tc := range []struct {
		name string
		m    *machine
		kind error
		msg  string
	}{
		{"RSDT outside memory", (&machine{}).put(0, rsdp(0xdead0000, 0)), ErrOutsideMemory,
			"acpi: RSDT at 0xdead0000 is outside memory"},
		{"XSDT and RSDT outside memory", (&machine{}).put(0, rsdp(0xdead0000, 0xbeef0000)), ErrOutsideMemory,
			"acpi: XSDT at 0xbeef0000 is outside memory"},
		{"RSDT running past memory", (&machine{}).put(0, rsdp(0x1000, 0)).put(0x1000, table("RSDT", 1, u32(0x2000), u32(0x3000))[:40]),
			ErrOutsideMemory, "acpi: RSDT at 0x1000 runs past memory (length 44)"},
		{"RSDT with a bad checksum", (&machine{}).put(0, rsdp(0x1000, 0)).put(0x1000, func() []byte {
			b := table("RSDT", 1, u32(0x2000))
			b[36]++
			return b
		}()), ErrChecksum, "acpi: RSDT checksum mismatch at 0x1000"},
		{"RSDT that is no RSDT", (&machine{}).put(0, rsdp(0x1000, 0)).put(0x1000, table("FACP", 1, u32(0x2000))),
			ErrSignature, `acpi: table at 0x1000 has signature "FACP", not "RSDT"`},
		{"RSDT shorter than its header", (&machine{}).put(0, rsdp(0x1000, 0)).put(0x1000, func() []byte {
			b := table("RSDT", 1)
			b[4] = 8
			return b
		}()), ErrTruncated, "acpi: RSDT at 0x1000 gives length 8, shorter than its header"},
		{"no RSDT or XSDT", (&machine{}).put(0, rsdp(0, 0)), ErrNotFound, "acpi: the RSDP gives no RSDT or XSDT"},
		{"MADT past memory", newMachine(good[:len(good)-1]), ErrOutsideMemory,
			"acpi: APIC at 0x7ffe0200 runs past memory (length 72)"},
		{"MADT with a bad checksum", newMachine(badSum), ErrChecksum, "acpi: APIC checksum mismatch at 0x7ffe0200"},
		{"no MADT", newMachine(table("HPET", 1, make([]byte, 20))), ErrNotFound, "acpi: no MADT in the XSDT"},
		{"MADT entry outside memory", newMachine(good).put(testXSDTAt, table("XSDT", 1, u64(0xdead000), u64(testMADTAt+0x1000))),
			ErrNotFound, "acpi: no MADT in the XSDT (entry 0 at 0xdead000 is outside memory)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := tc.m.memory()
			var r RSDP
			var err error
			if b := mem(0, rsdpV1Length); b != nil && string(b[:8]) == rsdpSignature {
				n := rsdpV1Length
				if b[15] >= 2 {
					n = rsdpV2Length
				}
				r, err = ParseRSDP(mem(0, n))
			} else {
				r, err = FindRSDP(mem)
			}
			if err != nil {
				t.Fatal(err)
			}
			var m *MADT
			tabs, err := r.Tables(mem)
			if err == nil {
				m, err = tabs.ReadMADT()
			}
			wantError(t, m, err, tc.kind, tc.msg)
		})
	}
}

// Addresses near the top of the 64-bit space must not wrap into low
// memory.
func TestAddressWrap(t *testing.T) {
	m := (&machine{}).put(0, make([]byte, 0x1000))
	mem := Memory(func(pa uint64, n int) []byte {
		if pa+uint64(n) < pa {
			t.Fatalf("read %#x+%d wraps", pa, n)
		}
		return m.memory()(pa, n)
	})
	if _, err := readTable(mem, ^uint64(0)-10, "APIC"); !errors.Is(err, ErrOutsideMemory) {
		t.Errorf("%v", err)
	}
}
