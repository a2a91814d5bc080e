//go:build hurdvm

// The screen console: what a person sees on a PC without a serial cable.
// The boot loader says what the screen is (multiboot framebuffer info): the
// EGA text buffer when GRUB boots by BIOS (vga.go), or a linear RGB
// framebuffer under UEFI (framebuffer.go, glyphs from hurdvm/kernel/font).
// With no description at all (QEMU's -kernel loader) the PC's text buffer
// at 0xb8000 is assumed, which is where a BIOS leaves the screen.
//
// The console keeps its own copy of the characters on screen (a grid of
// cells). Scrolling moves the grid up by one line and redraws only the
// cells whose contents changed: the screen's memory is never read, which
// on real hardware is slow (uncached or write-combining device memory).
// When a line ends, the line is coloured by what it says (PASS green,
// FAIL and panics red), so test results can be read at a glance.
//
// Handler context, like console.go: no allocation, no locks, no Go
// pointers stored; it also runs before the Go runtime's initialisation
// (kmain prints the banner first) and on the kernel's panic path, so a
// fault inside the screen code turns the screen off rather than recursing.

package kernel

const (
	screenMaxCols = 256
	screenMaxRows = 128

	attrDefault = 0x07 // light grey on black
	attrPass    = 0x0a // light green
	attrFail    = 0x0c // light red
	attrSkip    = 0x0e // yellow
	attrNote    = 0x0f // white
)

type screenKind uint8

const (
	screenNone screenKind = iota
	screenText            // EGA text buffer (vga.go)
	screenRGB             // linear framebuffer (framebuffer.go)
)

var screen struct {
	kind screenKind
	// live: the screen's memory is mapped where screenAddr points, so
	// drawing may begin; until then only the grid changes.
	live    bool
	busy    bool // inside screenPutc: a second entry is a fault in it
	assumed bool // the loader described no screen: the PC text buffer is assumed

	fb         fbInfo
	cols, rows int
	x, y       int // the cursor; x == cols means the line is full
	// cells holds what each position shows: the character in the low
	// byte (0 for blank) and its VGA attribute above (0 for the default).
	cells [screenMaxCols * screenMaxRows]uint16
}

// screenAddr is where the screen's memory is seen: through the physmap
// (the boot stage's map aliases the first 4 GiB there; memoryInit maps the
// framebuffer into the kernel's own physmap before it switches).
func screenAddr() uintptr { return uintptr(physmapBase + screen.fb.addr) }

// screenInit finds the screen the boot loader left and clears it.
func screenInit() {
	fb, ok := bootFramebuffer()
	if !ok {
		fb = fbInfo{addr: 0xb8000, pitch: 160, width: 80, height: 25, bpp: 16, kind: fbEGAText}
		screen.assumed = true
	}
	screen.fb = fb
	switch {
	case fb.kind == fbEGAText && vgaInit():
		screen.kind = screenText
	case fb.kind == fbRGB && rgbInit():
		screen.kind = screenRGB
	default:
		return // an indexed-colour framebuffer, or nonsense: serial only
	}
	screen.cols = min(screen.cols, screenMaxCols)
	screen.rows = min(screen.rows, screenMaxRows)
	// The boot map covers the first 4 GiB; a framebuffer above waits
	// for memoryInit.
	if screen.fb.addr+screenBytes() <= 4<<30 {
		screenGoLive()
	}
}

// screenBytes is the size of the screen's memory.
func screenBytes() uint64 { return uint64(screen.fb.pitch) * uint64(screen.fb.height) }

// screenGoLive starts drawing: the whole screen is cleared and the grid
// (what was printed while the screen was not yet mapped) drawn.
func screenGoLive() {
	screen.live = true
	switch screen.kind {
	case screenText:
		vgaClear()
	case screenRGB:
		rgbClear()
	}
	for i := 0; i < screen.cols*screen.rows; i++ {
		if screen.cells[i] != 0 {
			screenDraw(i)
		}
	}
}

func screenDraw(i int) {
	if !screen.live {
		return
	}
	v := screen.cells[i]
	ch, attr := byte(v), uint8(v>>8)
	if ch == 0 {
		ch = ' '
	}
	if attr == 0 {
		attr = attrDefault
	}
	x, y := i%screen.cols, i/screen.cols
	switch screen.kind {
	case screenText:
		vgaDraw(x, y, ch, attr)
	case screenRGB:
		rgbDraw(x, y, ch, attr)
	}
}

func screenSet(i int, v uint16) {
	if screen.cells[i] != v {
		screen.cells[i] = v
		screenDraw(i)
	}
}

func screenPutc(c byte) {
	if screen.kind == screenNone {
		return
	}
	if screen.busy {
		// The screen code faulted and the panic report came back here:
		// give up the screen, the serial port still works.
		screen.kind = screenNone
		return
	}
	screen.busy = true
	switch {
	case c == '\n':
		screenEndLine()
		screen.x = 0
		screenNewLine()
	case c == '\r':
		screen.x = 0
	case c == '\t':
		for {
			screenPrint(' ')
			if screen.x%8 == 0 || screen.x >= screen.cols {
				break
			}
		}
	case c == '\b':
		if screen.x > 0 {
			screen.x--
		}
	case c < ' ', c >= 0x80 && c < 0xc0:
		// Other control characters, and the continuation bytes of UTF-8:
		// a multi-byte character shows as one '?' (font.Row's fallback
		// for its first byte).
	default:
		screenPrint(c)
	}
	screen.busy = false
}

func screenPrint(c byte) {
	if screen.x >= screen.cols {
		screen.x = 0
		screenNewLine()
	}
	screenSet(screen.y*screen.cols+screen.x, uint16(c))
	screen.x++
}

// screenNewLine moves the cursor down, scrolling at the bottom.
func screenNewLine() {
	if screen.y+1 < screen.rows {
		screen.y++
		return
	}
	cols, n := screen.cols, screen.cols*(screen.rows-1)
	for i := 0; i < n; i++ {
		screenSet(i, screen.cells[i+cols])
	}
	for i := n; i < n+cols; i++ {
		screenSet(i, 0)
	}
}

// screenEndLine colours the line the cursor is on by what it says.
func screenEndLine() {
	row := screen.cells[screen.y*screen.cols : screen.y*screen.cols+screen.x]
	attr := uint8(0)
	switch {
	case lineHas(row, "--- PASS"), lineHas(row, "PASS"), lineHas(row, "ok  "),
		lineHas(row, "hurdvm: exit status 0"):
		attr = attrPass
	case lineHas(row, "--- FAIL"), lineHas(row, "FAIL"), lineHas(row, "panic: "),
		lineHas(row, "fatal error: "), lineHas(row, "hurdvm: kernel panic"),
		lineHas(row, "hurdvm: exit status "):
		attr = attrFail
	case lineHas(row, "--- SKIP"):
		attr = attrSkip
	case lineHas(row, "hurdvm: finished"):
		attr = attrNote
	}
	if attr == 0 {
		return
	}
	for i := range row {
		screenSet(screen.y*screen.cols+i, uint16(byte(row[i]))|uint16(attr)<<8)
	}
}

// lineHas reports whether the cells begin with prefix, after any
// indentation (go test -v indents the results of subtests).
func lineHas(row []uint16, prefix string) bool {
	for len(row) > 0 && byte(row[0]) == ' ' {
		row = row[1:]
	}
	if len(row) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if byte(row[i]) != prefix[i] {
			return false
		}
	}
	return true
}
