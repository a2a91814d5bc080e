//go:build hurdvm

// The multiboot information the loader hands over: version 1's (QEMU's
// -kernel) or version 2's (GRUB's multiboot2 command, which the USB image
// uses: under UEFI only its ACPI tags say where the ACPI tables are).
// Everything the kernel needs from it is copied into kernel globals first
// thing, the same globals for both versions, since the loader leaves it in
// memory the frame allocator will hand out.
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
	"unsafe"

	"hurdvm/kernel/memmap"
	"hurdvm/kernel/multiboot2"
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

	// bootRSDP holds the ACPI RSDP a multiboot2 loader copied into its
	// information (the new RSDP tag's bytes, else the old one's), for
	// CPU discovery (cpus.go); bootRSDPLen is 0 without one.
	bootRSDP    [64]byte
	bootRSDPLen int
)

func rd32(pa uint64) uint32 { return *(*uint32)(at(pa)) }
func rd64(pa uint64) uint64 { return *(*uint64)(at(pa)) }

// readMultiboot copies the memory map, command line and module list out of
// the loader's structures (identity-mapped by boot/ at this point).
func readMultiboot() bool {
	switch bootMagic {
	case multibootMagic:
		readMultiboot1()
	case multiboot2.Magic:
		if !readMultiboot2() {
			return false
		}
	default:
		return false
	}
	if rawMapLen == 0 && (memLowerKB != 0 || memUpperKB != 0) {
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

func readMultiboot1() {
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
			addModule(rd32(p), rd32(p+4))
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
	}
}

func addModule(start, end uint32) {
	if moduleLen < len(modules) {
		modules[moduleLen] = [2]uint64{uint64(start), uint64(end)}
		moduleLen++
	}
}

// maxBootInfo bounds the multiboot2 information the kernel reads: GRUB's
// is a few KiB (its largest tags are the memory maps, BIOS's and EFI's,
// and the ELF sections).
const maxBootInfo = 1 << 20

// bootInfo2 is the multiboot2 information block, read in place.
func bootInfo2() (multiboot2.Info, bool) {
	n := rd32(bootInfo)
	if n > maxBootInfo {
		return nil, false
	}
	return multiboot2.New(unsafe.Slice((*byte)(at(bootInfo)), n))
}

// readMultiboot2 fills the same variables from multiboot2's tags, and
// keeps the ACPI RSDP's bytes (bootRSDP).
func readMultiboot2() bool {
	info, ok := bootInfo2()
	if !ok {
		kprint("hurdvm: the multiboot2 information at ")
		kprintHex(bootInfo)
		kprint(" is malformed (total size ")
		kprintDec(uint64(rd32(bootInfo)))
		kprint(")\n")
		return false
	}
	for t, off, ok := info.Next(0); ok; t, off, ok = info.Next(off) {
		switch t.Type {
		case multiboot2.TagBasicMemInfo:
			lo, hi, _ := t.BasicMemInfo()
			memLowerKB, memUpperKB = uint64(lo), uint64(hi)
		case multiboot2.TagCmdline:
			cmdlineLen = copy(cmdline[:len(cmdline)-1], t.Text())
		case multiboot2.TagModule:
			if start, end, _, ok := t.Module(); ok {
				addModule(start, end)
			}
		case multiboot2.TagMemoryMap:
			m, _ := t.MemoryMap()
			for i := 0; i < m.Len() && rawMapLen < len(rawMap); i++ {
				rawMap[rawMapLen] = m.Entry(i)
				rawMapLen++
			}
		}
	}
	// A longer RSDP than bootRSDP holds (none yet: ACPI 6.5's is 36
	// bytes) is kept as its ACPI 1.0 part, which still gives the RSDT.
	if r := info.RSDP(); len(r) <= len(bootRSDP) {
		bootRSDPLen = copy(bootRSDP[:], r)
	} else {
		bootRSDPLen = copy(bootRSDP[:], r[:20])
	}
	return true
}

// checkImageInRAM warns when the memory map does not show the backed part
// of the kernel image (at 16 MiB, where boot/ copied it) as usable
// RAM: a firmware that keeps something there would have been overwritten.
// The boot stage refuses to load where the map shows no RAM at all; this
// catches the rest (a sliver of a page the boot stage counted usable).
func checkImageInRAM() {
	_, _, _, end := imageBounds()
	lo, hi := uint64(kernelImagePhys), imagePhys(backedImageTop(roundUp(uint64(end), pageSize)))
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
	switch bootMagic {
	case multibootMagic:
		return bootFramebuffer1()
	case multiboot2.Magic:
		return bootFramebuffer2()
	}
	return fb, false
}

func bootFramebuffer1() (fb fbInfo, ok bool) {
	if rd32(bootInfo)&mbFlagFB == 0 {
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
	// follows the text literally writes them at 110.
	var colours [2][6]uint8
	for i, off := range [...]uint64{112, 110} {
		for j := range colours[i] {
			colours[i][j] = b(off + uint64(j))
		}
	}
	fb.pickColours(&colours)
	return fb, true
}

func bootFramebuffer2() (fb fbInfo, ok bool) {
	info, ok := bootInfo2()
	if !ok {
		return fb, false
	}
	t, ok := info.Find(multiboot2.TagFramebuffer)
	if !ok {
		return fb, false
	}
	f, ok := t.Framebuffer()
	if !ok {
		return fb, false
	}
	fb = fbInfo{addr: f.Addr, pitch: f.Pitch, width: f.Width, height: f.Height, bpp: f.BPP, kind: f.Type}
	fb.pickColours(&f.Colours) // GRUB's place for them first, the specification's next
	return fb, true
}

// pickColours takes the first candidate colour fields (red position and
// size, green's, blue's) that make sense for the pixel size; failing
// both, the usual x8r8g8b8 layout is assumed.
func (fb *fbInfo) pickColours(candidates *[2][6]uint8) {
	for _, c := range candidates {
		fb.redPos, fb.redSize, fb.greenPos, fb.greenSize, fb.bluePos, fb.blueSize = c[0], c[1], c[2], c[3], c[4], c[5]
		if fb.colourFieldsValid() {
			return
		}
	}
	fb.redPos, fb.redSize, fb.greenPos, fb.greenSize, fb.bluePos, fb.blueSize = 16, 8, 8, 8, 0, 8
}

func (fb *fbInfo) colourFieldsValid() bool {
	ok := func(pos, size uint8) bool { return size > 0 && size <= 10 && int(pos)+int(size) <= int(fb.bpp) }
	return ok(fb.redPos, fb.redSize) && ok(fb.greenPos, fb.greenSize) && ok(fb.bluePos, fb.blueSize)
}
