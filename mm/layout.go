package mm

// The address-space layout the kernel gives every task (docs/DESIGN.md,
// "Memory layout"): where hurd_vm_allocate hands out regions, and where
// the Go runtime's own memory lives. Exported so that a program can place
// regions with VM_HERE without copying numbers out of the README.
//
// The lower half (PML4 slots 0 to 255) is private to each address space;
// everything the kernel owns is in the upper half, shared: the physmap
// from slot 256, the heap window and the CPUs' stacks in slot 510, the
// kernel's image in the top 2 GiB (slot 511).
const (
	// [TaskWindowStart, TaskWindowEnd) is the task window: PML4 slots 128
	// to 255, 64 TiB private to each address space of the kernel's own
	// program (the kernel task and the tasks it makes). VMAllocate and
	// VMDeallocate act only here.
	TaskWindowStart = 0x0000_4000_0000_0000
	TaskWindowEnd   = 0x0000_8000_0000_0000

	// [ProcessWindowStart, ProcessWindowEnd) is a process's window: the
	// whole lower half, as Linux gives a program, but for the first
	// 64 KiB (Linux's default vm.mmap_min_addr: page 0 stays unmapped, so
	// a NULL dereference faults) and the top page (TASK_SIZE: a SYSRET to
	// the first non-canonical address would fault in ring 0).
	ProcessWindowStart = 0x0000_0000_0001_0000
	ProcessWindowEnd   = 0x0000_7fff_ffff_f000

	// [HeapWindowStart, HeapWindowEnd) is the heap window: where the
	// kernel's mmap puts the Go runtime's heap and stacks, the upper half
	// of PML4 slot 510 (the CPUs' stacks are its lower half), shared by
	// every address space. The runtime takes heap addresses there on
	// amd64 (its arenaBaseOffset is the upper half's start).
	HeapWindowStart = 0xffff_ff40_0000_0000
	HeapWindowEnd   = 0xffff_ff80_0000_0000
)
