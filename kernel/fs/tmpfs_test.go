package fs

import (
	"bytes"
	"strings"
	"testing"
)

func usage(fsys *FS) int64 { b, _ := fsys.TmpfsUsage(); return b }

// Data lives in pages of the Go heap, counted exactly, and goes back when
// a file is truncated or its last name and handle are gone.
func TestTmpfsAccounting(t *testing.T) {
	fsys := newFS(t, Config{})
	if b, n := fsys.TmpfsUsage(); b != 0 || n != 1 {
		t.Fatalf("empty tmpfs: %d bytes, %d inodes", b, n)
	}
	h := open(t, fsys, "/tmp/f", O_CREAT|O_RDWR, 0o644)
	fsys.Write(h, bytes.Repeat([]byte("a"), 3*pageSize+1))
	if u := usage(fsys); u != 4*pageSize {
		t.Errorf("after 3 pages and a byte: %d", u)
	}
	fsys.Pwrite(h, []byte("z"), 100*pageSize) // a hole between
	if u := usage(fsys); u != 5*pageSize {
		t.Errorf("sparse: %d", u)
	}
	must(t, fsys.Ftruncate(h, pageSize+5))
	if u := usage(fsys); u != 2*pageSize {
		t.Errorf("truncated to a page and 5 bytes: %d", u)
	}
	// The rest of the last page reads as zeros after growing again.
	must(t, fsys.Ftruncate(h, 2*pageSize))
	b := make([]byte, 10)
	fsys.Pread(h, b, pageSize)
	if !bytes.Equal(b, []byte("aaaaa\x00\x00\x00\x00\x00")) {
		t.Errorf("after shrink and grow: %q", b)
	}
	// Unlinked but open: still counted; closed: gone.
	must(t, fsys.Unlinkat(AtCWD, "/tmp/f", 0))
	if u, n := fsys.TmpfsUsage(); u != 2*pageSize || n != 2 {
		t.Errorf("unlinked, open: %d bytes %d inodes", u, n)
	}
	must(t, fsys.Close(h))
	if u, n := fsys.TmpfsUsage(); u != 0 || n != 1 {
		t.Errorf("closed: %d bytes %d inodes", u, n)
	}
	// Replaced by a rename: the old file's pages go.
	writeFile(t, fsys, "/tmp/a", strings.Repeat("a", 5000))
	writeFile(t, fsys, "/tmp/b", "b")
	must(t, fsys.Renameat2(AtCWD, "/tmp/b", AtCWD, "/tmp/a", 0))
	if u, n := fsys.TmpfsUsage(); u != pageSize || n != 2 {
		t.Errorf("after rename over: %d bytes %d inodes", u, n)
	}
	// A long symlink costs a page.
	must(t, fsys.Symlinkat(strings.Repeat("t", longSymlink), AtCWD, "/tmp/l"))
	if u := usage(fsys); u != 2*pageSize {
		t.Errorf("long symlink: %d", u)
	}
	must(t, fsys.Unlinkat(AtCWD, "/tmp/l", 0))
	must(t, fsys.Unlinkat(AtCWD, "/tmp/a", 0))
	if u, n := fsys.TmpfsUsage(); u != 0 || n != 1 {
		t.Errorf("all removed: %d bytes %d inodes", u, n)
	}
	// A removed current directory is given back when left.
	must(t, fsys.Mkdirat(AtCWD, "/tmp/d", 0o755))
	must(t, fsys.Chdir("/tmp/d"))
	must(t, fsys.Unlinkat(AtCWD, "/tmp/d", AT_REMOVEDIR))
	if _, n := fsys.TmpfsUsage(); n != 2 {
		t.Errorf("removed cwd: %d inodes", n)
	}
	must(t, fsys.Chdir("/"))
	if _, n := fsys.TmpfsUsage(); n != 1 {
		t.Errorf("left the removed cwd: %d inodes", n)
	}
}

