package syscalls

// rt_sigreturn with frames built by hand. A Go program only ever makes it
// from the runtime's sigtramp, on a frame the kernel built; what it may
// not do is trust the frame, which the handler could have rewritten. Each
// row builds a frame as a handler would leave it (a struct rt_sigframe:
// return-address slot, ucontext, FPU state where sc.fpstate points) and
// makes rt_sigreturn from assembly (sigreturnInto) on this test's locked
// thread. The restored context continues at sigreturnLanding, which
// returns to the row; a context the kernel refuses, or one that faults
// once restored, brings SIGSEGV or SIGBUS, which sigCatcher (installed for
// the row in place of the runtime's handler, on the alternate signal
// stack) turns into a landing too. The answer is "landed" or the signal's
// name. Linux's side is arch/x86/kernel/signal.c (rt_sigreturn,
// restore_sigcontext) and arch/x86/kernel/fpu/signal.c.

import (
	"strconv"
	"syscall"

	"hurdvm/tests/internal/probe"
)

// Offsets in the frame, from the ucontext (uc) and from its uc_mcontext
// (mc); hurdvm's layout is Linux's.
const (
	ucFlags    = 0
	ucStack    = 16
	ucMcontext = 40
	ucSigmask  = 296
	frameFX    = 432 // the FPU state from uc: where hurdvm's own frames have it

	mcR12     = 32
	mcRSP     = 120
	mcRIP     = 128
	mcEflags  = 136
	mcCS      = 144
	mcSS      = 150
	mcFpstate = 184

	ucSigcontextSS           = 0x2 // UC_SIGCONTEXT_SS
	ucStrictRestoreSS        = 0x4 // UC_STRICT_RESTORE_SS
	fxMXCSR                  = 24  // in the FXSAVE image
	landedMarker             = 0x600d_f00d
	badSelector              = 0x1234 // beyond the GDT's end
	nonCanonical             = 0x8000_0000_0000_0000
	saSiginfo                = 0x4
	saOnstack                = 0x0800_0000
	saRestorer               = 0x0400_0000
	eflagsIF                 = 0x200
	eflagsIOPL               = 0x3000
	r12Marker         uint64 = 0x0123_4567_89ab_cdef
	mxcsrReserved            = 0x1f80 | 1<<16 // the default MXCSR and a reserved bit
)

// mxcsrAnswer is Linux's answer to a frame whose MXCSR has reserved bits:
// SIGSEGV on a CPU whose FXRSTOR faults on them, as PCs' do (and KVM's);
// QEMU's TCG CPU keeps them instead, and the context lands with them.
func mxcsrAnswer() string {
	_, faulted := probe.Fault(func() {
		ldmxcsr(mxcsrReserved)
		ldmxcsr(0x1f80)
	})
	if faulted {
		return "SIGSEGV"
	}
	ldmxcsr(0x1f80)
	return "landed,mxcsr=" + strconv.FormatUint(mxcsrReserved, 16)
}

// sigFrame is a frame in a page of its own.
type sigFrame struct {
	page uintptr
	uc   uintptr // the ucontext; rt_sigreturn finds the frame 8 bytes below
	fx   uintptr // the FPU state, 64-byte aligned
}

func (f sigFrame) mc(off uintptr) uintptr { return f.uc + ucMcontext + off }

// newSigFrame builds a frame that restores this thread as it is, at
// sigreturnLanding (sigreturnInto fills in the place): same signal mask,
// alternate stack, segments and FPU state.
func newSigFrame() sigFrame {
	p := mapPages(1)
	f := sigFrame{page: p, uc: p + 16, fx: p + 16 + frameFX}
	pokeStack(f.uc+ucStack, altstack())
	poke64(f.uc+ucSigmask, peek64(currentMask()))
	fxsave(f.fx)
	poke64(f.mc(mcFpstate), uint64(f.fx))
	poke64(f.mc(104), landedMarker) // rax: the result of a landing
	poke64(f.mc(mcEflags), eflagsIF|2)
	cs, ss := segments()
	poke16(f.mc(mcCS), cs)
	poke16(f.mc(mcSS), ss)
	return f
}

