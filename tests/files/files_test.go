//go:build hurdvm

// Package files tests the file server (kernel/fileserver.go) as Go tests
// meet it: t.TempDir and os.CreateTemp in the tmpfs at /tmp, the os
// package's reads, writes and directories, pipes through Go's poller and
// blocking ones, and the errors a wrong call gets, each as Linux gives it.
package files

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	_ "hurdvm/kernel"
)

// t.TempDir is made under /tmp and removed, with what the test left in
// it, when the test ends.
func TestTempDirIsRemoved(t *testing.T) {
	var dir string
	t.Run("uses", func(t *testing.T) {
		dir = t.TempDir()
		if !strings.HasPrefix(dir, os.TempDir()+"/") {
			t.Errorf("TempDir %q is not under %q", dir, os.TempDir())
		}
		sub := filepath.Join(dir, "a", "b")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"x", "a/y", "a/b/z"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("a/b/z", filepath.Join(dir, "link")); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after the test, Lstat(%s): %v; want it removed", dir, err)
	}
}

func TestCreateTempAndMkdirTemp(t *testing.T) {
	f, err := os.CreateTemp("", "hurdvm-*.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	if filepath.Dir(f.Name()) != os.TempDir() || !strings.HasSuffix(f.Name(), ".txt") {
		t.Errorf("CreateTemp made %q", f.Name())
	}
	if _, err := f.WriteString("temporary"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := os.MkdirTemp("", "hurdvm-dir-")
	if err != nil {
		t.Fatal(err)
	}
	// The same pattern twice: two names.
	d2, err := os.MkdirTemp("", "hurdvm-dir-")
	if err != nil {
		t.Fatal(err)
	}
	if d == d2 {
		t.Errorf("MkdirTemp gave %q twice", d)
	}
	for _, dir := range []string{d, d2} {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("Stat(%s): %v %v; want a directory with mode 0700", dir, fi, err)
		}
		if err := os.Remove(dir); err != nil {
			t.Error(err)
		}
	}
	b, err := os.ReadFile(f.Name())
	if err != nil || string(b) != "temporary" {
		t.Errorf("ReadFile: %q %v", b, err)
	}
}

// The os package's whole life of a file: write, seek, read at offsets,
// truncate, stat, chmod, rename, hard and symbolic links, remove.
func TestFileLife(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640); !errors.Is(err, fs.ErrExist) {
		t.Errorf("O_EXCL of an existing file: %v, want EEXIST", err)
	}
	if _, err := f.WriteString("hello, world"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("HELLO"), 0); err != nil {
		t.Fatal(err)
	}
	if off, err := f.Seek(7, io.SeekStart); off != 7 || err != nil {
		t.Fatalf("Seek: %d %v", off, err)
	}
	b := make([]byte, 16)
	if n, err := f.Read(b); string(b[:n]) != "world" || err != nil {
		t.Errorf("Read after Seek: %q %v", b[:n], err)
	}
	if n, err := f.Read(b); n != 0 || err != io.EOF {
		t.Errorf("Read at the end: %d %v, want EOF", n, err)
	}
	if n, err := f.ReadAt(b[:5], 0); string(b[:n]) != "HELLO" || err != nil {
		t.Errorf("ReadAt: %q %v", b[:n], err)
	}
	// A write past the end leaves a hole that reads as zeros.
	if _, err := f.WriteAt([]byte("!"), 20); err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() != 21 || fi.Mode() != 0o640 || fi.Name() != "f" {
		t.Fatalf("Stat: %v %v", fi, err)
	}
	if n, _ := f.ReadAt(b[:9], 12); !bytes.Equal(b[:n], []byte("\x00\x00\x00\x00\x00\x00\x00\x00!")) {
		t.Errorf("the hole reads %q", b[:n])
	}
	if err := f.Truncate(5); err != nil {
		t.Fatal(err)
	}
	if err := f.Chmod(0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(name); err != nil || fi.Size() != 5 || fi.Mode() != 0o600 {
		t.Fatalf("after Truncate and Chmod: %v %v", fi, err)
	}
	if err := f.Sync(); err != nil {
		t.Error(err)
	}

	moved := filepath.Join(dir, "g")
	if err := os.Rename(name, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the old name after Rename: %v", err)
	}
	if err := os.Link(moved, filepath.Join(dir, "h")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("g", filepath.Join(dir, "s")); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "s")); target != "g" || err != nil {
		t.Errorf("Readlink: %q %v", target, err)
	}
	for _, n := range []string{"g", "h", "s"} {
		if b, err := os.ReadFile(filepath.Join(dir, n)); string(b) != "HELLO" || err != nil {
			t.Errorf("ReadFile(%s): %q %v", n, b, err)
		}
	}
	if fi, _ := os.Stat(moved); fi.Sys().(*syscall.Stat_t).Nlink != 2 {
		t.Errorf("links after os.Link: %d, want 2", fi.Sys().(*syscall.Stat_t).Nlink)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "s")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat of the symbolic link: %v %v", fi, err)
	}
	// The open file outlives its names.
	for _, n := range []string{"g", "h", "s"} {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := f.ReadAt(b[:5], 0); string(b[:n]) != "HELLO" || err != nil {
		t.Errorf("ReadAt of the unlinked file: %q %v", b[:n], err)
	}
	if err := os.Remove(dir); err != nil {
		t.Errorf("Remove of the emptied directory: %v", err)
	}
}

