//go:build hurdvm && hurdvmtest

package process

import (
	"strings"
	"testing"
	"time"
)

// The Go program (goprogs/gohello, built by make progs as for Linux): an
// ordinary static Go program in ring 3, its runtime's threads, futexes,
// signals, timers and memory served by the kernel's personality for the
// process. Each check prints "ok NAME"; make test boots these at -smp 1
// and -smp 4.

const sigABRT = 6

// runGo runs gohello with checks and fails the test unless it printed
// "ok CHECK" for each and exited with status; it returns the output.
func runGo(t *testing.T, status int, checks ...string) string {
	t.Helper()
	warm(t)
	before := frames()
	args := append(checks, "exit:"+itoa(status))
	s := run(t, "gohello", args...)
	out := string(s.Output)
	t.Logf("gohello %s:\n%s", strings.Join(args, " "), out)
	if s.Signal != 0 || s.ExitCode != status {
		t.Errorf("gohello ended so: %v, want exit status %d", s, status)
	}
	for _, c := range checks {
		if !strings.Contains(out, "ok "+c+"\n") {
			t.Errorf("gohello's check %s did not pass", c)
		}
	}
	framesBack(t, before)
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// TestGoHello: fmt's output, and os.Exit's status back as the process's.
func TestGoHello(t *testing.T) {
	out := runGo(t, 5, "hello")
	if !strings.Contains(out, "hello from Go go1.") || !strings.Contains(out, "on linux/amd64") {
		t.Errorf("no greeting in %q", out)
	}
}

// TestGoThreadsGCAndTimers: eight goroutines locked to eight threads at
// once (clone, gettid, futexes), collections while goroutines allocate
// (GC's stop-the-world preempts them), sleeps, a ticker and AfterFunc
// (the netpoller: epoll_pwait with deadlines, an eventfd).
func TestGoThreadsGCAndTimers(t *testing.T) {
	out := runGo(t, 0, "threads", "gc", "sleep")
	if !strings.Contains(out, "threads: 8 goroutines on 8 threads") {
		t.Errorf("threads: %q", out)
	}
}

// TestGoPreemption: a call-free loop on the only P gives it back only by
// async preemption: the runtime's tgkill(SIGURG), the handler's frame on
// the thread's signal stack, its edit of the context, rt_sigreturn.
func TestGoPreemption(t *testing.T) {
	runGo(t, 0, "preempt")
}

// TestGoNilDereferenceRecovered: a nil pointer store faults in ring 3;
// SIGSEGV goes to the runtime's handler, which makes it a panic the
// program recovers as a runtime.Error.
func TestGoNilDereferenceRecovered(t *testing.T) {
	out := runGo(t, 0, "segv", "segv")
	if !strings.Contains(out, "nil pointer dereference") {
		t.Errorf("segv: %q", out)
	}
}

// TestGoCrashWithThreadsEndsAlone: an unrecovered panic with
// GOTRACEBACK=crash, three threads spinning in ring 3 (on other CPUs at
// -smp 4): the runtime raises SIGABRT with its default action, every
// thread ends, every frame comes back, and a program runs after it.
func TestGoCrashWithThreadsEndsAlone(t *testing.T) {
	warm(t)
	before := frames()
	s := run(t, "gohello", "crash")
	if s.Signal != sigABRT {
		t.Errorf("crash: %v, want SIGABRT", s)
	}
	if !strings.Contains(string(s.Output), "panic: crash: the process ends by SIGABRT") {
		t.Errorf("crash wrote %q", s.Output)
	}
	framesBack(t, before)
	runGo(t, 0, "hello")
}

// TestGoKilledWithThreads: a process spinning on several threads, killed
// by the kernel's program, ends with SIGKILL and gives every frame back.
func TestGoKilledWithThreads(t *testing.T) {
	warm(t)
	before := frames()
	p := start(t, "gohello", "spin")
	defer p.Kill()
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := p.Status()
		if err != nil {
			t.Fatal(err)
		}
		if !st.Running {
			t.Fatal("spin ended")
		}
		if st.OutputLen >= uint64(len("spinning\n")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("spin never said it spins")
		}
		time.Sleep(time.Millisecond)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if s := wait(t, p); s.Signal != sigKILL || string(s.Output) != "spinning\n" {
		t.Errorf("spin: %v, wrote %q", s, s.Output)
	}
	framesBack(t, before)
}

// TestGoTestBinary: go test -c's binary of an ordinary package
// (kernel/random, host-tested) passes as a process: testing's flags, its
// tests' goroutines and allocation checks, its PASS and exit status 0.
func TestGoTestBinary(t *testing.T) {
	warm(t)
	before := frames()
	s := run(t, "random.test", "-test.v")
	out := string(s.Output)
	if s.Signal != 0 || s.ExitCode != 0 || !strings.HasSuffix(out, "\nPASS\n") ||
		!strings.Contains(out, "--- PASS: TestOutputLooksRandom") {
		t.Errorf("random.test -test.v: %v, wrote:\n%s", s, out)
	}
	s = run(t, "random.test", "-test.run=^TestNoSuchTest$", "-test.count=x")
	if s.Signal != 0 || s.ExitCode != 2 {
		t.Errorf("random.test with a bad flag: %v, want exit status 2", s)
	}
	framesBack(t, before)
}

// TestGoUname: uname (os/exec's tests read the kernel's version) and
// getcpu answer a process as they answer the kernel's program.
func TestGoUname(t *testing.T) {
	runFiles(t, "uname")
}

// TestGoMincore: mincore answers a process as Linux does (the runtime's
// TestMincoreErrorSign): EINVAL for an unaligned address, a written page
// resident, the kernel's heap window ENOMEM, a NULL vector EFAULT.
func TestGoMincore(t *testing.T) {
	runFiles(t, "mincore")
}

// TestGoKeepCaps: prctl's PR_SET_KEEPCAPS on every thread
// (syscall.AllThreadsSyscall, as os/signal's TestAllThreadsSyscallSignals)
// and PR_GET_KEEPCAPS reading it back; 2 is EINVAL.
func TestGoKeepCaps(t *testing.T) {
	runFiles(t, "keepcaps")
}

// TestGoProtNone: mprotect(PROT_NONE) of a written page faults every
// access, its copy-in is EFAULT, and read/write access gives the byte back
// (mm's Protect withholding the page's frame).
func TestGoProtNone(t *testing.T) {
	runGo(t, 0, "protnone")
}
