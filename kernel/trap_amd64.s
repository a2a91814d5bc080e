//go:build hurdvm

// Trap, interrupt and system-call entry: handler context (docs/DESIGN.md, "Handler context").
//
// Every way into the kernel after boot lands in trapCommon<> with the same
// TrapFrame on a kernel stack: the CPU's interrupt frame (or one built by
// syscallEntry to look the same), the vector, an error code, the fifteen
// general registers, and the address of the area where the interrupted
// code's FPU/SSE/AVX state was saved (fpu.go: the current thread's area,
// or a nest area when the kernel itself was interrupted). trapCommon then
// points FS at the kernel's TLS block, so the Go code it calls runs with
// the kernel g (whose stack bounds are the kernel stacks), and calls
// trap(tf). trap may rewrite the frame, its FPU area included, to return
// into another thread; it returns the FS base that thread needs. What is
// the CPU's own (its stacks, the current thread's FPU area, the nest
// areas, the kernel's FS base) it finds in its record at GS (percpu.go).
//
// Ring 3 (a process's thread, process.go). GS base is the CPU's record
// only while the kernel runs: in ring 3 it is the process's (0), and the
// record's address waits in MSR_KERNEL_GS_BASE. Every way in from ring 3
// swaps them first (SWAPGS), every way out to ring 3 swaps them back:
// syscallEntryUser (LSTAR while a process's thread runs on the CPU: the
// kernel's runtime keeps syscallEntry, unchanged), trapEntry<> (the
// interrupted CS says ring 3), trapReturn (the CS it returns to says
// ring 3). NMI, #DF and #MC may also arrive in ring 0 between SYSCALL and
// the SWAPGS, or between the SWAPGS out and IRETQ: trapParanoid<> reads GS
// base itself. A process can never put its RSP on a kernel stack and be
// taken for the kernel: the CS of its frames says ring 3.

#include "textflag.h"
#include "percpu_amd64.h"

#define MSR_FS_BASE 0xC0000100
#define MSR_GS_BASE 0xC0000101
#define KCODE 0x08
#define KDATA 0x10
#define UCODE 0x33
#define UDATA 0x2b
#define VECTOR_SYSCALL 256
#define FPU_AREA 3072
// Offsets of the interrupted CS and RSP in the frame: the FPU word and a
// spare, fifteen registers, vector and error code, RIP, (CS), RFLAGS.
#define FRAME_CS (16+15*8+16+8)
#define FRAME_RSP (16+15*8+16+24)
// SWAPGS, CLAC (0F 01 F8, 0F 01 CA), which Go's assembler does not know.
#define SWAPGS BYTE $0x0f; BYTE $0x01; BYTE $0xf8
#define CLAC BYTE $0x0f; BYTE $0x01; BYTE $0xca

// syscallEntry is the target of SYSCALL (MSR_LSTAR). The CPU left the
// return RIP in CX, RFLAGS in R11 and did not switch stacks; FMASK cleared
// IF, so nothing can interrupt us before we are on the trap stack.
TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ	SP, CPU_USER_RSP(GS)
	MOVQ	CPU_TRAP_STACK_TOP(GS), SP
	PUSHQ	$KDATA
	PUSHQ	CPU_USER_RSP(GS)
	PUSHQ	R11
	PUSHQ	$KCODE
	PUSHQ	CX
	PUSHQ	$0
	PUSHQ	$VECTOR_SYSCALL
	JMP	trapCommon<>(SB)

// syscallEntryUser is SYSCALL's target while a process's thread runs on
// this CPU (setSyscallEntry): the same as syscallEntry, with the GS swap
// first and the process's selectors in the frame, so that IRETQ goes back
// to ring 3. SYSCALL cleared AC (FMASK): SMAP holds from here.
TEXT ·syscallEntryUser(SB),NOSPLIT|NOFRAME,$0
	SWAPGS
	MOVQ	SP, CPU_USER_RSP(GS)
	MOVQ	CPU_TRAP_STACK_TOP(GS), SP
	PUSHQ	$UDATA
	PUSHQ	CPU_USER_RSP(GS)
	PUSHQ	R11
	PUSHQ	$UCODE
	PUSHQ	CX
	PUSHQ	$0
	PUSHQ	$VECTOR_SYSCALL
	JMP	trapCommon<>(SB)

