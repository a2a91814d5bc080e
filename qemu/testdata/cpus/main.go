// cpus prints what the kernel's CPU discovery found (kernel.MachineCPUs, a
// test hook) on one line the host checks against QEMU's -smp, the CPUs
// it started and the local APICs' mode on another, and checks
// that the window the ACPI tables were read through is closed.
package main

import (
	"fmt"
	"os"
	"syscall"

	"hurdvm/kernel"
)

func main() {
	m := kernel.MachineCPUs()
	fmt.Printf("cpus: count=%d ids=%v lapic=%#x acpi=%v\n", len(m.CPUs), m.CPUs, m.LAPIC, m.ACPI)
	fmt.Printf("cpus: running=%v x2apic=%v\n", m.Running, m.X2APIC)
	if e := kernel.MapACPIWindow(0xe0000, 4096); e != syscall.EPERM {
		fmt.Printf("cpus: the ACPI window answers %v after boot, want EPERM\n", e)
		os.Exit(1)
	}
}
