package memmap

// What the kernel needs of the machine's memory. The boot stage checks the
// first part before it copies the kernel (qemu.BuildImage computes the
// figures from the kernel's ELF and assembles them into boot.S); the
// kernel checks the rest once its frame allocator knows what is free
// (kernel/memory.go). Both use these constants, so they agree.

// EarlyTables is the RAM right after the kernel's image that its first
// page tables come from: the kernel builds its physmap there before the
// frame allocator exists, so it must be RAM whatever else the machine has.
const EarlyTables = 1 << 20

// RuntimeFloor is the free memory the kernel wants once it has taken its
// own (image, page tables, frame records): the 4 MiB the VM keeps for the
// Go runtime's heap, which tasks may never take (kernel/vm.go
// runtimeReserve), and 2 MiB for the runtime to start and run a small
// program (measured: qemu/testdata/exit3 runs to its exit with 1.6 MiB
// free). Below it the kernel stops with a message rather than let the
// runtime die of an out-of-memory fault in its start-up. What a program
// needs beyond is the program's: the kernel says so when the Go heap
// finds no frame (kernel/memory.go, reportOutOfMemory).
const RuntimeFloor = 6 << 20

// pcFirmwareTop is what a PC's firmware keeps at the top of the RAM below
// 4 GiB (SeaBIOS: 128 KiB); pcLowHole is the first MiB, which the kernel
// never hands out.
const (
	pcFirmwareTop = 128 << 10
	pcLowHole     = 1 << 20
)

// Where the kernel's image is: loaded at KernelPhys (16 MiB) and linked at
// KernelPhys+KernelVirtOffset, in the top 2 GiB of the address space, as
// Linux's kernel is (its 4-byte absolute addresses are sign-extended,
// which reaches exactly the top 2 GiB). The boot stage maps the first
// 2 GiB of physical memory there and copies the image to its virtual
// addresses; the ELF header's page is the first, the text follows
// (qemu.GoLDFlags links it at KernelBase+4096). These are physical and
// virtual addresses for boot.S, qemu.BuildImage and kernel/memory.go
// alike, so they agree.
const (
	KernelPhys       = 16 << 20
	KernelVirtOffset = 0xffff_ffff_8000_0000
	KernelBase       = KernelVirtOffset + KernelPhys
)

// MinimumRAM is the smallest PC (QEMU's -m, in bytes, a whole number of
// MiB) that a kernel whose backed image ends at imageEnd (a physical
// address) boots on: the
// image and the early tables in RAM from 16 MiB on, and RuntimeFloor
// free besides the first MiB, the image, the early tables and the frame
// records (16 bytes a frame, 1/256 of the machine).
func MinimumRAM(imageEnd uint64) uint64 {
	place := imageEnd + EarlyTables + pcFirmwareTop
	taken := pcLowHole + (imageEnd - KernelPhys) + EarlyTables + pcFirmwareTop
	free := (RuntimeFloor + taken) * 256 / 255
	return (max(place, free) + 1<<20 - 1) &^ (1<<20 - 1)
}

// Deficit is how much more RAM a machine needs whose frame allocator has
// free bytes free after the kernel took its own: the shortfall below
// RuntimeFloor, plus the frame records the added RAM costs.
func Deficit(free uint64) uint64 {
	if free >= RuntimeFloor {
		return 0
	}
	short := RuntimeFloor - free
	return short + short/255 + 1
}

// AdviseRAM is the machine size (bytes, a whole number of MiB) to advise
// when a machine whose usable RAM ends at usableEnd has free bytes left
// once the kernel took its own: that machine plus the Deficit.
func AdviseRAM(usableEnd, free uint64) uint64 {
	return (usableEnd + pcFirmwareTop + Deficit(free) + 1<<20 - 1) &^ (1<<20 - 1)
}
