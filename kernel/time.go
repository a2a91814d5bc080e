//go:build hurdvm

// Time: the TSC is the clock; the local APIC timer, in one-shot mode, is
// the only interrupt source (the legacy PIC is masked). The wall clock is
// the CMOS RTC read once at boot plus the monotonic clock since. Handler
// context.
//
// The TSC's frequency comes from the CPU itself where it says (CPUID leaf
// 0x15, with leaf 0x16's base frequency when the crystal is not given, as
// Linux reads them), and the LAPIC timer is then measured against the
// TSC: no legacy timer is needed, which matters on recent PCs whose
// firmware gates the PIT off. Otherwise both are calibrated against PIT
// channel 2, with a time limit in case the PIT is not there.

package kernel

import "math/bits"

const (
	pitHz         = 1193182
	calibrationMs = 10
	nsPerSecond   = 1_000_000_000
)

var (
	tscHz      uint64
	tscAtBoot  uint64
	nsPerTSC32 uint64 // ns per TSC tick, fixed point with 32 fraction bits
	lapicHz    uint64 // LAPIC timer ticks per second (divide by 16)
	wallAtBoot int64  // Unix ns at tscAtBoot, from the RTC
)

// timeInit masks the PIC, enables the local APIC and calibrates the TSC
// and the LAPIC timer over calibrationMs: against the TSC when CPUID gives
// its frequency, else against PIT channel 2.
func timeInit() {
	// Remap the 8259s away from the exception vectors, then mask them.
	outb(0x20, 0x11)
	outb(0xa0, 0x11)
	outb(0x21, 0xf0)
	outb(0xa1, 0xf8)
	outb(0x21, 4)
	outb(0xa1, 2)
	outb(0x21, 1)
	outb(0xa1, 1)
	outb(0x21, 0xff)
	outb(0xa1, 0xff)

	lapicInit()

	source := "TSC and LAPIC timer calibrated against the PIT"
	if tscHz = tscFromCPUID(); tscHz != 0 {
		source = "TSC frequency from CPUID leaf 0x15/0x16, LAPIC timer measured against it"
		// The LAPIC timer against the TSC, over calibrationMs.
		lapicWrite(lapicTimerInit, 0xffffffff)
		t0 := rdtsc()
		for rdtsc()-t0 < tscHz*calibrationMs/1000 {
		}
		left := lapicRead(lapicTimerCount)
		lapicWrite(lapicTimerInit, 0)
		lapicHz = uint64(0xffffffff-left) * 1000 / calibrationMs
	} else if !calibrateWithPIT() {
		// No PIT either: guess, and say so. Timeouts will be off by
		// the error of the guess.
		source = "warning: no PIT and no CPUID leaf 0x15 to calibrate against: TSC and LAPIC timer frequencies guessed"
		tscHz, lapicHz = 2_000_000_000, 100_000_000
	}
	kprint("hurdvm: clock: ")
	kprint(source)
	kprint("\n")
	hi, lo := bits.Mul64(nsPerSecond, 1<<32)
	nsPerTSC32, _ = bits.Div64(hi, lo, tscHz)
	tscAtBoot = rdtsc()
	wallAtBoot = readRTC()
}

// tscFromCPUID is the TSC frequency the CPU states (Intel's leaf 0x15:
// TSC/crystal ratio and crystal frequency; when the crystal frequency is
// missing, leaf 0x16's base frequency, which the TSC runs at on those
// CPUs), or 0 when it states none (AMD, most hypervisors, QEMU's TCG).
func tscFromCPUID() uint64 {
	if cpuFeatures.maxLeaf < 0x15 {
		return 0
	}
	den, num, crystal, _ := cpuid(0x15, 0)
	switch {
	case den == 0 || num == 0:
		return 0
	case crystal != 0:
		return uint64(crystal) * uint64(num) / uint64(den)
	case cpuFeatures.maxLeaf >= 0x16:
		base, _, _, _ := cpuid(0x16, 0)
		return uint64(base&0xffff) * 1_000_000
	}
	return 0
}