// Filling the tmpfs is ENOSPC for the write that finds no room, after a
// partial write, and the limit can change while files exist.
func TestTmpfsLimit(t *testing.T) {
	fsys := newFS(t, Config{TmpfsLimit: 10 * pageSize, TmpfsInodes: 4})
	h := open(t, fsys, "/tmp/f", O_CREAT|O_RDWR, 0o644)
	n, e := fsys.Write(h, make([]byte, 11*pageSize))
	if n != 10*pageSize || e != 0 {
		t.Errorf("over the limit: %d %v", n, e)
	}
	n, e = fsys.Write(h, []byte("x"))
	if n != 0 || e != ENOSPC {
		t.Errorf("full: %d %v", n, e)
	}
	// Overwriting what is there needs no room.
	if n, e = fsys.Pwrite(h, []byte("over"), 0); n != 4 || e != 0 {
		t.Errorf("overwrite: %d %v", n, e)
	}
	// Growing by truncate costs nothing.
	must(t, fsys.Ftruncate(h, 1<<40))
	fsys.SetTmpfsLimit(20 * pageSize)
	if n, e = fsys.Pwrite(h, []byte("x"), 1<<30); n != 1 || e != 0 {
		t.Errorf("after raising the limit: %d %v", n, e)
	}
	fsys.SetTmpfsLimit(pageSize)
	if n, e = fsys.Pwrite(h, []byte("x"), 1<<31); n != 0 || e != ENOSPC {
		t.Errorf("after lowering it: %d %v", n, e)
	}
	if u := usage(fsys); u != 11*pageSize {
		t.Errorf("usage %d", u)
	}
	fsys.SetTmpfsLimit(0) // no limit
	if n, e = fsys.Pwrite(h, []byte("x"), 1<<31); n != 1 || e != 0 {
		t.Errorf("without a limit: %d %v", n, e)
	}
	must(t, fsys.Close(h))
	// Inodes: the root, f, and two more.
	must(t, fsys.Mkdirat(AtCWD, "/tmp/d", 0o755))
	must(t, fsys.Symlinkat("x", AtCWD, "/tmp/s"))
	wantErr(t, "fifth inode", fsys.Mkdirat(AtCWD, "/tmp/e", 0o755), ENOSPC)
	_, e = fsys.Openat(AtCWD, "/tmp/g", O_CREAT|O_RDWR, 0o644)
	wantErr(t, "create", e, ENOSPC)
	wantErr(t, "a link counts", fsys.Linkat(AtCWD, "/tmp/f", AtCWD, "/tmp/f2", 0), ENOSPC)
	must(t, fsys.Unlinkat(AtCWD, "/tmp/s", 0))
	must(t, fsys.Linkat(AtCWD, "/tmp/f", AtCWD, "/tmp/f2", 0))
}

func TestExport(t *testing.T) {
	type export struct{ path, data string }
	var got []export
	fsys := newFS(t, Config{ExportDir: "/tmp/cover/", Export: func(p string, b []byte) {
		got = append(got, export{p, string(b)})
	}})
	take := func() []export { g := got; got = nil; return g }
	must(t, fsys.Mkdirat(AtCWD, "/tmp/cover", 0o755))
	must(t, fsys.Mkdirat(AtCWD, "/tmp/cover/sub", 0o755))

	// Written and closed under the directory: exported when the last
	// writer closes.
	h := open(t, fsys, "/tmp/cover/sub/counters", O_CREAT|O_WRONLY, 0o644)
	must(t, fsys.Dup(h))
	fsys.Write(h, []byte("data"))
	r := open(t, fsys, "/tmp/cover/sub/counters", O_RDONLY, 0)
	must(t, fsys.Close(h))
	if g := take(); len(g) != 0 {
		t.Errorf("exported with a writer open: %v", g)
	}
	must(t, fsys.Close(h))
	if g := take(); len(g) != 1 || g[0] != (export{"/tmp/cover/sub/counters", "data"}) {
		t.Errorf("last writer closed: %v", g)
	}
	must(t, fsys.Close(r))
	if g := take(); len(g) != 0 {
		t.Errorf("a reader's close exported: %v", g)
	}

	// The runtime's way: a temporary name, then a rename into place.
	writeFile(t, fsys, "/tmp/covmeta.tmp", "meta")
	if g := take(); len(g) != 0 {
		t.Errorf("outside the directory: %v", g)
	}
	must(t, fsys.Renameat2(AtCWD, "/tmp/covmeta.tmp", AtCWD, "/tmp/cover/covmeta", 0))
	if g := take(); len(g) != 1 || g[0] != (export{"/tmp/cover/covmeta", "meta"}) {
		t.Errorf("renamed in: %v", g)
	}
	// The name of the handle follows renames.
	h = open(t, fsys, "/tmp/cover/x.tmp", O_CREAT|O_WRONLY, 0o644)
	must(t, fsys.Renameat2(AtCWD, "/tmp/cover/x.tmp", AtCWD, "/tmp/cover/x", 0))
	if g := take(); len(g) != 0 {
		t.Errorf("renamed while being written: %v", g)
	}
	fsys.Write(h, []byte("late"))
	must(t, fsys.Close(h))
	if g := take(); len(g) != 1 || g[0] != (export{"/tmp/cover/x", "late"}) {
		t.Errorf("written after the rename: %v", g)
	}
	// Removed before closing: nothing.
	h = open(t, fsys, "/tmp/cover/gone", O_CREAT|O_WRONLY, 0o644)
	must(t, fsys.Unlinkat(AtCWD, "/tmp/cover/gone", 0))
	must(t, fsys.Close(h))
	// The prefix is a directory, not a string prefix.
	writeFile(t, fsys, "/tmp/coverage", "no")
	if g := take(); len(g) != 0 {
		t.Errorf("unexpected exports: %v", g)
	}
}
