// Package font is the kernel's 8x16 bitmap font for the screen console:
// printable ASCII (0x20..0x7e), drawn for hurdvm in the style of the PC's
// VGA fonts (two-pixel vertical strokes, capitals on rows 2..11, descenders
// to row 14, column 7 left blank as the gap between characters).
//
// glyphs.txt is the source: one block per character, a line "HEX CHAR"
// then 16 rows of 8 pixels, '#' set and '.' clear. data.go is generated
// from it (go test ./kernel/font -update) as a constant string, so the
// font is read-only data the kernel can use in handler context and before
// the Go runtime has initialised anything: Row allocates nothing, takes no
// lock and touches no variable.
package font

const (
	Width  = 8  // pixels per glyph row; bit 7 of a Row is the leftmost
	Height = 16 // rows per glyph

	first = 0x20
	last  = 0x7e
)

// Row returns row y (0 at the top) of character c's glyph, one bit per
// pixel with the leftmost pixel in bit 7. Characters outside printable
// ASCII are drawn as '?'; rows outside 0..Height-1 are blank.
func Row(c byte, y int) byte {
	if uint(y) >= Height {
		return 0
	}
	if c < first || c > last {
		c = '?'
	}
	return data[int(c-first)*Height+y]
}
