//go:build hurdvm

// Signals: rt_sigaction records the program's handlers, faults in its code
// arrive as SIGSEGV/SIGBUS/SIGFPE/SIGILL with the faulting address, and
// signals sent with kill (to the process) or tgkill (to a thread, like the
// runtime's SIGURG for async preemption) are queued and delivered when the
// receiving thread next returns from the kernel. The frame built on the
// thread's stack (or sigaltstack) is Linux's rt_sigframe, the layout the
// runtime's sigtramp, sigctxt and sigreturn expect. Handler context.
//
// Delivery follows Linux. A signal for the process goes to a thread that
// does not block it, the main thread first; a blocked system call of that
// thread ends with EINTR so the handler runs at once (signal.Notify relies
// on it). A signal nobody can take stays pending until a thread unblocks
// it. A frame is built on the kernel stack and copied out in one piece;
// rt_sigreturn copies it back in and checks what the handler may have
// changed before any of it reaches the CPU.

package kernel

import "unsafe"

const (
	sigHUP   = 1
	sigINT   = 2
	sigQUIT  = 3
	sigILL   = 4
	sigTRAP  = 5
	sigABRT  = 6
	sigBUS   = 7
	sigFPE   = 8
	sigKILL  = 9
	sigSEGV  = 11
	sigPIPE  = 13
	sigCHLD  = 17
	sigCONT  = 18
	sigSTOP  = 19
	sigTSTP  = 20
	sigTTIN  = 21
	sigTTOU  = 22
	sigURG   = 23
	sigWINCH = 28
	nsig     = 65

	siUser     = 0
	siKernel   = 0x80
	siTkill    = -6
	segvMapErr = 1
	segvAccErr = 2
	busAdrAln  = 1
	busAdrErr  = 2
	fpeIntDiv  = 1
	fpeFltInv  = 7
	illIllOpn  = 2

	ucSigcontextSS    = 2 // UC_SIGCONTEXT_SS: sigcontext's __pad0 is ss
	ucStrictRestoreSS = 4 // UC_STRICT_RESTORE_SS: restore ss as it is

	saSiginfo   = 0x4
	saOnstack   = 0x08000000
	saRestart   = 0x10000000
	saNodefer   = 0x40000000
	saResethand = 0x80000000

	ssOnstack    = 1
	ssDisable    = 2
	ssAutodisarm = uint32(1) << 31
	minSigStack  = 2048 // MINSIGSTKSZ

	sigDFL = 0
	sigIGN = 1

	// unblockable are SIGKILL and SIGSTOP: no mask ever holds them.
	unblockable = 1<<(sigKILL-1) | 1<<(sigSTOP-1)
)

type sigaction struct {
	handler  uint64
	flags    uint64
	restorer uint64
	mask     uint64
}

// A program's actions (sigactions) and the signals sent to it (kill)
// that no thread has taken yet (pending) are its progState's; each thread
// has its own pending signals (tgkill) besides.

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
	ssFlags  uint32
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
// address (sa_restorer, which calls rt_sigreturn), the ucontext and the
// siginfo. The interrupted FPU state lies above it, 64-byte aligned, where
// uc.mcontext.fpstate points (fpuFrameImage's layout), as in Linux.
type sigframe struct {
	retAddr uint64
	uc      ucontext
	_       uint64
	info    siginfo
}

func sigbit(sig uint32) uint64 { return 1 << (sig - 1) }

// defaultIgnored reports whether sig's default action is to ignore it.
func defaultIgnored(sig uint32) bool {
	switch sig {
	case sigCHLD, sigCONT, sigURG, sigWINCH,
		// Stopping: hurdvm cannot stop its only program, and nothing
		// could continue it.
		sigSTOP, sigTSTP, sigTTIN, sigTTOU:
		return true
	}
	return false
}

// ignored reports whether sig would be thrown away on delivery to program
// pg.
func ignored(pg *progState, sig uint32) bool {
	h := pg.sigactions[sig].handler
	return sig != sigKILL && (h == sigIGN || h == sigDFL && defaultIgnored(sig))
}

// sendToThread queues sig for thread i and, if i does not block it, ends
// a system call it is blocked in.
func sendToThread(i int32, sig uint32) {
	if ignored(progOf(thr(i)), sig) {
		return
	}
	t := thr(i)
	t.pending |= sigbit(sig)
	if t.sigMask&sigbit(sig) == 0 {
		interrupt(i)
	}
}

