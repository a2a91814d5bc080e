//go:build hurdvm

// Signals, as far as the Go runtime needs them: rt_sigaction records its
// handlers, faults in Go code arrive as SIGSEGV/SIGBUS/SIGFPE/SIGILL with
// the faulting address, and tgkill's SIGURG (async preemption) is queued
// and delivered when the target thread next returns from the kernel. The
// frame built on the thread's sigaltstack is Linux's rt_sigframe, which is
// the layout the runtime's sigtramp, sigctxt and sigreturn expect.
// Handler context.

package kernel

import "unsafe"

const (
	sigHUP  = 1
	sigILL  = 4
	sigTRAP = 5
	sigABRT = 6
	sigBUS  = 7
	sigFPE  = 8
	sigKILL = 9
	sigSEGV = 11
	sigPIPE = 13
	sigURG  = 23
	nsig    = 65

	siUser     = 0
	siKernel   = 0x80
	siTkill    = -6
	segvMapErr = 1
	segvAccErr = 2
	busAdrErr  = 2
	fpeIntDiv  = 1
	fpeFltInv  = 7
	illIllOpn  = 2

	saSiginfo = 0x4
	saOnstack = 0x08000000
	saNodefer = 0x40000000

	ssOnstack = 1
	ssDisable = 2

	sigDFL = 0
	sigIGN = 1
)

type sigaction struct {
	handler  uint64
	flags    uint64
	restorer uint64
	mask     uint64
}

var sigactions [nsig]sigaction

// sigcontext is Linux's struct sigcontext (the runtime's sigcontext).
type sigcontext struct {
	r8, r9, r10, r11, r12, r13, r14, r15 uint64
	rdi, rsi, rbp, rbx, rdx, rax, rcx    uint64
	rsp, rip, eflags                     uint64
	cs, gs, fs, pad                      uint16
	err, trapno, oldmask, cr2, fpstate   uint64
	reserved                             [8]uint64
}

type ucontext struct {
	flags    uint64
	link     uint64
	ssSP     uint64
	ssFlags  int32
	_        int32
	ssSize   uint64
	mcontext sigcontext
	sigmask  uint64
}

type siginfo struct {
	signo, errno, code, _ int32
	addr                  uint64
	_                     [96]byte
}

// sigframe is what the handler finds at its stack pointer: the return
// address (sa_restorer, which calls rt_sigreturn), the ucontext, the
// siginfo and the interrupted FPU/SSE state.
type sigframe struct {
	retAddr uint64
	uc      ucontext
	_       uint64
	info    siginfo
	fx      [512]byte
}

func sigbit(sig uint32) uint64 { return 1 << (sig - 1) }

// forceSignal delivers a synchronous fault signal to the current thread now.
// A fault the thread cannot take (signal blocked, as inside the runtime's own
// handler, or no handler) ends the program as Linux would.
func forceSignal(tf *TrapFrame, sig uint32, code int32, addr uint64) {
	t := &threads[current]
	a := &sigactions[sig]
	if t.sigMask&sigbit(sig) != 0 || a.handler == sigDFL || a.handler == sigIGN {
		fatalSignal(tf, sig, addr)
	}
	if !deliverSignal(t, tf, sig, code, addr) {
		fatalSignal(tf, sig, addr)
	}
}

// deliverPending delivers the lowest pending unblocked signal, if any.
func deliverPending(t *thread, tf *TrapFrame) {
	ready := t.pending &^ t.sigMask
	if ready == 0 {
		return
	}
	sig := uint32(1)
	for ready&1 == 0 {
		ready >>= 1
		sig++
	}
	t.pending &^= sigbit(sig)
	a := &sigactions[sig]
	switch a.handler {
	case sigIGN:
		return
	case sigDFL:
		if sig == sigURG {
			return // ignored by default
		}
		fatalSignal(tf, sig, 0)
	}
	if !deliverSignal(t, tf, sig, siTkill, 0) {
		if sig == sigURG {
			// No memory for the frame right now (the signal stack is
			// demand-paged): preemption can wait for the next return.
			t.pending |= sigbit(sig)
			return
		}
		fatalSignal(tf, sig, 0)
	}
}

