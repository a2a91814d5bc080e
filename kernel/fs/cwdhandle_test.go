package fs

import "testing"

// TestCwdHandles: a caller's own directory (CwdHandle, UseCwd) resolves
// its relative paths and answers Getcwd, the FS's own directory staying;
// CwdHandle's and CwdHandleOf's errors are chdir's and fchdir's.
func TestCwdHandles(t *testing.T) {
	fsys := newFS(t, Config{Archive: testTree(t)})
	if e := fsys.Mkdirat(AtCWD, "/tmp/a", 0o755); e != 0 {
		t.Fatal(e)
	}
	h, e := fsys.CwdHandle(AtCWD, "/tmp/a")
	if e != 0 {
		t.Fatal(e)
	}
	if e := fsys.UseCwd(h); e != 0 {
		t.Fatal(e)
	}
	f, e := fsys.Openat(AtCWD, "f", O_CREAT|O_WRONLY, 0o644)
	if e != 0 {
		t.Fatal(e)
	}
	fsys.Close(f)
	buf := make([]byte, 64)
	if n, e := fsys.Getcwd(buf); e != 0 || string(buf[:n-1]) != "/tmp/a" {
		t.Errorf("Getcwd in the caller's directory: %q, %v", buf[:max(n-1, 0)], e)
	}
	fsys.UseCwd(0)
	if n, e := fsys.Getcwd(buf); e != 0 || string(buf[:n-1]) != "/" {
		t.Errorf("Getcwd of the FS's own: %q, %v", buf[:max(n-1, 0)], e)
	}
	if _, e := fsys.Fstatat(AtCWD, "/tmp/a/f", 0); e != 0 {
		t.Errorf("the file made from the caller's directory: %v", e)
	}
	if _, e := fsys.CwdHandle(AtCWD, "/tmp/a/f"); e != ENOTDIR {
		t.Errorf("CwdHandle of a file: %v, want ENOTDIR", e)
	}
	if _, e := fsys.CwdHandle(AtCWD, "/tmp/none"); e != ENOENT {
		t.Errorf("CwdHandle of nothing: %v, want ENOENT", e)
	}
	if _, e := fsys.CwdHandleOf(12345); e != EBADF {
		t.Errorf("CwdHandleOf a bad handle: %v, want EBADF", e)
	}
	if e := fsys.UseCwd(12345); e != EBADF {
		t.Errorf("UseCwd of a bad handle: %v, want EBADF", e)
	}
	fsys.UseCwd(0)
	h2, e := fsys.CwdHandleOf(h)
	if e != 0 {
		t.Fatal(e)
	}
	fsys.Close(h)
	fsys.Close(h2)
}
