//go:build hurdvm

// Inspection and test hooks for Go code (the in-kernel tests): the frame
// allocator, translations and the boot memory map. Each call enters the
// kernel through a system call of its own, so that it runs serialized with
// the page-fault handler in handler context, like the VM's own calls.

package kernel

import (
	"syscall"
	"unsafe"

	"hurdvm/kernel/memmap"
	"hurdvm/mm"
)

const (
	sysInspectTranslate  = 0x48560030 // a0 va, a1 *translation
	sysInspectFrameAlloc = 0x48560031 // a0 order; returns pa or 1<<63|errno
	sysInspectFrameFree  = 0x48560032 // a0 pa, a1 order
	sysInspectFrameStats = 0x48560033 // a0 *mm.FrameStats
)

// PhysmapBase is where physical address 0 is visible.
const PhysmapBase = physmapBase

// Translation is what the current address space maps at a virtual address.
type Translation struct {
	Phys     uint64
	Flags    uint64 // page-table entry bits (paging.Entry)
	PageSize uintptr
	Mapped   bool
}

// Translate looks va up in the calling thread's page tables.
func Translate(va uintptr) Translation {
	var t Translation
	syscall.RawSyscall(sysInspectTranslate, va, uintptr(unsafe.Pointer(&t)), 0)
	return t
}

// AllocFrames takes a block of 2^order frames from the frame allocator,
// leaving the frames reserved for the Go runtime's heap (ENOMEM then).
func AllocFrames(order int) (uint64, error) {
	r, _, _ := syscall.RawSyscall(sysInspectFrameAlloc, uintptr(order), 0, 0)
	if r&(1<<63) != 0 {
		return 0, frameError(r &^ (1 << 63))
	}
	return uint64(r), nil
}

// FreeFrames gives back a block AllocFrames handed out.
func FreeFrames(pa uint64, order int) error {
	r, _, _ := syscall.RawSyscall(sysInspectFrameFree, uintptr(pa), uintptr(order), 0)
	if r != 0 {
		return frameError(r)
	}
	return nil
}

// FrameStats returns the frame allocator's counters.
func FrameStats() mm.FrameStats {
	var s mm.FrameStats
	syscall.RawSyscall(sysInspectFrameStats, uintptr(unsafe.Pointer(&s)), 0, 0)
	return s
}

// MemoryRange is one range of the kernel's memory map.
type MemoryRange struct {
	Base, Length uint64
	Usable       bool
	Kind         memmap.Kind
}

// MemoryMap returns the memory map the kernel goes by: the boot loader's,
// sanitized (sorted, disjoint, usable RAM in whole pages; read-only kernel
// data, made at boot).
func MemoryMap() []MemoryRange {
	out := make([]MemoryRange, memMapLen)
	for i, r := range memMap[:memMapLen] {
		out[i] = MemoryRange{r.Start, r.Len(), r.Kind == memmap.Usable, r.Kind}
	}
	return out
}

// KernelImage is where the kernel's image lies (physical = virtual) and
// which of its pages are demand-zero BSS (lazybss.go).
type KernelImage struct {
	Start, End uint64      // the image, page aligned
	Lazy       [][2]uint64 // the demand-zero ranges, [start, end)
}

// Image returns the image's layout (read-only kernel data, set at boot).
func Image() KernelImage {
	_, _, _, end := imageBounds()
	im := KernelImage{Start: kernelImageBase, End: roundUp(uint64(end), pageSize)}
	for _, r := range lazyBSS[:lazyBSSLen] {
		im.Lazy = append(im.Lazy, [2]uint64{r.start, r.end})
	}
	return im
}

// frameError carries the allocator's error across the system call: the
// kernel returns an index into frameErrors.
type frameError uintptr

var frameErrors = [...]error{nil, mm.ENOMEM, mm.EINVAL}

func (e frameError) Error() string {
	if int(e) < len(frameErrors) && frameErrors[e] != nil {
		return frameErrors[e].Error()
	}
	return "frame allocator refused the call"
}

func frameErrorCode(err error) uint64 {
	switch err {
	case nil:
		return 0
	case mm.ENOMEM:
		return 1
	}
	return 3 // a misuse the allocator caught (double free, wrong order...)
}

// inspectSyscall serves the hooks above in handler context.
func inspectSyscall(nr, a0, a1 uint64) uint64 {
	switch nr {
	case sysInspectTranslate:
		if !touchUser(a1, uint64(unsafe.Sizeof(Translation{})), true) {
			return errno(eFAULT)
		}
		t := (*Translation)(at(a1))
		pt := &spaces[threads[current].space].PT
		pa, flags, size, ok := pt.Translate(uintptr(a0))
		*t = Translation{Phys: pa, Flags: uint64(flags), PageSize: size, Mapped: ok}
		return 0
	case sysInspectFrameAlloc:
		// Like a task's, these frames may not dip into the runtime's reserve.
		if a0 > mm.MaxOrder || frames.Stats().FreeFrames < 1<<a0+runtimeReserve {
			return 1<<63 | frameErrorCode(mm.ENOMEM)
		}
		pa, err := frames.Alloc(int(a0))
		if err != nil {
			return 1<<63 | frameErrorCode(err)
		}
		return uint64(pa)
	case sysInspectFrameFree:
		return frameErrorCode(frames.Free(mm.PhysAddr(a0), int(a1)))
	case sysInspectFrameStats:
		if !touchUser(a0, uint64(unsafe.Sizeof(mm.FrameStats{})), true) {
			return errno(eFAULT)
		}
		*(*mm.FrameStats)(at(a0)) = frames.Stats()
		return 0
	}
	return errno(eNOSYS)
}
