package acpi

import (
	"errors"
	"slices"
	"testing"
)

// The kernel's path (FindMADT, ReadCPUs, MADTSummary, Fault) must say
// what the Go API says, on every machine, and allocate nothing.

// checkAgree compares ReadCPUs with Discover over the same memory and
// RSDP: the same CPUs in the same order, the same local APIC address, the
// same summary, or the same failure (kind and message).
func checkAgree(t testing.TB, mem Memory, rsdp []byte) {
	t.Helper()
	m, err := Discover(mem, rsdp)
	var cpus [256]CPU
	n, lapic, f := ReadCPUs(mem, rsdp, cpus[:])
	if err != nil {
		if !f.Failed() {
			t.Fatalf("Discover: %v; ReadCPUs found %d CPUs", err, n)
		}
		if !errors.Is(err, f.Kind()) || !errors.Is(f, f.Kind()) || err.Error() != f.Error() {
			t.Fatalf("Discover: %v (%v)\nReadCPUs: %v (%v)", err, err.(*Error).Kind, f, f.Kind())
		}
		var buf [256]byte
		if got := string(buf[:f.Format(buf[:])]); got != err.Error() && len(got) < len(buf) {
			t.Fatalf("Format %q, want %q", got, err.Error())
		}
		return
	}
	if f.Failed() {
		t.Fatalf("Discover found %v; ReadCPUs: %v", m, f)
	}
	if n != len(m.CPUs) || !slices.Equal(cpus[:min(n, len(cpus))], m.CPUs[:min(n, len(cpus))]) || lapic != m.LocalAPICAddress {
		t.Fatalf("ReadCPUs: %d CPUs %v, local APIC %#x\nDiscover: %d CPUs %v, local APIC %#x",
			n, cpus[:min(n, len(cpus))], lapic, len(m.CPUs), m.CPUs, m.LocalAPICAddress)
	}
	// A short array takes the first ones, and n still counts them all.
	var two [2]CPU
	if n2, _, _ := ReadCPUs(mem, rsdp, two[:]); n2 != n || !slices.Equal(two[:min(n, 2)], m.CPUs[:min(n, 2)]) {
		t.Fatalf("ReadCPUs into 2: %d %v, want %d %v", n2, two, n, m.CPUs[:min(n, 2)])
	}
	b, f := FindMADT(mem, rsdp)
	if f.Failed() {
		t.Fatal(f)
	}
	want := m.String()
	buf := make([]byte, len(want)+8)
	if got := string(buf[:MADTSummary(b, buf)]); got != want {
		t.Fatalf("MADTSummary %q\nString      %q", got, want)
	}
	// A short buffer takes what fits.
	if got := string(buf[:MADTSummary(b, buf[:len(want)/2])]); got != want[:len(want)/2] {
		t.Fatalf("MADTSummary into %d bytes: %q", len(want)/2, got)
	}
}

func TestReadCPUsCaptured(t *testing.T) {
	for _, c := range loadCaptures(t) {
		t.Run(c.name, func(t *testing.T) {
			checkAgree(t, c.memory(), c.rsdpBytes(t))
			checkAgree(t, c.memory(), nil)
		})
	}
}

