//go:build hurdvm

// Trap dispatch: every system call, interrupt and exception after boot
// comes through trap. Handler context (docs/DESIGN.md, "Handler context"): the kernel g,
// a kernel stack, interrupts off, no allocation, no Go locks, no Go
// pointers stored outside the stack.

package kernel

import (
	"sync/atomic"
	"unsafe"

	"hurdvm/mm"
)

// TrapFrame is what trapCommon saves, lowest address first. FPU is the
// address of the area holding the interrupted code's FPU state (fpu.go),
// which trapReturn restores from.
type TrapFrame struct {
	FPU, _                               uint64
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RBP, RDI, RSI, RDX, RCX, RBX, RAX    uint64
	Vector, ErrorCode                    uint64
	RIP, CS, RFLAGS, RSP, SS             uint64
}

// Page-fault error code bits (SDM vol. 3, "Interrupt 14").
const (
	pfPresent = 1 << 0
	pfWrite   = 1 << 1
	pfUser    = 1 << 2
	pfRsvd    = 1 << 3 // a reserved bit was set in a paging-structure entry
	pfFetch   = 1 << 4
	pfPK      = 1 << 5  // protection-key violation
	pfSS      = 1 << 6  // shadow-stack access
	pfSGX     = 1 << 15 // SGX access-control violation
)

// pfBroken are the error-code bits no retry can cure: the tables
// themselves are wrong (a reserved bit) or a mechanism hurdvm never turns
// on reports a violation. The VM would find the page mapped and allowed,
// call it a stale TLB entry, and the access would fault again for ever.
const pfBroken = pfRsvd | pfPK | pfSS | pfSGX

var trapCounts [257]uint64

// trap handles one entry into the kernel and returns the FS base of the
// code it returns to (the kernel's, when returning into a handler).
func trap(tf *TrapFrame) uint64 {
	c := thisCPU()
	// The kernel itself was interrupted: ring 0 on a kernel stack. A
	// process's thread is never taken for the kernel, wherever it points
	// its RSP (the CS of its frames says ring 3).
	kernelMode := c.inKernelStack(tf.RSP) && tf.CS&3 == 0
	// What another CPU asks of this one is answered without the kernel
	// lock: the asker may hold it.
	switch tf.Vector {
	case vecShootdown:
		lapicEOI()
		shootdownAnswer(c)
		return interruptedFSBase(c, kernelMode)
	case vecNMI:
		if stopping.Load() {
			stopCPU()
		}
	}
	// The VM's work, without the kernel lock (docs/DESIGN.md,
	// "Locking"): a page fault the VM resolves, and the memory calls
	// (vmCall), each under its address space's lock. Anything else, and
	// a fault that ends in a signal or a panic, takes the kernel lock.
	switch tf.Vector {
	case vecPageFault:
		if pageFaultUnlocked(c, tf, kernelMode) {
			return unlockedReturn(c, tf, kernelMode)
		}
	case vecSyscall:
		// (A process's memory calls too: vmCall passes them to
		// procVMCall.)
		if vmCall(c, tf) {
			return unlockedReturn(c, tf, kernelMode)
		}
	}
	kernelEnter(c)
	if tf.Vector == vecPageFault {
		faultsLocked.Add(1)
	}
	fs := trapLocked(c, tf, kernelMode)
	kernelLeave(c)
	return fs
}

// faultsLocked counts the page faults that took the kernel lock: those the
// VM did not resolve (a signal, a fix-up, a panic). Tests read it.
var faultsLocked atomic.Uint64

// trapEnter is what every trap does first, with or without the kernel
// lock: it counts the trap and records where a program's state is.
func trapEnter(c *cpu, tf *TrapFrame, kernelMode bool) {
	atomic.AddUint64(&trapCounts[tf.Vector&255], 1)
	if !kernelMode {
		c.userFrame = uintptr(unsafe.Pointer(tf))
	} else if c.stackSlot(tf.RSP) == c.stackSlot(uint64(uintptr(unsafe.Pointer(tf)))) {
		// The CPU started this trap at the top of the very stack the
		// interrupted handler was running on: that handler's frames are
		// overwritten, so there is nothing to return to. (A fault inside
		// the page-fault handler; handlers avoid faulting, see user.go.)
		kernelEnter(c)
		kernelPanic(tf, "trap inside a handler on the same stack", readCR2())
	}
}

// pageFaultUnlocked resolves a page fault by the VM alone, under the
// address space's lock; false when the VM cannot (the locked path then
// decides: a signal, a user-copy fix-up, a kernel panic).
func pageFaultUnlocked(c *cpu, tf *TrapFrame, kernelMode bool) bool {
	if tf.ErrorCode&pfBroken != 0 || panicking {
		return false
	}
	trapEnter(c, tf, kernelMode)
	addr := readCR2()
	pageFaultHook(addr)
	// (A first-touch fault of the kernel's runtime, neither present nor
	// ring 3's, passes one test of the error code here; its
	// copy-on-write fault one more, of the CPU's flag that a process's
	// thread runs.)
	if tf.ErrorCode&(pfUser|pfPresent) != 0 && (tf.ErrorCode&pfUser != 0 || c.lstarUser) && !vmMayResolve(tf, addr) {
		atomic.AddUint64(&trapCounts[vecPageFault], ^uint64(0)) // counted again on the locked path
		return false
	}
	if vmFault(addr, accessOf(tf.ErrorCode), tf.ErrorCode&pfPresent == 0) != mm.FaultResolved {
		atomic.AddUint64(&trapCounts[vecPageFault], ^uint64(0)) // counted again on the locked path
		return false
	}
	return true
}

// unlockedReturn is the way back from a trap served without the kernel
// lock: to the same thread (the scheduler is not asked: the next timer
// tick or kick does that; asking the clock whether the slice is over
// costs a first-touch fault 2 %), or to the interrupted handler.
func unlockedReturn(c *cpu, tf *TrapFrame, kernelMode bool) uint64 {
	if kernelMode {
		return c.kernelFSBase
	}
	return thr(c.current).fsBase
}

// trapLocked is trap under the kernel lock.
func trapLocked(c *cpu, tf *TrapFrame, kernelMode bool) uint64 {
	trapEnter(c, tf, kernelMode)
	switch v := tf.Vector; {
	case v == vecSyscall:
		systemCall(tf) // a process's too (procSyscall first)
	case v == vecTimer:
		lapicEOI()
		c.timerArmed = 0
		timerTick()
	case v == vecWakeup:
		lapicEOI()
	case v == vecSpurious:
	case v == vecPageFault:
		pageFault(tf, kernelMode)
	default:
		exception(tf, kernelMode)
	}
	if kernelMode {
		return c.kernelFSBase
	}
	return leaveKernel(tf)
}

// interruptedFSBase is the FS base of the code a trap interrupted: the
// kernel's, or the current thread's.
func interruptedFSBase(c *cpu, kernelMode bool) uint64 {
	if kernelMode {
		return c.kernelFSBase
	}
	return thr(c.current).fsBase
}

func pageFault(tf *TrapFrame, kernelMode bool) {
	addr := readCR2()
	pageFaultHook(addr)
	if tf.ErrorCode&pfBroken != 0 {
		msg := "page fault on a page-table entry with a reserved bit set"
		if tf.ErrorCode&pfRsvd == 0 {
			msg = "page fault from a protection mechanism hurdvm does not use (protection keys, shadow stacks, SGX)"
		}
		kernelPanic(tf, msg, addr)
	}
	if tf.ErrorCode&(pfUser|pfPresent) == pfPresent && thisCPU().lstarUser && kernelTouchedProcess(tf, addr) {
		if smapProbeFixup(tf) { // test kernels: the probe's unbracketed copy
			return
		}
		msg := "SMAP: the kernel touched a process's page outside a copy (userCopyAC)"
		if tf.ErrorCode&pfFetch != 0 {
			msg = "SMEP: the kernel executed a process's page"
		}
		kernelPanic(tf, msg, addr)
	}
	res := mm.FaultNoRegion
	if tf.ErrorCode&pfUser == 0 || processMayFault(addr) {
		res = vmFault(addr, accessOf(tf.ErrorCode), false)
	}
	if res == mm.FaultResolved {
		return
	}
	if kernelMode && userCopyFault(tf) {
		return // a bad user pointer: the copy ends short, the call says EFAULT
	}
	if kernelMode || panicking {
		kernelPanic(tf, "page fault in the kernel", addr)
	}
	t := thr(current())
	t.lastFault = mm.FaultRecord{Addr: uintptr(addr), Access: accessOf(tf.ErrorCode), Cause: res}
	t.lastFaultValid = true
	sig, code := uint32(sigSEGV), int32(segvMapErr)
	switch res {
	case mm.FaultNoMemory: // as Linux does for a mapping it cannot back
		reportOutOfMemory(addr)
		sig, code = sigBUS, busAdrErr
	case mm.FaultProtection:
		code = segvAccErr
	}
	forceSignal(tf, sig, code, addr) // a process without a handler ends alone (fatalSignal)
}

