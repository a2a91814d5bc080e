//go:build hurdvm

// The machine's CPUs. INTERIM: until the MADT is read at boot (kernel/acpi),
// QEMU's fw_cfg says how many CPUs there are, with APIC IDs 0..n-1.

package kernel

var (
	machineCPUs     [maxCPUs]uint32 // APIC IDs of the usable processors, the boot CPU's first
	machineCPUCount int
	machineLAPIC    uint64
	machineACPI     bool
)

// discoverCPUs (interim) asks QEMU's fw_cfg (FW_CFG_NB_CPUS).
func discoverCPUs() {
	outw(0x510, 0x05)
	n := int(inb(0x511)) | int(inb(0x511))<<8
	if n < 1 || n > maxCPUs {
		n = 1
	}
	for i := 0; i < n; i++ {
		machineCPUs[i] = uint32(i)
	}
	machineCPUCount = n
}
