package qemu

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The machine's CPUs from ACPI's MADT (kernel/cpus.go), and the boot
// modules, by each boot path: QEMU's -kernel (SeaBIOS, multiboot 1: the
// RSDP by the BIOS-area scan, the tables in memory SeaBIOS reserves, which
// the physmap does not map) here; GRUB's multiboot2 from the USB image
// under SeaBIOS and OVMF in iso_test.go (the RSDP from GRUB's tag).

var acpiLine = regexp.MustCompile(`(?m)^hurdvm: ACPI: .*$`)

// QEMU's MADT: the local APIC and one I/O APIC where every PC has them.
const qemuAPICs = ", local APIC at 0xfee00000, 1 I/O APIC at 0xfec00000"

// checkACPILine checks the kernel's ACPI line: what the MADT says of the
// CPUs (cpus, as acpi.MADT.String puts it) and where the RSDP came from.
func checkACPILine(t *testing.T, out []byte, cpus, from string) {
	t.Helper()
	want := "hurdvm: ACPI: " + cpus + qemuAPICs + " (RSDP " + from + ")"
	if got := string(acpiLine.Find(out)); got != want {
		t.Errorf("ACPI line\n%q, want\n%q", got, want)
	}
}

func TestCPUsFromACPI(t *testing.T) {
	image := buildKernel(t, "cpus")
	for _, c := range []struct {
		name  string
		qemu  []string
		line  string // the kernel's line after "hurdvm: ACPI: "
		found string // the program's line: what kernel.MachineCPUs says
	}{
		{"smp1", []string{"-smp", "1"}, "1 CPU (APIC ID 0)" + qemuAPICs + " (RSDP by the BIOS-area scan)",
			"count=1 ids=[0] lapic=0xfee00000 acpi=true"},
		{"smp4", []string{"-smp", "4"}, "4 CPUs (APIC IDs 0-3)" + qemuAPICs + " (RSDP by the BIOS-area scan)",
			"count=4 ids=[0 1 2 3] lapic=0xfee00000 acpi=true"},
		// Processors QEMU could add later are listed, not enabled.
		{"maxcpus", []string{"-smp", "4,maxcpus=8"}, "4 CPUs (APIC IDs 0-3), 4 entries not enabled (APIC IDs 4-7)" + qemuAPICs + " (RSDP by the BIOS-area scan)",
			"count=4 ids=[0 1 2 3] lapic=0xfee00000 acpi=true"},
		// More than maxCPUs: the first 64 are kept, and the rest named.
		{"smp70", []string{"-smp", "70"}, "70 CPUs (APIC IDs 0-69)" + qemuAPICs + " (RSDP by the BIOS-area scan)\nhurdvm: ACPI: 6 more CPUs than hurdvm takes (64): they are left out",
			"count=64 ids=[" + ids(64) + "] lapic=0xfee00000 acpi=true"},
		// No ACPI tables at all: the boot CPU alone, and why.
		{"noacpi", []string{"-machine", "pc,acpi=off"}, "no MADT, so hurdvm uses the boot CPU alone (APIC ID 0): acpi: no RSDP in the EBDA or at 0xe0000-0xfffff (the boot loader gave no RSDP; the BIOS area was scanned)",
			"count=1 ids=[0] lapic=0x0 acpi=false"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// 3 minutes: 64 CPUs under one TCG thread take 20-30 s on an
			// idle 2-core host and more than a minute on a busy one.
			res, err := Run(context.Background(), Config{Image: image, Timeout: 3 * time.Minute, Extra: c.qemu})
			if err != nil {
				t.Fatal(err)
			}
			out := string(res.Output)
			if res.Status != 0 {
				t.Errorf("exit status %d, want 0", res.Status)
			}
			if !strings.Contains(out, "\nhurdvm: ACPI: "+c.line+"\n") {
				t.Errorf("the console lacks\nhurdvm: ACPI: %s", c.line)
			}
			if !strings.Contains(out, "\ncpus: "+c.found+"\n") {
				t.Errorf("the console lacks\ncpus: %s", c.found)
			}
			// Every CPU found started, the local APICs in xAPIC mode:
			// QEMU 7.2's qemu64 has no x2APIC under TCG (x2apic_test.go
			// boots QEMU 10's). With 70 vCPUs on one TCG thread of a
			// loaded host, one AP may miss the kernel's 10 s wait: the
			// kernel must then have said so, and go on without it.
			ids := strings.Fields(strings.Trim(foundIDs.FindString(c.found), "[]"))
			var late []string
			if c.name == "smp70" {
				for _, m := range notStarted.FindAllStringSubmatch(out, -1) {
					late = append(late, m[1])
					ids = slices.DeleteFunc(ids, func(id string) bool { return id == m[1] })
				}
			}
			running := "cpus: running=[" + strings.Join(ids, " ") + "] x2apic=false"
			if len(late) > 1 || !strings.Contains(out, "\n"+running+"\n") {
				t.Errorf("the console lacks\n%s (CPUs the kernel said did not start: %v)", running, late)
			}
			if l := cpuLine.FindString(out); !strings.Contains(l, " kHz; using xAPIC (the CPU has no x2APIC), ") {
				t.Errorf("CPU line %q, want the local APICs in xAPIC mode", l)
			}
			if strings.Contains(out, "hurdvm: warning: the") {
				t.Error("a warning about the boot CPU or the local APIC")
			}
			if t.Failed() {
				t.Logf("console:\n%s", Tail(res.Output, 30))
			}
		})
	}
}

// notStarted is the kernel's line for an AP that did not answer in time.
var notStarted = regexp.MustCompile(`hurdvm: smp: the CPU with APIC ID ([0-9]+) did not start; going on without it`)

// foundIDs is the ID list of the cpus program's first line.
var foundIDs = regexp.MustCompile(`\[[0-9 ]*\]`)

// ids is "0 1 ... n-1", as %v prints a slice.
func ids(n int) string {
	var s []string
	for i := 0; i < n; i++ {
		s = append(s, strconv.Itoa(i))
	}
	return strings.Join(s, " ")
}

// moduleText is the file the module tests pass in an initramfs.
const moduleText = "a file in the boot module"

// initramfsWith writes an initramfs whose /init is a file holding text
// (WriteInitramfs's layout; catfile reads it back).
func initramfsWith(t *testing.T, text string) string {
	dir := t.TempDir()
	file := filepath.Join(dir, "text")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cpio := filepath.Join(dir, "initramfs.cpio")
	if err := WriteInitramfs(cpio, file); err != nil {
		t.Fatal(err)
	}
	return cpio
}

// checkModule checks catfile printed the module's file.
func checkModule(t *testing.T, res Result) {
	t.Helper()
	want := "catfile: /init: " + strconv.Itoa(len(moduleText)) + " bytes: " + moduleText + "\n"
	if res.Status != 0 || !strings.Contains(string(res.Output), want) {
		t.Errorf("status %d; the console lacks %q:\n%s", res.Status, want, Tail(res.Output, 20))
	}
}

// TestModuleMultiboot1: QEMU's -initrd is a multiboot 1 module; the file
// server finds the initramfs among the modules by its cpio magic.
func TestModuleMultiboot1(t *testing.T) {
	image := buildKernel(t, "catfile")
	t.Parallel()
	res, err := Run(context.Background(), Config{Image: image, Initrd: initramfsWith(t, moduleText), Cmdline: "/init", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	checkModule(t, res)
}
