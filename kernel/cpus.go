//go:build hurdvm

// The machine's CPUs, from ACPI's MADT (hurdvm/kernel/acpi): what the
// multiprocessor start-up reads. discoverCPUs runs in kmain, before the Go
// runtime (which reads the CPU count once, at its start) and before
// startCPUs: handler context, so it uses the ACPI package's zero-allocation
// path (FindMADT, MADTCPU, MADTSummary; failures as an acpi.Fault value,
// formatted into a static buffer).
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

	// acpiText holds the ACPI line's summary or failure message while
	// kmain prints it.
	acpiText [512]byte
)

// noteBootCPU records the APIC ID of the CPU running kmain, the boot CPU,
// from CPUID: leaf 0xB's x2APIC ID (32 bits, as the MADT's x2APIC entries
// give them) where the CPU has the leaf, else leaf 1's initial APIC ID.
// Handler context (kmain).
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

// discoverCPUs fills machineCPUs, machineCPUCount, machineLAPIC and
// machineACPI and prints one line: the MADT's summary, or why there is
// none. Handler context (kmain, once the kernel's page tables and the
// frame allocator are up: the window maps pages).
func discoverCPUs() {
	machineCPUs[0], machineCPUCount = bootAPICID, 1
	var rsdp []byte
	from, tried := "RSDP by the BIOS-area scan", "the boot loader gave no RSDP; the BIOS area was scanned"
	if bootRSDPLen > 0 {
		rsdp = bootRSDP[:bootRSDPLen]
		from, tried = "RSDP from the boot loader", "with the RSDP the boot loader gave"
	}
	madt, f := acpi.FindMADT(acpiMemory, rsdp)
	if f.Failed() {
		acpiWindowClose()
		kprint("hurdvm: ACPI: no MADT, so hurdvm uses the boot CPU alone (APIC ID ")
		kprintDec(uint64(bootAPICID))
		kprint("): ")
		kprintBytes(acpiText[:f.Format(acpiText[:])])
		kprint(" (")
		kprint(tried)
		kprint(")\n")
		return
	}
	machineACPI, machineLAPIC = true, acpi.MADTLocalAPIC(madt)
	bootListed, left := false, 0
	// The table's order: the boot CPU's entry first (ACPI 6.5, 5.2.12.1).
	for c, pos, ok := acpi.MADTCPU(madt, 0); ok; c, pos, ok = acpi.MADTCPU(madt, pos) {
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
	kprint("hurdvm: ACPI: ")
	kprintBytes(acpiText[:acpi.MADTSummary(madt, acpiText[:])])
	kprint(" (")
	kprint(from)
	kprint(")\n")
	acpiWindowClose() // the values are copies: the tables can go
	if !bootListed {
		kprint("hurdvm: warning: the boot CPU's APIC ID ")
		kprintDec(uint64(bootAPICID))
		kprint(" is not among the MADT's enabled processors; counted all the same\n")
	}
	if left > 0 {
		kprint("hurdvm: ACPI: ")
		kprintDec(uint64(left))
		kprint(" more CPUs than hurdvm takes (")
		kprintDec(maxCPUs)
		kprint("): they are left out\n")
	}
}

// acpiMemory is the parser's view of physical memory (acpi.Memory): the
// physmap, with the pages it lacks mapped into it read-only first.
func acpiMemory(pa uint64, n int) []byte {
	if n <= 0 || acpiWindowMap(pa, uint64(n)) != 0 {
		return nil
	}
	return unsafe.Slice((*byte)(phys(pa)), n)
}
