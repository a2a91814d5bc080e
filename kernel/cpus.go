//go:build hurdvm

// The machine's CPUs, from ACPI's MADT (hurdvm/kernel/acpi): what the
// multiprocessor start-up reads. Ordinary Go code, run by an init before
// the program's packages start: the ACPI parser allocates, so it cannot
// run in kmain.
//
// The RSDP comes from the boot loader when it gave one (multiboot2's ACPI
// tags, copied at boot into bootRSDP: under UEFI there is nothing to scan
// for), else from the BIOS-area scan (QEMU's -kernel speaks multiboot 1
// only; SeaBIOS leaves the RSDP in its ROM area). The tables are read
// through the physmap, with the pages it lacks mapped for the while
// (acpiwindow.go). Without a MADT the kernel runs on the boot CPU alone
// and says why.

package kernel

import (
	"strconv"
	"syscall"
	"unsafe"

	"hurdvm/kernel/acpi"
)

var (
	machineCPUs     [maxCPUs]uint32 // APIC IDs of the usable (Enabled) processors, the boot CPU's first
	machineCPUCount int
	machineLAPIC    uint64 // the local APIC's physical address, from the MADT
	machineACPI     bool   // the MADT was found

	// bootAPICID is the boot CPU's APIC ID (noteBootCPU, in kmain).
	bootAPICID uint32
)

// noteBootCPU records the APIC ID of the CPU running kmain, the boot CPU,
// from CPUID: leaf 0xB's x2APIC ID (32 bits, as the MADT's x2APIC entries
// give them) where the CPU has the leaf, else leaf 1's initial APIC ID.
// discoverCPUs may run on another CPU once they are started. Handler
// context (kmain).
func noteBootCPU() {
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf >= 0xb {
		if _, b, _, d := cpuid(0xb, 0); b&0xffff != 0 { // logical processors at this level: the leaf is real
			bootAPICID = d
			return
		}
	}
	_, b, _, _ := cpuid(1, 0)
	bootAPICID = b >> 24
}

func init() { discoverCPUs() }

// countCPUsInterim is what kmain starts the CPUs by until the MADT is read
// there (INTERIM: the parser allocates, and kmain runs before the Go heap
// exists): QEMU's fw_cfg count (FW_CFG_NB_CPUS), with APIC IDs 0..n-1.
// discoverCPUs replaces the list with the MADT's once the runtime runs.
func countCPUsInterim() {
	outw(0x510, 0x05)
	n := int(inb(0x511)) | int(inb(0x511))<<8
	n = min(max(n, 1), maxCPUs)
	for i := 0; i < n; i++ {
		machineCPUs[i] = uint32(i)
	}
	machineCPUCount = n
}

// discoverCPUs fills machineCPUs, machineCPUCount, machineLAPIC and
// machineACPI and prints one line: the MADT's summary, or why there is
// none.
func discoverCPUs() {
	machineCPUs[0], machineCPUCount = bootAPICID, 1
	var rsdp []byte
	from, tried := "RSDP by the BIOS-area scan", "the boot loader gave no RSDP; the BIOS area was scanned"
	if bootRSDPLen > 0 {
		rsdp = bootRSDP[:bootRSDPLen]
		from, tried = "RSDP from the boot loader", "with the RSDP the boot loader gave"
	}
	madt, err := acpi.Discover(acpiMemory, rsdp)
	syscall.RawSyscall(sysACPIClose, 0, 0, 0) // the MADT's values are copies: the tables can go
	if err != nil {
		print("hurdvm: ACPI: no MADT, so hurdvm uses the boot CPU alone (APIC ID ", bootAPICID, "): ",
			err.Error(), " (", tried, ")\n")
		return
	}
	machineACPI, machineLAPIC = true, madt.LocalAPICAddress
	bootListed, left := false, 0
	for _, c := range madt.CPUs { // the table's order: the boot CPU's entry first (ACPI 6.5, 5.2.12.1)
		switch {
		case !c.Enabled():
		case c.APICID == bootAPICID:
			bootListed = true
		case machineCPUCount == maxCPUs:
			left++
		default:
			machineCPUs[machineCPUCount] = c.APICID
			machineCPUCount++
		}
	}
	print("hurdvm: ACPI: ", madt.String(), " (", from, ")\n")
	if !bootListed {
		print("hurdvm: warning: the boot CPU's APIC ID ", bootAPICID, " is not among the MADT's enabled processors; counted all the same\n")
	}
	if left > 0 {
		print("hurdvm: ACPI: ", left, " more CPUs than hurdvm takes (", maxCPUs, "): they are left out\n")
	}
	if machineLAPIC != lapicPhys {
		print("hurdvm: warning: the MADT puts the local APIC at ", hexString(machineLAPIC),
			", but the kernel uses it at ", hexString(lapicPhys), " (kernel/time.go lapicPhys)\n")
	}
}

// acpiMemory is the parser's view of physical memory (acpi.Memory): the
// physmap, with the pages it lacks mapped into it read-only first.
func acpiMemory(pa uint64, n int) []byte {
	if n <= 0 {
		return nil
	}
	if _, _, e := syscall.RawSyscall(sysACPIMap, uintptr(pa), uintptr(n), 0); e != 0 {
		return nil
	}
	return unsafe.Slice((*byte)(phys(pa)), n)
}

func hexString(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }
