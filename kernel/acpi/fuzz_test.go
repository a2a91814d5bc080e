package acpi

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzMADT feeds ParseMADT arbitrary bytes, as they are and repaired (the
// signature, Length and checksum made right, so that the entries are
// reached): it must never panic or loop, and what it accepts must hold
// together. The kernel's path (ReadCPUs, MADTSummary) must agree with
// Discover on the same machine: the same CPUs, or the same failure (kind
// and message). Seeds: testdata/fuzz/FuzzMADT and every captured MADT.
func FuzzMADT(f *testing.F) {
	caps, _ := filepath.Glob("testdata/qemu/*/APIC.bin")
	for _, p := range caps {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParsed(t, b)
		checkAgree(t, newMachine(b).memory(), nil)
		if len(b) >= madtEntries {
			fixed := slices.Clone(b)
			copy(fixed, madtSignature)
			binary.LittleEndian.PutUint32(fixed[4:], uint32(len(fixed)))
			fixChecksum(fixed, 9)
			checkParsed(t, fixed)
			checkAgree(t, newMachine(fixed).memory(), nil)
		}
	})
}

func checkParsed(t *testing.T, b []byte) {
	m, err := ParseMADT(b)
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error %v is not an *Error", err)
		}
		_ = err.Error()
		return
	}
	// Every processor entry is at least 8 bytes long.
	if max := (len(b) - madtEntries) / 8; len(m.CPUs) > max {
		t.Fatalf("%d CPUs from %d bytes", len(m.CPUs), len(b))
	}
	seen := map[uint32]bool{}
	for _, c := range m.CPUs {
		if !c.Usable() {
			continue
		}
		if seen[c.APICID] {
			t.Fatalf("APIC ID %d accepted twice", c.APICID)
		}
		seen[c.APICID] = true
		if c.APICID == invalidX2APICID || (!c.X2APIC && c.APICID == invalidAPICID) {
			t.Fatalf("invalid APIC ID %#x accepted", c.APICID)
		}
	}
	_ = m.String()
}
