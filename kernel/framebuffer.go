//go:build hurdvm

// The linear framebuffer GRUB sets up under UEFI (there is no text mode
// there): characters are drawn from hurdvm/kernel/font, 8x16 pixels (16x32
// on screens of 2560x1440 and more), in the 16 VGA colours packed as the
// loader describes the pixels (15, 16, 24 or 32 bits per pixel).
//
// The framebuffer is device memory: memoryInit maps it into the physmap
// write-combining (PAT entry 1 reprogrammed from write-through, used by
// nothing else; uncached on a CPU without PAT) and never executable.
// Handler context (see screen.go), except screenMap and screenMapped, which
// memoryInit calls once at boot.

package kernel

import (
	"hurdvm/kernel/font"
	"hurdvm/paging"
)

const (
	msrPAT = 0x277
	// patWC is PAT entry 1 (PWT set, PCD clear) as write-combining; the
	// power-on value of that entry is write-through (0x04).
	patEntry1 = 8
	patWC     = 0x01
	cpuidPAT  = 1 << 16 // CPUID.1:EDX
)

var rgb struct {
	bytesPP   int
	scale     int
	left, top int // the text area's origin in pixels (centred)
	palette   [16]uint32
	wc        bool // mapped write-combining (else uncached)
}

// vgaPalette is the PC's 16 text colours as 0xRRGGBB.
var vgaPalette = [16]uint32{
	0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500, 0xaaaaaa,
	0x555555, 0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff, 0xffff55, 0xffffff,
}

func rgbInit() bool {
	fb := screen.fb
	switch fb.bpp {
	case 15, 16, 24, 32:
	default:
		return false
	}
	rgb.bytesPP = int(fb.bpp+7) / 8
	if fb.width < font.Width || fb.height < font.Height || uint64(fb.pitch) < uint64(fb.width)*uint64(rgb.bytesPP) {
		return false
	}
	rgb.scale = 1
	if fb.width/font.Width > 200 && fb.height/font.Height > 80 {
		rgb.scale = 2 // keep text readable on large screens
	}
	cw, ch := font.Width*rgb.scale, font.Height*rgb.scale
	screen.cols = min(int(fb.width)/cw, screenMaxCols)
	screen.rows = min(int(fb.height)/ch, screenMaxRows)
	rgb.left = (int(fb.width) - screen.cols*cw) / 2
	rgb.top = (int(fb.height) - screen.rows*ch) / 2
	for i, c := range vgaPalette {
		rgb.palette[i] = packColour(uint8(c>>16), fb.redPos, fb.redSize) |
			packColour(uint8(c>>8), fb.greenPos, fb.greenSize) |
			packColour(uint8(c), fb.bluePos, fb.blueSize)
	}
	return true
}

// packColour puts an 8-bit colour component into a field of size bits at
// pos.
func packColour(v, pos, size uint8) uint32 {
	if size == 0 || pos >= 32 {
		return 0
	}
	c := uint32(v)
	if size < 8 {
		c >>= 8 - size
	} else {
		c <<= size - 8
	}
	return c << pos
}

func rgbPut(p uintptr, c uint32) {
	switch rgb.bytesPP {
	case 4:
		*(*uint32)(at(uint64(p))) = c
	case 3:
		*(*uint8)(at(uint64(p))) = uint8(c)
		*(*uint8)(at(uint64(p + 1))) = uint8(c >> 8)
		*(*uint8)(at(uint64(p + 2))) = uint8(c >> 16)
	case 2:
		*(*uint16)(at(uint64(p))) = uint16(c)
	}
}

func rgbDraw(x, y int, ch, attr byte) {
	fg, bg := rgb.palette[attr&15], rgb.palette[attr>>4]
	sc, bpp, pitch := rgb.scale, rgb.bytesPP, uintptr(screen.fb.pitch)
	row := screenAddr() + uintptr(rgb.top+y*font.Height*sc)*pitch + uintptr((rgb.left+x*font.Width*sc)*bpp)
	for gy := 0; gy < font.Height; gy++ {
		bits := font.Row(ch, gy)
		for r := 0; r < sc; r++ {
			if bpp == 4 && sc == 1 { // the usual case, unrolled
				px := (*[font.Width]uint32)(at(uint64(row)))
				for gx := 0; gx < font.Width; gx++ {
					c := bg
					if bits&(0x80>>gx) != 0 {
						c = fg
					}
					px[gx] = c
				}
			} else {
				p := row
				for gx := 0; gx < font.Width*sc; gx++ {
					c := bg
					if bits&(0x80>>(gx/sc)) != 0 {
						c = fg
					}
					rgbPut(p, c)
					p += uintptr(bpp)
				}
			}
			row += pitch
		}
	}
}

