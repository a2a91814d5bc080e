//go:build hurdvm

// The FPU's setup at entry, before any Go code runs (fpu.go). Boot context.

#include "textflag.h"
#include "percpu_amd64.h"

#define CR4_OSXSAVE (1<<18)
#define FPU_AREA 3072

// fpuSetup chooses how the kernel saves the FPU, SSE and AVX state, and
// turns on what the CPU has: with XSAVE, CR4.OSXSAVE and XCR0 = x87, SSE,
// and AVX (and AVX-512's three components) where the CPU has them and the
// state fits a thread's area; without, FXSAVE. CR4.OSXSAVE is cleared
// first whatever the firmware left: the Go runtime uses AVX only when it
// is on, and then only the state XCR0 names is saved. It also lays out
// the areas that nested traps save into, in the memory the CPU's record
// names in fpuNestBase (fpuNestSize bytes). Each CPU runs it on itself.
// Clobbers AX, BX, CX, DX, R8-R11.
TEXT ·fpuSetup(SB),NOSPLIT|NOFRAME,$0
	MOVQ	CR4, AX
	ANDQ	$~CR4_OSXSAVE, AX
	MOVQ	AX, CR4
	MOVL	$1, AX
	XORL	CX, CX
	CPUID
	TESTL	$(1<<26), CX	// XSAVE
	JZ	fxsave
	MOVL	CX, R8		// leaf 1 ECX: AVX is bit 28
	MOVQ	CR4, AX
	ORQ	$CR4_OSXSAVE, AX
	MOVQ	AX, CR4
	MOVL	$0xd, AX
	XORL	CX, CX
	CPUID
	MOVL	AX, R9		// the XCR0 bits the CPU supports
	MOVL	$3, R10		// x87 and SSE
	TESTL	$(1<<28), R8
	JZ	setxcr0
	TESTL	$4, R9
	JZ	setxcr0
	ORL	$4, R10		// AVX
	MOVL	R9, R11
	ANDL	$0xe0, R11
	CMPL	R11, $0xe0
	JNE	setxcr0
	ORL	$0xe0, R10	// AVX-512: opmask, ZMM_Hi256, Hi16_ZMM
setxcr0:
	MOVL	R10, AX
	XORL	DX, DX
	XORL	CX, CX
	XSETBV
	MOVL	$0xd, AX
	XORL	CX, CX
	CPUID			// EBX: the XSAVE area's size for XCR0 as set
	CMPL	BX, $(FPU_AREA-4)	// and FP_XSTATE_MAGIC2 after it
	JLS	fits
	ANDL	$~0xe0, R10	// too big for a thread's area: no AVX-512
	JMP	setxcr0
fits:
	MOVL	BX, ·fpuSize(SB)
	MOVQ	R10, ·fpuXCR0(SB)
	MOVB	$1, ·fpuMode(SB)
	MOVL	$0xd, AX
	MOVL	$1, CX
	CPUID
	TESTL	$1, AX		// XSAVEOPT
	JZ	nest
	MOVB	$2, ·fpuMode(SB)
	JMP	nest
fxsave:
	MOVL	$512, ·fpuSize(SB)
	MOVB	$0, ·fpuMode(SB)
nest:
	MOVQ	CPU_FPU_NEST_BASE(GS), AX
	ADDQ	$63, AX
	ANDQ	$~63, AX
	MOVQ	AX, CPU_FPU_NEST_BASE(GS)
	MOVQ	AX, CPU_FPU_NEST_TOP(GS)
	ADDQ	$(FPU_AREA*8), AX
	MOVQ	AX, CPU_FPU_NEST_LIMIT(GS)
	RET
