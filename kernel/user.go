//go:build hurdvm

// The memory of the program that made a system call, as the kernel reaches
// it. Handler context.
//
// Two rules, as in every kernel that hands out memory it does not trust:
//
//  1. A user pointer is valid only inside memory the program may own
//     (userRange): its image (text and read-only data for reading; data
//     and bss, but not the kernel stacks in it, for writing), the Go heap
//     window, and the task window. The physmap, the local APIC and other
//     MMIO, which the kernel's own tables map, are never user memory.
//     That check is arithmetic on the address; whether a page of a window
//     is in a region that allows the access is the VM's to say, when the
//     copy touches it.
//  2. Every access goes through userCopy, whose one instruction that
//     touches user memory the page-fault handler knows: a page not yet
//     backed is faulted in by the VM there (only the bytes copied, never
//     a whole range up front), and a fault the VM cannot resolve (no
//     region, a region that forbids the access) ends the copy short. A
//     bad pointer is EFAULT, never a kernel fault.
//
// One exception to 2: the page-fault handler itself may copy out (a
// signal frame for the fault it is handling), and a fault there would land
// on the stack it runs on; there the pages are made present in software
// first (userPrepare).
//
// Typed helpers (readUser64, writeUser64, ...) and structure copies
// (copyIn, copyOut into kernel-stack buffers) are built on the two.

package kernel

import (
	"unsafe"

	"hurdvm/mm"
	"hurdvm/paging"
)

// userCopy copies n bytes from src to dst and returns how many it could
// not copy: 0, or the rest from the first byte whose page fault the VM
// could not resolve (user_amd64.s).
func userCopy(dst, src, n uintptr) (left uintptr)

// userCopyRepAddr is the address of the REP MOVSB in userCopy: the page-
// fault handler's fix-up point (userCopyFault).
func userCopyRepAddr() uintptr

// userCopyAC is userCopy for a process's memory: the copy instruction
// bracketed by STAC and CLAC where SMAP is on (procuser.go).
func userCopyAC(dst, src, n uintptr) (left uintptr)

// userCopyRepACAddr is the address of userCopyAC's bracketed REP MOVSB, the
// fault handler's second fix-up point.
func userCopyRepACAddr() uintptr

// userCopyRepLen is the length of that instruction (F3 A4).
const userCopyRepLen = 2

// userCopyFault is the page-fault handler's part: a fault at one of the
// two copy instructions (userCopy's, userCopyAC's bracketed one) that the
// VM could not resolve. The copy stops where it is (RCX holds what is
// left, as REP MOVSB leaves it) and the copy returns that count. It
// reports whether the fault was a copy's.
func userCopyFault(tf *TrapFrame) bool {
	if tf.RIP != uint64(userCopyRepAddr()) && tf.RIP != uint64(userCopyRepACAddr()) {
		return false
	}
	tf.RIP += userCopyRepLen
	return true
}

// userRange reports whether [addr, addr+n) lies wholly in memory the
// calling program may own, with write access if write is set: for the
// kernel's own program its image, heap window and task window, for a
// process its task window. n == 0 is
// always fine (Linux checks no address for an empty buffer).
func userRange(addr, n uint64, write bool) bool {
	if n == 0 {
		return true
	}
	if thr(current()).proc != 0 {
		return procRange(addr, n) // a process's memory is its task window
	}
	end := addr + n
	if end < addr {
		return false
	}
	text, _, data, imageEnd := imageBounds()
	switch {
	case addr >= uint64(text) && end <= uint64(imageEnd):
		if lo, hi := bootStacks(); end > lo-pageSize && addr < hi {
			return false // the boot CPU's kernel stacks (and their guard pages)
		}
		return !write || addr >= uint64(data)
	case addr >= heapWindowStart && end <= heapWindowEnd,
		addr >= taskWindowStart && end <= taskWindowEnd:
		return true
	}
	return false
}

// accessOK is Linux's access_ok for the kernel's program: the range lies
// below TASK_SIZE, as in Linux, or in the program's memory in the upper
// half (userRange: its image and the heap window, where Linux has none of
// a program's). Calls that Linux checks this way before anything else
// (and only copy later, if at all) check it first too; the copy itself
// applies userRange. The heap window, where the runtime's munmaps and
// futexes are, is tried first: it is two comparisons, userRange a call.
func accessOK(addr, n uint64) bool {
	end := addr + n
	return end >= addr && (end <= taskSize || addr >= heapWindowStart && end <= heapWindowEnd || userRange(addr, n, false))
}