// calibrateWithPIT measures the TSC and the LAPIC timer against PIT
// channel 2 counting calibrationMs (mode 0, gated through port 0x61). It
// gives up, false, when the count does not end within 10^10 TSC ticks (a
// few seconds), or ends at once (a port that reads all ones): no PIT.
func calibrateWithPIT() bool {
	count := uint16(pitHz * calibrationMs / 1000)
	outb(0x61, inb(0x61)&^0x03)
	outb(0x43, 0xb0)
	outb(0x42, uint8(count))
	outb(0x42, uint8(count>>8))
	lapicWrite(lapicTimerInit, 0xffffffff)
	t0 := rdtsc()
	outb(0x61, inb(0x61)|0x01)
	for inb(0x61)&0x20 == 0 {
		if rdtsc()-t0 > 10_000_000_000 {
			lapicWrite(lapicTimerInit, 0)
			return false
		}
	}
	t1 := rdtsc()
	left := lapicRead(lapicTimerCount)
	lapicWrite(lapicTimerInit, 0)
	tscHz = (t1 - t0) * 1000 / calibrationMs
	lapicHz = uint64(0xffffffff-left) * 1000 / calibrationMs
	return tscHz >= 100_000_000 && lapicHz != 0
}

// nanotime is CLOCK_MONOTONIC: ns since the clock was calibrated.
func nanotime() int64 {
	d := rdtsc() - tscAtBoot
	hi, lo := bits.Mul64(d, nsPerTSC32)
	return int64(hi<<32 | lo>>32)
}

func walltime() int64 { return wallAtBoot + nanotime() }

// armTimer makes the LAPIC timer fire at monotonic time at (0: never).
func armTimer(at int64) {
	c := thisCPU()
	if at == c.timerArmed {
		return
	}
	c.timerArmed = at
	if at == 0 {
		lapicWrite(lapicTimerInit, 0)
		return
	}
	d := at - nanotime()
	if d < 1000 {
		d = 1000
	}
	hi, lo := bits.Mul64(uint64(d), lapicHz)
	ticks := uint64(0xffffffff)
	if hi < nsPerSecond {
		if t, _ := bits.Div64(hi, lo, nsPerSecond); t < ticks {
			ticks = max(t, 1)
		}
	}
	lapicWrite(lapicTimerInit, uint32(ticks))
}

func cmos(reg uint8) uint8 {
	outb(0x70, reg)
	return inb(0x71)
}

// readRTC returns the CMOS clock as Unix nanoseconds (UTC assumed).
func readRTC() int64 {
	// Wait while an update is in progress (at most about 2 ms on a real
	// RTC); a missing RTC reads 0xff for ever, so give up after a while.
	for i := 0; cmos(0x0a)&0x80 != 0 && i < 1_000_000; i++ {
	}
	sec, min, hour := cmos(0), cmos(2), cmos(4)
	day, month, year := cmos(7), cmos(8), cmos(9)
	century := cmos(0x32)
	if cmos(0x0b)&0x04 == 0 { // BCD
		b := func(v uint8) uint8 { return v&0x0f + v>>4*10 }
		sec, min, hour, day, month, year, century = b(sec), b(min), b(hour&0x7f)|hour&0x80, b(day), b(month), b(year), b(century)
	}
	y := int64(year) + 2000
	if century >= 19 && century <= 30 {
		y = int64(century)*100 + int64(year)
	}
	// Days since 1970-01-01 (civil-from-days, inverted).
	m := int64(month)
	if m <= 2 {
		y--
		m += 12
	}
	days := 365*y + y/4 - y/100 + y/400 + (153*(m-3)+2)/5 + int64(day) - 719469
	return ((days*24+int64(hour&0x7f))*60+int64(min))*60*nsPerSecond + int64(sec)*nsPerSecond
}
