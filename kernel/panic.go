//go:build hurdvm

// Kernel panics: a fault in handler context (or an exception Go cannot
// handle) prints the registers and the faulting instruction's bytes from
// handler context, with nothing allocated. Decoding the instruction
// (golang.org/x/arch/x86/x86asm) and naming the function allocate, which
// handler context cannot do, so the kernel then freezes every other thread
// and injects a call to reportPanic into the thread that was running:
// ordinary Go code on that thread's own goroutine finishes the report and
// stops the machine. The register dump is already out if that fails. The
// console buffer is printed out first, and the report printed directly
// (consoleStopBuffering), so that it follows everything printed before.

package kernel

import (
	"runtime"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"
)

var (
	panicking   bool
	panicFrame  TrapFrame
	panicAddr   uint64
	panicBytes  [15]byte
	panicNBytes int
)

func resumeFrame(tf uintptr, fsBase uint64)
func reportPanicAddr() uintptr

func kernelPanicMsg(msg string) {
	stopOtherCPUs()
	consoleStopBuffering()
	kprint("\nhurdvm: kernel panic: ")
	kprint(msg)
	kprint("\n")
	exitMachine(panicExitStatus)
}

func kernelPanic(tf *TrapFrame, what string, addr uint64) {
	consoleStopBuffering()
	if panicking {
		kprint("\nhurdvm: fault while reporting a kernel panic: ")
		kprint(what)
		kprint(" at ")
		kprintHex(tf.RIP)
		kprint("\n")
		exitMachine(panicExitStatus)
	}
	panicking = true
	stopOtherCPUs()
	kprint("\nhurdvm: kernel panic: ")
	kprint(what)
	kprint("\n")
	dumpFrame(tf, addr)
	panicFrame, panicAddr = *tf, addr
	panicNBytes = 0
	for i := range panicBytes {
		if p, _ := mapped(tf.RIP + uint64(i)); !p || tf.CS&3 != 0 {
			break
		}
		panicBytes[i] = *(*byte)(at(tf.RIP + uint64(i)))
		panicNBytes++
	}
	kprint("  code:")
	for _, b := range panicBytes[:panicNBytes] {
		kprint(" ")
		consolePutc("0123456789abcdef"[b>>4])
		consolePutc("0123456789abcdef"[b&15])
	}
	kprint("\n")

	// Freeze every other thread and finish the report on the current one.
	c := thisCPU()
	if !isIdle(c.current) && c.userFrame != 0 && thr(c.current).state != threadFree && thr(c.current).proc == 0 {
		uf := (*TrapFrame)(at(uint64(c.userFrame)))
		sameStack := c.stackSlot(uint64(c.userFrame)) == c.stackSlot(uint64(uintptr(unsafe.Pointer(tf))))
		if uf == tf || !sameStack {
			for i := int32(1); i < threadHigh; i++ {
				if i != current() && thr(i).state != threadFree {
					thr(i).state = threadDead
				}
			}
			runHead, runTail = -1, -1
			armTimer(0)
			if sp, ok := reporterStack(uf); ok {
				uf.RSP = sp
				uf.RIP = uint64(reportPanicAddr())
				uf.RFLAGS = 2 // interrupts off: nothing else runs
				resumeFrame(c.userFrame, thr(c.current).fsBase)
			}
		}
	}
	exitMachine(panicExitStatus)
}

// The runtime's g and m layouts, as far as reporterStack reads them: g
// starts with stack.lo, stack.hi, ..., and has m at offset 48; m starts
// with g0. They have been stable for many Go releases; reporterStack checks
// that what it reads is plausible.
const (
	gStackLo = 0
	gStackHi = 8
	gM       = 48
	mG0      = 0
)

// reporterStack switches the current thread to its g0 (the runtime's
// system stack, where code may allocate but not grow the stack: the
// goroutine itself may be in a system call, where stack growth is
// forbidden) and returns where reportPanic's frame goes.
func reporterStack(uf *TrapFrame) (uint64, bool) {
	fs := thr(current()).fsBase
	if fs == 0 {
		return 0, false
	}
	g, ok1 := readUser64(fs - 8)
	m, ok2 := readUser64(g + gM)
	g0, ok3 := readUser64(m + mG0)
	lo, ok4 := readUser64(g0 + gStackLo)
	hi, ok5 := readUser64(g0 + gStackHi)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return 0, false
	}
	sp := (hi-64)&^15 - 8
	if g == g0 { // already on the system stack: go below what it uses
		sp = (uf.RSP-512)&^15 - 8
	}
	if hi <= lo || sp < lo+8192 || sp >= hi || !writeUser64(sp, 0) || !writeUser64(fs-8, g0) {
		return 0, false
	}
	return sp, true
}

func dumpFrame(tf *TrapFrame, addr uint64) {
	reg := func(name string, v uint64) {
		kprint("  ")
		kprint(name)
		kprint("=")
		kprintHex(v)
	}
	reg("vector", tf.Vector)
	reg("error", tf.ErrorCode)
	reg("cr2", addr)
	kprint("\n")
	reg("rip", tf.RIP)
	reg("rsp", tf.RSP)
	reg("rflags", tf.RFLAGS)
	kprint("\n")
	reg("rax", tf.RAX)
	reg("rbx", tf.RBX)
	reg("rcx", tf.RCX)
	kprint("\n")
	reg("rdx", tf.RDX)
	reg("rsi", tf.RSI)
	reg("rdi", tf.RDI)
	kprint("\n")
	reg("rbp", tf.RBP)
	reg("r8", tf.R8)
	reg("r9", tf.R9)
	kprint("\n")
	reg("r10", tf.R10)
	reg("r11", tf.R11)
	reg("r12", tf.R12)
	kprint("\n")
	reg("r13", tf.R13)
	reg("r14", tf.R14)
	reg("r15", tf.R15)
	kprint("\n")
	reg("cr3", readCR3())
	reg("thread", uint64(thr(current()).tid))
	kprint("\n")
}

// reportPanic runs as ordinary Go code on the thread that was current when
// the kernel panicked (see kernelPanic).
func reportPanic() {
	pc := uintptr(panicFrame.RIP)
	if f := runtime.FuncForPC(pc); f != nil {
		file, line := f.FileLine(pc)
		kprint("  in ")
		kprint(f.Name())
		kprint(" at ")
		kprint(file)
		kprint(":")
		kprintDec(uint64(line))
		kprint("\n")
	}
	if inst, err := x86asm.Decode(panicBytes[:panicNBytes], 64); err == nil {
		kprint("  faulting instruction: ")
		kprint(x86asm.GNUSyntax(inst, uint64(pc), nil))
		kprint("\n")
	}
	exitMachine(panicExitStatus)
}
