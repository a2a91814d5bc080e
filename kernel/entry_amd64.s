//go:build hurdvm

// The kernel's first instructions, and the jump into the Go runtime.
//
// boot/ jumps to entry with rdi = multiboot magic, rsi = multiboot info,
// rdx = end of the boot stage, rcx and r8 = the lazy BSS table and its
// length (lazybss.go), interrupts off, the boot stage's identity map live. Nothing of the Go runtime has run: entry gives Go code a g to
// run on (the kernel g, stack bounds = the kernel stacks) by pointing FS at
// the kernel's TLS block, runs kmain on the trap stack, and then enters the
// runtime exactly as Linux would start a static executable: at
// _rt0_amd64_linux with the argc/argv/envp/auxv stack kmain built.

#include "textflag.h"

#define MSR_FS_BASE 0xC0000100
#define KSTACK_SLOT 65536
#define KSTACK_COUNT 5

TEXT ·entry(SB),NOSPLIT|NOFRAME,$0
	CLI
	MOVQ	DI, ·bootMagic(SB)
	MOVQ	SI, ·bootInfo(SB)
	MOVQ	DX, ·bootEnd(SB)
	MOVQ	CX, ·bootLazyTable(SB)
	MOVQ	R8, ·bootLazyCount(SB)

	// The kernel stacks: page-aligned slots inside kernelStacks.
	MOVQ	$·kernelStacks(SB), AX
	ADDQ	$4095, AX
	ANDQ	$~4095, AX
	MOVQ	AX, ·kstackLo(SB)
	MOVQ	AX, BX
	ADDQ	$(KSTACK_SLOT*KSTACK_COUNT), BX
	MOVQ	BX, ·kstackHi(SB)

	// The kernel g: stack.lo, stack.hi, stackguard0, stackguard1.
	MOVQ	AX, ·kernelG+0(SB)
	MOVQ	BX, ·kernelG+8(SB)
	ADDQ	$4096, AX
	MOVQ	AX, ·kernelG+16(SB)
	MOVQ	AX, ·kernelG+24(SB)

	// TLS: the word at FS-8 is g.
	MOVQ	$·kernelG(SB), AX
	MOVQ	AX, ·kernelTLS(SB)
	MOVQ	$·kernelTLS+8(SB), AX
	MOVQ	AX, ·kernelFSBase(SB)
	MOVL	$MSR_FS_BASE, CX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR

	// Run kmain on the trap stack (slot 0), once the FPU is set up: with
	// GOAMD64=v3 even kmain's code may use AVX.
	MOVQ	·kstackLo(SB), SP
	ADDQ	$KSTACK_SLOT, SP
	CALL	·fpuSetup(SB)
	CALL	·kmain(SB)

	// Enter the runtime: FS base 0 until it calls arch_prctl, interrupts on.
	XORL	AX, AX
	XORL	DX, DX
	MOVL	$MSR_FS_BASE, CX
	WRMSR
	MOVQ	·runtimeStartSP(SB), SP
	XORL	AX, AX
	XORL	BX, BX
	XORL	CX, CX
	XORL	DX, DX
	XORL	SI, SI
	XORL	DI, DI
	STI
	JMP	_rt0_amd64_linux(SB)