// trapEntry<> is where the vector stubs go, with the vector and an error
// code pushed (CS is then at 24(SP)). From ring 3: GS swapped, and AC
// cleared where SMAP is on (a process may set AC with POPF, and a trap
// does not clear it). From ring 0, AC is set only inside userCopyAC's
// bracketed copy (a #PF there): its handler touches no process memory
// (the VM reads the tables and frames through the physmap), and IRETQ
// gives the copy its AC back, so the kernel's own path is one test longer
// than before processes, not three.
TEXT trapEntry<>(SB),NOSPLIT|NOFRAME,$0
	TESTB	$3, 24(SP)
	JNE	user
	JMP	trapCommon<>(SB)
user:
	SWAPGS
	CMPB	·smapOn(SB), $0
	JEQ	common
	CLAC
common:
	JMP	trapCommon<>(SB)

// trapParanoid<> is trapEntry<> for NMI, #DF and #MC, which no IF holds
// back: GS base is read rather than inferred from CS (it may be the
// process's in ring 0, at the edges of syscallEntryUser and trapReturn),
// and swapped when it is not inside the image's writable part, where every
// CPU's record is. None of the three returns (a stop or a kernel panic),
// so nothing swaps it back.
TEXT trapParanoid<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	AX
	PUSHQ	CX
	PUSHQ	DX
	MOVL	$MSR_GS_BASE, CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	$runtime·noptrdata(SB), CX
	CMPQ	AX, CX
	JCS	swap
	MOVQ	$runtime·end(SB), CX
	CMPQ	AX, CX
	JCS	kernelgs
swap:
	SWAPGS
kernelgs:
	POPQ	DX
	POPQ	CX
	POPQ	AX
	CMPB	·smapOn(SB), $0
	JEQ	common
	CLAC
common:
	JMP	trapCommon<>(SB)

TEXT trapCommon<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	AX
	PUSHQ	BX
	PUSHQ	CX
	PUSHQ	DX
	PUSHQ	SI
	PUSHQ	DI
	PUSHQ	BP
	PUSHQ	R8
	PUSHQ	R9
	PUSHQ	R10
	PUSHQ	R11
	PUSHQ	R12
	PUSHQ	R13
	PUSHQ	R14
	PUSHQ	R15
	SUBQ	$16, SP
	// The FPU state's area: a nest area when the interrupted code ran in
	// ring 0 on a kernel stack (the kernel itself), else the current
	// thread's. (A process's RSP may point anywhere: its CS decides.)
	MOVQ	FRAME_RSP(SP), AX
	CMPQ	AX, CPU_KSTACK_LO(GS)
	JCS	fromThread
	CMPQ	AX, CPU_KSTACK_HI(GS)
	JHI	fromThread
	TESTB	$3, FRAME_CS(SP)
	JNE	fromThread
	MOVQ	CPU_FPU_NEST_TOP(GS), BX
	ADDQ	$FPU_AREA, CPU_FPU_NEST_TOP(GS)
	JMP	save
fromThread:
	MOVQ	CPU_FPU_AREA(GS), BX
save:
	MOVQ	BX, 0(SP)
	CMPB	·fpuMode(SB), $0
	JEQ	fxsave
	MOVL	$-1, AX
	MOVL	$-1, DX
	CMPB	·fpuMode(SB), $2
	JEQ	xsaveopt
	XSAVE64	(BX)
	JMP	saved
xsaveopt:
	XSAVEOPT64	(BX)
	JMP	saved
fxsave:
	FXSAVE64	(BX)
saved:
	CLD
	MOVL	$MSR_FS_BASE, CX
	MOVQ	CPU_KERNEL_FS_BASE(GS), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	MOVQ	SP, AX
	SUBQ	$16, SP
	MOVQ	AX, 0(SP)
	CALL	·trap(SB)
	MOVQ	8(SP), AX
	ADDQ	$16, SP
	JMP	·trapReturn(SB)

