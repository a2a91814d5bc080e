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
	kernelMode := c.inKernelStack(tf.RSP)
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
		systemCall(tf)
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
	res := vmFault(addr, accessOf(tf.ErrorCode), false)
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
	switch res {
	case mm.FaultNoMemory: // as Linux does for a mapping it cannot back
		reportOutOfMemory(addr)
		forceSignal(tf, sigBUS, busAdrErr, addr)
	case mm.FaultProtection:
		forceSignal(tf, sigSEGV, segvAccErr, addr)
	default:
		forceSignal(tf, sigSEGV, segvMapErr, addr)
	}
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
