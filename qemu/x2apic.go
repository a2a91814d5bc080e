package qemu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The QEMU that gives a guest x2APIC. Debian bookworm's QEMU 7.2, which
// every other test and the benchmarks run, refuses x2APIC under TCG
// ("TCG doesn't support requested feature: CPUID.01H:ECX.x2apic"), and so
// any APIC ID above 254. QEMU 10 from bookworm-backports has it: make
// qemu-x2apic-deps unpacks its packages (apt-get download, dpkg -x) into
// X2APICQEMUDir, beside the system's QEMU, which stays as it is.

// X2APICQEMUDir is where make qemu-x2apic-deps unpacks QEMU 10, relative
// to the repository (the Makefile's QEMU10_DIR).
const X2APICQEMUDir = "build/qemu10"

// X2APICQEMU returns the QEMU 10 that make qemu-x2apic-deps unpacked under
// the repository root, and the arguments it needs to run from there: its
// own data directory (-L: the option ROMs, multiboot's among them), not
// the system QEMU's; and -audio none, without which it loads the system
// QEMU's audio module, another build's, and aborts.
func X2APICQEMU(root string) (binary string, args []string, err error) {
	dir := filepath.Join(root, X2APICQEMUDir)
	binary = filepath.Join(dir, "usr/bin/qemu-system-x86_64")
	if _, err := os.Stat(binary); err != nil {
		return "", nil, fmt.Errorf("no QEMU 10 for x2APIC (make qemu-x2apic-deps unpacks it into %s): %w", X2APICQEMUDir, err)
	}
	if out, err := exec.Command(binary, "--version").CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("%s does not run (a library missing? ldd says which): %v\n%s", binary, err, out)
	}
	return binary, []string{"-L", filepath.Join(dir, "usr/share/qemu"), "-audio", "none"}, nil
}
