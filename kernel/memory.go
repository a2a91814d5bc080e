//go:build hurdvm

// The kernel's memory at boot: the frame allocator over the machine's
// memory map and the kernel's own page tables (physmap, image with W^X,
// shared windows), which become the kernel task's address space (vm.go);
// and what the kernel says when the machine has too little memory.
// memoryInit runs once in kmain; the table-frame and TLB callbacks and
// reportOutOfMemory run in handler context.

package kernel

import (
	"unsafe"

	"hurdvm/kernel/memmap"
	"hurdvm/mm"
	"hurdvm/paging"
)

const (
	pageSize = 4096

	// kernelImageBase is where the Go kernel's image starts in the top
	// 2 GiB (its ELF header page; the text follows, qemu.GoLDFlags), and
	// kernelImagePhys where the boot stage loaded it: an image address is
	// its frame's plus kernelVirtOffset (imagePhys).
	kernelImageBase  = memmap.KernelBase
	kernelImagePhys  = memmap.KernelPhys
	kernelVirtOffset = memmap.KernelVirtOffset

	// heapWindowStart..heapWindowEnd is where the runtime's mmaps land
	// (mm/layout.go): half of PML4 slot 510, shared by every address space.
	heapWindowStart = mm.HeapWindowStart
	heapWindowEnd   = mm.HeapWindowEnd

	// The PML4 slots the kernel's own mappings use, every address space
	// sharing them: 510 (the CPUs' stacks, the heap window) and 511 (the
	// image). The lower half, 0 to 255, is each space's own; nothing of
	// the kernel is there, and page 0 is never mapped.
	sharedSlotFirst = 510
	sharedSlotLast  = 511

	// physmapBase is where all physical memory is visible: PML4 slot 256
	// and up, global, never executable.
	physmapBase = 0xffff_8000_0000_0000
	physmapSlot = 256
)

var (
	frames      mm.FrameAllocator
	framesReady bool
	pagingEnv   paging.Env
	kernelPT    = &spaces[kernelSpace].PT // the kernel task's tables are the kernel's

	// early hands out the frames of the kernel's first page tables, before
	// the frame allocator exists (its records need the physmap those
	// tables make). They stay reserved: they hold the kernel's own
	// mappings for good.
	early struct{ start, next, end uint64 }

	physEnd      uint64 // end of the highest RAM range
	physmapSlots int    // PML4 slots the physmap spans
)

// tableFrames gives paging its table frames: from early before the frame
// allocator is up, from the frame allocator after.
type tableFrames struct{}

func (tableFrames) AllocTable() (uint64, bool) {
	if framesReady {
		pa, err := frames.AllocZeroed(0)
		return uint64(pa), err == nil
	}
	if early.next+pageSize > early.end {
		return 0, false
	}
	pa := early.next
	early.next += pageSize
	clear(unsafe.Slice((*byte)(phys(pa)), pageSize))
	return pa, true
}

func (tableFrames) FreeTable(pa uint64) {
	if pa >= early.start && pa < early.end {
		return // the kernel's permanent tables never go back
	}
	if c := thisCPU(); c.tlbN != 0 || c.tlbAll {
		// paging frees a table only after the one shootdown of the
		// operation that unlinked it (machineTLB.Sync, which empties
		// this CPU's batch): before it, another CPU's page walk could
		// still go through the frame, whatever it becomes.
		kernelPanicMsg("a page table freed before its shootdown was answered")
	}
	if err := frames.Free(mm.PhysAddr(pa), 0); err != nil {
		frameErrorPanic("page table", pa, err)
	}
}

const cr4PGE = 1 << 7

// flushLocal drops this CPU's translations: with global, the global ones
// too (a CR4.PGE toggle), else a CR3 reload.
func flushLocal(global bool) {
	if !global {
		writeCR3(readCR3())
		return
	}
	cr4 := readCR4()
	writeCR4(cr4 &^ cr4PGE)
	writeCR4(cr4)
}

func phys(pa uint64) unsafe.Pointer { return at(physmapBase + pa) }

