//go:build hurdvm

// The memory system calls: mmap, munmap, madvise and mprotect, as the Go
// runtime (and a test calling them raw) makes them, served in the heap
// window by the VM (mm.AddressSpace.MapAnon, Unmap, Discard, Protect).
// Handler context.

package kernel

import "hurdvm/mm"

// mmap's flags and prot bits, Linux's values.
const (
	mapShared         = 0x01
	mapPrivate        = 0x02
	mapSharedValidate = 0x03
	mapType           = 0x0f
	mapFixed          = 0x10
	mapAnonymous      = 0x20
	mapFixedNoreplace = 0x100000
	mapGrowsdown      = 0x0100
	mapHugetlb        = 0x40000

	protRead  = 0x1
	protWrite = 0x2
	protExec  = 0x4
	protSem   = 0x8
	// PROT_GROWSDOWN and PROT_GROWSUP, which only mprotect takes.
	protGrows = 0x0100_0000 | 0x0200_0000

	// taskSize is Linux's TASK_SIZE_MAX on x86-64 with 4-level paging:
	// user addresses are below it (where a process's window ends).
	taskSize = processWindowEnd
)

// The madvise advice Linux 6.1 knows (include/uapi/asm-generic/mman-common.h).
var madviseKnown = [...]uint64{0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25, 100, 101}

const (
	madvDontneed = 4
	madvFree     = 8
)

func protOf(prot uint64) mm.Prot {
	p := mm.Prot(0)
	if prot&protRead != 0 {
		p |= mm.ProtRead
	}
	if prot&protWrite != 0 {
		p |= mm.ProtWrite
	}
	if prot&protExec != 0 {
		p |= mm.ProtExec
	}
	return p
}

// anonMmapChecks are the checks of an anonymous mmap that the kernel's
// runtime (mmapAnon) and a process (procMmap) share, in Linux 6.1's order
// after the descriptor's: it returns the length rounded up to pages,
// whether the address is fixed (MAP_FIXED or MAP_FIXED_NOREPLACE), and
// the errno, 0 if the call may go on.
func anonMmapChecks(addr, length, flags uint64) (rounded uint64, fixed bool, e uint64) {
	if flags&mapHugetlb != 0 {
		return 0, false, errno(eNOMEM) // no huge-page pool
	}
	if length == 0 {
		return 0, false, errno(eINVAL)
	}
	length = roundUp(length, pageSize)
	if length == 0 || length > taskSize {
		return 0, false, errno(eNOMEM)
	}
	fixed = flags&(mapFixed|mapFixedNoreplace) != 0
	if fixed && addr%pageSize != 0 {
		return 0, false, errno(eINVAL)
	}
	// For anonymous memory only MAP_SHARED and MAP_PRIVATE are types,
	// and a shared mapping cannot grow down.
	switch flags & mapType {
	case mapShared:
		if flags&mapGrowsdown != 0 {
			return 0, false, errno(eINVAL)
		}
	case mapPrivate:
	default:
		return 0, false, errno(eINVAL)
	}
	return length, fixed, 0
}

// mmapAnon is mmap. Only anonymous memory exists: the heap window holds
// it, where the VM finds room (hints are ignored, as Linux may), or at
// addr with MAP_FIXED (replacing what was there) or MAP_FIXED_NOREPLACE
// (EEXIST if anything was). The checks and their order are Linux 6.1's
// (sys_mmap, do_mmap); differences: a fixed address outside the heap
// window is ENOMEM (there is nothing else a program may map), and
// MAP_32BIT is not honoured (the heap window is in the upper half). The
// Go runtime's heap hints (0x00c000000000 and up) are ignored too: it
// tries each once, then takes the address the VM gives.
func mmapAnon(addr, length, prot, flags, fd, off uint64) uint64 {
	if off%pageSize != 0 {
		return errno(eINVAL)
	}
	if flags&mapAnonymous == 0 {
		if fdFile(int32(fd)) == nil {
			return errno(eBADF)
		}
		return errno(eNODEV) // no descriptor here can be mapped
	}
	length, fixed, e := anonMmapChecks(addr, length, flags)
	if e != 0 {
		return e
	}
	if fixed {
		if addr < heapWindowStart || addr+length > heapWindowEnd || addr+length < addr {
			return errno(eNOMEM)
		}
	} else {
		addr = 0 // a hint: the VM chooses
	}
	as := &spaces[kernelSpace]
	lockSpace(as)
	if fixed && flags&mapFixed == 0 && as.Regions.Overlaps(uintptr(addr), uintptr(addr+length)) {
		unlockSpace(as)
		return errno(eEXIST)
	}
	a, err := as.MapAnon(uintptr(addr), uintptr(length), protOf(prot), fixed, true, heapWindowStart, heapWindowEnd)
	unlockSpace(as)
	if err != nil {
		return linuxErrno(err)
	}
	return uint64(a)
}

// userSpan checks a range as munmap, madvise and mprotect do: a
// page-aligned start, a length rounded up to pages that does not wrap. It
// returns the end.
func userSpan(addr, length uint64) (uint64, bool) {
	if addr%pageSize != 0 {
		return 0, false
	}
	end := addr + roundUp(length, pageSize)
	if (length != 0 && end == addr) || end < addr {
		return 0, false
	}
	return end, true
}