// sendToProcess queues sig for the caller's program and picks the thread
// that will take it, as Linux's complete_signal: the main thread if it
// does not block it, else any thread that does not. That thread's blocked
// system call ends with EINTR; a runnable one takes it at its next return
// from the kernel.
func sendToProcess(sig uint32) { sendToProg(thr(current()).proc, sig) }

// sendToProg is sendToProcess for program me (progIndex's numbering): the
// caller's, or another process (a child's end, kill: procfork.go).
func sendToProg(me int32, sig uint32) {
	if me != thr(current()).proc && (me == 0 || procs[me-1].state != procRunning || procs[me-1].ending) {
		return // not the kernel's program from another, nor a process that is ending
	}
	pg := progIndex(me)
	if ignored(pg, sig) {
		return
	}
	if sig == sigKILL {
		if me == thr(current()).proc {
			fatalSignal(nil, sig, 0)
		} else {
			procs[me-1].info.Signal = sigKILL
			procEnd(me - 1)
		}
		return
	}
	pg.pending |= sigbit(sig)
	for i := int32(1); i < threadHigh; i++ {
		if live(i) && thr(i).proc == me && thr(i).sigMask&sigbit(sig) == 0 {
			interrupt(i)
			return
		}
	}
}

// forceSignal delivers a synchronous fault signal to the current thread now.
// A fault the thread cannot take (signal blocked, as inside the runtime's own
// handler, or no handler, or no room for the frame) ends the program as Linux
// would: the kernel's program ends the machine, a process ends alone.
func forceSignal(tf *TrapFrame, sig uint32, code int32, addr uint64) {
	t := thr(current())
	a := &progOf(t).sigactions[sig]
	if t.sigMask&sigbit(sig) != 0 || a.handler == sigDFL || a.handler == sigIGN ||
		!deliverSignal(t, tf, sig, code, addr) {
		fatalSignal(tf, sig, addr)
	}
}

// nextSignal is the signal deliverPending will deliver to thread t next:
// the lowest pending one it does not block, its own or the process's (0:
// none).
func nextSignal(t *thread) uint32 {
	ready := (t.pending | progOf(t).pending) &^ t.sigMask
	if ready == 0 {
		return 0
	}
	sig := uint32(1)
	for ready&1 == 0 {
		ready >>= 1
		sig++
	}
	return sig
}

// restartsAfterSignal reports whether a system call of thread t that a
// signal ended is to be made again, as Linux's -ERESTARTSYS calls are:
// after the handler when the signal t takes now has SA_RESTART, and
// whenever t takes none (another thread of the process took the
// process's signal that woke it, or it is ignored): no handler runs on
// t, so its call is not interrupted (arch_do_signal_or_restart restarts
// the call when get_signal finds nothing to deliver). Ignored signals
// are passed over, as get_signal throws them away.
func restartsAfterSignal(t *thread) bool {
	sig := signalToTake(t)
	return sig == 0 || progOf(t).sigactions[sig].flags&saRestart != 0
}

// signalToTake is the signal thread t takes now, passing over ignored
// ones as get_signal does (0: none: another thread of the process took
// the signal that woke it, or it is ignored).
func signalToTake(t *thread) uint32 {
	pg := progOf(t)
	ready := (t.pending | pg.pending) &^ t.sigMask
	for sig := uint32(1); ready != 0; sig, ready = sig+1, ready>>1 {
		if ready&1 != 0 && !ignored(pg, sig) {
			return sig
		}
	}
	return 0
}

// deliverPending delivers the lowest pending signal the thread does not
// block, its own or the process's.
func deliverPending(t *thread, tf *TrapFrame) {
	sig := nextSignal(t)
	if sig == 0 {
		return
	}
	pg := progOf(t)
	if t.pending&sigbit(sig) != 0 {
		t.pending &^= sigbit(sig)
	} else {
		pg.pending &^= sigbit(sig)
	}
	if ignored(pg, sig) {
		return
	}
	if pg.sigactions[sig].handler == sigDFL {
		fatalSignal(tf, sig, 0)
		return
	}
	if !deliverSignal(t, tf, sig, siTkill, 0) {
		if sig == sigURG {
			// No memory for the frame right now (the signal stack is
			// demand-paged): preemption can wait for the next return.
			t.pending |= sigbit(sig)
			return
		}
		// As Linux's signal_setup_done: a frame that cannot be written
		// is a SIGSEGV, and a SIGSEGV that cannot be delivered ends the
		// program.
		forceSignal(tf, sigSEGV, siKernel, 0)
	}
}

