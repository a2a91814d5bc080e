//go:build hurdvm

// Starting the other CPUs (application processors, APs). Handler context:
// startCPUs runs in kmain, before the Go runtime, so that the runtime's
// first sched_getaffinity already counts every CPU; apMain runs on each AP
// before it has anything to run.
//
// The boot CPU wakes each CPU the MADT lists with INIT-SIPI-SIPI (Intel
// SDM vol. 3, 8.4.4; the MP specification's delays), through the ICR of
// the local APIC's mode (lapic.go: in x2APIC mode any 32-bit APIC ID, in
// xAPIC mode those below 255). CPUs are numbered densely in the order
// they start (cpus[], cpu.index; the boot CPU is 0), whatever their APIC
// IDs: each start fills the trampoline's parameters with that CPU's
// record and stacks, and waits until it is up. The AP starts in
// real mode at the trampoline page, goes to long mode on the kernel's page
// tables (kernel/trampoline) and enters apEntry on kernel stacks the boot
// CPU mapped for it. There it takes its record (GS), its descriptors, its
// FPU state and its local APIC, makes its idle thread, and says it is
// up. A CPU that does not answer within apStartWait is reported and left
// out; the kernel runs on the others.

package kernel

import (
	"sync/atomic"
	"unsafe"

	"hurdvm/mm"
	"hurdvm/paging"
)

const (
	// trampolinePA is the page the APs start in: conventional memory the
	// frame allocator never gets (memory.go reserves the first MiB), and
	// clear of where QEMU puts the multiboot information (0x9000). The
	// SIPI vector is its page number.
	trampolinePA = 0x8000
	// trampolineParams is the parameter block at the trampoline's end:
	// CR0, CR4, CR3, the CPU's record, its stacks, apEntry.
	trampolineParams = 6

	// The APs' kernel stacks, FPU nest areas and idle stacks are mapped
	// in the lower half of PML4 slot 510 (the heap window is the upper
	// half), cpuWindowSpan bytes a CPU: the five stack slots, each with
	// its guard page at the bottom, then the nest areas, then a guard
	// page and the idle stack.
	cpuWindowBase = 0xffff_ff00_0000_0000
	cpuWindowSpan = 1 << 20
	cpuNestOff    = kstackSlot * kstackCount
	cpuIdleOff    = cpuNestOff + (fpuNestSize+pageSize-1)&^(pageSize-1) + pageSize

	apStartWait = 10_000_000_000 // ns an AP has to say it is up, as Linux waits (5 s left one of 70 TCG vCPUs out on a loaded host)
)

var (
	// apUp is set by each AP (apMain) when it is up; startCPUs waits
	// for it.
	apUp atomic.Uint32
	// cpusReleased lets the APs run threads: set once the scheduler
	// can have them (after the boot CPU's kmain).
	cpusReleased atomic.Bool
)

// apEntry is where the trampoline jumps (entry_amd64.s).
func apEntry()
func apEntryAddr() uintptr

// startCPUs starts every CPU of machineCPUs but the boot CPU.
func startCPUs() {
	c0 := thisCPU()
	c0.apicID = lapicID()
	// The frame allocator's per-CPU caches, one a CPU that runs, turned
	// on while this CPU is the only one; none on one CPU, where no other
	// CPU contends for the lists (and the caches' bookkeeping would cost
	// a first-touch fault 6 % more instructions).
	defer func() {
		if ncpu > 1 {
			frames.EnableCaches(int(ncpu), cpuIndex)
		}
	}()
	if machineCPUCount <= 1 {
		return
	}
	cr3 := kernelPT.Root
	if cr3 >= 4<<30 {
		kprint("hurdvm: smp: the kernel's page tables lie above 4 GiB, where the trampoline cannot load them; running on one CPU\n")
		return
	}
	// The trampoline, with the parameters every AP shares.
	params := installTrampoline()
	params[0], params[1], params[2], params[5] = readCR0(), readCR4(), cr3, uint64(apEntryAddr())
	// Its page at its own address while the APs start: the instruction
	// that turns paging on must find the next one where it is.
	if err := kernelPT.Map(trampolinePA, trampolinePA, pageSize, 0); err != nil {
		kprint("hurdvm: smp: cannot map the trampoline: ")
		kprint(err.Error())
		kprint("; running on one CPU\n")
		return
	}
	for i := 0; i < machineCPUCount; i++ {
		id := machineCPUs[i]
		if id == c0.apicID {
			continue
		}
		if ncpu == maxCPUs {
			break
		}
		if !lapicReachable(id) {
			kprint("hurdvm: smp: the CPU with APIC ID ")
			kprintDec(uint64(id))
			kprint(" needs x2APIC, and the local APICs run in ")
			kprint(lapicWhy)
			kprint("; left out\n")
			continue
		}
		c := &cpus[ncpu]
		c.index, c.apicID = ncpu, id
		window := uint64(cpuWindowBase) + uint64(ncpu)*cpuWindowSpan
		if !mapCPUWindow(window) {
			kprint("hurdvm: smp: no memory for the stacks of the CPU with APIC ID ")
			kprintDec(uint64(id))
			kprint("; left out\n")
			unmapCPUWindow(window)
			continue
		}
		c.fpuNestBase = window + cpuNestOff
		params[3], params[4] = uint64(uintptr(unsafe.Pointer(c))), window
		if !wakeAP(id) {
			// INIT again, so that an AP merely slow to answer cannot
			// run the trampoline later with the parameters of the
			// next one (its record, its stacks).
			lapicSend(id, icrInit|icrAssert|icrLevel)
			spinFor(10_000_000)
			kprint("hurdvm: smp: the CPU with APIC ID ")
			kprintDec(uint64(id))
			kprint(" did not start; going on without it\n")
			unmapCPUWindow(window)
			c.index, c.apicID = 0, 0
			continue
		}
		ncpu++
	}
	// The trampoline's page goes again; the APs flush it when released.
	kernelPT.Unmap(trampolinePA, pageSize, nil)
	kprint("hurdvm: smp: ")
	kprintDec(uint64(ncpu))
	kprint(" CPUs running (APIC IDs")
	for i := int32(0); i < ncpu; i++ {
		kprint(" ")
		kprintDec(uint64(cpus[i].apicID))
	}
	kprint(")\n")
}