func munmapRange(addr, length uint64) uint64 {
	if length == 0 {
		return errno(eINVAL)
	}
	if end, ok := userSpan(addr, length); !ok || !accessOK(addr, end-addr) {
		return errno(eINVAL)
	}
	as := &spaces[kernelSpace]
	lockSpace(as)
	err := as.Unmap(uintptr(addr), uintptr(length), heapWindowStart, heapWindowEnd)
	unlockSpace(as)
	return linuxErrno(err)
}

// madviseRange is madvise in space as, whose program's memory is the
// window [winLo, winHi) (the kernel's program: the heap window; a
// process: its window): MADV_DONTNEED and MADV_FREE give the pages of the
// window back (they read as zero when touched again); every other advice
// Linux knows is accepted and changes nothing here. A range with pages in
// no region is ENOMEM (after the advice was taken for the others, as in
// Linux).
//
// [imgLo, imgHi) is a process's image (none: imgLo == imgHi), which
// Linux maps from the program's file, privately, where hurdvm's loader
// copied it into anonymous memory; madvise there answers as Linux's:
// MADV_FREE frees anonymous pages only, so it is EINVAL at the image
// (after the mappings below it took the advice: Linux walks them in
// order and stops at the first refusal); MADV_DONTNEED drops the pages
// and Linux reads the file's bytes again at the next touch, which for
// text and read-only data are the bytes the image holds: the image's
// pages stay. (Data the program wrote would go back to the file's bytes
// on Linux; here it stays as written.)
func madviseRange(as *mm.AddressSpace, winLo, winHi, imgLo, imgHi, addr, length, advice uint64) uint64 {
	known := false
	for _, a := range madviseKnown {
		known = known || a == advice
	}
	if !known {
		return errno(eINVAL)
	}
	end, ok := userSpan(addr, length)
	if !ok {
		return errno(eINVAL)
	}
	if end == addr {
		return 0
	}
	lo, hi := max(addr, winLo), min(end, winHi)
	lockSpace(as)
	defer unlockSpace(as)
	if (advice == madvDontneed || advice == madvFree) && lo < hi {
		below, above := hi, lo // the parts of [lo, hi) below and above the image
		if imgLo < imgHi && lo < imgHi && imgLo < hi {
			below, above = max(lo, imgLo), min(hi, imgHi)
		}
		if lo < below {
			if err := as.Discard(uintptr(lo), uintptr(below-lo)); err != nil {
				return linuxErrno(err)
			}
		}
		if below < hi && advice == madvFree {
			return errno(eINVAL) // the image is not anonymous memory
		}
		if above < hi && above > lo {
			if err := as.Discard(uintptr(above), uintptr(hi-above)); err != nil {
				return linuxErrno(err)
			}
		}
	}
	if lo != addr || hi != end || !regionsCover(as, lo, hi, 0) {
		return errno(eNOMEM)
	}
	return 0
}

// mprotectRange changes the protection of heap-window regions.
func mprotectRange(addr, length, prot uint64) uint64 {
	if prot&^(protRead|protWrite|protExec|protSem|protGrows) != 0 || prot&protGrows == protGrows {
		return errno(eINVAL)
	}
	end, ok := userSpan(addr, length)
	if !ok {
		return errno(eINVAL)
	}
	if end == addr {
		return 0
	}
	if addr < heapWindowStart || end > heapWindowEnd {
		return errno(eNOMEM) // no region there: nothing else a program maps
	}
	as := &spaces[kernelSpace]
	lockSpace(as)
	err := as.Protect(uintptr(addr), uintptr(end-addr), protOf(prot))
	unlockSpace(as)
	return linuxErrno(err)
}

// mincoreRange is mincore(addr, length, vec): one byte per page, bit 0 set
// when the page has a frame now. Linux's checks, in its order: an
// unaligned addr (EINVAL), a range past user space (ENOMEM), a vector
// past it (EFAULT), then a page in no region (ENOMEM).
func mincoreRange(addr, length, vec uint64) uint64 {
	if addr%pageSize != 0 {
		return errno(eINVAL)
	}
	end := addr + roundUp(length, pageSize)
	if end < addr || !accessOK(addr, end-addr) {
		return errno(eNOMEM)
	}
	pages := (end - addr) / pageSize
	if !accessOK(vec, pages) {
		return errno(eFAULT)
	}
	if pages == 0 {
		return 0
	}
	if thr(current()).proc != 0 && !procRange(addr, end-addr) {
		return errno(eNOMEM) // a process's memory is its window: the kernel's heap window is not its to look at
	}
	as := spaceFor(addr)
	if as == nil || spaceFor(end-1) != as {
		return errno(eNOMEM)
	}
	lockSpace(as)
	covered := regionsCover(as, addr, end, 0)
	unlockSpace(as)
	if !covered {
		return errno(eNOMEM)
	}
	var piece [256]byte
	for done := uint64(0); done < pages; {
		k := min(pages-done, uint64(len(piece)))
		for i := uint64(0); i < k; i++ {
			piece[i] = 0
			if present, _ := mapped(addr + (done+i)*pageSize); present {
				piece[i] = 1
			}
		}
		if !copyOut(vec+done, piece[:k]) {
			return errno(eFAULT)
		}
		done += k
	}
	return 0
}
