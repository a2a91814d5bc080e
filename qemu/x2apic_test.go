package qemu

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// x2APIC (issue 15; kernel/lapic.go): the local APICs in x2APIC mode, and
// CPUs with APIC IDs above 255 started and sent shootdowns, under QEMU 10
// (X2APICQEMU), whose TCG has x2APIC; QEMU 7.2's, which the other tests
// run, has not, and they keep the xAPIC path tested.

// x2apicMachine has four vCPUs, two of them with APIC IDs above 255: a
// q35 (i440fx takes at most 255 CPUs) with sockets of 128 cores, the two
// CPUs of -smp (APIC IDs 0 and 1) and two cold-plugged ones, the first
// core of socket 2 (APIC ID 256) and the sixth of socket 3 (389). The
// MADT lists those two by x2APIC entries, and SeaBIOS, with more than 255
// possible CPUs, hands over with every local APIC in x2APIC mode.
// -nodefaults: SeaBIOS spends about 30 s of TCG on q35's default drives.
var x2apicMachine = []string{"-nodefaults", "-vga", "std", "-machine", "q35", "-cpu", "qemu64,+x2apic",
	"-smp", "2,maxcpus=512,sockets=4,cores=128",
	"-device", "qemu64-x86_64-cpu,socket-id=2,core-id=0,thread-id=0",
	"-device", "qemu64-x86_64-cpu,socket-id=3,core-id=5,thread-id=0"}

// x2apicQEMU is X2APICQEMU for a test: skipped when make
// qemu-x2apic-deps has not run, unless HURDVM_X2APIC is set (make test
// sets it), which makes that a failure.
func x2apicQEMU(t *testing.T) (binary string, args []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots QEMU; -short skips it")
	}
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	binary, args, err = X2APICQEMU(root)
	if err != nil {
		if os.Getenv("HURDVM_X2APIC") == "" {
			t.Skipf("%v (HURDVM_X2APIC=1 makes this a failure; make test sets it)", err)
		}
		t.Fatal(err)
	}
	return binary, args
}

// cpuLine is the kernel's CPU line; its "using" list starts with the
// local APICs' mode.
var cpuLine = regexp.MustCompile(`(?m)^hurdvm: cpu .*$`)