// trapReturn leaves the kernel through the TrapFrame at SP, with AX the FS
// base of the code it returns to. trapCommon ends here, and so does
// resumeFrame (the kernel-panic path).
TEXT ·trapReturn(SB),NOSPLIT|NOFRAME,$0
	MOVL	$MSR_FS_BASE, CX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	MOVQ	0(SP), BX
	CMPB	·fpuMode(SB), $0
	JEQ	fxrstor
	MOVL	$-1, AX
	MOVL	$-1, DX
	XRSTOR64	(BX)
	JMP	restored
fxrstor:
	FXRSTOR64	(BX)
restored:
	// A nest area goes back to the nest stack.
	CMPQ	BX, CPU_FPU_NEST_BASE(GS)
	JCS	leave
	CMPQ	BX, CPU_FPU_NEST_LIMIT(GS)
	JCC	leave
	SUBQ	$FPU_AREA, CPU_FPU_NEST_TOP(GS)
leave:
	ADDQ	$16, SP
	POPQ	R15
	POPQ	R14
	POPQ	R13
	POPQ	R12
	POPQ	R11
	POPQ	R10
	POPQ	R9
	POPQ	R8
	POPQ	BP
	POPQ	DI
	POPQ	SI
	POPQ	DX
	POPQ	CX
	POPQ	BX
	POPQ	AX
	ADDQ	$16, SP
	// Back to ring 3: the process's GS base.
	TESTB	$3, 8(SP)
	JEQ	iret
	SWAPGS
iret:
	IRETQ

TEXT vector0<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$0
	JMP	trapEntry<>(SB)

TEXT vector1<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$1
	JMP	trapEntry<>(SB)

TEXT vector2<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$2
	JMP	trapParanoid<>(SB)

TEXT vector3<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$3
	JMP	trapEntry<>(SB)

TEXT vector4<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$4
	JMP	trapEntry<>(SB)

TEXT vector5<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$5
	JMP	trapEntry<>(SB)

TEXT vector6<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$6
	JMP	trapEntry<>(SB)

TEXT vector7<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$7
	JMP	trapEntry<>(SB)

TEXT vector8<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$8
	JMP	trapParanoid<>(SB)

TEXT vector9<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$9
	JMP	trapEntry<>(SB)

TEXT vector10<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$10
	JMP	trapEntry<>(SB)

TEXT vector11<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$11
	JMP	trapEntry<>(SB)

TEXT vector12<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$12
	JMP	trapEntry<>(SB)

TEXT vector13<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$13
	JMP	trapEntry<>(SB)

TEXT vector14<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$14
	JMP	trapEntry<>(SB)

TEXT vector15<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$15
	JMP	trapEntry<>(SB)

TEXT vector16<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$16
	JMP	trapEntry<>(SB)

TEXT vector17<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$17
	JMP	trapEntry<>(SB)

TEXT vector18<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$18
	JMP	trapParanoid<>(SB)

TEXT vector19<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$19
	JMP	trapEntry<>(SB)

TEXT vector20<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$20
	JMP	trapEntry<>(SB)

TEXT vector21<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$21
	JMP	trapEntry<>(SB)

TEXT vector22<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$22
	JMP	trapEntry<>(SB)

TEXT vector23<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$23
	JMP	trapEntry<>(SB)

TEXT vector24<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$24
	JMP	trapEntry<>(SB)

TEXT vector25<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$25
	JMP	trapEntry<>(SB)

TEXT vector26<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$26
	JMP	trapEntry<>(SB)

TEXT vector27<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$27
	JMP	trapEntry<>(SB)

TEXT vector28<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$28
	JMP	trapEntry<>(SB)

TEXT vector29<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$29
	JMP	trapEntry<>(SB)

TEXT vector30<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$30
	JMP	trapEntry<>(SB)

