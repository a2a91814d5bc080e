//go:build hurdvm && hurdvmtest

package process

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"hurdvm/kernel"
)

// Files for processes (goprogs/gofiles, an ordinary Go program using the
// os package): the one file system the file server keeps, shared by the
// kernel's program and every process as Linux's is, with the process's
// own descriptors and its memory only.

// runFiles runs gofiles with args (runChecks).
func runFiles(t *testing.T, args ...string) string {
	t.Helper()
	return runChecks(t, "gofiles", args...)
}

// runChecks runs program name (gofiles, procapi: an argument a check)
// with args and fails the test unless it exited with status 0 having
// printed "ok NAME" for each check; it returns the output.
func runChecks(t *testing.T, name string, args ...string) string {
	t.Helper()
	s := run(t, name, args...)
	out := string(s.Output)
	t.Logf("%s %s:\n%s", name, strings.Join(args, " "), out)
	if s.Signal != 0 || s.ExitCode != 0 {
		t.Errorf("%s ended so: %v, want exit status 0", name, s)
	}
	for _, a := range args {
		check, _, _ := strings.Cut(a, ":")
		if !strings.Contains(out, "ok "+check+"\n") {
			t.Errorf("%s's check %s did not pass", name, check)
		}
	}
	return out
}

// TestGoFiles: a process reads its test's testdata by a relative path
// (the test's directory is its working directory, read-only: EROFS),
// writes, seeks, truncates, renames, links, lists and removes files in
// /tmp (os.MkdirTemp, os.CreateTemp, os.RemoveAll), and sends 1 MiB
// through os.Pipe from a goroutine (the writer waits on the runtime's
// poller until the reader drains the pipe). Every frame and every handle
// of the server comes back.
func TestGoFiles(t *testing.T) {
	warm(t)
	runFilesAllBack(t, "testdata", "tmp", "pipe")
}

// TestFilesAreShared: /tmp is one file system for every program, as
// Linux's: a file a process leaves there is the kernel program's to read.
// A process that ends with files open (a pipe, a file it wrote) has them
// closed by its end: the server's handles come back.
func TestFilesAreShared(t *testing.T) {
	warm(t)
	before, handles := frames(), settledHandles(t, -1)
	path := fmt.Sprintf("/tmp/gofiles-left-%d", time.Now().UnixNano())
	defer os.Remove(path)
	runFiles(t, "leave:"+path)
	if b, err := os.ReadFile(path); err != nil || string(b) != "left open\n" {
		t.Errorf("the process's file %s: %q, %v", path, b, err)
	}
	if h := settledHandles(t, handles); h != handles {
		t.Errorf("the file server holds %d handles after the process ended with 3 open, %d before", h, handles)
	}
	framesBack(t, before)
}

// TestFileCallsKeepToTheProcess: the file server copies a process's
// memory for it, but only its window, as the process's own calls
// do: write, pwrite64, read, pread64, openat, fstat and getcwd with the
// kernel's data, text and Go heap, the physmap, the local APIC and a
// non-canonical address are EFAULT, the file holds nothing of them, and
// the kernel's words are as they were.
func TestFileCallsKeepToTheProcess(t *testing.T) {
	testHooks(t)
	warm(t)
	heap := new([2]uint64)
	heap[0], heap[1] = 0x1234, 0x5678
	addrs := []uint64{
		uint64(kernel.ProbeAddress()),         // the kernel's data
		uint64(kernel.Image().Start + 4096),   // its text (past the ELF header's page)
		uint64(uintptr(unsafe.Pointer(heap))), // its Go heap
		kernel.PhysmapBase + 0x100000,
		0xfee00000,         // the local APIC's physical address: nothing of the process's there
		0x0000800000000000, // non-canonical
	}
	var hex []string
	for _, a := range addrs {
		hex = append(hex, fmt.Sprintf("%x", a))
	}
	before := frames()
	runFiles(t, "efault:"+strings.Join(hex, ","))
	if w := kernel.ProbeValue(); w != kernel.ProbeWord {
		t.Errorf("the kernel's data page holds %#x after a process's reads, not %#x", w, uint64(kernel.ProbeWord))
	}
	if heap[0] != 0x1234 || heap[1] != 0x5678 {
		t.Errorf("the Go heap words hold %#x", *heap)
	}
	framesBack(t, before)
}

// settledHandles waits (up to 5 s) for the server's open handles to be
// want (-1: to stay the same for 100 ms) and returns them.
// runFilesAllBack is runFiles, then the checks that every handle of the
// file server and every frame came back once gofiles and whatever it
// started have ended.
func runFilesAllBack(t *testing.T, args ...string) {
	t.Helper()
	runChecksAllBack(t, "gofiles", args...)
}

// runChecksAllBack is runChecks, then the checks that every handle of
// the file server and every frame came back.
func runChecksAllBack(t *testing.T, name string, args ...string) string {
	t.Helper()
	before, handles := frames(), settledHandles(t, -1)
	out := runChecks(t, name, args...)
	if h := settledHandles(t, handles); h != handles {
		t.Errorf("the file server holds %d handles after %s %s, %d before", h, name, strings.Join(args, " "), handles)
	}
	framesBack(t, before)
	return out
}

func settledHandles(t *testing.T, want int64) int64 {
	t.Helper()
	h := kernel.FileServerHandles()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		n := kernel.FileServerHandles()
		if want >= 0 && n == want || want < 0 && n == h {
			return n
		}
		h = n
	}
	return h
}
