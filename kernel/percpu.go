//go:build hurdvm

// Each CPU's own state: its kernel stacks, its kernel g and TLS block, its
// GDT and TSS, its FPU nest areas, the thread it runs and its timer.
// Handler context.
//
// GS base points at the CPU's record from its first instruction in the
// kernel on: the entry code in trap_amd64.s finds its stacks and the
// current thread's FPU area there at fixed offsets, Go code calls
// thisCPU. Nothing else uses GS: Go on linux/amd64 keeps its TLS in FS,
// and a program's ARCH_SET_GS is recorded but never loaded.

package kernel

import (
	"sync/atomic"
	"unsafe"
)

// maxCPUs is how many CPUs the kernel runs on at most.
const maxCPUs = 64

// cpu is one CPU's record. The first fields are read by trap_amd64.s,
// entry_amd64.s and fpu_amd64.s at the offsets the cpuOff constants give
// (checked below).
type cpu struct {
	self         uint64 // the record's own address (GS:0)
	trapStackTop uint64 // system calls and interrupts enter here
	userRSP      uint64 // syscallEntry's scratch: the caller's stack pointer
	kernelFSBase uint64 // FS base of the kernel TLS block: g at -8(FS) is kernelG
	fpuArea      uint64 // where a trap from the current thread saves its FPU state
	fpuNestTop   uint64 // the next free nest area (a trap from the kernel itself)
	fpuNestBase  uint64
	fpuNestLimit uint64
	kstackLo     uint64 // this CPU's kernel stacks: [kstackLo, kstackHi)
	kstackHi     uint64
	// kernelTLS[0] holds the address of kernelG; FS points just past
	// it, where Go's TLS convention looks (g at -8(FS)). kernelG stands
	// in for a runtime g in handler context: only the stack bounds (lo,
	// hi, stackguard0, stackguard1) are ever read, by function
	// prologues.
	kernelTLS [2]uint64
	kernelG   [16]uint64

	index      int32
	apicID     uint32
	current    int32 // the thread this CPU runs
	idle       int32 // its idle thread
	sliceStart int64 // when current got the CPU
	yielding   bool  // current called sched_yield
	timerArmed int64 // monotonic ns its LAPIC timer fires at, 0 if stopped
	// userFrame is the frame of the latest entry from Go code on this
	// CPU: where the running thread's own state is (kernel panics).
	userFrame uintptr
	// callNr is the number of the system call being served, for a
	// thread that blocks in it (restartCall).
	callNr uint64
	cr3    uint64 // the page tables loaded (setCR3): whose translations it caches

	// The translations invalidated here since the last Sync, for the
	// other CPUs (shootdown.go).
	tlbVA     [tlbBatchMax]uintptr
	tlbN      int32
	tlbAll    bool   // a FlushAll, or more than tlbBatchMax pages
	tlbShared bool   // some of them are in what every space shares
	tlbTables bool   // tables are freed after the Sync
	tlbStale  uint32 // idle, it was left out of shootdowns: flush before running a thread (atomic)

	shootdownsSent uint64 // IPIs this CPU sent for shootdowns
	// shoot is this CPU's shootdown request to the others; shootSeq
	// counts them (its atomic add is the barrier shootdown needs).
	shoot    shootReq
	shootSeq atomic.Uint64
	kicked   bool // idle, and sent a wake-up it has not yet taken
	// lstarUser: a process's thread is this CPU's current thread, and
	// MSR_LSTAR is syscallEntryUser, not syscallEntry (setSyscallEntry).
	// The fault path reads it too: a kernel fault with it clear cannot
	// be on a process's page.
	lstarUser bool

	gdt [gdtEntries]uint64
	// tss is the 64-bit task-state segment: the IST pointers and RSP0
	// (gdt.go); there is no I/O bitmap. The hardware layout is packed
	// (the 64-bit fields sit at 4 mod 8), hence words.
	tss [26]uint32
}

// The offsets the assembly uses (#define CPU_* in the .s files).
const (
	cpuOffSelf         = 0
	cpuOffTrapStackTop = 8
	cpuOffUserRSP      = 16
	cpuOffKernelFSBase = 24
	cpuOffFPUArea      = 32
	cpuOffFPUNestTop   = 40
	cpuOffFPUNestBase  = 48
	cpuOffFPUNestLimit = 56
	cpuOffKstackLo     = 64
	cpuOffKstackHi     = 72
	cpuOffKernelTLS    = 80
	cpuOffKernelG      = 96
)

// Each is checked: a constant index other than 0 does not compile.
var (
	_ = [1]int{}[unsafe.Offsetof(cpu{}.self)-cpuOffSelf]
	_ = [1]int{}[unsafe.Offsetof(cpu{}.trapStackTop)-cpuOffTrapStackTop]
	_ = [1]int{}[unsafe.Offsetof(cpu{}.userRSP)-cpuOffUserRSP]
	_ = [1]int{}[unsafe.Offsetof(cpu{}.kernelFSBase)-cpuOffKernelFSBase]
	_ = [1]int{}[unsafe.Offsetof(cpu{}.fpuArea)-cpuOffFPUArea]
	_ = [1]int{}[unsafe.Offsetof(cpu{}.fpuNestTop)-cpuOffFPUNestTop]
	_ = [1]int{}[unsafe.Offsetof(cpu{}.fpuNestBase)-cpuOffFPUNestBase]
	_ = [1]int{}[unsafe.Offsetof(cpu{}.fpuNestLimit)-cpuOffFPUNestLimit]
	_ = [1]int{}[unsafe.Offsetof(cpu{}.kstackLo)-cpuOffKstackLo]
	_ = [1]int{}[unsafe.Offsetof(cpu{}.kstackHi)-cpuOffKstackHi]
	_ = [1]int{}[unsafe.Offsetof(cpu{}.kernelTLS)-cpuOffKernelTLS]
	_ = [1]int{}[unsafe.Offsetof(cpu{}.kernelG)-cpuOffKernelG]
)

var (
	cpus [maxCPUs]cpu
	// ncpu is how many CPUs run: cpus[0] is the boot CPU, cpus[1:ncpu]
	// the others that answered.
	ncpu int32 = 1
)

// thisCPU is the record of the CPU running the caller (cpu_amd64.s: GS:0).
func thisCPU() *cpu

// cpuEnter (entry_amd64.s) makes a CPU's record its own: GS base, the
// kernel stacks from stacksLo, the kernel g and TLS, FS base. From the
// boot stage's entry and the AP trampoline, before any Go code.
func cpuEnter()

// current is the thread this CPU runs.
func current() int32 { return thisCPU().current }

// kstackTop is the top of kernel stack slot i of this CPU.
func (c *cpu) kstackTop(i int) uint64 { return c.kstackLo + uint64(i+1)*kstackSlot }

// stackSlot is the kernel stack slot of this CPU holding sp.
func (c *cpu) stackSlot(sp uint64) uint64 { return (sp - c.kstackLo - 1) / kstackSlot }

// inKernelStack reports whether sp lies on this CPU's kernel stacks: the
// interrupted code was the kernel itself.
func (c *cpu) inKernelStack(sp uint64) bool { return sp >= c.kstackLo && sp <= c.kstackHi }
