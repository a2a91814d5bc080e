//go:build hurdvm

// The screen console: what a person sees on a PC without a serial cable.
// The boot loader says what the screen is (multiboot framebuffer info): the
// EGA text buffer when GRUB boots by BIOS (vga.go), or a linear RGB
// framebuffer under UEFI (framebuffer.go, glyphs from hurdvm/kernel/font).
// With no description at all (QEMU's -kernel loader) the PC's text buffer
// at 0xb8000 is assumed, which is where a BIOS leaves the screen.
//
// The console keeps its own copy of the characters on screen (a grid of
// cells) and a second copy of what the screen's memory shows. Printing
// changes only the grid: scrolling moves the grid's first row, not its
// cells, and marks every screen row dirty. Drawing (screenDrawSome) then
// brings the screen's memory up to the grid, one changed cell at a time,
// until a deadline: the console buffer (consolebuf.go) draws in bounded
// steps with interrupts off, and a burst of output that scrolls many lines
// is drawn once, as it ends up, instead of once per line. The screen's
// memory is never read, which on real hardware is slow (uncached or
// write-combining device memory). When a line ends, the line is coloured
// by what it says (PASS green, FAIL and panics red), so test results can be
// read at a glance.
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
	busy    bool // inside the screen code: a second entry is a fault in it
	assumed bool // the loader described no screen: the PC text buffer is assumed

	fb         fbInfo
	cols, rows int
	x, y       int // the cursor, in screen rows; x == cols means the line is full
	// top is the grid row shown on the screen's first row: screen row y
	// is grid row (top+y) % rows.
	top int
	// cells holds what each position shows, row by row of the grid: the
	// character in the low byte (0 for blank) and its VGA attribute above
	// (0 for the default).
	cells [screenMaxCols * screenMaxRows]uint16
	// drawn is what the screen's memory shows, in screen order, in the
	// same encoding; dirty marks the screen rows where it may differ from
	// the grid, and stale says whether any does (the question every
	// return from the kernel asks).
	drawn [screenMaxCols * screenMaxRows]uint16
	dirty [screenMaxRows / 64]uint64
	stale bool
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
	clear(screen.drawn[:])
	screenAllDirty()
	screenDrawAll()
}

// screenRow is the grid row shown on screen row y.
func screenRow(y int) []uint16 {
	g := screen.top + y
	if g >= screen.rows {
		g -= screen.rows
	}
	return screen.cells[g*screen.cols : (g+1)*screen.cols]
}

func screenSet(x, y int, v uint16) {
	if row := screenRow(y); row[x] != v {
		row[x] = v
		screen.dirty[y/64] |= 1 << (y % 64)
		screen.stale = true
	}
}

func screenAllDirty() {
	for y := 0; y < screen.rows; y++ {
		screen.dirty[y/64] |= 1 << (y % 64)
	}
	screen.stale = true
}

// screenDirty reports whether the screen's memory lags the grid.
func screenDirty() bool { return screen.stale }

// screenDrawSome draws the cells whose contents changed since they were
// last drawn, until the TSC passes deadline. Each call makes progress,
// however late it starts: it draws a cell, or finds a dirty row that
// needs none, before it looks at the time. It reports whether the screen's
// memory now shows the whole grid.
func screenDrawSome(deadline uint64) bool {
	if screen.kind == screenNone || !screen.live {
		clear(screen.dirty[:])
		screen.stale = false
		return true
	}
	if !screenEnter() {
		return true
	}
	progress := false
	for y := 0; y < screen.rows; y++ {
		if screen.dirty[y/64]&(1<<(y%64)) == 0 {
			continue
		}
		if progress && rdtsc() > deadline {
			screen.busy = false
			return false
		}
		row, drawn := screenRow(y), screen.drawn[y*screen.cols:(y+1)*screen.cols]
		for x, v := range row {
			if drawn[x] == v {
				continue
			}
			if progress && rdtsc() > deadline {
				screen.busy = false
				return false // the row stays dirty: the next call rescans it
			}
			screenDraw(x, y, v)
			drawn[x] = v
			progress = true
		}
		screen.dirty[y/64] &^= 1 << (y % 64)
		progress = true
	}
	screen.stale = false
	screen.busy = false
	return true
}

// screenEnter marks the screen code busy, or reports false when it already
// was: the screen code faulted and the panic report came back here. The
// screen is then given up; the serial port still works.
func screenEnter() bool {
	if screen.busy {
		screen.kind = screenNone
		return false
	}
	screen.busy = true
	return true
}

// screenDrawAll brings the screen's memory up to the grid, however long
// that takes.
func screenDrawAll() { screenDrawSome(^uint64(0)) }

func screenDraw(x, y int, v uint16) {
	ch, attr := byte(v), uint8(v>>8)
	if ch == 0 {
		ch = ' '
	}
	if attr == 0 {
		attr = attrDefault
	}
	switch screen.kind {
	case screenText:
		vgaDraw(x, y, ch, attr)
	case screenRGB:
		rgbDraw(x, y, ch, attr)
	}
}

// screenPutc prints c into the grid; drawing it is screenDrawSome's.
func screenPutc(c byte) {
	if screen.kind == screenNone {
		return
	}
	if !screenEnter() {
		return
	}
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
	screenSet(screen.x, screen.y, uint16(c))
	screen.x++
}

// screenNewLine moves the cursor down, scrolling at the bottom: the grid's
// first row becomes its last, blank, and every screen row has changed.
func screenNewLine() {
	if screen.y+1 < screen.rows {
		screen.y++
		return
	}
	last := screen.top
	screen.top++
	if screen.top == screen.rows {
		screen.top = 0
	}
	clear(screen.cells[last*screen.cols : (last+1)*screen.cols])
	screenAllDirty()
}

// screenEndLine colours the line the cursor is on by what it says.
func screenEndLine() {
	line := screenRow(screen.y)[:screen.x]
	attr := uint8(0)
	switch {
	case lineHas(line, "--- PASS"), lineHas(line, "PASS"), lineHas(line, "ok  "),
		lineHas(line, "hurdvm: exit status 0"):
		attr = attrPass
	case lineHas(line, "--- FAIL"), lineHas(line, "FAIL"), lineHas(line, "panic: "),
		lineHas(line, "fatal error: "), lineHas(line, "hurdvm: kernel panic"),
		lineHas(line, "hurdvm: exit status "):
		attr = attrFail
	case lineHas(line, "--- SKIP"):
		attr = attrSkip
	case lineHas(line, "hurdvm: finished"):
		attr = attrNote
	}
	if attr == 0 {
		return
	}
	for x := range line {
		screenSet(x, screen.y, uint16(byte(line[x]))|uint16(attr)<<8)
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