// Data larger than the server's buffer (256 KiB) moves in pieces; every
// byte must arrive where it belongs.
func TestLargeFile(t *testing.T) {
	data := make([]byte, 3<<20+12345)
	rand.New(rand.NewSource(1)).Read(data)
	name := filepath.Join(t.TempDir(), "large")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, differing from the %d written", len(got), len(data))
	}
	// Reads at odd offsets and lengths across the pieces.
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 50; i++ {
		off := rng.Intn(len(data))
		n := rng.Intn(600 << 10)
		b := make([]byte, n)
		m, err := f.ReadAt(b, int64(off))
		want := data[off:min(off+n, len(data))]
		if m != len(want) || !bytes.Equal(b[:m], want) || (m < n) != (err == io.EOF) {
			t.Fatalf("ReadAt(%d bytes at %d): %d bytes, %v", n, off, m, err)
		}
	}
}

// os.ReadDir reads a directory through getdents64 a buffer at a time.
func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := 0; i < 600; i++ {
		name := strings.Repeat("n", i%40) + "-" + string(rune('a'+i%26)) + "-" + itoa(i)
		want = append(want, name)
		if i%7 == 0 {
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, e := range entries {
		got = append(got, e.Name())
		if isDir := i < len(want) && e.IsDir(); isDir != (e.Type() == fs.ModeDir) {
			t.Errorf("%s: IsDir %v, type %v", e.Name(), e.IsDir(), e.Type())
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ReadDir gave %d names, want %d; first %q", len(got), len(want), got[:min(3, len(got))])
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if wd, err := os.Getwd(); wd != dir || err != nil {
		t.Errorf("Getwd after Chdir(%s): %q %v", dir, wd, err)
	}
	if err := os.WriteFile("relative", []byte("r"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "relative")); string(b) != "r" || err != nil {
		t.Errorf("a relative name after Chdir: %q %v", b, err)
	}
}

// The root file system is the test's directory, read-only; /dev/null and
// /dev/zero are there.
func TestReadOnlyRootAndDevices(t *testing.T) {
	if err := os.WriteFile("/not-here", nil, 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("creating a file in /: %v, want EROFS", err)
	}
	if err := os.WriteFile("/dev/null", []byte("gone"), 0o644); err != nil {
		t.Errorf("writing /dev/null: %v", err)
	}
	f, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := bytes.Repeat([]byte{1}, 5000)
	if n, err := io.ReadFull(f, b); n != len(b) || err != nil || !bytes.Equal(b, make([]byte, len(b))) {
		t.Errorf("reading /dev/zero: %d bytes, %v", n, err)
	}
}

// The console is a character device to fstat, as a terminal's is.
func TestConsoleIsACharacterDevice(t *testing.T) {
	fi, err := os.Stdout.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("os.Stdout's mode %v, want a character device", fi.Mode())
	}
}
