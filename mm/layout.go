package mm

// The address-space layout the kernel gives every task (docs/DESIGN.md,
// "Memory layout"): where hurd_vm_allocate hands out regions, and where
// the Go runtime's own memory lives. Exported so that a program can place
// regions with VM_HERE without copying numbers out of the README.
const (
	// [TaskWindowStart, TaskWindowEnd) is the task window: PML4 slots 128
	// to 255, 64 TiB private to each address space. VMAllocate and
	// VMDeallocate act only here.
	TaskWindowStart = 0x0000_4000_0000_0000
	TaskWindowEnd   = 0x0000_8000_0000_0000

	// [HeapWindowStart, HeapWindowEnd) is the heap window: where the
	// kernel's mmap puts the Go runtime's heap and stacks, half of PML4
	// slot 1, shared by every address space.
	HeapWindowStart = 0x0000_00c0_0000_0000
	HeapWindowEnd   = 0x0000_0100_0000_0000
)
