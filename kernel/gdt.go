//go:build hurdvm

// Descriptor tables: each CPU's GDT (the kernel's code and data, the
// processes' code and data, the TSS) and TSS with its interrupt stacks and
// RSP0, and the IDT they share. The kernel stacks they name are the CPU's
// stack slots, each with an unmapped guard page at its bottom.

package kernel

import "unsafe"

// The selectors. The kernel's are where they always were; the ring-3
// ones are in the order SYSCALL and SYSRET need (STAR: SYSRET's CS is
// STAR[63:48]+16, its SS STAR[63:48]+8) and have Linux's values, which a
// process sees in its signal frames and may compare: __USER32_CS 0x23,
// __USER_DS 0x2b, __USER_CS 0x33. Slot 3 (0x18) is left empty.
const (
	selKernelCode = 0x08
	selKernelData = 0x10
	selUser32Code = 0x20 | 3 // 32-bit code, ring 3: present, as Linux has it, never used (no 32-bit personality)
	selUserData   = 0x28 | 3
	selUserCode   = 0x30 | 3
	selTSS        = 0x38

	gdtEntries = 9 // the TSS descriptor takes two
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
		// Present, ring 0, 64-bit interrupt gate (clears IF): an INT n
		// from ring 3 is #GP (SIGSEGV), but for INT3, whose gate is ring
		// 3's as in Linux (set_system_intr_gate): a program's breakpoint
		// is its SIGTRAP (the Go runtime's debugCall protocol).
		attr := uint8(0x8e)
		if v == vecBreakpoint {
			attr = 0xee
		}
		idt[v] = idtEntry{
			offsetLow:  uint16(stub),
			selector:   selKernelCode,
			ist:        ist,
			typeAttr:   attr,
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
	c.tss[25] = tssSize << 16 // I/O map base past the end: no bitmap, so ring 3 has no port
	// RSP0, the stack a trap from ring 3 through a gate without an IST
	// would switch to. Every gate has one (setupIDT), so this is where
	// nothing lands; it is the trap stack all the same, the one place a
	// ring-3 entry may start. hurdvm's threads own no kernel stack (a
	// blocked thread's state is its TrapFrame in its record: sched.go),
	// so it is the CPU's, not the thread's, and never changes.
	c.tss[1] = uint32(c.trapStackTop)
	c.tss[2] = uint32(c.trapStackTop >> 32)

	c.gdt[0] = 0
	c.gdt[1] = 0x00af9a000000ffff // 64-bit code, ring 0
	c.gdt[2] = 0x00cf92000000ffff // data, ring 0
	c.gdt[3] = 0
	c.gdt[4] = 0x00cffa000000ffff // 32-bit code, ring 3
	c.gdt[5] = 0x00cff2000000ffff // data, ring 3
	c.gdt[6] = 0x00affa000000ffff // 64-bit code, ring 3
	base := uint64(uintptr(unsafe.Pointer(&c.tss)))
	limit := uint64(tssSize - 1)
	c.gdt[7] = limit&0xffff | (base&0xffffff)<<16 | 0x89<<40 | (limit>>16&0xf)<<48 | (base>>24&0xff)<<56
	c.gdt[8] = base >> 32

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
	// with IF, DF, TF, AC and NT cleared (NT as Linux clears it: a ring-3
	// caller could set it with POPF, and IRETQ with NT set faults). A
	// CPU running a process's thread has LSTAR at syscallEntryUser
	// instead (setSyscallEntry). STAR: SYSCALL loads the kernel's CS and
	// SS; SYSRET would load 0x33 and 0x2b.
	wrmsr(msrEFER, rdmsr(msrEFER)|eferSCE)
	wrmsr(msrSTAR, uint64(selKernelCode)<<32|uint64(selUser32Code)<<48)
	wrmsr(msrLSTAR, uint64(syscallEntryAddr()))
	c.lstarUser = false
	wrmsr(msrFMASK, rflagsIF|rflagsDF|rflagsTF|rflagsAC|rflagsNT)
	// The processes' GS base while the kernel runs (SWAPGS: trap_amd64.s):
	// 0, which a process cannot change (no ARCH_SET_GS for processes, no
	// FSGSBASE in ring 3).
	wrmsr(msrKernelGSBase, 0)
	protectionSetup()
}

// setSyscallEntry points this CPU's SYSCALL at the entry for the thread
// it is about to run: syscallEntryUser (SWAPGS first) for a process's
// ring-3 thread, syscallEntry for the kernel's own. SYSCALL says nothing
// of where it came from, and the kernel's runtime must keep its path as it
// was; the MSR is written only when the kind of thread changes.
func setSyscallEntry(c *cpu, user bool) {
	if c.lstarUser == user {
		return
	}
	c.lstarUser = user
	if user {
		wrmsr(msrLSTAR, uint64(syscallEntryUserAddr()))
	} else {
		wrmsr(msrLSTAR, uint64(syscallEntryAddr()))
	}
}
