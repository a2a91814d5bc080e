//go:build hurdvm

// Descriptor tables: each CPU's GDT (code, data, TSS) and TSS with its
// interrupt stacks, and the IDT they share. The kernel stacks they name
// are the CPU's stack slots, each with an unmapped guard page at its
// bottom.

package kernel

import "unsafe"

const (
	selKernelCode = 0x08
	selKernelData = 0x10
	selTSS        = 0x18
)

// The kernel stacks of a CPU. Slot i is [kstackLo+i*kstackSlot,
// kstackLo+(i+1)*kstackSlot); its lowest page is a guard page once the
// kernel's own page tables are up. The boot CPU's are kernelStacks, in
// the image; the others' are mapped at AP start (smp.go).
const (
	kstackSlot  = 65536
	kstackCount = 5

	stackTrap      = 0 // system calls and interrupts (and kmain at boot)
	stackPageFault = 1 // #PF: may nest inside a system call that touches user memory
	stackException = 2 // every other exception
	stackDouble    = 3 // #DF
	stackNMI       = 4 // NMI and #MC
)

// kernelStacks are the boot CPU's kernel stacks (entry_amd64.s aligns them).
var kernelStacks [kstackSlot*kstackCount + 4096]byte

// bootStacks is the boot CPU's [kstackLo, kstackHi): the part of the image
// no program may touch (user.go) and whose slots have guard pages
// (memory.go).
func bootStacks() (lo, hi uint64) { return cpus[0].kstackLo, cpus[0].kstackHi }

const tssSize = 104

func (c *cpu) setTSSIST(n int, sp uint64) {
	c.tss[9+2*(n-1)] = uint32(sp)
	c.tss[10+2*(n-1)] = uint32(sp >> 32)
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

// idt is every CPU's: the vectors are the same everywhere, and each
// CPU's TSS says where its own stacks are.
var idt [256]idtEntry

// The vectors with an entry stub, in the order of vectorTable.
var vectorStubs = [...]uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 255}

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
	vecWakeup            = 33 // another CPU: something to run, a signal to take
	vecShootdown         = 34 // another CPU: translations to invalidate (shootdown.go)
	vecSpurious          = 255
	vecSyscall           = 256
)

type descriptorPointer struct {
	_     [3]uint16 // so that limit+base start at an 8-aligned address + 6
	limit uint16
	base  uint64
}

// setupIDT fills the IDT, once, on the boot CPU.
func setupIDT() {
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
		case vecTimer, vecWakeup, vecShootdown, vecSpurious:
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
}

// setupDescriptors loads CPU c's GDT and TSS (its stacks), the IDT, and
// the SYSCALL MSRs. Run by each CPU on itself.
func setupDescriptors(c *cpu) {
	c.trapStackTop = c.kstackTop(stackTrap)
	c.setTSSIST(stackTrap+1, c.kstackTop(stackTrap))
	c.setTSSIST(stackPageFault+1, c.kstackTop(stackPageFault))
	c.setTSSIST(stackException+1, c.kstackTop(stackException))
	c.setTSSIST(stackDouble+1, c.kstackTop(stackDouble))
	c.setTSSIST(stackNMI+1, c.kstackTop(stackNMI))
	c.tss[25] = tssSize << 16 // I/O map base past the end: no bitmap

	c.gdt[0] = 0
	c.gdt[1] = 0x00af9a000000ffff // 64-bit code, ring 0
	c.gdt[2] = 0x00cf92000000ffff // data
	base := uint64(uintptr(unsafe.Pointer(&c.tss)))
	limit := uint64(tssSize - 1)
	c.gdt[3] = limit&0xffff | (base&0xffffff)<<16 | 0x89<<40 | (limit>>16&0xf)<<48 | (base>>24&0xff)<<56
	c.gdt[4] = base >> 32

	var p descriptorPointer
	p.limit = uint16(unsafe.Sizeof(c.gdt) - 1)
	p.base = uint64(uintptr(unsafe.Pointer(&c.gdt)))
	lgdt(uintptr(unsafe.Pointer(&p.limit)))
	reloadSegments(selKernelCode, selKernelData)
	ltr(selTSS)

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
