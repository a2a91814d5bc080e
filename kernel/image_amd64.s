//go:build hurdvm

// Linker-defined bounds of the kernel image (the Go program).

#include "textflag.h"

// func imageBounds() (start, etext, data, end uintptr)
// text is [start, etext); read-only data up to data, where the writable
// segment (noptrdata, data, bss, noptrbss) starts; end is the image's end.
TEXT ·imageBounds(SB),NOSPLIT,$0-32
	MOVQ	$runtime·text(SB), AX
	MOVQ	AX, start+0(FP)
	MOVQ	$runtime·etext(SB), AX
	MOVQ	AX, etext+8(FP)
	MOVQ	$runtime·noptrdata(SB), AX
	MOVQ	AX, data+16(FP)
	MOVQ	$runtime·end(SB), AX
	MOVQ	AX, end+24(FP)
	RET

// func bssStart() uintptr: where the zero-filled part of the image starts
// (.bss, then .noptrbss up to end).
TEXT ·bssStart(SB),NOSPLIT,$0-8
	MOVQ	$runtime·bss(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func reportPanicAddr() uintptr
TEXT ·reportPanicAddr(SB),NOSPLIT,$0-8
	MOVQ	$·reportPanicEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// reportPanicEntry is injected as a call into the thread that was running
// when the kernel panicked (see panic.go); it runs ordinary Go code there.
TEXT ·reportPanicEntry(SB),NOSPLIT|NOFRAME,$0
	CALL	·reportPanic(SB)
stop:
	CLI
	HLT
	JMP	stop

// func resumeFrame(tf uintptr, fsBase uint64): leave the kernel through the
// frame at tf, abandoning whatever handler is running (the kernel panic path).
TEXT ·resumeFrame(SB),NOSPLIT,$0-16
	MOVQ	fsBase+8(FP), AX
	MOVQ	tf+0(FP), SP
	JMP	·trapReturn(SB)
