//go:build linux

package fs

import (
	"os"
	"strings"
	"testing"
)

// TestReplay is for chasing a difference TestLinuxParityRandom reports:
// REPLAY=file (the sequence it printed, one operation a line) runs the
// lines on both sides and logs both answers, marking the ones that
// differ; WATCH=path adds what lstat says of path after each line. It
// needs root, like the comparison.
//
//	REPLAY=/tmp/seq.txt WATCH=tmp/a go test -run TestReplay -v ./kernel/fs
func TestReplay(t *testing.T) {
	script := os.Getenv("REPLAY")
	if script == "" {
		t.Skip("REPLAY is not set")
	}
	text, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	base := hostTree(t, parityEntries())
	defer atHost(t, base)()
	host, mine := portableSides(t, base)
	defer host.closeAll()
	watch := os.Getenv("WATCH")
	for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		linux, _ := host.run(line)
		got, _ := mine.run(line)
		mark := ""
		if linux != got {
			mark = "   <<< differs"
		}
		if watch != "" {
			w1, _ := host.run("stat . " + watch + " AT_SYMLINK_NOFOLLOW")
			w2, _ := mine.run("stat . " + watch + " AT_SYMLINK_NOFOLLOW")
			mark += "   [" + watch + ": " + w1 + " | " + w2 + "]"
		}
		t.Logf("%-50s Linux: %s  fs: %s%s", line, linux, got, mark)
	}
}
