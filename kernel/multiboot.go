//go:build hurdvm

// The multiboot (version 1) information the loader hands over. Everything
// the kernel needs from it is copied into kernel globals first thing, since
// the loader leaves it in memory the frame allocator will hand out.
//
// GRUB on a BIOS and GRUB on UEFI hand over different memory maps: under
// UEFI the classic mem_upper covers only the first 8 MiB and the map has
// many more ranges (firmware runtime code and data, ACPI, boot-time leftovers
// GRUB reports as they are). hurdvm/kernel/memmap sorts them, resolves
// overlaps (a byte is usable only if every entry covering it says so) and
// merges neighbours, so that the frame allocator, which takes
// mm.MaxInitRanges usable ranges, sees all the RAM and nothing else.

package kernel

import (
	"hurdvm/kernel/memmap"
	"hurdvm/mm"
)

const multibootMagic = 0x2BADB002

const (
	mbFlagMem     = 1 << 0
	mbFlagCmdline = 1 << 2
	mbFlagMods    = 1 << 3
	mbFlagMmap    = 1 << 6
	mbFlagFB      = 1 << 12 // framebuffer_* fields (offset 88) are valid
)

var (
	bootMagic, bootInfo, bootEnd uint64

	// rawMap is the loader's map as given; memMap is what the kernel goes
	// by (memmap.Sanitize: sorted, disjoint, usable RAM in whole pages),
	// with room for the two ranges each entry can become.
	rawMap     [256]memmap.Entry
	rawMapLen  int
	memMap     [2 * len(rawMap)]memmap.Range
	memMapLen  int
	memLowerKB uint64
	memUpperKB uint64
	cmdline    [2048]byte
	cmdlineLen int
	modules    [16][2]uint64 // [start, end) of each multiboot module
	moduleLen  int
)

func rd32(pa uint64) uint32 { return *(*uint32)(at(pa)) }
func rd64(pa uint64) uint64 { return *(*uint64)(at(pa)) }

// readMultiboot copies the memory map, command line and module list out of
// the loader's structures (identity-mapped by boot/ at this point).
func readMultiboot() bool {
	if bootMagic != multibootMagic {
		return false
	}
	mbi := bootInfo
	flags := rd32(mbi)
	if flags&mbFlagMem != 0 {
		memLowerKB = uint64(rd32(mbi + 4))
		memUpperKB = uint64(rd32(mbi + 8))
	}
	if flags&mbFlagCmdline != 0 {
		p := uint64(rd32(mbi + 16))
		for cmdlineLen < len(cmdline)-1 {
			c := *(*byte)(at(p + uint64(cmdlineLen)))
			if c == 0 {
				break
			}
			cmdline[cmdlineLen] = c
			cmdlineLen++
		}
	}
	if flags&mbFlagMods != 0 {
		n := rd32(mbi + 20)
		p := uint64(rd32(mbi + 24))
		for i := uint32(0); i < n && moduleLen < len(modules); i++ {
			modules[moduleLen] = [2]uint64{uint64(rd32(p)), uint64(rd32(p + 4))}
			moduleLen++
			p += 16
		}
	}
	if flags&mbFlagMmap != 0 {
		length := uint64(rd32(mbi + 44))
		p := uint64(rd32(mbi + 48))
		end := p + length
		for p < end && rawMapLen < len(rawMap) {
			size := uint64(rd32(p))
			rawMap[rawMapLen] = memmap.Entry{Base: rd64(p + 4), Length: rd64(p + 12), Kind: memmap.Kind(rd32(p + 20))}
			rawMapLen++
			p += size + 4
		}
	} else if flags&mbFlagMem != 0 {
		// No map: trust the two classic fields.
		rawMap[0] = memmap.Entry{Base: 0, Length: memLowerKB << 10, Kind: memmap.Usable}
		rawMap[1] = memmap.Entry{Base: 1 << 20, Length: memUpperKB << 10, Kind: memmap.Usable}
		rawMapLen = 2
	}
	memMapLen = memmap.Sanitize(memMap[:], rawMap[:rawMapLen])
	memmap.KeepLargest(memMap[:memMapLen], mm.MaxInitRanges)
	checkImageInRAM()
	return true
}

// checkImageInRAM warns when the memory map does not show the backed part
// of the kernel image (fixed at 16 MiB, where boot/ copied it) as usable
// RAM: a firmware that keeps something there would have been overwritten.
// The boot stage refuses to load where the map shows no RAM at all; this
// catches the rest (a sliver of a page the boot stage counted usable).
func checkImageInRAM() {
	_, _, _, end := imageBounds()
	lo, hi := uint64(kernelImageBase), backedImageTop(roundUp(uint64(end), pageSize))
	if memmap.AllUsable(memMap[:memMapLen], lo, hi) {
		return
	}
	kprint("hurdvm: warning: the memory map does not list the kernel's place ")
	kprintHex(lo)
	kprint("-")
	kprintHex(hi)
	kprint(" as usable RAM\n")
}

// fbInfo is the framebuffer the boot loader describes (multiboot info
// flag 12): GRUB's EGA text mode under BIOS (gfxpayload=text) or the linear
// framebuffer it set up under UEFI.
type fbInfo struct {
	addr                 uint64
	pitch, width, height uint32
	bpp, kind            uint8
	// Where each colour's bits are in an RGB pixel (kind fbRGB).
	redPos, redSize, greenPos, greenSize, bluePos, blueSize uint8
}

// Framebuffer kinds (multiboot framebuffer_type).
const (
	fbIndexed = 0
	fbRGB     = 1
	fbEGAText = 2
)

// bootFramebuffer reads the framebuffer description straight from the
// loader's information: the console calls it before readMultiboot.
func bootFramebuffer() (fb fbInfo, ok bool) {
	if bootMagic != multibootMagic || rd32(bootInfo)&mbFlagFB == 0 {
		return fb, false
	}
	p := bootInfo
	fb.addr = rd64(p + 88)
	fb.pitch, fb.width, fb.height = rd32(p+96), rd32(p+100), rd32(p+104)
	b := func(off uint64) uint8 { return *(*uint8)(at(p + off)) }
	fb.bpp, fb.kind = b(108), b(109)
	// The colour fields follow at 112, not at the specification's 110:
	// GRUB fills its struct multiboot_info, where they share a union with
	// a 32-bit palette address and so are 4-byte aligned. A loader that
	// follows the text literally writes them at 110; failing both, the
	// usual x8r8g8b8 layout is assumed.
	for _, off := range [...]uint64{112, 110} {
		fb.redPos, fb.redSize, fb.greenPos, fb.greenSize, fb.bluePos, fb.blueSize = b(off), b(off+1), b(off+2), b(off+3), b(off+4), b(off+5)
		if fb.colourFieldsValid() {
			return fb, true
		}
	}
	fb.redPos, fb.redSize, fb.greenPos, fb.greenSize, fb.bluePos, fb.blueSize = 16, 8, 8, 8, 0, 8
	return fb, true
}

func (fb *fbInfo) colourFieldsValid() bool {
	ok := func(pos, size uint8) bool { return size > 0 && size <= 10 && int(pos)+int(size) <= int(fb.bpp) }
	return ok(fb.redPos, fb.redSize) && ok(fb.greenPos, fb.greenSize) && ok(fb.bluePos, fb.blueSize)
}
