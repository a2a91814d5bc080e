//go:build hurdvm

// Descriptor tables: the GDT (code, data, TSS), the TSS with its interrupt
// stacks, and the IDT. Set up once at boot; the kernel stacks they name are
// the slots of kernelStacks, each with an unmapped guard page at its bottom.

package kernel

import "unsafe"

const (
	selKernelCode = 0x08
	selKernelData = 0x10
	selTSS        = 0x18
)

// The kernel stacks. Slot i is [kstackLo+i*kstackSlot, kstackLo+(i+1)*kstackSlot);
// its lowest page is a guard page once the kernel's own page tables are up.
const (
	kstackSlot  = 65536
	kstackCount = 5

	stackTrap      = 0 // system calls and interrupts (and kmain at boot)
	stackPageFault = 1 // #PF: may nest inside a system call that touches user memory
	stackException = 2 // every other exception
	stackDouble    = 3 // #DF
	stackNMI       = 4 // NMI and #MC
)

var (
	kernelStacks [kstackSlot*kstackCount + 4096]byte
	kstackLo     uint64
	kstackHi     uint64
	trapStackTop uint64

	// kernelG stands in for a runtime g in handler context: only the
	// stack bounds (lo, hi, stackguard0, stackguard1) are ever read, by
	// function prologues. kernelTLS[0] holds its address; FS points just
	// past it, where Go's TLS convention looks (g at -8(FS)).
	kernelG      [16]uint64
	kernelTLS    [2]uint64
	kernelFSBase uint64

	syscallUserRSP uint64
)

func kstackTop(i int) uint64 { return kstackLo + uint64(i+1)*kstackSlot }

// stackSlot is the kernel stack slot holding sp.
func stackSlot(sp uint64) uint64 { return (sp - kstackLo - 1) / kstackSlot }

// inKernelStack reports whether sp lies on a kernel stack: the interrupted
// code was the kernel itself.
func inKernelStack(sp uint64) bool { return sp >= kstackLo && sp <= kstackHi }

var gdt [5]uint64

// tss is the 64-bit task-state segment: only the IST pointers matter, since
// everything runs in ring 0 and there is no I/O bitmap. The hardware layout
// is packed (the 64-bit fields sit at 4 mod 8), hence words.
var tss [26]uint32

const tssSize = 104

func setTSSIST(n int, sp uint64) {
	tss[9+2*(n-1)] = uint32(sp)
	tss[10+2*(n-1)] = uint32(sp >> 32)
}

type idtEntry struct {
	offsetLow  uint16
	selector   uint16
	ist        uint8
	typeAttr   uint8
	offsetMid  uint16
	offsetHigh uint32
	_          uint32
}

var idt [256]idtEntry

// The vectors with an entry stub, in the order of vectorTable.
var vectorStubs = [...]uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 255}

const (
	vecDivide            = 0
	vecDebug             = 1
	vecNMI               = 2
	vecBreakpoint        = 3
	vecInvalidOp         = 6
	vecDoubleFault       = 8
	vecInvalidTSS        = 10
	vecSegmentNotPresent = 11
	vecStackFault        = 12
	vecGP                = 13
	vecAlignment         = 17
	vecPageFault         = 14
	vecFPU               = 16
	vecMachineCheck      = 18
	vecSIMD              = 19
	vecTimer             = 32
	vecWakeup            = 33
	vecSpurious          = 255
	vecSyscall           = 256
)

type descriptorPointer struct {
	_     [3]uint16 // so that limit+base start at an 8-aligned address + 6
	limit uint16
	base  uint64
}

func setupDescriptors() {
	trapStackTop = kstackTop(stackTrap)
	setTSSIST(stackTrap+1, kstackTop(stackTrap))
	setTSSIST(stackPageFault+1, kstackTop(stackPageFault))
	setTSSIST(stackException+1, kstackTop(stackException))
	setTSSIST(stackDouble+1, kstackTop(stackDouble))
	setTSSIST(stackNMI+1, kstackTop(stackNMI))
	tss[25] = tssSize << 16 // I/O map base past the end: no bitmap

	gdt[0] = 0
	gdt[1] = 0x00af9a000000ffff // 64-bit code, ring 0
	gdt[2] = 0x00cf92000000ffff // data
	base := uint64(uintptr(unsafe.Pointer(&tss)))
	limit := uint64(tssSize - 1)
	gdt[3] = limit&0xffff | (base&0xffffff)<<16 | 0x89<<40 | (limit>>16&0xf)<<48 | (base>>24&0xff)<<56
	gdt[4] = base >> 32

	var p descriptorPointer
	p.limit = uint16(unsafe.Sizeof(gdt) - 1)
	p.base = uint64(uintptr(unsafe.Pointer(&gdt)))
	lgdt(uintptr(unsafe.Pointer(&p.limit)))
	reloadSegments(selKernelCode, selKernelData)
	ltr(selTSS)

	table := vectorTable()
	for i, v := range vectorStubs {
		stub := *(*uint64)(at(uint64(table) + uint64(i)*8))
		ist := uint8(stackException + 1)
		switch v {
		case vecPageFault:
			ist = stackPageFault + 1
		case vecDoubleFault:
			ist = stackDouble + 1
		case vecNMI, vecMachineCheck:
			ist = stackNMI + 1
		case vecTimer, vecWakeup, vecSpurious:
			ist = stackTrap + 1
		}
		idt[v] = idtEntry{
			offsetLow:  uint16(stub),
			selector:   selKernelCode,
			ist:        ist,
			typeAttr:   0x8e, // present, ring 0, 64-bit interrupt gate (clears IF)
			offsetMid:  uint16(stub >> 16),
			offsetHigh: uint32(stub >> 32),
		}
	}
	p.limit = uint16(unsafe.Sizeof(idt) - 1)
	p.base = uint64(uintptr(unsafe.Pointer(&idt)))
	lidt(uintptr(unsafe.Pointer(&p.limit)))

	// SYSCALL: the runtime's system calls enter at syscallEntry in ring 0
	// with IF, DF, TF and AC cleared.
	wrmsr(msrEFER, rdmsr(msrEFER)|eferSCE)
	wrmsr(msrSTAR, uint64(selKernelCode)<<32|uint64(selKernelCode)<<48)
	wrmsr(msrLSTAR, uint64(syscallEntryAddr()))
	wrmsr(msrFMASK, rflagsIF|rflagsDF|rflagsTF|rflagsAC)
}
