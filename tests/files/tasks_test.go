//go:build hurdvm

package files

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"hurdvm/mm"
)

// A file call made inside a task: the server, in the kernel's address
// space, reads and writes the task's memory (the kernel copies through
// the physmap, faulting pages in as the task's own access would): a write
// from a region the task filled, a read into a region it never touched,
// and a read into a copy-on-write page of a forked task, which must get
// its own copy and leave the parent's alone.
func TestFileCallsFromATask(t *testing.T) {
	const size = 256 << 10
	name := filepath.Join(t.TempDir(), "f")
	fd, err := syscall.Open(name, syscall.O_RDWR|syscall.O_CREAT, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	parent, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Destroy()

	var addr uintptr
	var n int
	must := func(task *mm.Task, f func() error) {
		t.Helper()
		var err error
		if rerr := task.Run(func() { err = f() }); rerr != nil {
			t.Fatal(rerr)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	must(parent, func() error {
		if err := mm.VMAllocate(&addr, 2*size, 0, false); err != nil {
			return err
		}
		b := mm.Bytes(addr, size)
		for i := range b {
			b[i] = byte(i * 7)
		}
		n, err = syscall.Write(fd, b)
		return err
	})
	if n != size {
		t.Fatalf("write from the task: %d bytes", n)
	}
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i * 7)
	}
	if got, err := os.ReadFile(name); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the file the task wrote: %d bytes, %v; not the task's bytes", len(got), err)
	}
	var same bool
	must(parent, func() error {
		n, err = syscall.Pread(fd, mm.Bytes(addr+size, size), 0) // never touched
		same = bytes.Equal(mm.Bytes(addr+size, size), mm.Bytes(addr, size))
		return err
	})
	if n != size || !same {
		t.Fatalf("read into the task's untouched pages: %d bytes, equal %v", n, same)
	}

	child, err := parent.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer child.Destroy()
	zeros := filepath.Join(t.TempDir(), "zeros")
	if err := os.WriteFile(zeros, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	zfd, err := syscall.Open(zeros, syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(zfd)
	var childZero, parentKept bool
	must(child, func() error {
		n, err = syscall.Pread(zfd, mm.Bytes(addr, size), 0)
		childZero = bytes.Equal(mm.Bytes(addr, size), make([]byte, size))
		return err
	})
	must(parent, func() error {
		parentKept = bytes.Equal(mm.Bytes(addr, size), want)
		return nil
	})
	if n != size || !childZero || !parentKept {
		t.Errorf("read into the forked task's shared pages: %d bytes, the child's zeroed %v, the parent's kept %v", n, childZero, parentKept)
	}
}
