//go:build hurdvm

// The kernel task's memory, as the Go runtime sees it through mmap, munmap
// and madvise, and the page-fault path that backs it. Handler context.
//
// This is the seam where the VM (package mm) plugs in. Until it does, the
// service is deliberately simple: the heap window is handed out by a bump
// pointer, any page of it below the pointer is demand-zero, and unmapping
// gives frames back.

package kernel

import "unsafe"

const (
	pageSize = 4096

	// heapWindowStart..heapWindowEnd is where the runtime's mmaps land
	// (DESIGN.md section 4): PML4 slot 1, shared by every address space.
	heapWindowStart = 0x00c0_0000_0000
	heapWindowEnd   = 0x0100_0000_0000

	// physmapBase is where all physical memory is visible (boot/ aliases
	// the first 4 GiB there; the kernel's own tables map all RAM).
	physmapBase = 0xffff_8000_0000_0000

	pteP   = 1 << 0
	pteW   = 1 << 1
	pteU   = 1 << 2
	ptePS  = 1 << 7
	pteG   = 1 << 8
	pteNX  = 1 << 63
	pteFrm = 0x000f_ffff_ffff_f000
)

var (
	// Frames: a bump pointer over the usable ranges, and a stack of freed
	// frames linked through their first word (reached via the physmap).
	frameRanges   [64][2]uint64
	frameRangeLen int
	frameRangeIdx int
	frameBump     uint64
	frameFreeList uint64
	framesFree    uint64
	framesTotal   uint64
	reservedTop   uint64
	heapBump      uint64 = heapWindowStart
	pageFaults    uint64
	nxEnabled     bool
)

func phys(pa uint64) unsafe.Pointer { return unsafe.Pointer(uintptr(physmapBase + pa)) }

// memoryInit collects the usable RAM above everything the boot left in use.
func memoryInit() {
	_, _, _, end := imageBounds()
	reservedTop = roundUp(max(uint64(end), bootEnd), pageSize)
	for i := 0; i < memMapLen; i++ {
		r := memMap[i]
		if r.kind != memUsable {
			continue
		}
		lo, hi := roundUp(max(r.base, reservedTop), pageSize), (r.base+r.length)&^(pageSize-1)
		if hi > 4<<30 {
			hi = 4 << 30 // the boot physmap covers 4 GiB; the VM issue lifts this
		}
		if lo >= hi || frameRangeLen == len(frameRanges) {
			continue
		}
		frameRanges[frameRangeLen] = [2]uint64{lo, hi}
		frameRangeLen++
		framesTotal += (hi - lo) / pageSize
	}
	framesFree = framesTotal
	if frameRangeLen > 0 {
		frameBump = frameRanges[0][0]
	}
	nxEnabled = rdmsr(msrEFER)&eferNXE != 0

	// Unmap page 0 so that nil dereferences fault: split the boot stage's
	// first 2 MiB page into 4 KiB pages and leave the first one out.
	pml4 := readCR3() &^ 0xfff
	pdpt := *(*uint64)(phys(pml4)) & pteFrm
	pd := *(*uint64)(phys(pdpt)) & pteFrm
	pt, ok := allocFrame()
	if !ok {
		kernelPanicMsg("no memory for the first page table")
	}
	for i := uint64(1); i < 512; i++ {
		*(*uint64)(phys(pt + i*8)) = i*pageSize | pteP | pteW
	}
	*(*uint64)(phys(pd)) = pt | pteP | pteW
	writeCR3(readCR3())
}

func roundUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// allocFrame returns a zeroed 4 KiB frame.
func allocFrame() (uint64, bool) {
	var pa uint64
	switch {
	case frameFreeList != 0:
		pa = frameFreeList
		frameFreeList = *(*uint64)(phys(pa))
	default:
		for frameRangeIdx < frameRangeLen && frameBump >= frameRanges[frameRangeIdx][1] {
			frameRangeIdx++
			if frameRangeIdx < frameRangeLen {
				frameBump = frameRanges[frameRangeIdx][0]
			}
		}
		if frameRangeIdx >= frameRangeLen {
			return 0, false
		}
		pa = frameBump
		frameBump += pageSize
	}
	framesFree--
	clear((*[pageSize]byte)(phys(pa))[:])
	return pa, true
}

func freeFrame(pa uint64) {
	*(*uint64)(phys(pa)) = frameFreeList
	frameFreeList = pa
	framesFree++
}

// walk returns the address of va's last-level entry in the current address
// space, creating tables on the way when create is set.
func walk(va uint64, create bool) *uint64 {
	table := readCR3() &^ 0xfff
	for shift := uint(39); shift > 12; shift -= 9 {
		e := (*uint64)(phys(table + (va>>shift&511)*8))
		if *e&pteP == 0 {
			if !create {
				return nil
			}
			t, ok := allocFrame()
			if !ok {
				return nil
			}
			*e = t | pteP | pteW
		}
		if *e&ptePS != 0 {
			return nil // huge pages are the boot map's; never in the heap window
		}
		table = *e & pteFrm
	}
	return (*uint64)(phys(table + (va>>12&511)*8))
}

// heapMap serves mmap: a fresh range of the heap window (hints ignored,
// MAP_FIXED honoured inside the window).
func heapMap(addr, length uint64, fixed bool) (uint64, bool) {
	length = roundUp(length, pageSize)
	if fixed {
		if addr < heapWindowStart || addr+length > heapWindowEnd || addr&(pageSize-1) != 0 {
			return 0, false
		}
		heapUnmap(addr, length)
		if addr+length > heapBump {
			heapBump = addr + length
		}
		return addr, true
	}
	if heapBump+length > heapWindowEnd {
		return 0, false
	}
	addr = heapBump
	heapBump += length
	return addr, true
}

// heapUnmap serves munmap and madvise(MADV_DONTNEED): the pages go back to
// the frame allocator and read as zero if touched again.
func heapUnmap(addr, length uint64) {
	for va := addr &^ (pageSize - 1); va < addr+length; va += pageSize {
		if va < heapWindowStart || va >= heapWindowEnd {
			continue
		}
		e := walk(va, false)
		if e == nil || *e&pteP == 0 {
			continue
		}
		freeFrame(*e & pteFrm)
		*e = 0
		invlpg(uintptr(va))
	}
}

// heapFault backs a touched page of the heap window with a zeroed frame.
func heapFault(va uint64) bool {
	if va < heapWindowStart || va >= heapBump {
		return false
	}
	e := walk(va, true)
	if e == nil {
		return false
	}
	if *e&pteP != 0 {
		return true // another path mapped it already: retry the access
	}
	pa, ok := allocFrame()
	if !ok {
		return false
	}
	flags := uint64(pteP | pteW)
	if nxEnabled {
		flags |= pteNX
	}
	*e = pa | flags
	pageFaults++
	return true
}
