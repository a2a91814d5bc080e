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
#include "percpu_amd64.h"

#define MSR_FS_BASE 0xC0000100
#define MSR_GS_BASE 0xC0000101
#define KSTACK_SLOT 65536
#define KSTACK_COUNT 5

TEXT ·entry(SB),NOSPLIT|NOFRAME,$0
	CLI
	MOVQ	DI, ·bootMagic(SB)
	MOVQ	SI, ·bootInfo(SB)
	MOVQ	DX, ·bootEnd(SB)
	MOVQ	CX, ·bootLazyTable(SB)
	MOVQ	R8, ·bootLazyCount(SB)

	// The boot CPU's record (percpu.go), with its stacks: page-aligned
	// slots inside kernelStacks.
	MOVQ	$·cpus(SB), DI
	MOVQ	$·kernelStacks(SB), AX
	ADDQ	$4095, AX
	ANDQ	$~4095, AX
	CALL	·cpuEnter(SB)
	MOVQ	$·fpuNest(SB), AX
	MOVQ	AX, CPU_FPU_NEST_BASE(GS)

	// Run kmain on the trap stack (slot 0), once the FPU is set up: with
	// GOAMD64=v3 even kmain's code may use AVX.
	MOVQ	CPU_KSTACK_LO(GS), SP
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

// cpuEnter makes the record at DI this CPU's (percpu.go), with its kernel
// stacks starting at AX: GS base, the stack bounds, the kernel g and TLS
// block, FS base. Needs a stack for its return address; clobbers AX, BX,
// CX, DX.
TEXT ·cpuEnter(SB),NOSPLIT|NOFRAME,$0
	MOVQ	DI, CPU_SELF(DI)
	MOVQ	AX, CPU_KSTACK_LO(DI)
	MOVQ	AX, BX
	ADDQ	$(KSTACK_SLOT*KSTACK_COUNT), BX
	MOVQ	BX, CPU_KSTACK_HI(DI)

	// The kernel g: stack.lo, stack.hi, stackguard0, stackguard1.
	MOVQ	AX, CPU_KERNEL_G+0(DI)
	MOVQ	BX, CPU_KERNEL_G+8(DI)
	ADDQ	$4096, AX
	MOVQ	AX, CPU_KERNEL_G+16(DI)
	MOVQ	AX, CPU_KERNEL_G+24(DI)

	// TLS: the word at FS-8 is g.
	LEAQ	CPU_KERNEL_G(DI), AX
	MOVQ	AX, CPU_KERNEL_TLS(DI)
	LEAQ	(CPU_KERNEL_TLS+8)(DI), AX
	MOVQ	AX, CPU_KERNEL_FS_BASE(DI)
	MOVL	$MSR_FS_BASE, CX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR

	MOVL	$MSR_GS_BASE, CX
	MOVQ	DI, AX
	MOVQ	DI, DX
	SHRQ	$32, DX
	WRMSR
	RET

// apEntry is where an AP comes from the trampoline (smp.go), in long mode
// on the kernel's tables and on its trap stack: DI its record, AX its
// kernel stacks. Like entry for the boot CPU: its record, its FPU, then
// apMain, which does not return.
TEXT ·apEntry(SB),NOSPLIT|NOFRAME,$0
	CALL	·cpuEnter(SB)
	CALL	·fpuSetup(SB)
	CALL	·apMain(SB)
	HLT

// func apEntryAddr() uintptr
TEXT ·apEntryAddr(SB),NOSPLIT,$0-8
	MOVQ	$·apEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
