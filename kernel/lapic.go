//go:build hurdvm

// The local APIC, each CPU's interrupt controller (Intel SDM vol. 3,
// chapter 10): its ID, end of interrupt, the timer's registers, and the
// inter-processor interrupts through the interrupt command register
// (ICR). Every access the kernel makes to it is here, in the one mode
// lapicSetup chose on the boot CPU for every CPU:
//
//   - x2APIC where the CPU has it (CPUID.1:ECX[21]), or where the firmware
//     left it on (as it does on a machine with APIC IDs above 254, which
//     xAPIC cannot address): each register is an MSR, 0x800 + its xAPIC
//     offset / 16; APIC IDs have 32 bits; the ICR is one 64-bit MSR with
//     the destination in its upper half and no delivery status to poll; a
//     self-IPI has its own MSR.
//   - xAPIC otherwise (QEMU's qemu64 under TCG before QEMU 8), or when the
//     command line says hurdvm.x2apic=off: the registers' page, mapped
//     uncached in the physmap (mapLAPIC); 8-bit APIC IDs, 0xff the
//     broadcast, so CPUs with APIC IDs from 255 on cannot be started.
//
// Handler context.

package kernel

// The registers, by their offsets in xAPIC's page; in x2APIC mode each is
// the MSR x2apicMSRs + offset>>4.
const (
	lapicIDReg       = 0x20
	lapicEOIReg      = 0xb0
	lapicSVR         = 0xf0
	lapicIRR         = 0x200 // the first of eight, 32 vectors each, 16 bytes apart
	lapicICR         = 0x300 // xAPIC: the low half; x2APIC: all 64 bits
	lapicICRHigh     = 0x310 // xAPIC only: the destination in bits 24-31
	lapicLVTTimer    = 0x320
	lapicTimerInit   = 0x380
	lapicTimerCount  = 0x390
	lapicTimerDivide = 0x3e0
	lapicSelfIPI     = 0x3f0 // x2APIC only

	x2apicMSRs = 0x800

	lapicPhys = 0xfee00000 // where every PC has the xAPIC page; the MADT says (mapLAPIC)

	apicBaseX2APIC = 1 << 10 // IA32_APIC_BASE: x2APIC mode (with apicBaseEnable)
	apicBaseEnable = 1 << 11 // IA32_APIC_BASE: the local APIC is on

	svrEnable      = 1 << 8
	timerDivide16  = 0x3
	timerOneShot   = 0 << 17
	xapicBroadcast = 0xff // xAPIC's physical destination "every CPU": no CPU's own ID

	icrFixed   = 0 << 8
	icrNMI     = 4 << 8
	icrInit    = 5 << 8
	icrStartup = 6 << 8
	icrPending = 1 << 12 // xAPIC's delivery status: not yet accepted
	icrAssert  = 1 << 14
	icrLevel   = 1 << 15
	icrSelf    = 1 << 18 // destination shorthand: this CPU (the ICR's destination is ignored)
)

var (
	// x2apic is the mode of every CPU's local APIC, chosen by lapicSetup
	// on the boot CPU before anything uses it, and read-only after.
	x2apic bool
	// lapicWhy says why the mode is what it is, for the CPU line.
	lapicWhy string

	// lapicBase is xAPIC's page's physical address: the MADT's, set by
	// mapLAPIC. The kernel reaches the page through the physmap only
	// (lapicReg): the lower half is the processes'.
	lapicBase = uint64(lapicPhys)
)

// lapicSetup chooses the mode of every CPU's local APIC, in kmain on the
// boot CPU after discoverCPUs (the MADT's page address) and before
// timeInit (the first lapicInit): x2APIC where the CPU has it or the
// firmware left it on, unless the command line says hurdvm.x2apic=off and
// the boot CPU's own ID lets it go back to xAPIC. In xAPIC mode it maps
// the registers' page; in x2APIC mode nothing maps it, so that a stray
// access to it faults.
func lapicSetup() {
	fromFirmware := rdmsr(msrAPICBase)&apicBaseX2APIC != 0
	off := cmdlineHas("hurdvm.x2apic=off")
	x2apic = cpuFeatures.x2apic || fromFirmware
	switch {
	case off && fromFirmware && bootAPICID >= xapicBroadcast:
		lapicWhy = "x2APIC (the firmware's; hurdvm.x2apic=off cannot be followed: the boot CPU's APIC ID needs it)"
	case off && x2apic:
		x2apic = false
		lapicWhy = "xAPIC (hurdvm.x2apic=off)"
	case fromFirmware:
		lapicWhy = "x2APIC (the firmware left it on)"
	case x2apic:
		lapicWhy = "x2APIC"
	default:
		lapicWhy = "xAPIC (the CPU has no x2APIC)"
	}
	if !x2apic {
		mapLAPIC()
	}
}