// regionsCover reports whether the regions of as cover [addr, end) without
// a gap, each allowing the access want (0: any region will do).
func regionsCover(as *mm.AddressSpace, addr, end uint64, want mm.Prot) bool {
	for a := addr; a < end; {
		r, ok := as.Regions.Find(uintptr(a))
		if !ok || r.Prot&want != want {
			return false
		}
		a = uint64(r.End)
	}
	return true
}

// userPrepare makes the pages of [addr, addr+n) present (and writable
// when write is set) as the page-fault handler would, one page at a time;
// false when the VM cannot. The range is userRange-checked already.
func userPrepare(addr, n uint64, write bool) bool {
	acc := mm.AccessRead
	if write {
		acc = mm.AccessWrite
	}
	for va := addr &^ (pageSize - 1); va < addr+n; va += pageSize {
		if present, writable := mapped(va); present && (writable || !write) {
			continue
		}
		if vmFault(va, acc, false) != mm.FaultResolved {
			return false
		}
	}
	return true
}

// mapped reports whether va is mapped in the current thread's address
// space, and whether writably, by paging's one walker.
func mapped(va uint64) (present, writable bool) {
	_, flags, _, ok := spaces[thr(current()).space].PT.Translate(uintptr(va))
	return ok, flags&paging.Writable != 0
}

// userAccess checks [addr, addr+n) for an access (userRange) and, in the
// page-fault handler, makes it present (userPrepare).
func userAccess(addr, n uint64, write bool) bool {
	if !userRange(addr, n, write) {
		return false
	}
	var here byte
	if thisCPU().stackSlot(uint64(uintptr(unsafe.Pointer(&here)))) == stackPageFault {
		return userPrepare(addr, n, write)
	}
	return true
}

// copyUser is the copy for the calling program: userCopyAC, bracketed for
// SMAP, when it is a process (its pages carry U/S), userCopy otherwise.
func copyUser(dst, src, n uintptr) uintptr {
	if thr(current()).proc != 0 {
		return userCopyAC(dst, src, n)
	}
	return userCopy(dst, src, n)
}

// copyIn copies len(dst) bytes from the program's address src.
func copyIn(dst []byte, src uint64) bool {
	n := uint64(len(dst))
	if n == 0 {
		return true
	}
	return userAccess(src, n, false) && copyUser(uintptr(unsafe.Pointer(&dst[0])), uintptr(src), uintptr(n)) == 0
}

// copyOut copies src to the program's address dst.
func copyOut(dst uint64, src []byte) bool {
	n := uint64(len(src))
	if n == 0 {
		return true
	}
	return userAccess(dst, n, true) && copyUser(uintptr(dst), uintptr(unsafe.Pointer(&src[0])), uintptr(n)) == 0
}

// userCopyPartial copies as much of the program's memory at src into dst
// as it can, up to the first byte it cannot read, and returns how much:
// for calls that read a string up to its NUL or answer with a partial
// count, as Linux's do.
func userCopyPartial(dst []byte, src uint64) uint64 {
	n := uint64(len(dst))
	if n == 0 || !userAccess(src, 1, false) {
		return 0
	}
	if !userRange(src, n, false) {
		n = min(n, pageSize-src%pageSize) // up to the end of the first page at least
	}
	return n - uint64(copyUser(uintptr(unsafe.Pointer(&dst[0])), uintptr(src), uintptr(n)))
}

// copyOutPartial copies src to the program's dst up to the first byte it
// cannot write, and returns how much.
func copyOutPartial(dst uint64, src []byte) uint64 {
	n := uint64(len(src))
	if n == 0 || !userAccess(dst, 1, true) {
		return 0
	}
	if !userRange(dst, n, true) {
		n = min(n, pageSize-dst%pageSize)
	}
	return n - uint64(copyUser(uintptr(dst), uintptr(unsafe.Pointer(&src[0])), uintptr(n)))
}

// bytesOf is the memory of *p as bytes, for copying a structure in or out.
func bytesOf[T any](p *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}

func readUser64(p uint64) (uint64, bool) {
	var v uint64
	return v, copyIn(bytesOf(&v), p)
}

func readUser32(p uint64) (uint32, bool) {
	var v uint32
	return v, copyIn(bytesOf(&v), p)
}

func writeUser64(p, v uint64) bool { return copyOut(p, bytesOf(&v)) }

func writeUser32(p uint64, v uint32) bool { return copyOut(p, bytesOf(&v)) }

// at is the pointer to the kernel-known address a: the physmap, a device's
// registers, the kernel's own image. Never a user pointer: those go through
// copyIn and copyOut. unsafe.Add from nil, rather than converting the
// integer, says what this is: an address the kernel owns, not a Go pointer
// that was hidden in an integer (and it keeps go vet's unsafeptr check
// meaningful for the rest of the code).
func at(a uint64) unsafe.Pointer { return unsafe.Add(nil, uintptr(a)) }
