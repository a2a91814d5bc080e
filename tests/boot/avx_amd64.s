#include "textflag.h"

// Each of Y0-Y14 holds broadcast(seed+i); Y15 is the scratch register.
#define SET(i, Y) \
	LEAQ	i(AX), BX; \
	MOVQ	BX, X15; \
	VPBROADCASTQ	X15, Y

#define CHECK(i, Y) \
	LEAQ	i(AX), BX; \
	MOVQ	BX, X15; \
	VPBROADCASTQ	X15, Y15; \
	VPCMPEQQ	Y, Y15, Y15; \
	VPMOVMSKB	Y15, DX; \
	CMPL	DX, $-1; \
	JEQ	2(PC); \
	INCQ	R8

// func ymmHold(seed, spins uint64) (bad uint64): fills fifteen YMM
// registers, spins (the kernel switches threads and delivers signals
// meanwhile), and counts the registers that lost their value.
TEXT ·ymmHold(SB),NOSPLIT,$0-24
	MOVQ	seed+0(FP), AX
	MOVQ	spins+8(FP), CX
	SET(0, Y0)
	SET(1, Y1)
	SET(2, Y2)
	SET(3, Y3)
	SET(4, Y4)
	SET(5, Y5)
	SET(6, Y6)
	SET(7, Y7)
	SET(8, Y8)
	SET(9, Y9)
	SET(10, Y10)
	SET(11, Y11)
	SET(12, Y12)
	SET(13, Y13)
	SET(14, Y14)
spin:
	DECQ	CX
	JNZ	spin
	XORQ	R8, R8
	CHECK(0, Y0)
	CHECK(1, Y1)
	CHECK(2, Y2)
	CHECK(3, Y3)
	CHECK(4, Y4)
	CHECK(5, Y5)
	CHECK(6, Y6)
	CHECK(7, Y7)
	CHECK(8, Y8)
	CHECK(9, Y9)
	CHECK(10, Y10)
	CHECK(11, Y11)
	CHECK(12, Y12)
	CHECK(13, Y13)
	CHECK(14, Y14)
	VZEROUPPER
	MOVQ	R8, bad+16(FP)
	RET
