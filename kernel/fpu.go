//go:build hurdvm

// The FPU, SSE and AVX state of the code the kernel interrupts. Handler
// context (fpuSetup, in fpu_amd64.s, runs at entry).
//
// Where it is saved. Every trap saves the interrupted code's state before
// any Go code of the kernel runs (the kernel's Go code uses SSE and AVX
// registers itself) and restores it on the way out (trap_amd64.s). From a
// thread of the program it goes to that thread's own area, the first 3 KiB
// of its record: switching threads is then only pointing the trap frame at
// another area, and a signal frame or a clone copies from it. From the
// kernel itself (a page fault inside a system call), it goes to the next of
// the nest areas, a stack of per-level areas.
//
// How. With XSAVE (the CPU says so in CPUID), XCR0 enables x87, SSE, AVX
// and AVX-512 as the CPU has them, the state is saved with XSAVEOPT (or
// XSAVE) and restored with XRSTOR in the standard format, and signal frames
// carry it the way Linux's do (the XSAVE image with the sw_reserved words
// and FP_XSTATE_MAGIC2). The Go runtime then uses AVX2 for memmove and
// memclr where the CPU has it. Without XSAVE, FXSAVE and FXRSTOR, 512
// bytes, as before.

package kernel

import "unsafe"

const (
	// fpuAreaSize is the room for the state in a thread's record and in
	// each nest area: the XSAVE area of x87, SSE, AVX and AVX-512 is
	// 2,696 bytes. fpuSetup leaves out what would not fit.
	fpuAreaSize = 3072
	// fpuNestDepth is how deep kernel traps may nest: a system call, a
	// page fault in it, an NMI or machine check, a double fault.
	fpuNestDepth = 8

	fpuModeFXSAVE   = 0
	fpuModeXSAVE    = 1
	fpuModeXSAVEOPT = 2

	xstateMagic1 = 0x46505853 // FP_XSTATE_MAGIC1, in the FXSAVE image's sw_reserved
	xstateMagic2 = 0x46505845 // FP_XSTATE_MAGIC2, after the XSAVE image
	ucFPXstate   = 1          // UC_FP_XSTATE: the frame's FPU image is an XSAVE one
)

// Set by fpuSetup before kmain.
var (
	fpuMode uint8  // fpuModeFXSAVE, fpuModeXSAVE or fpuModeXSAVEOPT
	fpuSize uint32 // bytes of the image (512 with FXSAVE)
	fpuXCR0 uint64 // the state components XCR0 enables
	// fpuNest is the boot CPU's nest areas; the others' are mapped at
	// AP start (smp.go).
	fpuNest [fpuNestSize]byte
)

// fpuNestSize is the memory a CPU's nest areas take, with room to align
// them to 64 bytes.
const fpuNestSize = fpuAreaSize*fpuNestDepth + 64

func fpuSetup()

// fpuAreaOf is the address of thread t's FPU area.
func fpuAreaOf(t *thread) uint64 { return uint64(uintptr(unsafe.Pointer(&t.fpu))) }

// fpuReset gives an area the state of a freshly reset CPU: FCW 0x037f,
// MXCSR 0x1f80, every XSAVE component in its initial state (XSTATE_BV 0).
func fpuReset(a *[fpuAreaSize]byte) {
	*a = [fpuAreaSize]byte{}
	a[0], a[1] = 0x7f, 0x03
	putLE32(a[24:], 0x1f80)
}

// fpuSanitize makes an image that a program wrote (rt_sigreturn) safe to
// restore: XRSTOR and FXRSTOR fault in the kernel on reserved MXCSR bits,
// on XSTATE_BV bits XCR0 does not enable, on a compacted format and on
// non-zero reserved header bytes. legacyOnly says the program gave only
// the 512-byte FXSAVE part: the extended state starts from its initial
// values.
func fpuSanitize(a *[fpuAreaSize]byte, legacyOnly bool) {
	putLE32(a[24:], le32(a[24:])&mxcsrMask)
	if fpuMode == fpuModeFXSAVE {
		return
	}
	bv := le64(a[512:]) & fpuXCR0
	if legacyOnly {
		bv &= 3
		clear(a[576:])
	}
	putLE64(a[512:], bv)
	clear(a[520:576]) // XCOMP_BV (standard format) and the reserved bytes
}

// fpuFrameSize is the size of the FPU image in a signal frame.
func fpuFrameSize() uint64 {
	if fpuMode == fpuModeFXSAVE {
		return 512
	}
	return uint64(fpuSize) + 4 // and FP_XSTATE_MAGIC2
}

// fpuFrameImage prepares thread t's area to be a signal frame's image:
// the sw_reserved words Linux puts there, and the second magic after it.
// XSAVE leaves both alone (bytes 464-511 are software's), so they may be
// written into the area itself.
func fpuFrameImage(t *thread) []byte {
	a := &t.fpu
	if fpuMode == fpuModeFXSAVE {
		return a[:512]
	}
	putLE32(a[464:], xstateMagic1)
	putLE32(a[468:], fpuSize+4) // extended_size
	putLE64(a[472:], fpuXCR0)   // xfeatures
	putLE32(a[480:], fpuSize)   // xstate_size
	putLE32(a[fpuSize:], xstateMagic2)
	return a[:fpuSize+4]
}

// fpuFromFrame loads a signal frame's FPU image at fp into thread t's
// area, as Linux's fpu__restore_sig: an XSAVE image when the sw_reserved
// words say so, else the FXSAVE part alone; fp 0 is the initial state.
// False when fp cannot be read (the caller sends SIGSEGV).
func fpuFromFrame(t *thread, fp uint64) bool {
	a := &t.fpu
	if fp == 0 {
		fpuReset(a)
		return true
	}
	if fpuMode != fpuModeFXSAVE && fp%64 != 0 || fp%16 != 0 {
		return false
	}
	if !copyIn(a[:512], fp) {
		return false
	}
	full := fpuMode != fpuModeFXSAVE && le32(a[464:]) == xstateMagic1 &&
		le32(a[468:]) == fpuSize+4 && le32(a[480:]) == fpuSize
	if full {
		var m uint32
		if !copyIn(a[512:fpuSize], fp+512) || !copyIn(bytesOf(&m), fp+uint64(fpuSize)) {
			return false
		}
		full = m == xstateMagic2
	}
	fpuSanitize(a, !full)
	return true
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }

func putLE64(b []byte, v uint64) {
	putLE32(b, uint32(v))
	putLE32(b[4:], uint32(v>>32))
}

// fpuName says at boot how the state is saved.
func fpuName() string {
	switch {
	case fpuMode == fpuModeFXSAVE:
		return "SSE2 (fxsave)"
	case fpuXCR0&0xe0 != 0:
		return "AVX-512 (xsave)"
	case fpuXCR0&4 != 0:
		return "AVX (xsave)"
	}
	return "SSE (xsave)"
}
