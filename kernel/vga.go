//go:build hurdvm

// The EGA/VGA text buffer: a cell is a character byte and an attribute
// byte (foreground in the low nibble, background above). GRUB hands it over
// under BIOS (gfxpayload=text), usually at 0xb8000, 80x25; memoryInit maps
// the legacy hole 0xa0000-0xfffff uncached in the physmap. Handler context
// (see screen.go).

package kernel

const (
	crtcIndex = 0x3d4
	crtcData  = 0x3d5
)

func vgaInit() bool {
	fb := screen.fb
	if fb.width == 0 || fb.height == 0 || fb.pitch < 2*fb.width || fb.addr < 0xa0000 || fb.addr >= 1<<20 {
		return false
	}
	screen.cols, screen.rows = int(fb.width), int(fb.height)
	// Hide the hardware cursor (CRTC cursor start register, bit 5): the
	// console does not move it, so it would blink where the BIOS left it.
	outb(crtcIndex, 0x0a)
	outb(crtcData, inb(crtcData)|0x20)
	return true
}

func vgaCell(x, y int) *uint16 {
	return (*uint16)(at(uint64(screenAddr() + uintptr(y)*uintptr(screen.fb.pitch) + uintptr(2*x))))
}

func vgaDraw(x, y int, ch, attr byte) { *vgaCell(x, y) = uint16(ch) | uint16(attr)<<8 }

func vgaClear() {
	for y := 0; y < int(screen.fb.height); y++ {
		for x := 0; x < int(screen.fb.width); x++ {
			*vgaCell(x, y) = ' ' | attrDefault<<8
		}
	}
}
