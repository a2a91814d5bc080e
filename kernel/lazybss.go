//go:build hurdvm

// The image's demand-zero BSS: the large arrays the boot stage left
// unbacked (qemu/bss.go says which, and why the kernel's own variables are
// never among them). They become regions of the kernel task, shared by
// every address space like the heap window, so the page-fault handler
// gives a page a zeroed frame when it is first touched, and an array no
// one touches costs nothing; the frames under them go to the frame
// allocator. readLazyBSS runs in kmain, mapLazyBSS in memoryInit; the
// faults they take are served in handler context (vm.go, spaceFor).

package kernel

import "hurdvm/mm"

// maxLazyBSS is the most ranges the boot stage passes (qemu's
// maxLazyRanges).
const maxLazyBSS = 4

type pageRange struct{ start, end uint64 }

var (
	// From the boot stage (entry_amd64.s): its table of [start, end)
	// pairs and their number.
	bootLazyTable, bootLazyCount uint64

	lazyBSS    [maxLazyBSS]pageRange
	lazyBSSLen int
	// lazyBSSLo..lazyBSSHi spans every lazy range: the part of the image
	// whose faults the kernel task's regions decide.
	lazyBSSLo, lazyBSSHi uint64
)

// readLazyBSS copies the boot stage's table, which lives in memory
// memoryInit gives away, and checks it: whole pages, sorted, inside the
// image's zero-filled part. A wrong table means pages nobody zeroed.
func readLazyBSS() {
	_, _, _, end := imageBounds()
	bss, top := uint64(bssStart()), roundUp(uint64(end), pageSize)
	if bootLazyCount > maxLazyBSS {
		kernelPanicMsg("the boot stage passed more lazy BSS ranges than the kernel takes")
	}
	prev := bss
	for i := uint64(0); i < bootLazyCount; i++ {
		r := pageRange{rd64(bootLazyTable + 16*i), rd64(bootLazyTable + 16*i + 8)}
		if r.start%pageSize != 0 || r.end%pageSize != 0 || r.start >= r.end || r.start < prev || r.end > top {
			kernelPanicMsg("the boot stage's lazy BSS table is not whole pages of the image's BSS")
		}
		lazyBSS[lazyBSSLen] = r
		lazyBSSLen++
		prev = r.end
	}
	if lazyBSSLen > 0 {
		lazyBSSLo, lazyBSSHi = lazyBSS[0].start, lazyBSS[lazyBSSLen-1].end
	}
}

// inLazyBSS reports whether the image page at va is demand-zero.
func inLazyBSS(va uint64) bool {
	for _, r := range lazyBSS[:lazyBSSLen] {
		if va >= r.start && va < r.end {
			return true
		}
	}
	return false
}

// backedImageTop is where the backed part of the image ends: its end, or
// the start of a lazy range that reaches it.
func backedImageTop(imageTop uint64) uint64 {
	if lazyBSSLen > 0 && lazyBSS[lazyBSSLen-1].end >= imageTop {
		return lazyBSS[lazyBSSLen-1].start
	}
	return imageTop
}

// mapLazyBSS makes each lazy range a demand-zero region of the kernel
// task, read-write and never executable.
func mapLazyBSS() {
	for _, r := range lazyBSS[:lazyBSSLen] {
		_, err := spaces[kernelSpace].MapAnon(uintptr(r.start), uintptr(r.end-r.start), mm.ProtRead|mm.ProtWrite,
			true, true, uintptr(r.start), uintptr(r.end))
		if err != nil {
			kernelPanicMsg("cannot make the demand-zero BSS a region of the kernel task")
		}
	}
}

// lazyBSSBytes is the size of the demand-zero BSS.
func lazyBSSBytes() uint64 {
	n := uint64(0)
	for _, r := range lazyBSS[:lazyBSSLen] {
		n += r.end - r.start
	}
	return n
}
