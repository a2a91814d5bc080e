//go:build hurdvm && hurdvmtest

package process

import (
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The system-call fuzzer from ring 3 (goprogs/sysfuzz): an ordinary Go
// program making calls 0 to 462 (and a few beyond) with adversarial
// arguments. make test runs a bounded number of calls at -smp 1 and
// -smp 4; make fuzz-proc DURATION=10m runs it long (qemuexec -process).

var (
	fuzzSeed  = flag.Uint64("process.fuzz-seed", 1, "sysfuzz's seed in TestFuzzFromRing3 (0: one from the clock)")
	fuzzCalls = flag.Int("process.fuzz-calls", 10000, "how many calls TestFuzzFromRing3 makes")
)

// fuzzRun runs sysfuzz with args and returns what it wrote, after
// checking that the kernel took every frame back.
func fuzzRun(t *testing.T, args ...string) (string, int, int) {
	t.Helper()
	warm(t)
	before := frames()
	s := run(t, "sysfuzz", args...)
	out := string(s.Output)
	framesBack(t, before)
	return out, s.ExitCode, s.Signal
}

// doneLine is the fuzzer's last line, or all it wrote.
func doneLine(out string) string {
	if i := strings.Index(out, "fuzz: done"); i >= 0 {
		return strings.TrimSpace(strings.SplitN(out[i:], "\n", 2)[0])
	}
	return out
}

// TestFuzzFromRing3: the fuzzer's calls leave the kernel alive, the
// fuzzer itself ends as it says (exit status 0 after "fuzz: done"),
// every frame comes back, and another process runs after it.
func TestFuzzFromRing3(t *testing.T) {
	out, code, sig := fuzzRun(t, "-seed", strconv.FormatUint(*fuzzSeed, 10), "-calls", strconv.Itoa(*fuzzCalls))
	if sig != 0 || code != 0 || !strings.Contains(out, "fuzz: done") {
		t.Fatalf("sysfuzz: exit status %d, signal %d, want exit status 0; it wrote:\n%s", code, sig, out)
	}
	t.Log(doneLine(out))
	if !strings.Contains(out, fmt.Sprintf("%d calls tried", *fuzzCalls)) {
		t.Errorf("sysfuzz did not say it made %d calls: %s", *fuzzCalls, doneLine(out))
	}
	if s := run(t, "hello"); s.Signal != 0 || s.ExitCode != 42 {
		t.Errorf("hello after the fuzzer: %v, want exit status 42", s)
	}
}

// TestFuzzKeepsOffItsOwnMemory: the values the fuzzer hands the kernel
// (arguments, and the arena's words that structures point through) name
// none of its own memory but what it means them to (keepOff). They did:
// 65536 and 1<<20, two of its boundary numbers, and some random uint32s
// named the Go runtime's first mappings, which hurdvm's first-fit mmap
// puts at 64 KiB (its mcache among them), and calls such as pipe,
// getrandom, fstat, clock_gettime and sigaltstack wrote there: the long
// runs' deaths (issue 17). -own-memory draws them as before.
func TestFuzzKeepsOffItsOwnMemory(t *testing.T) {
	out, code, sig := fuzzRun(t, "-seed", "11", "-values", "200000")
	if sig != 0 || code != 0 {
		t.Errorf("sysfuzz -values: exit status %d, signal %d, want 0; it wrote:\n%s", code, sig, out)
	}
	t.Log(strings.TrimSpace(out))
	out, code, _ = fuzzRun(t, "-seed", "11", "-values", "200000", "-own-memory")
	if code != 1 {
		t.Errorf("sysfuzz -values -own-memory: exit status %d, want 1 (values naming its own memory): the check finds nothing; it wrote:\n%s", code, out)
	}
}

var exitGroupLine = regexp.MustCompile(`fuzz: fatal: exit_group\((\d+)\)`)

// TestFuzzFatalEnds: after fuzzing, the call that ends the process on
// purpose ends it as Linux would: exit_group with its status, a tgkill of
// itself with SIGKILL, and an rt_sigreturn to a garbage frame that blocks
// every signal with SIGSEGV (the default action: the kernel refused the
// frame, or the return faulted, with SIGSEGV blocked by the frame's own
// mask). The last was the fuzzer's finding: the kernel checked the frame
// before it took the frame's mask, so the SIGSEGV went to the Go
// runtime's handler (exit status 2) instead.
func TestFuzzFatalEnds(t *testing.T) {
	for _, c := range []struct {
		mode string
		sig  int
	}{{"exit", 0}, {"kill", sigKILL}, {"sigreturn", sigSEGV}} {
		out, code, sig := fuzzRun(t, "-seed", "7", "-calls", "2000", "-fatal", c.mode)
		if !strings.Contains(out, "fuzz: done") {
			t.Errorf("-fatal %s: exit status %d, signal %d before the fuzzing ended; it wrote:\n%s", c.mode, code, sig, out)
			continue
		}
		want := fmt.Sprintf("signal %d", c.sig)
		got := fmt.Sprintf("signal %d", sig)
		if c.sig == 0 {
			m := exitGroupLine.FindStringSubmatch(out)
			if m == nil {
				t.Errorf("-fatal exit: no exit_group line in:\n%s", out)
				continue
			}
			want = "exit status " + m[1]
			got = fmt.Sprintf("exit status %d", code)
			if sig != 0 {
				got = fmt.Sprintf("signal %d", sig)
			}
		}
		if got != want {
			t.Errorf("-fatal %s: the process ended with %s, want %s; it wrote:\n%s", c.mode, got, want, out)
		} else {
			t.Logf("-fatal %s: %s", c.mode, got)
		}
	}
	if s := run(t, "hello"); s.Signal != 0 || s.ExitCode != 42 {
		t.Errorf("hello after the fuzzer: %v, want exit status 42", s)
	}
}
