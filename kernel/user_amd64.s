//go:build hurdvm

// userCopy: the one place the kernel touches a program's memory
// (user.go). Handler context.

#include "textflag.h"

// func userCopy(dst, src, n uintptr) (left uintptr)
//
// REP MOVSB is restartable: when it faults, RSI, RDI and RCX say how far
// it got. The page-fault handler either resolves the fault and returns to
// the instruction, which goes on, or (userCopyFault) steps over it to the
// RET of userCopyRep<> with RCX the bytes left.
TEXT ·userCopy(SB),NOSPLIT,$0-32
	MOVQ	dst+0(FP), DI
	MOVQ	src+8(FP), SI
	MOVQ	n+16(FP), CX
	CALL	userCopyRep<>(SB)
	MOVQ	CX, left+24(FP)
	RET

// userCopyRep<> is the copy instruction alone, so that its address is a
// symbol's (userCopyRepAddr) and its length known (2 bytes, F3 A4).
TEXT userCopyRep<>(SB),NOSPLIT|NOFRAME,$0
	REP;	MOVSB
	RET

// func userCopyRepAddr() uintptr
TEXT ·userCopyRepAddr(SB),NOSPLIT,$0-8
	MOVQ	$userCopyRep<>(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
