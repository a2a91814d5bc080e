// Package syscalls is the table of the Linux system calls hurdvm serves:
// each call with good arguments and with bad ones (pointers the program may
// not use, bad descriptors, flags, sizes), and the answer Linux 6.1 gives.
// Its tests (syscalls_test.go and the files beside it) run the table on
// whichever kernel they run on: built with -tags hurdvm they are an
// in-kernel test package booted by qemuexec, built without it an ordinary
// Linux test binary, which `make test-linux-parity` (cmd/parity) boots as
// /init under Debian's Linux 6.1 in the same QEMU machine. Each row prints
// one line (FormatRow), so that cmd/parity can compare the two kernels row
// by row.
//
// What this package holds beside the tests is what cmd/parity shares with
// them: the line format, the list of differences from Linux that are
// explained (differences.txt), and the assembly that some rows need
// (calls that switch stacks or never return where they were made).
package syscalls

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// rowPrefix starts every row line on the console.
const rowPrefix = "syscall-row "

// FormatRow is the console line of a row: its name and its answer, each one
// word.
func FormatRow(name, answer string) string {
	return rowPrefix + name + " " + answer
}

// ParseRows reads the row lines of a console into name -> answer. A line
// may carry other output before its prefix (a program's write without a
// newline ahead of it); the last line of a row wins.
func ParseRows(console []byte) map[string]string {
	rows := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(console))
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		i := strings.Index(line, rowPrefix)
		if i < 0 {
			continue
		}
		f := strings.Fields(line[i+len(rowPrefix):])
		if len(f) == 2 {
			rows[f[0]] = f[1]
		}
	}
	return rows
}

// Difference is a row where hurdvm answers otherwise than Linux on purpose.
type Difference struct {
	Answer string // hurdvm's answer
	Reason string
}

// ParseDifferences reads differences.txt: one row a line, "NAME ANSWER
// REASON...", with # comments and blank lines.
func ParseDifferences(text string) (map[string]Difference, error) {
	d := map[string]Difference{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("differences.txt:%d: want NAME ANSWER REASON, got %q", i+1, line)
		}
		if _, dup := d[f[0]]; dup {
			return nil, fmt.Errorf("differences.txt:%d: %s listed twice", i+1, f[0])
		}
		d[f[0]] = Difference{Answer: f[1], Reason: strings.Join(f[2:], " ")}
	}
	return d, nil
}
