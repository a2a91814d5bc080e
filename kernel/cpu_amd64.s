//go:build hurdvm

// Single privileged instructions, wrapped for Go. Callable from any context.

#include "textflag.h"

// func lgdt(p uintptr)
TEXT ·lgdt(SB),NOSPLIT,$0-8
	MOVQ	p+0(FP), AX
	LGDT	(AX)
	RET

// func lidt(p uintptr)
TEXT ·lidt(SB),NOSPLIT,$0-8
	MOVQ	p+0(FP), AX
	LIDT	(AX)
	RET

// func ltr(sel uint16)
TEXT ·ltr(SB),NOSPLIT,$0-2
	MOVW	sel+0(FP), AX
	LTR	AX
	RET

// func reloadSegments(code, data uint16): far return into the new code
// segment, then the data segments. FS and GS are left alone: their bases
// live in MSRs and FS is Go's TLS.
TEXT ·reloadSegments(SB),NOSPLIT,$0-4
	MOVWQZX	data+2(FP), AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	MOVWQZX	code+0(FP), AX
	MOVQ	$reloaded<>(SB), BX
	PUSHQ	AX
	PUSHQ	BX
	BYTE	$0x48; BYTE $0xcb // lretq
TEXT reloaded<>(SB),NOSPLIT|NOFRAME,$0
	RET

// func rdmsr(reg uint32) uint64
TEXT ·rdmsr(SB),NOSPLIT,$0-16
	MOVL	reg+0(FP), CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+8(FP)
	RET

// func wrmsr(reg uint32, val uint64)
TEXT ·wrmsr(SB),NOSPLIT,$0-16
	MOVL	reg+0(FP), CX
	MOVQ	val+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	RET

// func wrmsrFenced(reg uint32, val uint64): WRMSR once every earlier
// store is globally visible. A WRMSR to an x2APIC register may complete
// before them (Intel SDM vol. 3, 10.12.3, which gives MFENCE; LFENCE):
// the ICR's, whose interrupt tells another CPU to read what they wrote.
TEXT ·wrmsrFenced(SB),NOSPLIT,$0-16
	MOVL	reg+0(FP), CX
	MOVQ	val+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MFENCE
	LFENCE
	WRMSR
	RET

// func readCR0() uint64
TEXT ·readCR0(SB),NOSPLIT,$0-8
	MOVQ	CR0, AX
	MOVQ	AX, ret+0(FP)
	RET

// func readCR2() uint64
TEXT ·readCR2(SB),NOSPLIT,$0-8
	MOVQ	CR2, AX
	MOVQ	AX, ret+0(FP)
	RET

// func readCR3() uint64
TEXT ·readCR3(SB),NOSPLIT,$0-8
	MOVQ	CR3, AX
	MOVQ	AX, ret+0(FP)
	RET

// func writeCR3(v uint64)
TEXT ·writeCR3(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR3
	RET

// func readCR4() uint64
TEXT ·readCR4(SB),NOSPLIT,$0-8
	MOVQ	CR4, AX
	MOVQ	AX, ret+0(FP)
	RET

// func writeCR4(v uint64)
TEXT ·writeCR4(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR4
	RET

// func invlpg(va uintptr)
TEXT ·invlpg(SB),NOSPLIT,$0-8
	MOVQ	va+0(FP), AX
	INVLPG	(AX)
	RET

// func fxsave(p *[512]byte): p is 16-byte aligned.
TEXT ·fxsave(SB),NOSPLIT,$0-8
	MOVQ	p+0(FP), AX
	FXSAVE64	(AX)
	RET

// func rdtsc() uint64
TEXT ·rdtsc(SB),NOSPLIT,$0-8
	LFENCE
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func cpuid(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB),NOSPLIT,$0-24
	MOVL	leaf+0(FP), AX
	MOVL	sub+4(FP), CX
	CPUID
	MOVL	AX, a+8(FP)
	MOVL	BX, b+12(FP)
	MOVL	CX, c+16(FP)
	MOVL	DX, d+20(FP)
	RET

// func rdrand() (v uint64, ok bool)
TEXT ·rdrand(SB),NOSPLIT,$0-9
	BYTE	$0x48; BYTE $0x0f; BYTE $0xc7; BYTE $0xf0 // rdrand rax
	SETCS	BX
	MOVQ	AX, v+0(FP)
	MOVB	BX, ok+8(FP)
	RET

// func rdseed() (v uint64, ok bool)
TEXT ·rdseed(SB),NOSPLIT,$0-9
	BYTE	$0x48; BYTE $0x0f; BYTE $0xc7; BYTE $0xf8 // rdseed rax
	SETCS	BX
	MOVQ	AX, v+0(FP)
	MOVB	BX, ok+8(FP)
	RET

// func outb(port uint16, v uint8)
TEXT ·outb(SB),NOSPLIT,$0-3
	MOVW	port+0(FP), DX
	MOVB	v+2(FP), AX
	OUTB
	RET

// func inb(port uint16) uint8
TEXT ·inb(SB),NOSPLIT,$0-9
	MOVW	port+0(FP), DX
	INB
	MOVB	AX, ret+8(FP)
	RET

// func outw(port uint16, v uint16)
TEXT ·outw(SB),NOSPLIT,$0-4
	MOVW	port+0(FP), DX
	MOVW	v+2(FP), AX
	OUTW
	RET

// func outl(port uint16, v uint32)
TEXT ·outl(SB),NOSPLIT,$0-8
	MOVW	port+0(FP), DX
	MOVL	v+4(FP), AX
	OUTL
	RET

// func halt(): stop this CPU for good.
TEXT ·halt(SB),NOSPLIT,$0-0
again:
	CLI
	HLT
	JMP	again

// func interruptsOff() (wasOn bool)
TEXT ·interruptsOff(SB),NOSPLIT,$0-1
	PUSHFQ
	POPQ	AX
	CLI
	SHRQ	$9, AX
	ANDQ	$1, AX
	MOVB	AX, wasOn+0(FP)
	RET

// func interruptsOn()
TEXT ·interruptsOn(SB),NOSPLIT,$0-0
	STI
	RET

// func thisCPU() *cpu: the record at GS (percpu.go).
TEXT ·thisCPU(SB),NOSPLIT,$0-8
	MOVQ	0(GS), AX
	MOVQ	AX, ret+0(FP)
	RET

// func pause(): the spin-wait hint.
TEXT ·pause(SB),NOSPLIT,$0-0
	PAUSE
	RET