// imagePhys is the physical address of the image's byte at va.
func imagePhys(va uint64) uint64 { return va - kernelVirtOffset }

func roundUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// memoryInit builds the kernel's page tables, switches to them (the boot
// stage's identity map and the whole lower half disappear: a nil
// dereference faults from now on), then starts the frame allocator over
// all usable RAM except the image's backed part and the early tables. The
// boot stage, its tables and its copy of the kernel, and the frames under
// the image's demand-zero BSS, go back to the allocator.
func memoryInit() {
	_, etext, noptrdata, imageEnd := imageBounds()
	imageTop := roundUp(uint64(imageEnd), pageSize)
	backedTop := imagePhys(backedImageTop(imageTop)) // physical, as the map is
	m := memMap[:memMapLen]

	// The early tables come from the first usable RAM above the image's
	// backed part and the boot stage; the boot map reaches 4 GiB. The
	// boot stage made sure the RAM right after the image is there.
	for _, r := range m {
		if r.Kind.IsRAM() {
			physEnd = max(physEnd, r.End)
		}
		lo := roundUp(max(r.Start, backedTop, bootEnd), pageSize)
		hi := min(r.End, 4<<30)
		if r.Kind == memmap.Usable && early.end == 0 && hi >= lo+memmap.EarlyTables {
			early.start, early.next, early.end = lo, lo, lo+memmap.EarlyTables
		}
	}
	if early.end == 0 {
		kprint("hurdvm: no usable RAM for the kernel's first page tables (")
		kprintSize(memmap.EarlyTables)
		kprint(") above its image, which ends at ")
		kprintSize(backedTop)
		kprint("\n")
		tooLittleMemory(memmap.MinimumRAM(backedTop))
	}

	pagingEnv = paging.Env{PhysOffset: physmapBase, Frames: tableFrames{}, TLB: machineTLB{}, GiantPages: cpuFeatures.pdpe1gb}
	check := func(what string, err error) {
		if err != nil {
			kprint("hurdvm: kernel page tables: ")
			kprint(what)
			kprint(": ")
			kprint(err.Error())
			kprint("\n")
			kernelPanicMsg("cannot build the kernel's page tables")
		}
	}
	check("root", kernelPT.Init(&pagingEnv))
	// Pin the shared slots: the CPUs' stacks and the heap window (510),
	// the image (511), the physmap.
	physmapSlots = int((max(physEnd, 4<<30, screenPhysEnd()) + 1<<39 - 1) >> 39)
	check("pin", kernelPT.Pin(sharedSlotFirst, sharedSlotLast))
	check("pin physmap", kernelPT.Pin(physmapSlot, physmapSlot+physmapSlots-1))

	nx := noExecute()
	g := paging.Global
	// The physmap holds RAM only: the usable ranges and the RAM the
	// firmware keeps (ACPI tables, ACPI NVS), write-back, with the
	// largest pages that fit. Reserved ranges are never mapped: they may
	// be device registers, where a speculative or cached access does
	// harm (QEMU's 12 GiB below 1 TiB, a PC's PCI windows). Whole pages
	// only, as the map's usable ranges already are.
	for _, r := range m {
		lo, hi := max(roundUp(r.Start, pageSize), 1<<20), r.End&^(pageSize-1)
		if r.Kind.IsRAM() && lo < hi {
			check("physmap", kernelPT.Map(uintptr(physmapBase+lo), lo, uintptr(hi-lo), paging.Writable|g|nx))
		}
	}
	// The first MiB as every PC has it, whatever the map says of its
	// pieces: conventional memory (the real-mode interrupt table, the
	// BIOS data area, the EBDA) write-back; the VGA window and the BIOS
	// and option ROMs uncached, the text buffer for the console and the
	// ROM readable (the ACPI RSDP is found by scanning 0xe0000-0xfffff).
	check("low memory", kernelPT.Map(physmapBase, 0, vgaWindow, paging.Writable|g|nx))
	check("VGA and ROM", kernelPT.Map(physmapBase+vgaWindow, vgaWindow, 1<<20-vgaWindow, paging.Writable|paging.CacheDisable|g|nx))
	// The LAPIC registers are mapped, in xAPIC mode only, once the MADT
	// has said where they are (lapicSetup, mapLAPIC).

	// The image, W^X: text read-only and executable, read-only data not
	// executable, data and bss writable and not executable, with a guard
	// page (unmapped) under each kernel stack. The demand-zero BSS stays
	// unmapped: its pages come from the page-fault handler (lazybss.go).
	textEnd := roundUp(uint64(etext), pageSize)
	dataStart := uint64(noptrdata) &^ (pageSize - 1) // the RW segment starts a little before noptrdata
	check("text", kernelPT.Map(kernelImageBase, kernelImagePhys, uintptr(textEnd-kernelImageBase), g))
	check("rodata", kernelPT.Map(uintptr(textEnd), imagePhys(textEnd), uintptr(dataStart-textEnd), g|nx))
	for va := dataStart; va < imageTop; va += pageSize {
		if lo, hi := bootStacks(); va >= lo && va < hi && (va-lo)%kstackSlot == 0 || inLazyBSS(va) {
			continue // guard page, or demand-zero
		}
		check("data", kernelPT.MapPages(uintptr(va), imagePhys(va), pageSize, paging.Writable|g|nx))
	}
	// The heap window so far (the first thread's stack, mapped by
	// buildStartStack later) needs nothing: it is demand-paged.

	screenMap() // the framebuffer, write-combining (framebuffer.go)

	writeCR4(readCR4() | cr4PGE)
	setCR3(thisCPU(), kernelPT.Root)
	screenMapped()

	// Now every RAM byte is in the physmap: start the frame allocator.
	var usable, reserved [mm.MaxInitRanges]mm.PhysRange
	nu := 0
	for _, r := range m {
		if r.Kind == memmap.Usable && nu < len(usable) {
			usable[nu] = mm.PhysRange{Start: mm.PhysAddr(r.Start), End: mm.PhysAddr(r.End)}
			nu++
		}
	}
	reserved[0] = mm.PhysRange{Start: 0, End: 1 << 20} // BIOS data, EBDA, real-mode IVT
	reserved[1] = mm.PhysRange{Start: mm.PhysAddr(early.start), End: mm.PhysAddr(early.end)}
	nr := 2
	// The image's backed part: around the demand-zero ranges.
	from := uint64(kernelImagePhys)
	for _, r := range lazyBSS[:lazyBSSLen] {
		reserved[nr] = mm.PhysRange{Start: mm.PhysAddr(from), End: mm.PhysAddr(imagePhys(r.start))}
		nr++
		from = imagePhys(r.end)
	}
	reserved[nr] = mm.PhysRange{Start: mm.PhysAddr(from), End: mm.PhysAddr(max(from, imagePhys(imageTop)))}
	nr++
	for i := 0; i < moduleLen && nr < len(reserved); i++ {
		reserved[nr] = mm.PhysRange{Start: mm.PhysAddr(modules[i][0]), End: mm.PhysAddr(modules[i][1])}
		nr++
	}
	if err := frames.Init(physmapBase, usable[:nu], reserved[:nr]); err != nil {
		kprint("hurdvm: frame allocator: ")
		kprint(err.Error())
		kprint("\n")
		kernelPanicMsg("cannot start the frame allocator")
	}
	framesReady = true
	vmInit()
	mapLazyBSS()
	checkRuntimeFloor()
}

