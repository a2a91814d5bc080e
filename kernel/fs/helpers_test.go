package fs

import (
	"bytes"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

// archive builds a newc archive from records, the way qemuexec packs a
// test's directory. Each record gets a writer of its own, because u-root's
// writer drops a name it has written before and some tests want that.
// A nil t panics on an error.
func archive(t testing.TB, recs ...cpio.Record) []byte {
	var buf bytes.Buffer
	for _, r := range append(recs, cpio.TrailerRecord) {
		if err := cpio.Newc.Writer(&buf).WriteRecord(r); err != nil {
			if t == nil {
				panic(err)
			}
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// testTree is the read-only tree most tests use: a test's directory with
// testdata, as qemuexec packs it.
func testTree(t testing.TB) []byte {
	return archive(t,
		cpio.Directory("work", 0o755),
		cpio.Directory("work/pkg", 0o755),
		cpio.StaticFile("work/pkg/a.go", "package a\n", 0o644),
		cpio.Directory("work/pkg/testdata", 0o755),
		cpio.StaticFile("work/pkg/testdata/hello.txt", "hello, world\n", 0o644),
		cpio.StaticFile("work/pkg/testdata/secret", "s", 0o000),
		cpio.StaticFile("work/pkg/testdata/script.sh", "#!/bin/sh\n", 0o755),
		cpio.Symlink("work/pkg/testdata/link", "hello.txt"),
		cpio.Symlink("work/pkg/testdata/abs", "/work/pkg/testdata"),
		cpio.Symlink("work/pkg/testdata/dangling", "nowhere"),
		cpio.StaticFile("etc/implied/deep/file", "deep", 0o600), // parents without records
	)
}

// fixedClock is a clock tests can move.
type fixedClock struct{ t Timespec }

func (c *fixedClock) now() Timespec { return c.t }

// newFS makes an FS over testTree with cfg's other settings.
func newFS(t testing.TB, cfg Config) *FS {
	t.Helper()
	if cfg.Archive == nil {
		cfg.Archive = testTree(t)
	}
	if cfg.Umask == 0 {
		cfg.Umask = 0o022
	}
	fsys, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

// must fails the test on an error.
func must(t testing.TB, e Errno) {
	t.Helper()
	if e != 0 {
		t.Fatalf("unexpected %v (%d)", e, int(e))
	}
}

// wantErr checks an operation's error.
func wantErr(t testing.TB, what string, got, want Errno) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v (%d), want %v (%d)", what, got, int(got), want, int(want))
	}
}

// open opens a file or fails the test.
func open(t testing.TB, fsys *FS, path string, flags int, mode uint32) Handle {
	t.Helper()
	h, e := fsys.Openat(AtCWD, path, flags, mode)
	must(t, e)
	return h
}

// readAll reads a handle to its end.
func readAll(t testing.TB, fsys *FS, h Handle) string {
	t.Helper()
	var out []byte
	buf := make([]byte, 7)
	for {
		n, e := fsys.Read(h, buf)
		must(t, e)
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

// writeFile creates (or truncates) path with data.
func writeFile(t testing.TB, fsys *FS, path, data string) {
	t.Helper()
	h := open(t, fsys, path, O_WRONLY|O_CREAT|O_TRUNC, 0o644)
	n, e := fsys.Write(h, []byte(data))
	must(t, e)
	if n != len(data) {
		t.Fatalf("write %s: %d of %d bytes", path, n, len(data))
	}
	must(t, fsys.Close(h))
}