// withCatcher runs f with sigCatcher as the handler of SIGSEGV and SIGBUS
// and puts the runtime's handlers back. Nothing else may fault meanwhile:
// the test's other goroutines are waiting for this row.
func withCatcher(f func() string) string {
	handler, restorer := catcherAddrs()
	for i, sig := range []uintptr{uintptr(syscall.SIGSEGV), uintptr(syscall.SIGBUS)} {
		old := scratch() + scratchSaved + uintptr(i)*32
		act := scratch() + scratchAction2
		poke64(act, uint64(handler))
		poke64(act+8, saSiginfo|saOnstack|saRestorer)
		poke64(act+16, uint64(restorer))
		poke64(act+24, 0)
		must(sys(syscall.SYS_RT_SIGACTION, sig, act, old, sigsetSize))
		defer sys(syscall.SYS_RT_SIGACTION, sig, old, 0, sigsetSize)
	}
	return f()
}

// sigreturnRow makes a row's call: a frame, edited, then rt_sigreturn.
func sigreturnRow(edit func(f sigFrame), after func() string) func() string {
	return func() string {
		return withCatcher(func() string {
			f := newSigFrame()
			defer unmapPages(f.page, 1)
			edit(f)
			got := sigreturnAnswer(sigreturnInto(f.uc, 1))
			if got == "landed" && after != nil {
				got = join(got, after())
			}
			return got
		})
	}
}

func sigreturnAnswer(result uintptr) string {
	if result == landedMarker {
		return "landed"
	}
	if s, ok := signalNames[result]; ok {
		return s
	}
	if e := -int(result); e > 0 && e < 4096 {
		return "returned-" + errnoName(syscall.Errno(e))
	}
	return "result=" + strconv.FormatUint(uint64(result), 16)
}