func TestReadCPUsHandMade(t *testing.T) {
	many := []byte{}
	for i := 0; i < 70; i++ {
		many = append(many, lapicEntry(byte(i), byte(i), 1)...)
	}
	for _, tc := range []struct {
		name string
		m    []byte
	}{
		{"two", madt(0xfee00000, 1, lapicEntry(0, 0, 1), lapicEntry(1, 1, 1), ioapicEntry(0, 0xfec00000, 0))},
		{"70", madt(0xfee00000, 1, many)},
		{"x2apic and override", madt(0xfee00000, 1, lapicEntry(0, 0, 1), x2apicEntry(300, 1, 7), lapicEntry(2, 0xff, 1),
			x2apicEntry(0xffffffff, 1, 8), lapicOverrideEntry(0x10000fee00000), ioapicEntry(0, 0xfec00000, 0), ioapicEntry(1, 0xfec01000, 24))},
		{"kinds", madt(0xfee00000, 1, lapicEntry(0, 3, 1), lapicEntry(1, 1, 2), lapicEntry(2, 5, 0), lapicEntry(3, 5, 0),
			lapicEntry(4, 4, 0), lapicEntry(5, 6, 0), lapicEntry(6, 9, 0), lapicEntry(7, 0, 1), lapicEntry(8, 2, 2))},
		{"duplicate", madt(0xfee00000, 1, lapicEntry(0, 7, 1), lapicEntry(1, 3, 1), lapicEntry(2, 7, 2), lapicEntry(3, 3, 1))},
		{"duplicate of unusable", madt(0xfee00000, 1, lapicEntry(0, 0, 1), lapicEntry(1, 0, 0), lapicEntry(2, 0, 0))},
		{"bad entry", madt(0xfee00000, 1, lapicEntry(0, 0, 1), []byte{9, 8, 0, 0, 0, 0, 0, 0})},
		{"checksum", func() []byte { b := madt(0xfee00000, 1, lapicEntry(0, 0, 1)); b[9]++; return b }()},
		{"not a MADT", table("FACP", 1, make([]byte, 8))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mc := newMachine(tc.m)
			checkAgree(t, mc.memory(), nil)
			checkAgree(t, mc.memory(), rsdp(testRSDTAt, testXSDTAt))
			checkAgree(t, mc.memory(), rsdp(testRSDTAt, 0)[:rsdpV1Length])
			mc.put(testXSDTAt, []byte("XSDT")) // the XSDT runs past memory: the RSDT
			checkAgree(t, mc.memory(), nil)
			mc.put(testRSDTAt, table("RSDT", 1, u32(0x100000), u32(testMADTAt-0x1000))) // no MADT, an entry outside memory
			checkAgree(t, mc.memory(), nil)
		})
	}
	checkAgree(t, (&machine{}).memory(), nil)                     // no RSDP
	checkAgree(t, (&machine{}).memory(), []byte("RSD PTR short")) // a loader's bad copy
}

// Nothing the kernel calls allocates, on success or failure.
func TestReadCPUsAllocatesNothing(t *testing.T) {
	c := loadCapture(t, "testdata/qemu/seabios-smp4-maxcpus8")
	mem, rsdp := c.memory(), c.rsdpBytes(t)
	dup := newMachine(madt(0xfee00000, 1, lapicEntry(0, 1, 1), lapicEntry(1, 1, 1))).memory()
	bad := newMachine(madt(0xfee00000, 1, []byte{0, 1})).memory()
	none := (&machine{}).memory()
	var cpus [64]CPU
	var buf [512]byte
	for _, tc := range []struct {
		name     string
		mem      Memory
		rsdp     []byte
		wantFail bool
	}{
		{"by the RSDP", mem, rsdp, false}, {"by the scan", mem, nil, false},
		{"duplicate", dup, nil, true}, {"bad entry", bad, nil, true}, {"no RSDP", none, nil, true},
	} {
		var failed bool
		allocs := testing.AllocsPerRun(20, func() {
			n, _, f := ReadCPUs(tc.mem, tc.rsdp, cpus[:])
			failed = f.Failed()
			f.Format(buf[:])
			if !failed {
				b, _ := FindMADT(tc.mem, tc.rsdp)
				MADTSummary(b, buf[:])
				for c, pos, ok := MADTCPU(b, 0); ok; c, pos, ok = MADTCPU(b, pos) {
					_ = c
				}
				_ = n
			}
		})
		if failed != tc.wantFail || allocs != 0 {
			t.Errorf("%s: failed %v, %v allocations per run; want failed %v, 0", tc.name, failed, allocs, tc.wantFail)
		}
	}
}
