// Package consolelines is the text testdata/consolewrite prints from
// several threads at once, and the check the host runs on the console it
// captured: every line of every writer arrives, intact and in order, and
// the lines of one write(2) call arrive together.
package consolelines

import (
	"bytes"
	"fmt"
	"strings"
)

// Writers is how many threads write at once.
const Writers = 4

// Chunk is the c-th write of writer w: 1 to 40 lines (so from about 50
// bytes to about 4 KiB, more than one piece of the kernel's copying now
// and then), each "w<w> c<c> l<l>/<lines> " and a payload that depends
// on all three.
func Chunk(w, c int) []byte {
	var b bytes.Buffer
	n := lines(w, c)
	for l := 0; l < n; l++ {
		fmt.Fprintf(&b, "w%d c%d l%d/%d %s\n", w, c, l, n, payload(w, c, l))
	}
	return b.Bytes()
}

func lines(w, c int) int { return 1 + (w*131+c*71)%40 }

func payload(w, c, l int) string {
	return strings.Repeat(string(rune('a'+(w*7+c+l)%26)), 40+(c*31+l*17)%60)
}

// Check reads the console and returns how many bytes of writers' lines it
// found, or what is wrong: a line garbled, missing or out of order, or a
// write's lines not together. Other lines (the kernel's, the program's
// own) may come between two writes, not inside one.
func Check(console []byte) (int, error) {
	next := make([]struct{ c, l int }, Writers) // what each writer must print next
	open := -1                                  // the writer whose chunk is half printed
	total := 0
	for i, line := range strings.Split(string(console), "\n") {
		if !strings.HasPrefix(line, "w") || !strings.Contains(line, " c") {
			if open >= 0 && line != "" {
				return total, fmt.Errorf("console line %d %q inside writer %d's write", i+1, line, open)
			}
			continue
		}
		var w, c, l, n int
		var p string
		if k, err := fmt.Sscanf(line, "w%d c%d l%d/%d %s", &w, &c, &l, &n, &p); k != 5 || err != nil || w < 0 || w >= Writers {
			return total, fmt.Errorf("console line %d garbled: %q", i+1, line)
		}
		want := next[w]
		if open >= 0 && open != w {
			return total, fmt.Errorf("console line %d: writer %d's line inside writer %d's write", i+1, w, open)
		}
		if c != want.c || l != want.l || n != lines(w, c) || p != payload(w, c, l) {
			return total, fmt.Errorf("console line %d is %q, want writer %d's chunk %d line %d", i+1, line, w, want.c, want.l)
		}
		total += len(line) + 1
		if l+1 == n {
			next[w] = struct{ c, l int }{c + 1, 0}
			open = -1
		} else {
			next[w].l++
			open = w
		}
	}
	if open >= 0 {
		return total, fmt.Errorf("writer %d's last write is cut off", open)
	}
	return total, nil
}