TEXT vector31<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$31
	JMP	trapEntry<>(SB)

TEXT vector32<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$32
	JMP	trapEntry<>(SB)

TEXT vector33<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$33
	JMP	trapEntry<>(SB)

TEXT vector34<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$34
	JMP	trapEntry<>(SB)

TEXT vector255<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	$0
	PUSHQ	$255
	JMP	trapEntry<>(SB)

// vectors<> holds the entry stub of each vector the IDT installs, indexed
// as vectorStubs lists them (0..31, 32, 33, 34, 255).
DATA vectors<>+0(SB)/8, $vector0<>(SB)
DATA vectors<>+8(SB)/8, $vector1<>(SB)
DATA vectors<>+16(SB)/8, $vector2<>(SB)
DATA vectors<>+24(SB)/8, $vector3<>(SB)
DATA vectors<>+32(SB)/8, $vector4<>(SB)
DATA vectors<>+40(SB)/8, $vector5<>(SB)
DATA vectors<>+48(SB)/8, $vector6<>(SB)
DATA vectors<>+56(SB)/8, $vector7<>(SB)
DATA vectors<>+64(SB)/8, $vector8<>(SB)
DATA vectors<>+72(SB)/8, $vector9<>(SB)
DATA vectors<>+80(SB)/8, $vector10<>(SB)
DATA vectors<>+88(SB)/8, $vector11<>(SB)
DATA vectors<>+96(SB)/8, $vector12<>(SB)
DATA vectors<>+104(SB)/8, $vector13<>(SB)
DATA vectors<>+112(SB)/8, $vector14<>(SB)
DATA vectors<>+120(SB)/8, $vector15<>(SB)
DATA vectors<>+128(SB)/8, $vector16<>(SB)
DATA vectors<>+136(SB)/8, $vector17<>(SB)
DATA vectors<>+144(SB)/8, $vector18<>(SB)
DATA vectors<>+152(SB)/8, $vector19<>(SB)
DATA vectors<>+160(SB)/8, $vector20<>(SB)
DATA vectors<>+168(SB)/8, $vector21<>(SB)
DATA vectors<>+176(SB)/8, $vector22<>(SB)
DATA vectors<>+184(SB)/8, $vector23<>(SB)
DATA vectors<>+192(SB)/8, $vector24<>(SB)
DATA vectors<>+200(SB)/8, $vector25<>(SB)
DATA vectors<>+208(SB)/8, $vector26<>(SB)
DATA vectors<>+216(SB)/8, $vector27<>(SB)
DATA vectors<>+224(SB)/8, $vector28<>(SB)
DATA vectors<>+232(SB)/8, $vector29<>(SB)
DATA vectors<>+240(SB)/8, $vector30<>(SB)
DATA vectors<>+248(SB)/8, $vector31<>(SB)
DATA vectors<>+256(SB)/8, $vector32<>(SB)
DATA vectors<>+264(SB)/8, $vector33<>(SB)
DATA vectors<>+272(SB)/8, $vector34<>(SB)
DATA vectors<>+280(SB)/8, $vector255<>(SB)
GLOBL vectors<>(SB), RODATA, $288

// func vectorTable() uintptr
TEXT ·vectorTable(SB),NOSPLIT,$0-8
	MOVQ	$vectors<>(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func syscallEntryAddr() uintptr
TEXT ·syscallEntryAddr(SB),NOSPLIT,$0-8
	MOVQ	$·syscallEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func syscallEntryUserAddr() uintptr
TEXT ·syscallEntryUserAddr(SB),NOSPLIT,$0-8
	MOVQ	$·syscallEntryUser(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// idleLoop is the body of the idle thread: wait for the next interrupt.
// It runs with interrupts on, never touches memory, and so needs no g.
TEXT ·idleLoop(SB),NOSPLIT|NOFRAME,$0
again:
	STI
	HLT
	JMP	again

// func idleLoopAddr() uintptr
TEXT ·idleLoopAddr(SB),NOSPLIT,$0-8
	MOVQ	$·idleLoop(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