// deliverSignal builds a signal frame for sig and points tf at the handler.
func deliverSignal(t *thread, tf *TrapFrame, sig uint32, code int32, addr uint64) bool {
	a := &sigactions[sig]
	sp := tf.RSP
	onAlt := t.altSize != 0 && sp >= t.altSP && sp < t.altSP+t.altSize
	if a.flags&saOnstack != 0 && t.altFlags&ssDisable == 0 && t.altSize != 0 && !onAlt {
		sp = t.altSP + t.altSize
	} else {
		sp -= 128 // the red zone of the interrupted code
	}
	size := uint64(unsafe.Sizeof(sigframe{}))
	fa := (sp-size)&^15 - 8
	if !touchUser(fa, size, true) {
		return false
	}
	f := (*sigframe)(at(fa))
	*f = sigframe{}
	f.retAddr = a.restorer
	f.uc.ssSP, f.uc.ssSize = t.altSP, t.altSize
	if onAlt {
		f.uc.ssFlags = ssOnstack
	}
	f.uc.sigmask = t.sigMask
	m := &f.uc.mcontext
	m.r8, m.r9, m.r10, m.r11 = tf.R8, tf.R9, tf.R10, tf.R11
	m.r12, m.r13, m.r14, m.r15 = tf.R12, tf.R13, tf.R14, tf.R15
	m.rdi, m.rsi, m.rbp, m.rbx = tf.RDI, tf.RSI, tf.RBP, tf.RBX
	m.rdx, m.rax, m.rcx, m.rsp = tf.RDX, tf.RAX, tf.RCX, tf.RSP
	m.rip, m.eflags, m.cs = tf.RIP, tf.RFLAGS, uint16(tf.CS)
	m.err, m.trapno, m.cr2 = tf.ErrorCode, tf.Vector, addr
	m.fpstate = uint64(uintptr(unsafe.Pointer(&f.fx)))
	f.fx = tf.FX
	f.info.signo, f.info.code, f.info.addr = int32(sig), code, addr

	if a.flags&saNodefer == 0 {
		t.sigMask |= sigbit(sig)
	}
	t.sigMask |= a.mask
	t.sigMask &^= sigbit(sigKILL) | sigbit(19) // SIGKILL and SIGSTOP cannot be blocked
	t.inSignal++
	tf.RIP = a.handler
	tf.RSP = fa
	tf.RDI = uint64(sig)
	tf.RSI = uint64(uintptr(unsafe.Pointer(&f.info)))
	tf.RDX = uint64(uintptr(unsafe.Pointer(&f.uc)))
	tf.RAX = 0
	tf.RFLAGS &^= rflagsDF | rflagsTF | rflagsAC
	return true
}

// sigreturn restores the context saved by deliverSignal, as the handler
// may have changed it (the runtime injects calls to asyncPreempt and
// sigpanic by editing rip and rsp).
func sigreturn(tf *TrapFrame) {
	t := &threads[current]
	fa := tf.RSP - 8 // the handler's ret popped retAddr
	if !touchUser(fa, uint64(unsafe.Sizeof(sigframe{})), false) {
		fatalSignal(tf, sigSEGV, fa)
	}
	f := (*sigframe)(at(fa))
	m := &f.uc.mcontext
	tf.R8, tf.R9, tf.R10, tf.R11 = m.r8, m.r9, m.r10, m.r11
	tf.R12, tf.R13, tf.R14, tf.R15 = m.r12, m.r13, m.r14, m.r15
	tf.RDI, tf.RSI, tf.RBP, tf.RBX = m.rdi, m.rsi, m.rbp, m.rbx
	tf.RDX, tf.RAX, tf.RCX, tf.RSP = m.rdx, m.rax, m.rcx, m.rsp
	tf.RIP = m.rip
	// The handler may not grant itself privileges: keep IF on and the
	// I/O privilege level, NT and the reserved bits as the kernel wants.
	tf.RFLAGS = m.eflags&0xcd5 | rflagsIF | 2
	tf.FX = f.fx
	t.sigMask = f.uc.sigmask &^ (sigbit(sigKILL) | sigbit(19))
	if t.inSignal > 0 {
		t.inSignal--
	}
}

// fatalSignal ends the program the way Linux ends a process killed by a
// signal: the exit status is 128+sig.
func fatalSignal(tf *TrapFrame, sig uint32, addr uint64) {
	kprint("\nhurdvm: fatal signal ")
	kprintDec(uint64(sig))
	kprint(" in thread ")
	kprintDec(uint64(threads[current].tid))
	kprint(" at rip ")
	kprintHex(tf.RIP)
	kprint(" addr ")
	kprintHex(addr)
	kprint("\n")
	exitMachine(128 + int(sig))
}