// mapLAPIC maps the local APIC's registers, uncached, in the physmap
// (lapicReg): where the MADT puts them (machineLAPIC, discoverCPUs), or at
// 0xfee00000, where every PC has them, without a MADT or when the MADT's
// address cannot be right (not page-aligned, zero, RAM by the memory map,
// or at or above 4 GiB: the physmap's slots are pinned for the RAM and the
// first 4 GiB, which every PC's APIC is in). Not at their physical address: the lower half
// is the processes'. lapicSetup, in kmain after discoverCPUs and before
// anything uses the LAPIC, and in xAPIC mode only: x2APIC's registers are
// MSRs.
func mapLAPIC() {
	if a := machineLAPIC; machineACPI && a != lapicBase {
		if a == 0 || a%pageSize != 0 || a >= 4<<30 || isRAM(a) {
			kprint("hurdvm: warning: the MADT puts the local APIC at ")
			kprintHex(a)
			kprint(", which cannot be: the kernel uses it at 0xfee00000\n")
		} else {
			lapicBase = a
		}
	}
	fl := paging.Writable | paging.CacheDisable | paging.Global | noExecute()
	if _, _, _, ok := kernelPT.Translate(uintptr(physmapBase + lapicBase)); !ok {
		if kernelPT.Map(uintptr(physmapBase+lapicBase), lapicBase, pageSize, fl) != nil {
			kernelPanicMsg("kernel page tables: cannot map the local APIC's registers in the physmap")
		}
	}
}

