//go:build hurdvm

// CPU instruction wrappers (cpu_amd64.s), callable from any context.

package kernel

import "unsafe"

func lgdt(p uintptr)
func lidt(p uintptr)
func ltr(sel uint16)
func reloadSegments(code, data uint16)
func rdmsr(reg uint32) uint64
func wrmsr(reg uint32, val uint64)
func wrmsrFenced(reg uint32, val uint64)
func readCR0() uint64
func readCR2() uint64
func readCR3() uint64
func writeCR3(v uint64)
func readCR4() uint64
func writeCR4(v uint64)
func invlpg(va uintptr)
func fxsave(p *[512]byte)
func rdtsc() uint64
func cpuid(leaf, sub uint32) (a, b, c, d uint32)
func rdrand() (v uint64, ok bool)
func rdseed() (v uint64, ok bool)
func outb(port uint16, v uint8)
func inb(port uint16) uint8
func outw(port uint16, v uint16)
func outl(port uint16, v uint32)
func halt()
func pause()
func interruptsOff() (wasOn bool)
func interruptsOn()

// Entry points in trap_amd64.s and entry_amd64.s.
func entry()
func syscallEntry()
func syscallEntryUser()
func trapReturn()
func idleLoop()
func vectorTable() uintptr
func syscallEntryAddr() uintptr
func syscallEntryUserAddr() uintptr
func idleLoopAddr() uintptr
func imageBounds() (start, etext, data, end uintptr)
func bssStart() uintptr

const (
	msrEFER         = 0xC0000080
	msrSTAR         = 0xC0000081
	msrLSTAR        = 0xC0000082
	msrFMASK        = 0xC0000084
	msrFSBase       = 0xC0000100
	msrGSBase       = 0xC0000101
	msrKernelGSBase = 0xC0000102
	msrAPICBase     = 0x1B

	eferSCE = 1 << 0
	eferNXE = 1 << 11

	rflagsTF = 1 << 8
	rflagsIF = 1 << 9
	rflagsDF = 1 << 10
	rflagsAC = 1 << 18
	rflagsNT = 1 << 14

	// rflagsIOPL is the I/O privilege level: 0 for every thread, so that
	// ring 3 has no CLI, STI, IN or OUT.
	rflagsIOPL = 3 << 12

	cr4SMEP = 1 << 20
	cr4SMAP = 1 << 21
)

// cpuFeatures records what CPUID said at boot.
var cpuFeatures struct {
	vendor                      [12]byte
	maxLeaf, maxExtLeaf         uint32
	rdrand, rdseed, nx, pdpe1gb bool
	invariantTSC, x2apic        bool
	tscDeadline                 bool
	smep, smap                  bool
	leaf1ECX, leaf1EDX          uint32
}

func detectCPU() {
	a, b, c, d := cpuid(0, 0)
	cpuFeatures.maxLeaf = a
	putLE32(cpuFeatures.vendor[0:], b)
	putLE32(cpuFeatures.vendor[4:], d)
	putLE32(cpuFeatures.vendor[8:], c)
	_, _, c, d = cpuid(1, 0)
	cpuFeatures.leaf1ECX, cpuFeatures.leaf1EDX = c, d
	cpuFeatures.rdrand = c&(1<<30) != 0
	cpuFeatures.x2apic = c&(1<<21) != 0
	cpuFeatures.tscDeadline = c&(1<<24) != 0
	if cpuFeatures.maxLeaf >= 7 {
		_, b, _, _ = cpuid(7, 0)
		cpuFeatures.rdseed = b&(1<<18) != 0
		cpuFeatures.smep = b&(1<<7) != 0
		cpuFeatures.smap = b&(1<<20) != 0
	}
	a, _, _, _ = cpuid(0x80000000, 0)
	cpuFeatures.maxExtLeaf = a
	if a >= 0x80000001 {
		_, _, _, d = cpuid(0x80000001, 0)
		cpuFeatures.nx = d&(1<<20) != 0
		cpuFeatures.pdpe1gb = d&(1<<26) != 0
	}
	if a >= 0x80000007 {
		_, _, _, d = cpuid(0x80000007, 0)
		cpuFeatures.invariantTSC = d&(1<<8) != 0
	}
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// mxcsrMask is the MXCSR bits this CPU allows (FXSAVE's MXCSR_MASK field;
// 0xffbf when the CPU leaves it zero, as the SDM says): an image a
// program hands to rt_sigreturn is masked with it before FXRSTOR.
var mxcsrMask uint32 = 0xffbf

// fxImage is where fpuInit lets FXSAVE write: 16-byte aligned.
var fxImage struct {
	_  [0]uint64
	fx [512 + 16]byte
}

// fpuInit reads the CPU's MXCSR_MASK.
func fpuInit() {
	off := (16 - uintptr(unsafe.Pointer(&fxImage.fx[0]))%16) % 16
	img := (*[512]byte)(unsafe.Pointer(&fxImage.fx[off]))
	fxsave(img)
	if m := uint32(img[28]) | uint32(img[29])<<8 | uint32(img[30])<<16 | uint32(img[31])<<24; m != 0 {
		mxcsrMask = m
	}
}

// smapOn is set when CR4.SMAP is on (every CPU's, from the boot CPU's
// protectionSetup on): the copies of a process's memory bracket their one
// instruction with STAC and CLAC, and the trap entry clears AC
// (trap_amd64.s, user_amd64.s). Without SMAP, STAC and CLAC are #UD.
var smapOn bool

// smepOn is set when CR4.SMEP is on.
var smepOn bool

// smapOff and smepOff keep protectionSetup from turning SMAP and SMEP on:
// test kernels set them (testhooks.go) to show the tests that would catch
// a kernel touching a process's memory outside a copy; never otherwise.
var smapOff, smepOff bool

// protectionSetup turns on what keeps the kernel from the processes'
// pages, where the CPU has it (QEMU's -cpu max does; qemu64 does not):
// SMEP (ring 0 never executes a user page) and SMAP (ring 0 touches a user
// page only between STAC and CLAC). Every CPU, in setupDescriptors. No
// page of the kernel's own carries U/S, so neither changes anything for
// the kernel's runtime.
func protectionSetup() {
	cr4 := readCR4()
	if cpuFeatures.smep && !smepOff {
		cr4 |= cr4SMEP
		smepOn = true
	}
	if cpuFeatures.smap && !smapOff {
		cr4 |= cr4SMAP
		smapOn = true
	}
	writeCR4(cr4)
}
