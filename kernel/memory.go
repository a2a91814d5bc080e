//go:build hurdvm

// The kernel's memory at boot: the frame allocator over the machine's
// memory map and the kernel's own page tables (physmap, image with W^X,
// shared windows), which become the kernel task's address space (vm.go).
// memoryInit runs once in kmain; the table-frame and TLB callbacks run in
// handler context.

package kernel

import (
	"unsafe"

	"hurdvm/mm"
	"hurdvm/paging"
)

const (
	pageSize = 4096

	// kernelImageBase is where the Go kernel is linked (-T 0x1001000; its
	// ELF header page is one page lower).
	kernelImageBase = 16 << 20

	// heapWindowStart..heapWindowEnd is where the runtime's mmaps land
	// (mm/layout.go): half of PML4 slot 1, shared by every address space.
	heapWindowStart = mm.HeapWindowStart
	heapWindowEnd   = mm.HeapWindowEnd

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

	memUsableBytes, memReservedBytes uint64
	physEnd                          uint64 // end of the highest RAM range
	physmapSlots                     int    // PML4 slots the physmap spans
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
	if err := frames.Free(mm.PhysAddr(pa), 0); err != nil {
		frameErrorPanic("page table", pa, err)
	}
}

// machineTLB is the TLB of this CPU.
type machineTLB struct{}

func (machineTLB) Invalidate(va uintptr) { invlpg(va) }

// FlushAll toggles CR4.PGE, which drops global translations too.
func (machineTLB) FlushAll() {
	cr4 := readCR4()
	writeCR4(cr4 &^ cr4PGE)
	writeCR4(cr4)
}

const cr4PGE = 1 << 7

func phys(pa uint64) unsafe.Pointer { return at(physmapBase + pa) }

func roundUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// memoryInit builds the kernel's page tables, switches to them (the boot
// stage's identity map and everything else below 16 MiB disappear: a nil
// dereference faults from now on), then starts the frame allocator over
// all usable RAM except the image and the early tables. The boot stage,
// its tables and its copy of the kernel go back to the allocator.
func memoryInit() {
	_, etext, noptrdata, imageEnd := imageBounds()
	imageTop := roundUp(uint64(imageEnd), pageSize)

	// The early tables come from the first usable RAM above the image and
	// the boot stage; the boot map reaches 4 GiB.
	for i := 0; i < memMapLen; i++ {
		r := memMap[i]
		switch r.kind {
		case memUsable:
			memUsableBytes += r.length
			physEnd = max(physEnd, r.base+r.length)
		default:
			memReservedBytes += r.length
		}
		lo := roundUp(max(r.base, imageTop, bootEnd), pageSize)
		hi := min((r.base+r.length)&^(pageSize-1), 4<<30)
		if r.kind == memUsable && early.end == 0 && hi >= lo+256*pageSize {
			early.start, early.next, early.end = lo, lo, lo+256*pageSize
		}
	}
	if early.end == 0 {
		kernelPanicMsg("no usable RAM above the kernel image")
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
	// Pin the shared slots: image and LAPIC (0), heap window (1), physmap.
	physmapSlots = int((max(physEnd, 4<<30, screenPhysEnd()) + 1<<39 - 1) >> 39)
	check("pin", kernelPT.Pin(0, 1))
	check("pin physmap", kernelPT.Pin(physmapSlot, physmapSlot+physmapSlots-1))

	nx := paging.Flags(0)
	if cpuFeatures.nx {
		nx = paging.NoExecute
	}
	g := paging.Global
	// The physmap: every range of the memory map (RAM, ACPI tables,
	// firmware), with the largest pages that fit, plus the legacy hole
	// below 1 MiB (the VGA text buffer) uncached.
	for i := 0; i < memMapLen; i++ {
		r := memMap[i]
		lo, hi := r.base&^(pageSize-1), roundUp(r.base+r.length, pageSize)
		if lo < 1<<20 {
			lo = 0
		}
		if hi <= lo || r.kind == memBad {
			continue
		}
		for va := lo; va < hi; {
			// Map page by page around anything mapped already
			// (overlapping map entries), in the largest pieces paging
			// finds: a whole range at once when it is clean.
			if _, _, _, ok := kernelPT.Translate(uintptr(physmapBase + va)); ok {
				va += pageSize
				continue
			}
			// Extend the run over unmapped blocks, a whole block (as
			// large as Translate found empty) at a time.
			end := va
			for end < hi {
				_, _, size, ok := kernelPT.Translate(uintptr(physmapBase + end))
				if ok {
					break
				}
				size = max(size, pageSize)
				end = min(end&^(uint64(size)-1)+uint64(size), hi)
			}
			check("physmap", kernelPT.Map(uintptr(physmapBase+va), va, uintptr(end-va), paging.Writable|g|nx))
			va = end
		}
	}
	if _, _, _, ok := kernelPT.Translate(physmapBase + 0xb8000); !ok {
		check("VGA", kernelPT.Map(physmapBase+0xa0000, 0xa0000, 0x60000, paging.Writable|paging.CacheDisable|g|nx))
	}
	// The LAPIC registers: at their physical address (tamago's driver
	// uses it as the address) and in the physmap, uncached.
	check("LAPIC", kernelPT.Map(lapicPhys, lapicPhys, pageSize, paging.Writable|paging.CacheDisable|g|nx))
	if _, _, _, ok := kernelPT.Translate(physmapBase + lapicPhys); !ok {
		check("LAPIC physmap", kernelPT.Map(physmapBase+lapicPhys, lapicPhys, pageSize, paging.Writable|paging.CacheDisable|g|nx))
	}

	// The image, W^X: text read-only and executable, read-only data not
	// executable, data and bss writable and not executable, with a guard
	// page (unmapped) under each kernel stack.
	textEnd := roundUp(uint64(etext), pageSize)
	dataStart := uint64(noptrdata) &^ (pageSize - 1) // the RW segment starts a little before noptrdata
	check("text", kernelPT.Map(kernelImageBase, kernelImageBase, uintptr(textEnd-kernelImageBase), g))
	check("rodata", kernelPT.Map(uintptr(textEnd), textEnd, uintptr(dataStart-textEnd), g|nx))
	for va := dataStart; va < imageTop; va += pageSize {
		if va >= kstackLo && va < kstackHi && (va-kstackLo)%kstackSlot == 0 {
			continue // guard page
		}
		check("data", kernelPT.MapPages(uintptr(va), va, pageSize, paging.Writable|g|nx))
	}
	// The heap window so far (the first thread's stack, mapped by
	// buildStartStack later) needs nothing: it is demand-paged.

	screenMap() // the framebuffer, write-combining (framebuffer.go)

	writeCR4(readCR4() | cr4PGE)
	writeCR3(kernelPT.Root)
	screenMapped()

	// Now every RAM byte is in the physmap: start the frame allocator.
	var usable, reserved [mm.MaxInitRanges]mm.PhysRange
	nu := 0
	for i := 0; i < memMapLen && nu < len(usable); i++ {
		if r := memMap[i]; r.kind == memUsable {
			usable[nu] = mm.PhysRange{Start: mm.PhysAddr(r.base), End: mm.PhysAddr(r.base + r.length)}
			nu++
		}
	}
	reserved[0] = mm.PhysRange{Start: 0, End: 1 << 20} // BIOS data, EBDA, real-mode IVT
	reserved[1] = mm.PhysRange{Start: kernelImageBase, End: mm.PhysAddr(imageTop)}
	reserved[2] = mm.PhysRange{Start: mm.PhysAddr(early.start), End: mm.PhysAddr(early.end)}
	nr := 3
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