// cpuIndex is the index of the CPU running the caller (mm's caches).
func cpuIndex() int { return int(thisCPU().index) }

// installTrampoline copies the trampoline to its page and returns its
// parameter block.
func installTrampoline() *[trampolineParams]uint64 {
	tramp := (*[len(trampolineCode)]byte)(phys(trampolinePA))
	*tramp = trampolineCode
	return (*[trampolineParams]uint64)(phys(trampolinePA + uint64(len(trampolineCode)) - 8*trampolineParams))
}

// wakeAP sends the AP with APIC ID id INIT and up to two SIPIs, and waits
// for it to say it is up.
func wakeAP(id uint32) bool {
	up := apUp.Load()
	lapicSend(id, icrInit|icrAssert|icrLevel)
	spinFor(10_000_000) // 10 ms
	for try := 0; try < 2; try++ {
		lapicSend(id, icrStartup|trampolinePA>>12)
		deadline := nanotime() + 200_000 // 200 µs, then the second SIPI
		if try == 1 {
			deadline = nanotime() + apStartWait
		}
		for nanotime() < deadline {
			if apUp.Load() != up {
				return true
			}
			pause()
		}
	}
	return false
}

// mapCPUWindow backs an AP's window with zeroed frames (guard pages left
// out).
func mapCPUWindow(w uint64) bool {
	for off := uint64(0); off < cpuWindowSpan; off += pageSize {
		switch {
		case off < cpuNestOff && off%kstackSlot == 0: // a stack's guard page
			continue
		case off >= cpuNestOff+fpuNestSize && off < cpuIdleOff: // between nest areas and idle stack
			continue
		case off >= cpuIdleOff+pageSize:
			continue
		}
		pa, err := frames.AllocZeroed(0)
		if err != nil {
			return false
		}
		if kernelPT.Map(uintptr(w+off), uint64(pa), pageSize, paging.Writable|paging.Global|noExecute()) != nil {
			frames.Free(pa, 0)
			return false
		}
	}
	return true
}

// unmapCPUWindow gives back the frames of an AP's window.
func unmapCPUWindow(w uint64) {
	kernelPT.Unmap(uintptr(w), cpuWindowSpan, freeWindowFrame)
}

func freeWindowFrame(pa uint64, size uintptr) {
	for off := uintptr(0); off < size; off += pageSize {
		frames.Free(mm.PhysAddr(pa+uint64(off)), 0)
	}
}

// apMain is an AP's first Go code, on its trap stack, with its record in
// GS (apEntry): it sets the CPU up, says so, and waits to be released.
func apMain() {
	c := thisCPU()
	setupDescriptors(c)
	lapicInit()
	idleInit(c, uint64(cpuWindowBase)+uint64(c.index)*cpuWindowSpan+cpuIdleOff+pageSize-16)
	apUp.Add(1)
	for !cpusReleased.Load() {
		shootdownAnswer(c) // kmain's last mappings
		pause()
	}
	// The trampoline's page is gone: drop its translation, and run the
	// idle thread until there is something else (an IPI says so).
	c.cr3 = kernelPT.Root
	flushLocal(false)
	var tf TrapFrame
	tf = thr(c.idle).frame
	resumeFrame(uintptr(unsafe.Pointer(&tf)), 0)
}

// stopping says the machine is stopping (a kernel panic, the exit): every
// CPU that gets an NMI then stops.
var stopping atomic.Bool

// stopOtherCPUs stops every CPU hurdvm started but this one, with an NMI
// (which no "interrupts off" holds back), before the machine's last words.
// One NMI per started CPU, not the all-but-self shorthand: the CPUs left
// out (past maxCPUs, or that did not answer) still sit in the firmware's
// halt loop without an IDT, where an NMI is a triple fault that resets
// the machine (qemu/cpus_test.go's -smp 70 caught it).
func stopOtherCPUs() {
	if ncpu > 1 && !stopping.Swap(true) {
		me := thisCPU()
		for i := int32(0); i < ncpu; i++ {
			if c := &cpus[i]; c != me {
				lapicSend(c.apicID, icrNMI)
			}
		}
	}
}

// stopCPU stops this CPU for good.
func stopCPU() {
	for {
		halt()
	}
}

// kickCPU interrupts CPU i (vecWakeup): it enters the kernel and looks
// for a thread to run and for signals to deliver.
func kickCPU(i int32) {
	if i != thisCPU().index {
		lapicSend(cpus[i].apicID, icrFixed|vecWakeup)
	}
}

// kickIdleCPU wakes one idle CPU, if there is one, for a thread just made
// runnable.
func kickIdleCPU() {
	me := thisCPU().index
	for i := int32(0); i < ncpu; i++ {
		if i != me && isIdle(cpus[i].current) && !cpus[i].kicked {
			cpus[i].kicked = true
			kickCPU(i)
			return
		}
	}
}