// onAltStack reports whether sp is on thread t's alternate signal stack.
func onAltStack(t *thread, sp uint64) bool {
	return t.altSize != 0 && sp > t.altSP && sp-t.altSP <= t.altSize
}

// deliverSignal builds a signal frame for sig and points tf at the handler.
// It reports false, changing nothing, when the frame cannot be written:
// the stack is not the program's memory, or the alternate stack is too
// small for it (Linux then forces SIGSEGV, which the caller does).
func deliverSignal(t *thread, tf *TrapFrame, sig uint32, code int32, addr uint64) bool {
	t.sleepRestart = false // the handler's calls are its own
	pg := progOf(t)
	a := pg.sigactions[sig]
	if t.proc != 0 && a.handler >= taskWindowEnd {
		// A process's handler in the upper half: IRETQ would fault in
		// the kernel, as for sigreturn's RIP (procReturnFrame).
		return false
	}
	sp := tf.RSP
	onAlt := onAltStack(t, sp)
	useAlt := a.flags&saOnstack != 0 && t.altSize != 0 && !onAlt
	if useAlt {
		sp = t.altSP + t.altSize
	} else {
		sp -= 128 // the red zone of the interrupted code
	}
	image := fpuFrameImage(t)
	fp := (sp - uint64(len(image))) &^ 63
	fa := (fp-uint64(unsafe.Sizeof(sigframe{})))&^15 - 8
	if fa > sp || (useAlt || onAlt) && fa < t.altSP {
		return false // wrapped, or below the alternate stack
	}
	var f sigframe
	f.retAddr = a.restorer
	f.uc.ssSP, f.uc.ssSize = t.altSP, t.altSize
	f.uc.ssFlags = t.altFlags
	if t.altSize == 0 {
		f.uc.ssFlags = ssDisable
	} else if onAlt {
		f.uc.ssFlags |= ssOnstack
	}
	f.uc.sigmask = t.sigMask
	m := &f.uc.mcontext
	m.r8, m.r9, m.r10, m.r11 = tf.R8, tf.R9, tf.R10, tf.R11
	m.r12, m.r13, m.r14, m.r15 = tf.R12, tf.R13, tf.R14, tf.R15
	m.rdi, m.rsi, m.rbp, m.rbx = tf.RDI, tf.RSI, tf.RBP, tf.RBX
	m.rdx, m.rax, m.rcx, m.rsp = tf.RDX, tf.RAX, tf.RCX, tf.RSP
	m.rip, m.eflags, m.cs = tf.RIP, tf.RFLAGS, uint16(tf.CS)
	m.err, m.trapno, m.cr2 = tf.ErrorCode, tf.Vector, addr
	m.oldmask = t.sigMask
	m.fpstate = fp
	m.pad = uint16(tf.SS) // sigcontext's ss, as Linux fills it
	f.uc.flags = ucSigcontextSS | ucStrictRestoreSS
	if fpuMode != fpuModeFXSAVE {
		f.uc.flags |= ucFPXstate
	}
	f.info.signo, f.info.code, f.info.addr = int32(sig), code, addr
	if !copyOut(fp, image) || !copyOut(fa, bytesOf(&f)) {
		return false
	}

	if a.flags&saNodefer == 0 {
		t.sigMask |= sigbit(sig)
	}
	t.sigMask = (t.sigMask | a.mask) &^ unblockable
	if a.flags&saResethand != 0 {
		pg.sigactions[sig].handler = sigDFL
	}
	if useAlt && t.altFlags&ssAutodisarm != 0 {
		t.altSP, t.altSize = 0, 0 // the handler's rt_sigreturn arms it again
	}
	t.inSignal++
	tf.RIP = a.handler
	tf.RSP = fa
	tf.RDI = uint64(sig)
	tf.RSI = fa + uint64(unsafe.Offsetof(f.info))
	tf.RDX = fa + uint64(unsafe.Offsetof(f.uc))
	tf.RAX = 0
	tf.RFLAGS &^= rflagsDF | rflagsTF | rflagsAC
	return true
}

