//go:build hurdvm

package files

import (
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"hurdvm/mm"
)

// badAddress is an address no program may touch: the upper half, where
// Linux keeps its kernel and hurdvm its physmap.
const badAddress = 0xffff_8000_0000_0000

// What a wrong call gets: Linux's errno, and the kernel stays up.
func TestWrongCalls(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, []byte("contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open(name, syscall.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	sys := func(nr, a0, a1, a2 uintptr) syscall.Errno {
		_, _, e := syscall.Syscall(nr, a0, a1, a2)
		return e
	}
	path := func(s string) uintptr { return uintptr(unsafe.Pointer(syscall.StringBytePtr(s))) }
	for _, c := range []struct {
		what string
		got  syscall.Errno
		want syscall.Errno
	}{
		{"read of no descriptor", sys(syscall.SYS_READ, 4000, path("x"), 1), syscall.EBADF},
		{"read into the upper half", sys(syscall.SYS_READ, uintptr(fd), badAddress, 8), syscall.EFAULT},
		{"read into unmapped memory", sys(syscall.SYS_READ, uintptr(fd), 0x10, 8), syscall.EFAULT},
		{"read into read-only memory", sys(syscall.SYS_READ, uintptr(fd), readOnlyAddress(), 8), syscall.EFAULT},
		{"write from the upper half", sys(syscall.SYS_WRITE, uintptr(fd), badAddress, 8), syscall.EFAULT},
		{"open of a path in the upper half", sys(syscall.SYS_OPEN, badAddress, 0, 0), syscall.EFAULT},
		{"open of a missing file", sys(syscall.SYS_OPEN, path(name+"-missing"), 0, 0), syscall.ENOENT},
		{"open of a too-long path", sys(syscall.SYS_OPEN, path("/tmp/"+strings.Repeat("a", 5000)), 0, 0), syscall.ENAMETOOLONG},
		{"stat into the upper half", sys(syscall.SYS_STAT, path(name), badAddress, 0), syscall.EFAULT},
		{"fstat into the upper half", sys(syscall.SYS_FSTAT, uintptr(fd), badAddress, 0), syscall.EFAULT},
		{"getdents of a file", sys(syscall.SYS_GETDENTS64, uintptr(fd), path("xxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 16), syscall.ENOTDIR},
		{"openat relative to no descriptor", errnoOf(syscall.Openat(4000, "f", 0, 0)), syscall.EBADF},
		{"openat relative to a file", errnoOf(syscall.Openat(fd, "f", 0, 0)), syscall.ENOTDIR},
		{"lseek to a negative offset", sys(syscall.SYS_LSEEK, uintptr(fd), ^uintptr(0), 0), syscall.EINVAL},
		{"rmdir of a file", sys(syscall.SYS_RMDIR, path(name), 0, 0), syscall.ENOTDIR},
		{"unlink of a directory", sys(syscall.SYS_UNLINK, path(filepath.Dir(name)), 0, 0), syscall.EISDIR},
		{"pipe into the upper half", sys(syscall.SYS_PIPE2, badAddress, 0, 0), syscall.EFAULT},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v (%d), want %v", c.what, c.got, int(c.got), c.want)
		}
	}
	// Nothing was lost: the file reads as before, and the failed reads
	// left its offset alone.
	if b, err := os.ReadFile(name); string(b) != "contents" || err != nil {
		t.Errorf("the file after the wrong calls: %q %v", b, err)
	}
	b := make([]byte, 16)
	if n, err := syscall.Read(fd, b); string(b[:max(n, 0)]) != "contents" || err != nil {
		t.Errorf("a read after the failed ones: %q %v, want the whole file", b[:max(n, 0)], err)
	}
}

// readOnlyAddress is the address of the program's text.
func readOnlyAddress() uintptr {
	f := TestWrongCalls
	return **(**uintptr)(unsafe.Pointer(&f))
}

func errnoOf(_ int, err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

// A program that opens files until it runs out of descriptors gets
// EMFILE, and every descriptor it closes again can be had again: the
// server's handles go with the descriptors.
func TestDescriptorLimit(t *testing.T) {
	for round := 0; round < 3; round++ {
		var fds []int
		closeAll := func() {
			for _, fd := range fds {
				if err := syscall.Close(fd); err != nil {
					t.Error(err)
				}
			}
			fds = nil
		}
		defer closeAll()
		for {
			fd, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				if err != syscall.EMFILE {
					t.Fatalf("open %d: %v, want EMFILE at the limit", len(fds), err)
				}
				break
			}
			fds = append(fds, fd)
			if len(fds) > 100000 {
				t.Fatal("no limit to descriptors")
			}
		}
		// A pipe at the limit: EMFILE, and no half-made pipe left.
		var p [2]int
		syscall.Close(fds[len(fds)-1])
		if err := syscall.Pipe(p[:]); err != syscall.EMFILE {
			t.Errorf("pipe with one descriptor free: %v, want EMFILE", err)
		}
		if fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0); err != nil {
			t.Errorf("the one free descriptor after the failed pipe: %v", err)
		} else {
			fds[len(fds)-1] = fd
		}
		if round == 0 {
			t.Logf("%d descriptors opened before EMFILE", len(fds))
		}
		closeAll()
	}
}

// The tmpfs is bounded (half of the RAM, as Linux's): a write past the
// bound is ENOSPC, not an out-of-memory kernel, and removing the file
// gives its room back, to the tmpfs and, once the runtime has collected
// the pages, to the frame allocator.
func TestTmpfsFull(t *testing.T) {
	debug.FreeOSMemory()
	before := mm.ReadStats().FreeFrames
	name := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4<<20)
	var written int64
	for {
		n, err := f.Write(chunk)
		written += int64(n)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("after %d bytes: %v, want ENOSPC", written, err)
			}
			break
		}
		if written > 64<<30 {
			t.Fatal("no bound to the tmpfs")
		}
	}
	f.Close()
	full := mm.ReadStats().FreeFrames
	t.Logf("the tmpfs took %d MiB; %d MiB free before, %d MiB when full", written>>20, before>>8, full>>8)
	if taken := (before - full) * mm.PageSize; taken < uint64(written) {
		t.Errorf("a full tmpfs of %d MiB took only %d MiB of frames", written>>20, taken>>20)
	}
	if fi, err := os.Stat(name); err != nil || fi.Size() != written {
		t.Errorf("the full file: %v %v, want %d bytes", fi, err, written)
	}
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	debug.FreeOSMemory()
	if after := mm.ReadStats().FreeFrames; after+(16<<20)/mm.PageSize < before {
		t.Errorf("after removing the file: %d MiB free, %d MiB before it was written", after>>8, before>>8)
	}
	if err := os.WriteFile(name, chunk, 0o644); err != nil {
		t.Errorf("after removing the file, a new one: %v", err)
	}
}