func TestX2APIC(t *testing.T) {
	binary, qemuArgs := x2apicQEMU(t)
	image := buildKernel(t, "cpus")
	for _, c := range []struct {
		name    string
		qemu    []string
		cmdline string
		lines   []string // whole console lines
		mode    string   // the CPU line's mode, after "using "
	}{
		// The firmware's x2APIC kept; every CPU started.
		{"high-ids", x2apicMachine, "", []string{
			"hurdvm: ACPI: 4 CPUs (APIC IDs 0-1,256,389, 2 by x2APIC entries), 508 entries not enabled (APIC IDs 2-255,257-388,390-511)" + qemuAPICs + " (RSDP by the BIOS-area scan)",
			"hurdvm: smp: 4 CPUs running (APIC IDs 0 1 256 389)",
			"cpus: running=[0 1 256 389] x2apic=true",
		}, "x2APIC (the firmware left it on), "},
		// hurdvm.x2apic=off takes every local APIC back from the
		// firmware's x2APIC to xAPIC (through disabled), which cannot
		// address the two high IDs: the kernel says so and runs on
		// the other two.
		{"high-ids-x2apic-off", x2apicMachine, "hurdvm.x2apic=off", []string{
			"hurdvm: smp: the CPU with APIC ID 256 needs x2APIC, and the local APICs run in xAPIC (hurdvm.x2apic=off); left out",
			"hurdvm: smp: the CPU with APIC ID 389 needs x2APIC, and the local APICs run in xAPIC (hurdvm.x2apic=off); left out",
			"hurdvm: smp: 2 CPUs running (APIC IDs 0 1)",
			"cpus: running=[0 1] x2apic=false",
		}, "xAPIC (hurdvm.x2apic=off), "},
		// Fewer than 256 CPUs: SeaBIOS leaves xAPIC on, and the kernel
		// turns x2APIC on itself, on every CPU.
		{"low-ids", []string{"-cpu", "qemu64,+x2apic", "-smp", "4"}, "", []string{
			"hurdvm: smp: 4 CPUs running (APIC IDs 0 1 2 3)",
			"cpus: running=[0 1 2 3] x2apic=true",
		}, "x2APIC, "},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, err := Run(context.Background(), Config{QEMU: binary, Image: image, Cmdline: c.cmdline,
				Timeout: 3 * time.Minute, Extra: append(append([]string(nil), qemuArgs...), c.qemu...)})
			if err != nil {
				t.Fatal(err)
			}
			out := "\n" + string(res.Output)
			if res.Status != 0 {
				t.Errorf("exit status %d, want 0", res.Status)
			}
			for _, l := range c.lines {
				if !strings.Contains(out, "\n"+l+"\n") {
					t.Errorf("the console lacks\n%s", l)
				}
			}
			if l := cpuLine.FindString(out); !strings.Contains(l, " kHz; using "+c.mode) {
				t.Errorf("CPU line %q, want the mode %q", l, c.mode)
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

// TestX2APICShootdowns boots tests/smp, the shootdown tests among them, on
// x2apicMachine: a shootdown waits for every CPU it targets to answer, so
// passing means the IPIs reached CPUs 256 and 389 (TestShootdownCostOfDeallocate
// sends one to each of the 3 other CPUs, at least one of them above 255).
func TestX2APICShootdowns(t *testing.T) {
	binary, qemuArgs := x2apicQEMU(t)
	t.Parallel()
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	elf := filepath.Join(dir, "smp.test")
	cmd := exec.Command("go", "test", "-c", "-tags", GoTestTags, "-ldflags", GoLDFlags, "-o", elf, "./tests/smp")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), GoBuildEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -c ./tests/smp: %v\n%s", err, out)
	}
	image := filepath.Join(dir, "smp")
	if err := BuildImage(root, elf, image); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Config{QEMU: binary, Image: image, Cmdline: "-test.v",
		Timeout: 5 * time.Minute, Extra: append(append([]string(nil), qemuArgs...), x2apicMachine...)})
	if err != nil {
		t.Fatal(err)
	}
	out := "\n" + string(res.Output)
	if res.Status != 0 || !strings.Contains(out, "\nPASS\n") {
		t.Errorf("tests/smp: exit status %d, want 0 and PASS", res.Status)
	}
	if want := "\nhurdvm: smp: 4 CPUs running (APIC IDs 0 1 256 389)\n"; !strings.Contains(out, want) {
		t.Errorf("the console lacks%s", want)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "--- FAIL") || strings.Contains(l, "deallocating 16 MiB touched") {
			t.Log(strings.TrimSpace(l))
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", Tail(res.Output, 40))
	}
}

// TestISOUEFIX2APIC boots the USB image (make test-iso's HURDVM_ISO)
// under OVMF on x2apicMachine, GRUB's tests/smp entry: OVMF too hands over
// in x2APIC mode, with the RSDP in GRUB's multiboot2 information.
func TestISOUEFIX2APIC(t *testing.T) {
	iso := isoImage(t)
	binary, qemuArgs := x2apicQEMU(t)
	t.Parallel()
	extra := append(append(append(append([]string(nil), qemuArgs...), x2apicMachine...), uefi(t)...), usbStick(iso)...)
	res, err := Run(context.Background(), Config{QEMU: binary, Extra: append(extra, bootEntry("tests/smp")...), Timeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	out := "\n" + string(res.Output)
	if res.Status != 0 || !strings.Contains(out, "\nPASS\n") || strings.Contains(out, "--- FAIL") {
		t.Errorf("tests/smp: exit status %d, want 0 and PASS", res.Status)
	}
	for _, l := range []string{
		"hurdvm: ACPI: 4 CPUs (APIC IDs 0-1,256,389, 2 by x2APIC entries), 508 entries not enabled (APIC IDs 2-255,257-388,390-511)" + qemuAPICs + " (RSDP from the boot loader)",
		"hurdvm: smp: 4 CPUs running (APIC IDs 0 1 256 389)",
	} {
		if !strings.Contains(out, "\n"+l+"\n") {
			t.Errorf("the console lacks\n%s", l)
		}
	}
	if l := cpuLine.FindString(out); !strings.Contains(l, " kHz; using x2APIC (the firmware left it on), ") {
		t.Errorf("CPU line %q, want the firmware's x2APIC", l)
	}
	t.Logf("OVMF, GRUB and tests/smp on APIC IDs 0, 1, 256, 389 in %v", res.Duration.Round(time.Millisecond))
	if t.Failed() {
		t.Logf("console:\n%s", Tail(res.Output, 40))
	}
}
