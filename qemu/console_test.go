package qemu

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hurdvm/qemu/consolelines"
)

var consoleBoot struct {
	once sync.Once
	res  Result
	err  error
}

// bootConsole boots testdata/console once for the tests that read its
// console. The guest's clock counts instructions (-icount, without
// sleeping through idle time), so that its figures measure the kernel's
// work, not what else the host runs.
func bootConsole(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("boots QEMU; -short skips it")
	}
	consoleBoot.once.Do(func() {
		consoleBoot.err = errors.New("building testdata/console failed in an earlier test") // until the boot says otherwise
		image := buildKernel(t, "console")
		consoleBoot.res, consoleBoot.err = Run(context.Background(), Config{Image: image, Timeout: 2 * time.Minute,
			Extra: []string{"-icount", "shift=0,sleep=off"}})
	})
	res := consoleBoot.res
	if consoleBoot.err != nil {
		t.Fatal(consoleBoot.err)
	}
	out := string(res.Output)
	if res.Status != 0 || !strings.Contains(out, "\nconsole: done\n") {
		t.Fatalf("status %d\n%s", res.Status, Tail(res.Output, 20))
	}
	return out
}

// TestConsoleKeepsOrder: four threads write 256 KiB at once while a
// goroutine's 1 ms sleeps must keep waking on time. Every line must arrive
// intact, in order, each write's lines together. The longest stretch of
// console work with interrupts off must stay within consoleStretchBound
// (the kernel aims at about 20 µs on a PC), and no sleep may wake more
// than sleepBound late (the scheduler's 10 ms slices among the writers
// account for most of what it measures).
func TestConsoleKeepsOrder(t *testing.T) {
	t.Parallel()
	const (
		consoleStretchBound = 100 * time.Microsecond
		sleepBound          = 100 * time.Millisecond
	)
	out := bootConsole(t)
	n, err := consolelines.Check([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if n < 256<<10 {
		t.Errorf("%d bytes of the writers' lines arrived, want 256 KiB", n)
	}
	// The 64 KiB write: 1024 lines of 63 dots.
	if dots := strings.Count(out, strings.Repeat(".", 63)+"\n"); dots != 1024 {
		t.Errorf("%d of the 64 KiB write's 1024 lines arrived", dots)
	}
	fig := figures(t, out)
	late, write, longest := time.Duration(fig["sleep-late-ns"]), time.Duration(fig["write64k-ns"]), time.Duration(fig["longest-off-ns"])
	t.Logf("guest time: 1 ms sleeps at most %v late; a 64 KiB write %v; console work with interrupts off at most %v; %d drain steps, %d waits",
		late, write, longest, fig["steps"], fig["waits"])
	if late > sleepBound {
		t.Errorf("a 1 ms sleep woke %v late", late)
	}
	if longest > consoleStretchBound || longest == 0 {
		t.Errorf("console work kept interrupts off for %v", longest)
	}
}

var figureLine = regexp.MustCompile(`(?m)^console: (\S+=\d+ ?)+$`)

// figures reads the program's name=value report.
func figures(t *testing.T, out string) map[string]int64 {
	line := figureLine.FindString(out)
	if line == "" {
		t.Fatal("no figures in the program's report")
	}
	fig := map[string]int64{}
	for _, f := range strings.Fields(strings.TrimPrefix(line, "console: ")) {
		k, v, _ := strings.Cut(f, "=")
		fig[k], _ = strconv.ParseInt(v, 10, 64)
	}
	return fig
}

// TestUnimplementedSystemCallNamed: the kernel names an unimplemented
// system call by its Linux name, once however often it is called.
func TestUnimplementedSystemCallNamed(t *testing.T) {
	t.Parallel()
	out := bootConsole(t)
	if n := strings.Count(out, "hurdvm: unimplemented system call 165 (mount)\n"); n != 1 {
		t.Errorf("mount named %d times, want once", n)
	}
	if n := strings.Count(out, "hurdvm: unimplemented system call 500\n"); n != 1 {
		t.Errorf("system call 500 (no name) reported %d times, want once", n)
	}
}
