//go:build hurdvm

// userCopy and userCopyAC: the places the kernel touches a program's
// memory (user.go, procuser.go). Handler context.

#include "textflag.h"

// STAC, CLAC (0F 01 CB, 0F 01 CA), which Go's assembler does not know.
#define STAC BYTE $0x0f; BYTE $0x01; BYTE $0xcb
#define CLAC BYTE $0x0f; BYTE $0x01; BYTE $0xca

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

// func userCopyAC(dst, src, n uintptr) (left uintptr)
//
// userCopy for a process's memory, whose pages carry U/S: with SMAP on, the
// copy instruction alone runs with AC set (STAC), and CLAC follows it on
// both ways out (the fix-up steps over the REP MOVSB onto the CLAC).
TEXT ·userCopyAC(SB),NOSPLIT,$0-32
	MOVQ	dst+0(FP), DI
	MOVQ	src+8(FP), SI
	MOVQ	n+16(FP), CX
	CMPB	·smapOn(SB), $0
	JEQ	plain
	CALL	userCopyRepAC<>(SB)
	MOVQ	CX, left+24(FP)
	RET
plain:
	CALL	userCopyRep<>(SB)
	MOVQ	CX, left+24(FP)
	RET

// userCopyRepAC<> is the bracketed copy: STAC, the copy instruction
// (userCopyRepACAddr, 2 bytes), CLAC.
TEXT userCopyRepAC<>(SB),NOSPLIT|NOFRAME,$0
	STAC
	REP;	MOVSB
	CLAC
	RET

// func userCopyRepAddr() uintptr
TEXT ·userCopyRepAddr(SB),NOSPLIT,$0-8
	MOVQ	$userCopyRep<>(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func userCopyRepACAddr() uintptr: the REP MOVSB of userCopyRepAC<>,
// after the 3 bytes of STAC.
TEXT ·userCopyRepACAddr(SB),NOSPLIT,$0-8
	MOVQ	$userCopyRepAC<>(SB), AX
	ADDQ	$3, AX
	MOVQ	AX, ret+0(FP)
	RET