// lapicInit turns on this CPU's local APIC in the chosen mode, with the
// spurious vector and its timer one-shot, counting at the bus clock
// divided by 16 (as calibrated on the boot CPU). Each CPU, the boot CPU
// in timeInit and the others in apMain: the mode is each CPU's own.
func lapicInit() {
	base := rdmsr(msrAPICBase)
	on := base&apicBaseX2APIC != 0
	switch {
	case x2apic && !on:
		// xAPIC, then x2APIC: the way in the SDM allows (10.12.5).
		wrmsr(msrAPICBase, base|apicBaseEnable)
		wrmsr(msrAPICBase, base|apicBaseEnable|apicBaseX2APIC)
	case !x2apic && on:
		// Out of the firmware's x2APIC only through disabled (10.12.5),
		// which resets the registers set below.
		wrmsr(msrAPICBase, base&^(apicBaseEnable|apicBaseX2APIC))
		wrmsr(msrAPICBase, base&^apicBaseX2APIC|apicBaseEnable)
	default:
		wrmsr(msrAPICBase, base|apicBaseEnable)
	}
	lapicWrite(lapicSVR, lapicRead(lapicSVR)|svrEnable|vecSpurious)
	lapicWrite(lapicTimerDivide, timerDivide16)
	lapicWrite(lapicLVTTimer, vecTimer|timerOneShot)
}

// lapicReg is an xAPIC register in the physmap.
func lapicReg(off uint32) *uint32 {
	return (*uint32)(at(physmapBase + lapicBase + uint64(off)))
}

// lapicRead reads the register at xAPIC offset reg.
func lapicRead(reg uint32) uint32 {
	if x2apic {
		return uint32(rdmsr(x2apicMSRs + reg>>4))
	}
	return *lapicReg(reg)
}

// lapicWrite writes the register at xAPIC offset reg.
func lapicWrite(reg, v uint32) {
	if x2apic {
		wrmsr(x2apicMSRs+reg>>4, uint64(v))
		return
	}
	*lapicReg(reg) = v
}

// lapicEOI ends the interrupt being handled.
func lapicEOI() { lapicWrite(lapicEOIReg, 0) }

// lapicID is this CPU's local APIC ID.
func lapicID() uint32 {
	if x2apic {
		return uint32(rdmsr(x2apicMSRs + lapicIDReg>>4))
	}
	return *lapicReg(lapicIDReg) >> 24
}

// lapicSend sends the interrupt command low (vector, delivery mode) to the
// CPU with APIC ID id. In xAPIC mode it waits (a bounded while) for its
// local APIC to take it; x2APIC has no such wait. Stores before the call
// are visible to the target before the interrupt arrives: xAPIC's write to
// uncached memory is ordered after them, and x2APIC's WRMSR, which is not
// (SDM 10.12.3), is fenced (wrmsrFenced).
func lapicSend(id, low uint32) {
	if x2apic {
		wrmsrFenced(x2apicMSRs+lapicICR>>4, uint64(id)<<32|uint64(low))
		return
	}
	*lapicReg(lapicICRHigh) = id << 24
	*lapicReg(lapicICR) = low
	for i := 0; i < 1_000_000 && *lapicReg(lapicICR)&icrPending != 0; i++ {
		pause()
	}
}

// lapicSendSelf interrupts this CPU with vector: x2APIC's self-IPI
// register, xAPIC's ICR with the self shorthand.
func lapicSendSelf(vector uint32) {
	if x2apic {
		wrmsr(x2apicMSRs+lapicSelfIPI>>4, uint64(vector))
		return
	}
	lapicSend(0, icrSelf|icrFixed|vector)
}

// lapicReachable says this CPU's local APIC can address the CPU with APIC
// ID id: in xAPIC mode the IDs below the broadcast.
func lapicReachable(id uint32) bool { return x2apic || id < xapicBroadcast }

// lapicInterruptWaiting reports whether an interrupt is waiting for this
// CPU to enable interrupts: long work with interrupts off stops for it.
func lapicInterruptWaiting() bool {
	for i := uint32(1); i < 8; i++ { // vectors 0-31 are exceptions, never requested
		if lapicRead(lapicIRR+0x10*i) != 0 {
			return true
		}
	}
	return false
}

// spinFor waits ns nanoseconds on the TSC.
func spinFor(ns int64) {
	for end := nanotime() + ns; nanotime() < end; {
		pause()
	}
}