// vmMayResolve says whether the VM is to resolve a fault that is ring 3's
// or on a present page: not a process's fault outside its task window
// (processMayFault), nor the kernel's on a process's page outside a copy
// (kernelTouchedProcess: the locked path panics).
func vmMayResolve(tf *TrapFrame, addr uint64) bool {
	if tf.ErrorCode&pfUser != 0 {
		return processMayFault(addr)
	}
	return !kernelTouchedProcess(tf, addr)
}

// processMayFault reports whether a fault of ring 3 (the error code's U/S
// bit) at addr is the VM's to resolve: in the lower half, the process's
// own (its window; a fault outside it finds no region). The kernel's
// pages (the image, the heap window, the physmap), present or not, are
// not the process's to fault in, and its faults there are SIGSEGV.
func processMayFault(addr uint64) bool {
	return inPrivateHalf(addr) && thr(current()).proc != 0
}

// kernelTouchedProcess reports a fault of the kernel itself (U/S clear in
// the error code) on a present page (the caller checks both) of the
// running process's memory (the lower half) outside a bracketed copy (AC clear: SMAP
// refused it), or an instruction fetch there (SMEP): a kernel bug the VM
// must not take for a stale TLB entry and retry for ever. Only where the
// CPU has SMAP and SMEP: without them such an access does not fault at
// all.
func kernelTouchedProcess(tf *TrapFrame, addr uint64) bool {
	if !inPrivateHalf(addr) || thr(current()).proc == 0 {
		return false
	}
	if tf.ErrorCode&pfFetch != 0 {
		return smepOn
	}
	return smapOn && tf.RFLAGS&rflagsAC == 0
}

// exception turns a CPU exception in Go code into the signal Linux would
// send; in the kernel it is a kernel panic.
func exception(tf *TrapFrame, kernelMode bool) {
	sig, code := uint32(sigSEGV), int32(siKernel)
	switch tf.Vector {
	case vecDivide:
		sig, code = sigFPE, fpeIntDiv
	case vecDebug, vecBreakpoint:
		sig, code = sigTRAP, siKernel
	case vecInvalidOp:
		sig, code = sigILL, illIllOpn
	case vecFPU, vecSIMD:
		sig, code = sigFPE, fpeFltInv
	case vecGP, vecInvalidTSS:
		sig, code = sigSEGV, siKernel
	case vecSegmentNotPresent, vecStackFault:
		// As Linux: a bad stack pointer or segment in the program's
		// code (a sigreturn to garbage, say) is its SIGBUS, not the
		// kernel's panic.
		sig, code = sigBUS, siKernel
	case vecAlignment:
		sig, code = sigBUS, busAdrAln
	default:
		kernelMode = true // #DF, NMI, #MC, reserved: nothing Go can handle
	}
	if kernelMode || panicking {
		kernelPanic(tf, exceptionName(tf.Vector), readCR2())
	}
	forceSignal(tf, sig, code, 0)
}

// exceptionNames are the CPU's exceptions by vector, for panic messages.
var exceptionNames = [...]string{"divide error", "debug", "NMI", "breakpoint", "overflow",
	"bound range", "invalid opcode", "device not available", "double fault",
	"coprocessor overrun", "invalid TSS", "segment not present", "stack fault",
	"general protection fault", "page fault", "reserved", "x87 FPU error",
	"alignment check", "machine check", "SIMD exception", "virtualization",
	"control protection"}

func exceptionName(v uint64) string {
	if v < uint64(len(exceptionNames)) {
		return exceptionNames[v]
	}
	return "exception"
}