// isRAM says the memory map calls the page at pa RAM.
func isRAM(pa uint64) bool {
	for _, r := range memMap[:memMapLen] {
		if r.Kind.IsRAM() && pa < r.End && pa+pageSize > r.Start {
			return true
		}
	}
	return false
}

// noExecute is the NX flag where the CPU has it.
func noExecute() paging.Flags {
	if cpuFeatures.nx {
		return paging.NoExecute
	}
	return 0
}

// vgaWindow is where the first MiB stops being conventional memory: the
// VGA window (0xa0000-0xbffff), then the option and BIOS ROMs.
const vgaWindow = 0xa0000

// checkRuntimeFloor stops the machine with a clear message when what the
// frame allocator has free is below what the Go runtime needs to start
// (memmap.RuntimeFloor): the runtime would otherwise die of an
// out-of-memory fault somewhere in its start-up.
func checkRuntimeFloor() {
	free := frames.FreeFrames() * pageSize
	if memmap.Deficit(free) == 0 {
		return
	}
	kprint("hurdvm: after the kernel's image and tables and the boot modules, ")
	kprintSize(free)
	kprint(" of RAM is free, and the Go runtime needs ")
	kprintSize(memmap.RuntimeFloor)
	kprint("\n")
	var usableEnd uint64
	for _, r := range memMap[:memMapLen] {
		if r.Kind == memmap.Usable {
			usableEnd = r.End
		}
	}
	tooLittleMemory(memmap.AdviseRAM(usableEnd, free))
}

// reportOutOfMemory says, once, that a fault in memory every address space
// shares (the Go runtime's heap, the demand-zero BSS) found no free frame:
// the runtime then dies of the SIGBUS with "fatal error: fault" and a
// goroutine dump, which does not say that the machine is too small.
// Handler context (the page-fault path).
func reportOutOfMemory(va uint64) {
	if outOfMemoryReported || !(va >= heapWindowStart && va < heapWindowEnd || va >= lazyBSSLo && va < lazyBSSHi) {
		return
	}
	outOfMemoryReported = true
	kprint("\nhurdvm: out of memory: the Go runtime needs a page at ")
	kprintHex(va)
	kprint(" and no frame is free (this machine has ")
	kprintSize(frames.Stats().TotalFrames * pageSize)
	kprint(" of RAM for the kernel): the program needs a larger machine\n")
}

var outOfMemoryReported bool

// tooLittleMemory ends the boot on a machine with too little RAM, saying
// how much would do (advice, in bytes): exit status 1, as the boot stage
// ends for the same reason.
func tooLittleMemory(advice uint64) {
	kprint("hurdvm: this machine has too little memory for hurdvm: give it at least ")
	kprintDec(advice >> 20)
	kprint(" MiB\n")
	exitMachine(1)
}

func frameErrorPanic(what string, pa uint64, err error) {
	kprint("\nhurdvm: frame allocator refused to free ")
	kprint(what)
	kprint(" frame ")
	kprintHex(pa)
	kprint(": ")
	kprint(err.Error())
	kprint("\n")
	kernelPanicMsg("frame accounting is broken")
}
