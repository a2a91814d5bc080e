//go:build hurdvm

// The local APIC as the CPUs talk to each other: its ID, and
// inter-processor interrupts through the interrupt command register
// (Intel SDM vol. 3, 10.6). xAPIC mode, through its registers' page.
// Handler context.

package kernel

const (
	lapicIDReg   = 0x20
	lapicICRLow  = 0x300
	lapicICRHigh = 0x310

	icrFixed   = 0 << 8
	icrNMI     = 4 << 8
	icrInit    = 5 << 8
	icrStartup = 6 << 8
	icrPending = 1 << 12 // delivery status: not yet accepted
	icrAssert  = 1 << 14
	icrLevel   = 1 << 15
	icrSelf    = 1 << 18 // destination shorthand: this CPU (the ICR's destination is ignored)
)

// lapicID is this CPU's local APIC ID.
func lapicID() uint32 { return *lapicReg(lapicIDReg) >> 24 }

// lapicSend sends the interrupt command low (vector, delivery mode) to the
// CPU with APIC ID id, and waits (a bounded while) for its local APIC to
// take it.
func lapicSend(id, low uint32) {
	*lapicReg(lapicICRHigh) = id << 24
	*lapicReg(lapicICRLow) = low
	for i := 0; i < 1_000_000 && *lapicReg(lapicICRLow)&icrPending != 0; i++ {
		pause()
	}
}

// spinFor waits ns nanoseconds on the TSC.
func spinFor(ns int64) {
	for end := nanotime() + ns; nanotime() < end; {
		pause()
	}
}
