//go:build hurdvm

package boot

import (
	"bytes"
	"crypto/rand"
	"syscall"
	"testing"
	"unsafe"
)

const (
	sysGetrandom = 318 // not in package syscall

	grndNonblock = 0x1
	grndRandom   = 0x2
	grndInsecure = 0x4
)

func getrandom(b []byte, flags uintptr) (uintptr, syscall.Errno) {
	r, _, e := syscall.Syscall(sysGetrandom, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), flags)
	return r, e
}

// getrandomAt asks for n bytes at addr, an address that is no Go object.
func getrandomAt(addr, n uintptr) (uintptr, syscall.Errno) {
	r, _, e := syscall.Syscall(sysGetrandom, addr, n, 0)
	return r, e
}

// TestGetrandomNeverRepeats: across many calls, no 32 bytes come twice.
func TestGetrandomNeverRepeats(t *testing.T) {
	const calls = 20000
	seen := make(map[[32]byte]bool, calls)
	var b [32]byte
	for i := 0; i < calls; i++ {
		if n, e := getrandom(b[:], 0); n != 32 || e != 0 {
			t.Fatalf("getrandom: %d, %v", n, e)
		}
		if seen[b] {
			t.Fatalf("call %d returned 32 bytes an earlier call returned", i)
		}
		seen[b] = true
	}
}

// TestGetrandomFlags: Linux 6.1's flags, and nothing else.
func TestGetrandomFlags(t *testing.T) {
	var b [64]byte
	for _, f := range []uintptr{0, grndNonblock, grndRandom, grndInsecure,
		grndNonblock | grndRandom, grndNonblock | grndInsecure} {
		clear(b[:])
		if n, e := getrandom(b[:], f); n != 64 || e != 0 {
			t.Errorf("flags %#x: %d, %v; want 64 bytes", f, n, e)
		}
		if b == [64]byte{} {
			t.Errorf("flags %#x: 64 zero bytes", f)
		}
	}
	for _, f := range []uintptr{grndRandom | grndInsecure, 0x8, 0x80, 1 << 31} {
		if _, e := getrandom(b[:], f); e != syscall.EINVAL {
			t.Errorf("flags %#x: %v, want EINVAL", f, e)
		}
	}
}

// TestGetrandomBadBuffer: a buffer the program may not write is EFAULT;
// asking for nothing succeeds wherever it points.
func TestGetrandomBadBuffer(t *testing.T) {
	for _, p := range []uintptr{16, 0xffff_8000_0000_0000, 0x00f0_0000_0000} {
		if _, e := getrandomAt(p, 32); e != syscall.EFAULT {
			t.Errorf("buffer %#x: %v, want EFAULT", p, e)
		}
		if n, e := getrandomAt(p, 0); n != 0 || e != 0 {
			t.Errorf("0 bytes at %#x: %d, %v", p, n, e)
		}
	}
}

// TestGetrandomLong: one call gives a bounded amount (the rest is a short
// read, which callers loop over); crypto/rand fills a large buffer.
func TestGetrandomLong(t *testing.T) {
	b := make([]byte, 1<<20)
	n, e := getrandom(b, 0)
	if e != 0 || n == 0 || n > 64<<10 {
		t.Errorf("getrandom of 1 MiB: %d, %v", n, e)
	}
	clear(b)
	rand.Read(b)
	if bytes.Count(b, []byte{0}) > len(b)/128 {
		t.Errorf("crypto/rand's 1 MiB has %d zero bytes", bytes.Count(b, []byte{0}))
	}
}
