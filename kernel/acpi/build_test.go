package acpi

// Hand-made tables for the tests: MADT entries as the spec lays them out,
// tables with their length and checksum filled in, and small machines
// (RSDP, root table, MADT at chosen physical addresses).

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
)

// table builds a table with signature sig and body, fixing Length and
// Checksum.
func table(sig string, revision byte, body ...[]byte) []byte {
	b := make([]byte, headerLength)
	copy(b, sig)
	b[8] = revision
	copy(b[10:], "HURDVM")
	copy(b[16:], "TESTTABL")
	for _, p := range body {
		b = append(b, p...)
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
	fixChecksum(b, 9)
	return b
}

// fixChecksum sets b[at] so that b sums to zero.
func fixChecksum(b []byte, at int) {
	b[at] = 0
	b[at] = -sum(b)
}

func madt(lapic uint32, flags uint32, entries ...[]byte) []byte {
	return table("APIC", 1, append([][]byte{u32(lapic), u32(flags)}, entries...)...)
}

func u16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func entry(typ byte, fields ...[]byte) []byte {
	body := cat(fields...)
	return append([]byte{typ, byte(2 + len(body))}, body...)
}

func lapicEntry(uid, id byte, flags uint32) []byte {
	return entry(typeLocalAPIC, []byte{uid, id}, u32(flags))
}

func x2apicEntry(id, flags, uid uint32) []byte {
	return entry(typeLocalX2APIC, u16(0), u32(id), u32(flags), u32(uid))
}

func ioapicEntry(id byte, addr, gsiBase uint32) []byte {
	return entry(typeIOAPIC, []byte{id, 0}, u32(addr), u32(gsiBase))
}

func overrideEntry(bus, source byte, gsi uint32, flags uint16) []byte {
	return entry(typeSourceOverride, []byte{bus, source}, u32(gsi), u16(flags))
}

func nmiSourceEntry(flags uint16, gsi uint32) []byte {
	return entry(typeNMISource, u16(flags), u32(gsi))
}

func lapicNMIEntry(uid byte, flags uint16, lint byte) []byte {
	return entry(typeLocalAPICNMI, []byte{uid}, u16(flags), []byte{lint})
}

func x2apicNMIEntry(flags uint16, uid uint32, lint byte) []byte {
	return entry(typeLocalX2APICNMI, u16(flags), u32(uid), []byte{lint, 0, 0, 0})
}

func lapicOverrideEntry(addr uint64) []byte {
	return entry(typeLocalAPICOverride, u16(0), u64(addr))
}

// rsdp builds an RSDP: revision 0 (20 bytes) when xsdt is 0, revision 2
// (36 bytes) otherwise.
func rsdp(rsdt uint32, xsdt uint64) []byte {
	b := cat([]byte(rsdpSignature), []byte{0}, []byte("HURDVM"), []byte{0}, u32(rsdt))
	if xsdt == 0 {
		fixChecksum(b, 8)
		return b
	}
	b[15] = 2
	b = cat(b, u32(rsdpV2Length), u64(xsdt), []byte{0, 0, 0, 0})
	fixChecksum(b[:rsdpV1Length], 8)
	fixChecksum(b, 32)
	return b
}

// A machine is a small physical memory: the BIOS area with an RSDP in it,
// an RSDT, an XSDT and a MADT, each where the test puts it.
type machine struct {
	regions []region
}

// put places b at pa, instead of what was put there before.
func (m *machine) put(pa uint64, b []byte) *machine {
	m.regions = slices.DeleteFunc(m.regions, func(r region) bool { return r.pa == pa })
	m.regions = append(m.regions, region{pa, b})
	return m
}

func (m *machine) memory() Memory { return regionMemory(m.regions) }

const (
	testRSDPAt = 0xf5a20
	testRSDTAt = 0x7ffe0000
	testXSDTAt = 0x7ffe0100
	testMADTAt = 0x7ffe0200
)

// newMachine is a machine whose RSDP (revision 2) is in the BIOS area and
// names an RSDT and an XSDT that both list the MADT given.
func newMachine(m []byte) *machine {
	bios := make([]byte, biosAreaSize)
	copy(bios[testRSDPAt-biosAreaBase:], rsdp(testRSDTAt, testXSDTAt))
	return (&machine{}).
		put(biosAreaBase, bios).
		put(testRSDTAt, table("RSDT", 1, u32(testMADTAt))).
		put(testXSDTAt, table("XSDT", 1, u64(testMADTAt))).
		put(testMADTAt, m)
}

// wantError checks that err is of kind and says msg; got is what was
// accepted, for the message when err is nil.
func wantError(t *testing.T, got any, err, kind error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted: %v", got)
	}
	if !errors.Is(err, kind) || !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q, want %v saying %q", err, kind, msg)
	}
}

// A refusal is bytes a parser must refuse, with the error's kind and a
// part of its message.
type refusal struct {
	name string
	b    []byte
	kind error
	msg  string
}

func checkRefusals[T any](t *testing.T, parse func([]byte) (T, error), cases []refusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(tc.b)
			wantError(t, got, err, tc.kind, tc.msg)
		})
	}
}
