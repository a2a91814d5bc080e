#include "textflag.h"

// func rawClone(nr, a0, a1, a2, a3, a4, a5 uintptr) uintptr
//
// clone, clone3, fork and vfork: the child (RAX 0) must not come back
// into Go code (its stack may be the parent's, or garbage), so it calls
// exit (60, this thread only) at once, touching no memory: a thread of
// the process ends alone, a process of its own ends with its only thread.
TEXT ·rawClone(SB), NOSPLIT, $0-64
	MOVQ nr+0(FP), AX
	MOVQ a0+8(FP), DI
	MOVQ a1+16(FP), SI
	MOVQ a2+24(FP), DX
	MOVQ a3+32(FP), R10
	MOVQ a4+40(FP), R8
	MOVQ a5+48(FP), R9
	SYSCALL
	TESTQ AX, AX
	JNE parent
child:
	MOVL $60, AX
	XORL DI, DI
	SYSCALL
	JMP child
parent:
	MOVQ AX, ret+56(FP)
	RET

// func rawSigreturn(frame uintptr)
//
// rt_sigreturn with the stack pointer at frame, a ucontext of garbage:
// the kernel must refuse it or return to wherever it says, and either
// way the process ends (the -fatal sigreturn mode). Should the call ever
// come back here, exit_group(99) says so.
TEXT ·rawSigreturn(SB), NOSPLIT, $0-8
	MOVQ frame+0(FP), SP
	MOVL $15, AX
	SYSCALL
	MOVL $231, AX
	MOVL $99, DI
	SYSCALL
	JMP 0(PC)
