//go:build hurdvm && hurdvmtest

// Package process tests processes (issue 17, first slice): programs that
// run in ring 3, each in a task of its own, loaded from the test's
// directory (testdata, built from progs/ by make; the kernel's test hooks
// give the addresses to try). Each test runs small
// static programs in assembly and checks what they wrote, how they ended
// and that their frames came back; the kernel and the other processes go
// on whatever one of them does.
package process

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"hurdvm/kernel"
	"hurdvm/mm"
	"hurdvm/tests/internal/probe"
)

const (
	sigILL  = 4
	sigTRAP = 5
	sigKILL = 9
	sigFPE  = 8
	sigSEGV = 11

	eFAULT = -14
)

// testHooks runs first in the tests that take the kernel's mechanisms
// off on request (hooks_test.go, in test kernels).
var testHooks = func(t *testing.T) {}

func TestMain(m *testing.M) {
	for _, p := range []string{"hello", "hello-high", "args", "peek", "efault", "mmap", "spin", "fault", "regs", "smap", "sig", "gohello", "gofiles", "procapi", "sysfuzz", "random.test"} {
		if _, err := os.Stat(prog(p)); err != nil {
			fmt.Fprintf(os.Stderr, "%v: the test programs are built by make (make progs, which make test-qemu runs)\n", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

func prog(name string) string { return "testdata/" + name + ".elf" }

// start starts a program with args.
func start(t *testing.T, name string, args ...string) *kernel.Process {
	t.Helper()
	p, err := kernel.StartProcess(prog(name), &kernel.ProcessOptions{Args: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// wait waits for p, for at most a minute (then it kills it and fails).
func wait(t *testing.T, p *kernel.Process) *kernel.ProcessState {
	t.Helper()
	type result struct {
		s   *kernel.ProcessState
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := p.Wait()
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.s
	case <-time.After(time.Minute):
		p.Kill()
		t.Fatalf("process %d did not end within a minute", p.PID())
	}
	return nil
}

// run runs a program to its end.
func run(t *testing.T, name string, args ...string) *kernel.ProcessState {
	t.Helper()
	return wait(t, start(t, name, args...))
}

// frames is what the VM must conserve: free frames, plus the Go heap's and
// the kernel's own records' (probe.TaskFrames).
func frames() uint64 { return probe.TaskFrames(mm.ReadStats()) }

// framesBack fails the test unless the frames counted before are all back.
func framesBack(t *testing.T, before uint64) {
	t.Helper()
	if after := frames(); after != before {
		t.Errorf("frames: %d before the processes, %d after their end (%+d)", before, after, int64(after)-int64(before))
	}
}

// warm runs one process first, so that what the kernel keeps once taken
// (a thread's record frame, the process table's pages) is not counted as
// a leak.
func warm(t *testing.T) {
	t.Helper()
	if s := run(t, "hello"); s.ExitCode != 42 {
		t.Fatalf("hello: %v", s)
	}
}

func TestHello(t *testing.T) {
	warm(t)
	before := frames()
	s := run(t, "hello")
	if s.Signal != 0 || s.ExitCode != 42 {
		t.Errorf("hello ended so: %v, want exit status 42", s)
	}
	if string(s.Output) != "hello\n" || s.OutputLen != 6 {
		t.Errorf("hello wrote %q (%d bytes), want %q", s.Output, s.OutputLen, "hello\n")
	}
	if s.PID <= 1 {
		t.Errorf("pid %d", s.PID)
	}
	framesBack(t, before)
}

// TestWholeLowerHalf: a process owns the lower half, so programs run where
// they are linked: hello at the ordinary 0x400000 (ld's default, in the
// first 4 GiB where the kernel's image was once), hello-high in the task
// window, at 0x400000400000.
func TestWholeLowerHalf(t *testing.T) {
	warm(t)
	before := frames()
	for _, c := range []struct {
		name string
		base uint64
	}{{"hello", 0x400000}, {"hello-high", 0x400000400000}} {
		f, err := elf.Open(prog(c.name))
		if err != nil {
			t.Fatal(err)
		}
		low := ^uint64(0)
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD {
				low = min(low, p.Vaddr)
			}
		}
		f.Close()
		if low != c.base {
			t.Errorf("%s is linked at %#x, not at %#x (make progs)", c.name, low, c.base)
		}
		s := run(t, c.name)
		if s.Signal != 0 || s.ExitCode != 42 || string(s.Output) != "hello\n" {
			t.Errorf("%s (linked at %#x): %v, wrote %q; want exit status 42 and %q", c.name, low, s, s.Output, "hello\n")
		}
	}
	framesBack(t, before)
}

// TestArgsAndEnvironment: the stack the loader built, read by the program
// in ring 3.
func TestArgsAndEnvironment(t *testing.T) {
	p, err := kernel.StartProcess(prog("args"), &kernel.ProcessOptions{
		Args: []string{"one", "two words", ""}, Env: []string{"HOME=/", "X=1"}})
	if err != nil {
		t.Fatal(err)
	}
	s := wait(t, p)
	want := prog("args") + "\none\ntwo words\n\nHOME=/\nX=1\n"
	if s.ExitCode != 4 || string(s.Output) != want {
		t.Errorf("args: %v, wrote %q; want exit status 4 (argc) and %q", s, s.Output, want)
	}
}

// TestRegistersSurvive: system calls, timer interrupts and other threads
// (this test's goroutines, the GC) between a process's instructions leave
// its registers and its SSE state as they were.
func TestRegistersSurvive(t *testing.T) {
	stop := make(chan bool)
	defer close(stop)
	go func() { // another thread wanting the CPU, with its own FPU state
		f := 1.0
		for {
			select {
			case <-stop:
				return
			default:
				f = f*1.0000001 + 1e-9
				_ = f
			}
		}
	}()
	if s := run(t, "regs"); s.Signal != 0 || s.ExitCode != 0 {
		t.Errorf("regs: %v (10-20: a general register changed, 30: an xmm register)", s)
	}
}

var sink uint64

// TestKernelMemoryIsOutOfReach: a process touching the kernel (its image,
// data and text, the physmap, the Go heap, the local APIC), a
// non-canonical address or its own unmapped page gets SIGSEGV and ends
// alone; the kernel's memory is as it was, and the frames come back.
func TestKernelMemoryIsOutOfReach(t *testing.T) {
	testHooks(t)
	warm(t)
	heap := new(uint64)
	*heap = 0x1234
	probeAddr := kernel.ProbeAddress()
	text := kernel.Image().Start + mm.PageSize // the ELF header's page, then the text
	before := frames()
	cases := []struct {
		what, mode string
		addr       uint64
		pageFault  bool // the fault is a #PF at addr (else a #GP: no address)
	}{
		{"the kernel's data", "r", uint64(probeAddr), true},
		{"the kernel's data (write)", "w", uint64(probeAddr), true},
		{"the kernel's text", "r", text, true},
		{"the kernel's text (execute)", "x", text, true},
		{"the physmap", "r", kernel.PhysmapBase + 0x100000, true},
		{"the physmap (write)", "w", kernel.PhysmapBase + 0x100000, true},
		{"the Go heap", "r", uint64(uintptr(unsafe.Pointer(heap))), true},
		{"the local APIC", "r", 0xfee00000, true},
		{"its own unmapped page", "r", 0x500000000000, true},
		{"NULL", "r", 0, true},
		{"a non-canonical address", "r", 0x0000800000000000, false},
	}
	for _, c := range cases {
		s := run(t, "peek", c.mode, fmt.Sprintf("%x", c.addr))
		switch {
		case s.Signal != sigSEGV:
			t.Errorf("%s (%s %#x): %v, want SIGSEGV; it wrote %x", c.what, c.mode, c.addr, s, s.Output)
		case c.pageFault && s.FaultAddr != c.addr:
			t.Errorf("%s (%s %#x): SIGSEGV at address %#x", c.what, c.mode, c.addr, s.FaultAddr)
		}
	}
	if w := kernel.ProbeValue(); w != kernel.ProbeWord {
		t.Errorf("the kernel's data page holds %#x after a process wrote there, not %#x", w, uint64(kernel.ProbeWord))
	}
	if *heap != 0x1234 {
		t.Errorf("the Go heap word holds %#x", *heap)
	}
	framesBack(t, before)
}

// TestOtherProcessesAreOutOfReach: a process spins in ring 3 with a page
// of its own mapped; another reading that address gets SIGSEGV (its own
// space has nothing there), the kernel goes on beside the spinner (the
// timer preempts ring 3: this goroutine sleeps and wakes), and the
// spinner, killed, ends with SIGKILL and gives its frames back.
func TestOtherProcessesAreOutOfReach(t *testing.T) {
	warm(t)
	before := frames()
	spin := start(t, "spin")
	defer spin.Kill()
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := spin.Status()
		if err != nil {
			t.Fatal(err)
		}
		if !st.Running {
			t.Fatal("spin ended")
		}
		if st.OutputLen >= 6 {
			if st.Allocates != 1 || st.Stats.PageFaults == 0 {
				t.Errorf("spin's status: %+v; want its one mmap and its faults", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("spin never said ready")
		}
		time.Sleep(time.Millisecond)
	}
	// The kernel's goroutines run beside the spinner.
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		time.Sleep(20 * time.Millisecond)
		if d := time.Since(t0); d > 5*time.Second {
			t.Errorf("a 20 ms sleep beside a spinning process took %v", d)
		}
	}
	s := run(t, "peek", "r", "500000000000")
	if s.Signal != sigSEGV || s.FaultAddr != 0x500000000000 {
		t.Errorf("reading another process's page: %v, want SIGSEGV at 0x500000000000", s)
	}
	if err := spin.Kill(); err != nil {
		t.Fatal(err)
	}
	ss := wait(t, spin)
	if ss.Signal != sigKILL || string(ss.Output) != "ready\n" || ss.Allocates != 1 {
		t.Errorf("spin: %v, wrote %q, %d allocations", ss, ss.Output, ss.Allocates)
	}
	framesBack(t, before)
}

// TestFaultsEndTheProcessAlone: what ring 3 may not do (privileged
// instructions, the kernel's gates, the kernel's text) and what faults
// anywhere each end the process with Linux's signal; int3 is a trap a
// program may make (SIGTRAP: the runtime's debugCall tests hand it to
// their handler, which a #GP's SIGSEGV crashed).
func TestFaultsEndTheProcessAlone(t *testing.T) {
	warm(t)
	before := frames()
	cases := []struct {
		mode, what string
		sig        int
	}{
		{"u", "ud2", sigILL},
		{"d", "divide by zero", sigFPE},
		{"c", "cli", sigSEGV},
		{"h", "hlt", sigSEGV},
		{"i", "in", sigSEGV},
		{"m", "rdmsr", sigSEGV},
		{"s", "swapgs", sigSEGV},
		{"k", "mov from cr3", sigSEGV},
		{"b", "int3", sigTRAP}, // its gate is ring 3's, as Linux's: the runtime's debugCall uses it
		{"g", "int 0x20", sigSEGV},
		{"n", "a jump to a non-canonical address", sigSEGV},
		{"t", "a return into the kernel's text", sigSEGV},
	}
	for _, c := range cases {
		if s := run(t, "fault", c.mode); s.Signal != c.sig {
			t.Errorf("%s: %v, want signal %d", c.what, s, c.sig)
		}
	}
	if s := run(t, "fault", "e"); s.Signal != 0 || s.ExitCode != 0 {
		t.Errorf("a kernel-program call from a process: %v, want ENOSYS (exit status 0)", s)
	}
	framesBack(t, before)
}

// TestBadPointersAreEFAULT: system calls given pointers a process may not
// pass answer EFAULT, for copies in and out; one given a good pointer
// works.
func TestBadPointersAreEFAULT(t *testing.T) {
	s := run(t, "efault")
	if s.Signal != 0 || s.ExitCode != 0 {
		t.Fatalf("efault: %v", s)
	}
	what := []string{"write: the kernel's image", "write: the heap window", "write: the physmap",
		"write: non-canonical (0x800000000000)", "write: non-canonical (0x8000000000000000)",
		"write: a range leaving the lower half", "write: a range that wraps", "write: NULL",
		"write: below its window (0x8000)", "write: its own unmapped page", "write: its own PROT_NONE page",
		"getrandom: its own text (read-only)", "getrandom: the kernel's image",
		"clock_gettime: the physmap", "clock_gettime: non-canonical", "clock_gettime: its own memory"}
	if len(s.Output) != 8*len(what) {
		t.Fatalf("efault wrote %d bytes, want %d", len(s.Output), 8*len(what))
	}
	for i, w := range what {
		r := int64(binary.LittleEndian.Uint64(s.Output[8*i:]))
		want := int64(eFAULT)
		if i == len(what)-1 {
			want = 0
		}
		if r != want {
			t.Errorf("%s: %d, want %d", w, r, want)
		}
	}
}

// TestMadviseOverTheWindow: a process's madvise covers its whole window,
// as Linux's: MADV_NORMAL of pages mmap put low in the window and of its
// own data at 0x400000 is 0, MADV_DONTNEED gives a page back (it reads
// zero), an unmapped page is ENOMEM. madvise still took the old task
// window (0x400000000000 up) for a process's: below it, every call was
// ENOMEM and MADV_DONTNEED discarded nothing (Go's scavenger's calls).
// Then its own image, which Linux maps from the program's file: after
// MADV_DONTNEED of its text page its code still runs, and MADV_FREE there
// is EINVAL (the same binary exits 0 on Linux). hurdvm's image is
// anonymous memory the loader copied: both gave the page back, so the
// program ran into zeros (SIGSEGV, as the fuzzer's lost text page).
func TestMadviseOverTheWindow(t *testing.T) {
	warm(t)
	before := frames()
	if s := run(t, "madvise"); s.Signal != 0 || s.ExitCode != 0 {
		t.Errorf("madvise: %v, want exit status 0 (N: step N failed, the program's comment says which; SIGSEGV: its text page went)", s)
	}
	framesBack(t, before)
}

// TestMemoryCallsGoThroughTheVM: mmap, munmap, mprotect and brk from ring
// 3 are VMAllocate, VMDeallocate and Protect in the process's task, as its
// counters say, and what they unmapped faults.
func TestMemoryCallsGoThroughTheVM(t *testing.T) {
	warm(t)
	before := frames()
	s := run(t, "mmap")
	if s.Signal != 0 || s.ExitCode != 0 || len(s.Output) != 48 {
		t.Fatalf("mmap: %v, wrote %d bytes", s, len(s.Output))
	}
	w := func(i int) uint64 { return binary.LittleEndian.Uint64(s.Output[8*i:]) }
	first, hint, brk0, brk1, brk2, fixed := w(0), w(1), w(2), w(3), w(4), w(5)
	if first < mm.ProcessWindowStart || first >= mm.ProcessWindowEnd || first%mm.PageSize != 0 {
		t.Errorf("mmap gave %#x", first)
	}
	if hint != 0x600000000000 {
		t.Errorf("mmap with a free hint gave %#x, not the hint", hint)
	}
	if brk0%mm.PageSize != 0 || brk1 != brk0+3*mm.PageSize+100 || brk2 != brk0+mm.PageSize {
		t.Errorf("brk: %#x, then %#x, then %#x", brk0, brk1, brk2)
	}
	if fixed != first+8*mm.PageSize {
		t.Errorf("MAP_FIXED gave %#x, want %#x", fixed, first+8*mm.PageSize)
	}
	// mmap, the hint, brk's growth, MAP_FIXED; munmap, brk's shrinking,
	// MAP_FIXED's own; the hint's PROT_READ, mprotect.
	if s.Allocates != 4 || s.Deallocates != 3 || s.Protects != 2 {
		t.Errorf("VM calls: %d allocations, %d deallocations, %d protections; want 4, 3, 2",
			s.Allocates, s.Deallocates, s.Protects)
	}
	// 4 + 1 + 4 + 2 pages touched by the program, and its own stack.
	if s.Stats.PageFaults < 11 || s.Stats.ResidentPages == 0 || s.Stats.Regions < 4 {
		t.Errorf("its task's counters at the end: %+v", s.Stats)
	}
	t.Logf("mmap's task at its end: %+v; %d VMAllocate, %d VMDeallocate, %d Protect",
		s.Stats, s.Allocates, s.Deallocates, s.Protects)

	s = run(t, "mmap", "touch")
	if s.Signal != sigSEGV || s.FaultAddr != first+12*mm.PageSize {
		t.Errorf("touching what munmap took: %v, want SIGSEGV", s)
	}
	framesBack(t, before)
}

// TestProcessesTogether: several processes at once, each in its own task.
func TestProcessesTogether(t *testing.T) {
	warm(t)
	before := frames()
	var ps []*kernel.Process
	for i := 0; i < 6; i++ {
		ps = append(ps, start(t, "hello"))
		ps = append(ps, start(t, "peek", "r", "1001000"))
	}
	for i, p := range ps {
		s := wait(t, p)
		if i%2 == 0 && (s.ExitCode != 42 || !bytes.Equal(s.Output, []byte("hello\n"))) ||
			i%2 == 1 && s.Signal != sigSEGV {
			t.Errorf("process %d: %v", i, s)
		}
	}
	framesBack(t, before)
}

// TestLoaderRefusals: what the loader refuses leaves nothing behind.
func TestLoaderRefusals(t *testing.T) {
	warm(t)
	before := frames()
	for _, path := range []string{"testdata/missing.elf", "process_test.go"} {
		if _, err := kernel.StartProcess(path, nil); err == nil {
			t.Errorf("%s started", path)
		} else if !strings.Contains(err.Error(), "no such file") && !strings.Contains(err.Error(), "ELF") {
			t.Logf("%s: %v", path, err)
		}
	}
	framesBack(t, before)
}

// TestSignalFramesAreChecked: a process's signal handler runs and returns
// through rt_sigreturn; a context it edits to return to the upper half, or
// to the kernel's code selector, and a handler in the upper half, are each
// SIGSEGV (the kernel would IRETQ there, or to ring 0, otherwise).
func TestSignalFramesAreChecked(t *testing.T) {
	warm(t)
	before := frames()
	if s := run(t, "sig", "o"); s.Signal != 0 || s.ExitCode != 0 {
		t.Errorf("a handler that returns: %v, want exit status 0", s)
	}
	for _, c := range []struct{ mode, what string }{
		{"r", "rt_sigreturn to the upper half"},
		{"c", "rt_sigreturn to the kernel's code selector"},
		{"h", "a handler in the upper half"},
	} {
		if s := run(t, "sig", c.mode); s.Signal != sigSEGV {
			t.Errorf("%s: %v, want SIGSEGV", c.what, s)
		}
	}
	framesBack(t, before)
}

// TestSignalsStayInTheProcess: tgkill and kill from a process reach its
// own threads only: the kernel's program (pid 1, tid 1) and a tid not its
// own are ESRCH.
func TestSignalsStayInTheProcess(t *testing.T) {
	warm(t)
	before := frames()
	if s := run(t, "sig", "t"); s.Signal != 0 || s.ExitCode != 0 {
		t.Errorf("sig t: %v (11: tgkill(1, 1), 12: kill(1), 13: tgkill(pid, 1) was not ESRCH)", s)
	}
	framesBack(t, before)
}

// TestDescriptorsAreTheProcesses: a process has descriptors of its own
// (0, 1 and 2 its output), none of the kernel program's: 3 to 9 are
// EBADF to read and close, and the kernel's netpoller, whose epoll and
// eventfd descriptors those are in its table, still works afterwards.
func TestDescriptorsAreTheProcesses(t *testing.T) {
	warm(t)
	before := frames()
	if s := run(t, "sig", "d"); s.Signal != 0 || s.ExitCode != 0 {
		t.Errorf("sig d: %v (20+fd: read or close of fd was not EBADF)", s)
	}
	t0 := time.Now()
	time.Sleep(10 * time.Millisecond) // the netpoller's timers
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("a 10 ms sleep took %v after the process", d)
	}
	framesBack(t, before)
}

// TestFutexesAreTheProcesses: a futex is keyed by its process and address:
// another process waking the same address, over and over, does not wake
// the waiter, whose wait times out.
func TestFutexesAreTheProcesses(t *testing.T) {
	warm(t)
	before := frames()
	w := start(t, "sig", "f")
	time.Sleep(10 * time.Millisecond)
	k := start(t, "sig", "w")
	if s := wait(t, w); s.Signal != 0 || s.ExitCode != 0 {
		t.Errorf("the waiter: %v, want exit status 0 (1: another process's futex_wake woke it; 5: another answer than ETIMEDOUT)", s)
	}
	if s := wait(t, k); s.Signal != 0 || s.ExitCode != 0 {
		t.Errorf("the waker: %v", s)
	}
	framesBack(t, before)
}