func sigreturnRows() []row {
	nothing := func(f sigFrame) {}
	return []row{
		{name: "rt_sigreturn/good", want: "landed", call: sigreturnRow(nothing, nil)},
		{name: "rt_sigreturn/restores-registers", want: "landed,r12", call: sigreturnRow(func(f sigFrame) {
			poke64(f.mc(mcR12), r12Marker)
		}, func() string { return check("r12", landedR12 == r12Marker) })},
		{name: "rt_sigreturn/restores-mask", want: "landed,usr2-blocked", call: func() string {
			return withMaskRestored(sigreturnRow(func(f sigFrame) {
				poke64(f.uc+ucSigmask, peek64(f.uc+ucSigmask)|sigbit(sigUSR2))
			}, func() string { return check("usr2-blocked", peek64(currentMask())&sigbit(sigUSR2) != 0) }))
		}},
		// uc_stack is restored like a sigaltstack call (restore_altstack).
		{name: "rt_sigreturn/restores-altstack", want: "landed,altstack", call: onAltstackRestored(func(cur stack) string {
			return onPages(16, func(a uintptr) string {
				return sigreturnRow(func(f sigFrame) {
					pokeStack(f.uc+ucStack, stack{sp: uint64(a), size: 16 * pageSize})
				}, func() string { s := altstack(); return check("altstack", s.sp == uint64(a) && s.size == 16*pageSize) })()
			})
		})},
		// Only the flags a program may change are taken (FIX_EFLAGS):
		// not the I/O privilege level.
		{name: "rt_sigreturn/iopl-ignored", want: "landed,iopl-0", call: sigreturnRow(func(f sigFrame) {
			poke64(f.mc(mcEflags), eflagsIF|eflagsIOPL|2)
		}, func() string { return check("iopl-0", landedFlags&eflagsIOPL == 0) })},
		// No FPU state: the FPU starts afresh (fpu__restore_sig).
		{name: "rt_sigreturn/fpstate-null", want: "landed", call: sigreturnRow(func(f sigFrame) { poke64(f.mc(mcFpstate), 0) }, nil)},
		{name: "rt_sigreturn/fpstate-unaligned", want: "SIGSEGV", call: sigreturnRow(func(f sigFrame) { poke64(f.mc(mcFpstate), uint64(f.fx+8)) }, nil)},
		{name: "rt_sigreturn/fpstate-unmapped", want: "SIGSEGV", call: sigreturnRow(func(f sigFrame) {
			poke64(f.mc(mcFpstate), uint64(unmappedPage()))
		}, nil)},
		{name: "rt_sigreturn/fpstate-kernel", want: "SIGSEGV", call: sigreturnRow(func(f sigFrame) { poke64(f.mc(mcFpstate), kernelHalf) }, nil)},
		// A code segment the CPU refuses makes the return fail: SIGSEGV
		// (the iret fault is the thread's, fixup_bad_iret).
		{name: "rt_sigreturn/cs-bad", want: "SIGSEGV", call: sigreturnRow(func(f sigFrame) { poke16(f.mc(mcCS), badSelector) }, nil)},
		// A bad stack segment is replaced by a good one (force_valid_ss),
		// unless the frame asks for it strictly.
		{name: "rt_sigreturn/ss-bad", want: "landed", call: sigreturnRow(func(f sigFrame) { poke16(f.mc(mcSS), badSelector) }, nil)},
		{name: "rt_sigreturn/ss-bad-strict", want: "SIGSEGV", call: sigreturnRow(func(f sigFrame) {
			poke16(f.mc(mcSS), badSelector)
			poke64(f.uc+ucFlags, ucSigcontextSS|ucStrictRestoreSS)
		}, nil)},
		// The stack pointer is restored as it is; the landing's first
		// store to it faults.
		{name: "rt_sigreturn/rsp-unmapped", want: "SIGSEGV", call: sigreturnRow(func(f sigFrame) {
			poke64(f.mc(mcRSP), uint64(unmappedPage()+pageSize/2))
		}, nil)},

		// hurdvm returned through IRETQ to the restored context in ring
		// 0: a non-canonical RIP faults on the IRETQ itself, in the
		// kernel.
		{name: "rt_sigreturn/rip-noncanonical", want: "SIGSEGV", killer: "SigreturnRIP", call: sigreturnRow(func(f sigFrame) {
			poke64(f.mc(mcRIP), nonCanonical)
		}, nil)},
		{name: "rt_sigreturn/rsp-noncanonical", want: "SIGSEGV", killer: "SigreturnRSP", call: sigreturnRow(func(f sigFrame) {
			poke64(f.mc(mcRSP), nonCanonical)
		}, nil)},
		// hurdvm loaded the frame's FXSAVE image as it was: FXRSTOR of
		// reserved MXCSR bits faults (#GP), in the kernel's return path.
		// Linux restores the image with FXRSTOR from the frame itself
		// and sends SIGSEGV when that faults (restore_fpregs_from_user),
		// which depends on the CPU: mxcsrAnswer.
		{name: "rt_sigreturn/mxcsr-reserved", want: mxcsrAnswer(), killer: "SigreturnMXCSR", call: sigreturnRow(func(f sigFrame) {
			poke32(f.fx+fxMXCSR, mxcsrReserved)
		}, func() string { return "mxcsr=" + strconv.FormatUint(uint64(landedMXCSR), 16) })},
		// hurdvm could not read the frame and ended the program; Linux
		// sends SIGSEGV, which a handler may catch.
		{name: "rt_sigreturn/frame-unmapped", want: "SIGSEGV", killer: "SigreturnFrame", call: func() string {
			return withCatcher(func() string { return sigreturnAnswer(sigreturnInto(unmappedPage()+16, 0)) })
		}},
	}
}
