package fs

import (
	"bytes"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

func TestArchiveTree(t *testing.T) {
	fsys := newFS(t, Config{})
	for _, c := range []struct {
		path string
		mode uint32
		size int64
	}{
		{"/work", S_IFDIR | 0o755, 60},
		{"/work/pkg/a.go", S_IFREG | 0o644, 10},
		{"/work/pkg/testdata/secret", S_IFREG, 1},
		{"/work/pkg/testdata/script.sh", S_IFREG | 0o755, 10},
		{"/etc", S_IFDIR | 0o755, 60},              // implied
		{"/etc/implied/deep", S_IFDIR | 0o755, 60}, // implied
		{"/etc/implied/deep/file", S_IFREG | 0o600, 4},
		{"/dev/null", S_IFCHR | 0o666, 0},
		{"/tmp", S_IFDIR | 0o1777, 40},
	} {
		st, e := fsys.Fstatat(AtCWD, c.path, AT_SYMLINK_NOFOLLOW)
		must(t, e)
		if st.Mode != c.mode || st.Size != c.size {
			t.Errorf("%s: mode %#o size %d, want %#o %d", c.path, st.Mode, st.Size, c.mode, c.size)
		}
	}
	st, _ := fsys.Fstatat(AtCWD, "/etc/implied", 0)
	if st.UID != 0 || st.Nlink != 3 {
		t.Errorf("implied directory: uid %d nlink %d", st.UID, st.Nlink)
	}
	// Absolute symlinks resolve in the namespace.
	h := open(t, fsys, "/work/pkg/testdata/abs/hello.txt", O_RDONLY, 0)
	if got := readAll(t, fsys, h); got != "hello, world\n" {
		t.Errorf("through the absolute link: %q", got)
	}
	must(t, fsys.Close(h))
	// ".." of the root is the root; ".." of /tmp's root is /.
	for _, p := range []string{"/..", "/../..", "/tmp/../work", "/tmp/../../work"} {
		if _, e := fsys.Fstatat(AtCWD, p, 0); e != 0 {
			t.Errorf("%s: %v", p, e)
		}
	}
	// The os package's questions that have no answer here.
	buf := make([]byte, 100)
	_, e := fsys.Readlinkat(AtCWD, "/proc/self/exe", buf)
	wantErr(t, "readlink /proc/self/exe", e, ENOENT)
	_, e = fsys.Openat(AtCWD, "/etc/localtime", O_RDONLY, 0)
	wantErr(t, "open /etc/localtime", e, ENOENT)
}

func TestArchiveRecords(t *testing.T) {
	data := func(s string) cpio.Record { return cpio.StaticFile("f", s, 0o644) }
	link := func(name string, ino, nlink uint64, contents string) cpio.Record {
		r := cpio.StaticRecord([]byte(contents), cpio.Info{Name: name, Mode: S_IFREG | 0o640, Ino: ino, NLink: nlink, UID: 7, GID: 8, MTime: 1234})
		if contents == "" {
			r.ReaderAt = nil
		}
		return r
	}
	rec := func(name string, mode uint64) cpio.Record {
		return cpio.Record{Info: cpio.Info{Name: name, Mode: mode}}
	}
	fsys := newFS(t, Config{Archive: archive(t,
		cpio.Directory(".", 0o700),
		data("first"),
		data("second"), // a later record of a name replaces the earlier
		cpio.Directory("d", 0o755),
		cpio.StaticFile("d/keep", "k", 0o644),
		cpio.Directory("d", 0o711), // a directory again keeps its entries
		link("u1", 5, 2, "shared"), // u-root: the data with the first name
		link("u2", 5, 2, ""),
		link("g1", 9, 2, ""), // GNU cpio: the data with the last name
		link("g2", 9, 2, "gnu"),
		cpio.Symlink("empty", ""), // Linux's symlink(2) refuses it: no file
		cpio.CharDev("dev/null", 0o600, 1, 3),
		cpio.CharDev("dev/tty", 0o600, 5, 0),
		rec("fifo", S_IFIFO|0o644),
		rec("tmp/hidden", S_IFREG|0o644), // under the tmpfs mount
	)})
	check := func(path, want string) {
		t.Helper()
		h, e := fsys.Openat(AtCWD, path, O_RDONLY, 0)
		must(t, e)
		if got := readAll(t, fsys, h); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
		must(t, fsys.Close(h))
	}
	check("f", "second")
	check("d/keep", "k")
	check("u2", "shared")
	check("g1", "gnu")
	st, _ := fsys.Fstatat(AtCWD, "/", 0)
	if st.Mode != S_IFDIR|0o700 {
		t.Errorf("root mode %#o", st.Mode)
	}
	st, _ = fsys.Fstatat(AtCWD, "d", 0)
	if st.Mode != S_IFDIR|0o711 {
		t.Errorf("d mode %#o", st.Mode)
	}
	a, _ := fsys.Fstatat(AtCWD, "u1", 0)
	b, _ := fsys.Fstatat(AtCWD, "u2", 0)
	if a.Ino != b.Ino || a.Nlink != 2 || a.UID != 7 || a.GID != 8 || a.Mtime.Sec != 1234 || a.Atime.Sec != 1234 {
		t.Errorf("hard links: %+v %+v", a, b)
	}
	_, e := fsys.Fstatat(AtCWD, "empty", AT_SYMLINK_NOFOLLOW)
	wantErr(t, "empty symlink", e, ENOENT)
	st, _ = fsys.Fstatat(AtCWD, "dev/null", 0)
	if st.Mode != S_IFCHR|0o600 {
		t.Errorf("the archive's /dev/null: %#o", st.Mode)
	}
	h := open(t, fsys, "dev/null", O_RDWR, 0)
	n, e := fsys.Write(h, []byte("x"))
	if n != 1 || e != 0 {
		t.Errorf("write /dev/null: %d %v", n, e)
	}
	fsys.Close(h)
	for _, p := range []string{"dev/tty", "fifo"} {
		_, e = fsys.Openat(AtCWD, p, O_RDONLY, 0)
		wantErr(t, "open "+p, e, ENXIO)
		_, e = fsys.Fstatat(AtCWD, p, 0)
		wantErr(t, "stat "+p, e, 0)
	}
	_, e = fsys.Fstatat(AtCWD, "/tmp/hidden", 0)
	wantErr(t, "a file under the tmpfs mount", e, ENOENT)
	_, e = fsys.Fstatat(AtCWD, "/dev/zero", 0)
	wantErr(t, "/dev/zero added", e, 0)
}

func TestArchiveErrors(t *testing.T) {
	for name, recs := range map[string][]cpio.Record{
		"tmp is a file":  {cpio.StaticFile("tmp", "x", 0o644)},
		"dev is a link":  {cpio.Symlink("dev", "/elsewhere")},
		"dot-dot":        {cpio.StaticFile("a/../../x", "x", 0o644)},
		"parent is file": {cpio.StaticFile("a", "x", 0o644), cpio.StaticFile("a/b", "x", 0o644)},
		"long name":      {cpio.StaticFile(string(bytes.Repeat([]byte("n"), 256)), "x", 0o644)},
	} {
		if _, err := New(Config{Archive: archive(t, recs...)}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	good := archive(t, cpio.StaticFile("f", "contents", 0o644))
	for _, bad := range [][]byte{good[:50], good[:len(good)-20], append([]byte("XXXXXX"), good[6:]...)} {
		if _, err := New(Config{Archive: bad}); err == nil {
			t.Errorf("a damaged archive (%d bytes) loads", len(bad))
		}
	}
	// No archive at all: an empty root with /dev and /tmp.
	fsys, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/dev/null", "/dev/zero", "/tmp"} {
		if _, e := fsys.Fstatat(AtCWD, p, 0); e != 0 {
			t.Errorf("%s: %v", p, e)
		}
	}
}

// The archive's bytes are the files' contents: nothing is copied.
func TestArchiveNotCopied(t *testing.T) {
	arch := archive(t, cpio.StaticFile("f", "original", 0o644))
	fsys := newFS(t, Config{Archive: arch})
	i := bytes.Index(arch, []byte("original"))
	copy(arch[i:], "modified")
	h := open(t, fsys, "/f", O_RDONLY, 0)
	if got := readAll(t, fsys, h); got != "modified" {
		t.Errorf("read %q: the contents were copied", got)
	}
}