// rgbClear paints the whole framebuffer the background colour: what the
// firmware and GRUB left on it goes.
func rgbClear() {
	bg := rgb.palette[0]
	row := screenAddr()
	for y := 0; y < int(screen.fb.height); y++ {
		p := row
		for x := 0; x < int(screen.fb.width); x++ {
			rgbPut(p, bg)
			p += uintptr(rgb.bytesPP)
		}
		row += uintptr(screen.fb.pitch)
	}
}

// screenPhysEnd is the end of the screen's memory (0 for none), which the
// physmap must reach.
func screenPhysEnd() uint64 {
	if screen.kind == screenNone {
		return 0
	}
	return screen.fb.addr + screenBytes()
}

// screenMap maps the framebuffer into the kernel's physmap, before
// memoryInit switches to the kernel's tables. (The VGA text buffer needs
// nothing: memoryInit maps the legacy hole uncached.) If that fails the
// screen is given up, before the switch could make it fault.
func screenMap() {
	if screen.kind != screenRGB {
		return
	}
	cache := paging.CacheDisable
	if cpuFeatures.leaf1EDX&cpuidPAT != 0 {
		pat := rdmsr(msrPAT)
		pat = pat&^(0xff<<patEntry1) | patWC<<patEntry1
		wrmsr(msrPAT, pat)
		cache = paging.WriteThrough // PAT entry 1: now write-combining
		rgb.wc = true
	}
	flags := paging.Writable | paging.Global | cache
	if cpuFeatures.nx {
		flags |= paging.NoExecute
	}
	lo := screen.fb.addr &^ (pageSize - 1)
	hi := roundUp(screen.fb.addr+screenBytes(), pageSize)
	mapped := func(pa uint64) bool {
		_, _, _, ok := kernelPT.Translate(uintptr(physmapBase + pa))
		return ok
	}
	// Parts of it may be in the physmap already (a memory map that lists
	// the framebuffer as reserved): map the rest, then make all of it
	// write-combining.
	for pa := lo; pa < hi; {
		if mapped(pa) {
			pa += pageSize
			continue
		}
		end := pa + pageSize
		for end < hi && !mapped(end) {
			end += pageSize
		}
		if err := kernelPT.Map(uintptr(physmapBase+pa), pa, uintptr(end-pa), flags); err != nil {
			screenMapFailed(err)
			return
		}
		pa = end
	}
	if err := kernelPT.Protect(uintptr(physmapBase+lo), uintptr(hi-lo), flags); err != nil {
		screenMapFailed(err)
	}
}

func screenMapFailed(err error) {
	screen.kind = screenNone
	kprint("hurdvm: cannot map the framebuffer (")
	kprint(err.Error())
	kprint("): no screen console, serial only\n")
}

// screenMapped runs after the switch to the kernel's tables: a framebuffer
// that the boot map did not reach goes live now, and the console says
// what it drives.
func screenMapped() {
	if screen.kind != screenNone && !screen.live {
		screenGoLive()
	}
	switch screen.kind {
	case screenText:
		kprint("hurdvm: screen: text mode ")
		kprintDec(uint64(screen.cols))
		kprint("x")
		kprintDec(uint64(screen.rows))
		kprint(" at ")
		kprintHex(screen.fb.addr)
		if screen.assumed {
			kprint(" (assumed: the boot loader described no screen)")
		}
		kprint("\n")
	case screenRGB:
		kprint("hurdvm: screen: framebuffer ")
		kprintDec(uint64(screen.fb.width))
		kprint("x")
		kprintDec(uint64(screen.fb.height))
		kprint(", ")
		kprintDec(uint64(screen.fb.bpp))
		kprint(" bits per pixel at ")
		kprintHex(screen.fb.addr)
		if rgb.wc {
			kprint(" (write-combining), ")
		} else {
			kprint(" (uncached), ")
		}
		kprintDec(uint64(screen.cols))
		kprint("x")
		kprintDec(uint64(screen.rows))
		kprint(" characters\n")
	}
}
