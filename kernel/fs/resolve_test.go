package fs

import (
	"strings"
	"testing"
)

// Resolution cases that need absolute paths or the namespace's own
// layout (the Linux comparison runs under a mount point, not at /).
func TestResolveAbsolute(t *testing.T) {
	fsys := newFS(t, Config{})
	must(t, fsys.Symlinkat("/work/pkg/testdata", AtCWD, "/tmp/abs"))
	must(t, fsys.Symlinkat("/", AtCWD, "/tmp/root"))
	must(t, fsys.Symlinkat("/tmp/loop", AtCWD, "/tmp/loop"))
	must(t, fsys.Symlinkat("../..", AtCWD, "/tmp/upup"))
	for _, c := range []struct {
		path string
		mode uint32 // file type expected, 0 for an error
		want Errno
	}{
		{"/", S_IFDIR, 0},
		{"/..", S_IFDIR, 0},
		{"//..//..//", S_IFDIR, 0},
		{"/tmp/abs/hello.txt", S_IFREG, 0},
		{"/tmp/abs/../a.go", S_IFREG, 0},
		{"/tmp/root", S_IFDIR, 0},
		{"/tmp/root/tmp/root/work", S_IFDIR, 0},
		{"/tmp/upup/work", S_IFDIR, 0}, // ../.. from /tmp stops at /
		{"/tmp/loop", 0, ELOOP},
		{"/tmp/..", S_IFDIR, 0},
		{"/dev/null/", 0, ENOTDIR},
		{"/" + strings.Repeat("x/", 2046) + "yz", 0, ENOENT},      // 4095 bytes: looked up
		{"/" + strings.Repeat("x/", 2047) + "y", 0, ENAMETOOLONG}, // 4096 bytes: too long
		{"/" + strings.Repeat("./", 2047), S_IFDIR, 0},            // 4095 bytes
		{"/work\x00/nothing", S_IFDIR, 0},                         // a C string ends at NUL
	} {
		st, e := fsys.Fstatat(AtCWD, c.path, 0)
		short := c.path[:min(len(c.path), 40)]
		wantErr(t, "stat "+short, e, c.want)
		if e == 0 && st.Mode&S_IFMT != c.mode {
			t.Errorf("stat %s: mode %#o", short, st.Mode)
		}
	}
	// An absolute path ignores the directory handle, even a bad one.
	if _, e := fsys.Fstatat(12345, "/work", 0); e != 0 {
		t.Errorf("absolute path with a bad handle: %v", e)
	}
	// ENFILE comes before the directory handle is looked at, as in
	// Linux, where the file is allocated before the walk starts.
	full := newFS(t, Config{MaxHandles: 1})
	open(t, full, "/work", O_PATH, 0)
	_, e := full.Openat(12345, "x", O_RDONLY, 0)
	wantErr(t, "open with a full table and a bad handle", e, ENFILE)
	_, e = full.Openat(12345, "", O_RDONLY, 0)
	wantErr(t, "empty path before ENFILE", e, ENOENT)
}

// O_TMPFILE and O_DIRECT are not supported; the errors say so.
func TestOpenUnsupported(t *testing.T) {
	fsys := newFS(t, Config{})
	_, e := fsys.Openat(AtCWD, "/tmp", O_TMPFILE|O_RDWR, 0o600)
	wantErr(t, "O_TMPFILE", e, EOPNOTSUPP)
	_, e = fsys.Openat(AtCWD, "/tmp/f", O_CREAT|O_RDWR|O_DIRECT, 0o600)
	wantErr(t, "O_DIRECT", e, EINVAL)
	h := open(t, fsys, "/tmp/f", O_RDWR, 0)
	wantErr(t, "F_SETFL O_DIRECT", fsys.SetStatusFlags(h, O_DIRECT), EINVAL)
	wantErr(t, "RENAME_WHITEOUT", fsys.Renameat2(AtCWD, "/tmp/f", AtCWD, "/tmp/g", RENAME_WHITEOUT), EINVAL)
}
