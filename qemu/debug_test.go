package qemu

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var debugMark = regexp.MustCompile(`^<!-- debug: (\S+) -->$`)

// readDebugging reads the README's "Debugging" blocks: a line
// `<!-- debug: NAME -->` before a fenced block makes its lines the block
// NAME (make, gdb, session).
func readDebugging(t *testing.T, readme string) map[string][]string {
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := debugMark.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if !sc.Scan() || !strings.HasPrefix(sc.Text(), "```") {
			t.Fatalf("README: %s is not followed by a fenced block", m[0])
		}
		for sc.Scan() && sc.Text() != "```" {
			blocks[m[1]] = append(blocks[m[1]], sc.Text())
		}
	}
	for _, name := range []string{"make", "gdb", "session"} {
		if len(blocks[name]) == 0 {
			t.Fatalf("README: no <!-- debug: %s --> block; the Debugging section lost its markers?", name)
		}
	}
	return blocks
}

// lockedBuffer collects a command's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// TestREADMEDebugging does what the README's "Debugging" section tells a
// newcomer, as written, in a copy of the repository: starts its make
// debug line, attaches its gdb line (on a free port instead of 1234, so
// that two runs on one host do not meet), types the session's commands
// and checks that gdb stops where the section says, with the frames it
// shows; then lets the test finish and checks that make debug ends with
// the program's status 0.
func TestREADMEDebugging(t *testing.T) {
	if err := Available(); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Fatal("gdb is not installed (make deps installs it): the README's Debugging section needs it")
	}
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readDebugging(t, filepath.Join(root, "README.md"))
	copyDir := copyRepo(t, root, "debug-")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	makeLine, _, _ := strings.Cut(blocks["make"][0], "#")
	makeCmd := exec.Command("sh", "-c", fmt.Sprintf("%s GDBPORT=%d", strings.TrimSpace(makeLine), port))
	makeCmd.Dir = copyDir
	makeOut := &lockedBuffer{}
	makeCmd.Stdout, makeCmd.Stderr = makeOut, makeOut
	makeCmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its QEMU goes with it
	if err := makeCmd.Start(); err != nil {
		t.Fatal(err)
	}
	makeDone := make(chan error, 1)
	go func() { makeDone <- makeCmd.Wait() }()
	t.Cleanup(func() { syscall.Kill(-makeCmd.Process.Pid, syscall.SIGKILL) })

	// The session: the (gdb) lines are commands; the rest is what gdb
	// prints, of which the test checks the breakpoint's function and the
	// backtrace's frames.
	gdbLine := strings.ReplaceAll(strings.Join(blocks["gdb"], "\n"), "\\\n", "")
	if !strings.Contains(gdbLine, ":1234") {
		t.Fatalf("the README's gdb line has no :1234: %s", gdbLine)
	}
	gdbLine = strings.ReplaceAll(gdbLine, ":1234", fmt.Sprintf(":%d", port))
	var script []string
	var want []*regexp.Regexp
	frame := regexp.MustCompile(`^#(\d+)\s+(\S+) \(`)
	for _, line := range blocks["session"] {
		switch {
		case strings.HasPrefix(line, "(gdb) "):
			script = append(script, "-ex '"+strings.TrimPrefix(line, "(gdb) ")+"'")
		case strings.HasPrefix(line, "Breakpoint "):
			fn, _, _ := strings.Cut(line, " (")
			want = append(want, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(fn)+` \(`))
		case frame.MatchString(line):
			m := frame.FindStringSubmatch(line)
			want = append(want, regexp.MustCompile(`(?m)^#`+m[1]+`\s+(0x[0-9a-f]+ in )?`+regexp.QuoteMeta(m[2])+` \(`))
		}
	}
	if len(script) < 2 || len(want) < 2 {
		t.Fatalf("the README's session has %d commands and %d lines to check", len(script), len(want))
	}
	// After the session: the breakpoint goes and the test runs to its end.
	gdbCmd := gdbLine + " -batch " + strings.Join(script, " ") + " -ex delete -ex continue"

	// gdb reads the test binary first, so it starts once make has built
	// it and says QEMU waits; it then retries the connection itself for
	// a while (gdb's tcp auto-retry), and the loop retries gdb past that.
	deadline := time.Now().Add(5 * time.Minute)
	waits := []byte(fmt.Sprintf("QEMU waits for gdb on :%d", port))
	for !bytes.Contains(makeOut.Bytes(), waits) {
		select {
		case err := <-makeDone:
			t.Fatalf("make debug ended (%v) before it said QEMU waits for gdb:\n%s", err, Tail(makeOut.Bytes(), 30))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("make debug did not say QEMU waits for gdb in 5 minutes:\n%s", Tail(makeOut.Bytes(), 30))
		}
	}
	var gdbOut []byte
	for {
		c := exec.Command("sh", "-c", gdbCmd)
		c.Dir = copyDir
		gdbOut, _ = c.CombinedOutput()
		if !bytes.Contains(gdbOut, []byte("Connection refused")) {
			break
		}
		select {
		case err := <-makeDone:
			t.Fatalf("make debug ended (%v) before gdb could attach:\n%s", err, Tail(makeOut.Bytes(), 30))
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatalf("gdb could not attach to :%d in 5 minutes; make debug printed:\n%s", port, Tail(makeOut.Bytes(), 30))
		}
	}
	if !bytes.Contains(gdbOut, []byte("Loading Go Runtime support.")) {
		t.Errorf("gdb did not load the Go runtime's helpers:\n%s", gdbOut)
	}
	for _, re := range want {
		if !re.Match(gdbOut) {
			t.Errorf("gdb's output has no line matching %s; it printed:\n%s", re, gdbOut)
		}
	}
	select {
	case err := <-makeDone:
		if err != nil {
			t.Errorf("make debug: %v after the program's end:\n%s", err, Tail(makeOut.Bytes(), 30))
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("make debug did not end 2 minutes after gdb let the test run:\n%s", Tail(makeOut.Bytes(), 30))
	}
	if !bytes.Contains(makeOut.Bytes(), []byte("hurdvm: exit status 0")) {
		t.Errorf("make debug's output has no %q:\n%s", "hurdvm: exit status 0", Tail(makeOut.Bytes(), 30))
	}
	t.Logf("gdb stopped where the README says:\n%s", Tail(gdbOut, 12))
}