// sigreturn restores the context saved by deliverSignal, as the handler
// may have changed it (the runtime injects calls to asyncPreempt and
// sigpanic by editing rip and rsp). Nothing the program wrote is trusted:
// the flags keep the kernel's bits, the segments are fixed (the kernel's
// own for its program, which runs in ring 0; ring 3's for a process), RIP
// and RSP must be canonical (IRETQ to a non-canonical RIP faults in the
// kernel) and a process's RIP in the lower half, and the
// MXCSR may not set reserved bits (FXRSTOR would fault in the kernel on
// hardware), nor the XSAVE header bits XRSTOR refuses (fpuFromFrame). A
// frame that cannot be read, or a context that cannot be returned to, is
// SIGSEGV to the thread, as in Linux.
func sigreturn(tf *TrapFrame) {
	t := thr(current())
	fa := tf.RSP - 8 // the handler's ret popped retAddr
	var f sigframe
	if !copyIn(bytesOf(&f), fa) {
		forceSignal(tf, sigSEGV, siKernel, 0)
		return
	}
	// The frame's mask first, as Linux's rt_sigreturn sets it before it
	// restores the context: the SIGSEGV of a context that cannot be
	// returned to meets the mask the frame asked for (blocked, it is
	// the default action; sysfuzz -fatal sigreturn found the order).
	t.sigMask = f.uc.sigmask &^ unblockable
	m := &f.uc.mcontext
	// What IRETQ would refuse, in the kernel, is the thread's SIGSEGV:
	// a code segment that is not the program's, a stack segment that is
	// not (when the frame asks for it strictly, as Linux's do), or a
	// non-canonical RIP or RSP.
	// A process's thread returns to ring 3, and to the lower half only.
	cs, ss, ripOK := uint16(selKernelCode), uint16(selKernelData), canonical(m.rip)
	if t.proc != 0 {
		cs, ss, ripOK = selUserCode, selUserData, m.rip < taskWindowEnd
	}
	badSS := f.uc.flags&ucStrictRestoreSS != 0 && m.pad != ss
	if m.cs != cs || badSS || !ripOK || !canonical(m.rsp) || !fpuFromFrame(t, m.fpstate) {
		forceSignal(tf, sigSEGV, siKernel, 0)
		return
	}
	tf.R8, tf.R9, tf.R10, tf.R11 = m.r8, m.r9, m.r10, m.r11
	tf.R12, tf.R13, tf.R14, tf.R15 = m.r12, m.r13, m.r14, m.r15
	tf.RDI, tf.RSI, tf.RBP, tf.RBX = m.rdi, m.rsi, m.rbp, m.rbx
	tf.RDX, tf.RAX, tf.RCX, tf.RSP = m.rdx, m.rax, m.rcx, m.rsp
	tf.RIP = m.rip
	tf.CS, tf.SS = uint64(cs), uint64(ss)
	// The handler may not grant itself privileges: keep IF on and the
	// I/O privilege level, NT and the reserved bits as the kernel wants.
	tf.RFLAGS = m.eflags&0xcd5 | rflagsIF | 2
	// The alternate stack as the frame says (how SS_AUTODISARM is undone);
	// an error here is ignored, as Linux's restore_altstack does.
	setAltStack(t, tf.RSP, f.uc.ssSP, f.uc.ssFlags, f.uc.ssSize)
	if t.inSignal > 0 {
		t.inSignal--
	}
}

// canonical reports whether va is a canonical 48-bit address.
func canonical(va uint64) bool { return uint64(int64(va<<16)>>16) == va }

// fatalSignal ends the program the way Linux ends a process killed by a
// signal: the exit status is 128+sig. tf is nil for a signal that did not
// come from the code it interrupted (kill with SIGKILL). A process ends
// alone (procFatalSignal), and fatalSignal returns; the kernel's program
// ends the machine.
func fatalSignal(tf *TrapFrame, sig uint32, addr uint64) {
	if thr(current()).proc != 0 {
		procFatalSignal(tf, sig, addr)
		return
	}
	kprint("\nhurdvm: fatal signal ")
	kprintDec(uint64(sig))
	kprint(" in thread ")
	kprintDec(uint64(thr(current()).tid))
	if tf != nil {
		kprint(" at rip ")
		kprintHex(tf.RIP)
		kprint(" addr ")
		kprintHex(addr)
	}
	kprint("\n")
	exitMachine(128 + int(sig))
}
