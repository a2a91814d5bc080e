#include "textflag.h"

// Offsets in struct ucontext, Linux's and hurdvm's alike: uc_mcontext
// (struct sigcontext) starts at 40.
#define UC_RBP 120
#define UC_RAX 144
#define UC_RSP 160
#define UC_RIP 168
#define UC_CS 184
#define UC_SS 190

// func cloneExit(flags, stack, ptid, ctid, tls uintptr) (rax uintptr)
TEXT ·cloneExit(SB), NOSPLIT, $0-48
	MOVQ	flags+0(FP), DI
	MOVQ	stack+8(FP), SI
	MOVQ	ptid+16(FP), DX
	MOVQ	ctid+24(FP), R10
	MOVQ	tls+32(FP), R8
	MOVL	$56, AX // clone
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	MOVQ	AX, rax+40(FP)
	RET
child:
	MOVL	$60, AX // exit(0): this thread, or the new process's only one
	XORL	DI, DI
	SYSCALL
	JMP	child

// func sigreturnInto(uc, fill uintptr) (result uintptr)
TEXT ·sigreturnInto(SB), NOSPLIT, $0-24
	MOVQ	uc+0(FP), DI
	MOVQ	SP, ·landingSP(SB)
	MOVQ	BP, ·landingBP(SB)
	STMXCSR	·savedMXCSR(SB)
	CMPQ	fill+8(FP), $0
	JEQ	call
	MOVQ	BP, UC_RBP(DI)
	CMPQ	UC_RIP(DI), $0
	JNE	rsp
	MOVQ	$·sigreturnLanding(SB), AX
	MOVQ	AX, UC_RIP(DI)
rsp:
	CMPQ	UC_RSP(DI), $0
	JNE	call
	MOVQ	SP, UC_RSP(DI)
call:
	// The kernel finds the frame 8 bytes below the stack pointer, where
	// a handler's return popped sa_restorer.
	MOVQ	DI, SP
	MOVL	$15, AX // rt_sigreturn
	SYSCALL
	MOVQ	·landingSP(SB), SP
	MOVQ	AX, result+16(FP)
	RET

// func sigreturnLanding()
TEXT ·sigreturnLanding(SB), NOSPLIT|NOFRAME, $0-0
	// SP and BP are sigreturnInto's (the restored context's, which
	// sigreturnInto or sigCatcher filled in); 24(SP) is its result.
	// Storing it is the first use of the restored stack pointer.
	MOVQ	AX, 24(SP)
	MOVQ	R12, ·landedR12(SB)
	PUSHFQ
	POPQ	AX
	MOVQ	AX, ·landedFlags(SB)
	STMXCSR	·landedMXCSR(SB)
	LDMXCSR	·savedMXCSR(SB)
	RET

// func sigCatcher()
TEXT ·sigCatcher(SB), NOSPLIT|NOFRAME, $0-0
	// DI: the signal, SI: its siginfo, DX: the interrupted context.
	MOVL	8(SI), AX
	MOVL	AX, ·caughtCode(SB)
	MOVQ	DI, UC_RAX(DX)
	MOVQ	·landingSP(SB), AX
	MOVQ	AX, UC_RSP(DX)
	MOVQ	·landingBP(SB), AX
	MOVQ	AX, UC_RBP(DX)
	MOVQ	$·sigreturnLanding(SB), AX
	MOVQ	AX, UC_RIP(DX)
	// The handler's own segments are good ones to return to (a row may
	// have restored bad ones).
	MOVW	CS, AX
	MOVW	AX, UC_CS(DX)
	MOVW	SS, AX
	MOVW	AX, UC_SS(DX)
	RET

// func sigCatcherReturn()
TEXT ·sigCatcherReturn(SB), NOSPLIT|NOFRAME, $0-0
	MOVL	$15, AX // rt_sigreturn
	SYSCALL
	INT	$3

// func catcherAddrs() (handler, restorer uintptr)
TEXT ·catcherAddrs(SB), NOSPLIT, $0-16
	MOVQ	$·sigCatcher(SB), AX
	MOVQ	AX, handler+0(FP)
	MOVQ	$·sigCatcherReturn(SB), AX
	MOVQ	AX, restorer+8(FP)
	RET

// func syscallOnStack(sp, nr, a0, a1 uintptr) (rax uintptr)
TEXT ·syscallOnStack(SB), NOSPLIT, $0-40
	MOVQ	sp+0(FP), R12
	MOVQ	nr+8(FP), AX
	MOVQ	a0+16(FP), DI
	MOVQ	a1+24(FP), SI
	MOVQ	SP, R13
	MOVQ	R12, SP
	SYSCALL
	MOVQ	R13, SP
	MOVQ	AX, rax+32(FP)
	RET

// func segments() (cs, ss uint16)
TEXT ·segments(SB), NOSPLIT, $0-4
	MOVW	CS, AX
	MOVW	AX, cs+0(FP)
	MOVW	SS, AX
	MOVW	AX, ss+2(FP)
	RET

// func ldmxcsr(v uint32)
TEXT ·ldmxcsr(SB), NOSPLIT, $0-4
	LDMXCSR	v+0(FP)
	RET

// func fxsave(p uintptr)
TEXT ·fxsave(SB), NOSPLIT, $0-8
	MOVQ	p+0(FP), AX
	FXSAVE64	(AX)
	RET
