package qemu

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"

	"hurdvm/kernel/fs"
)

// testTree makes a test's directory with one of each thing PackDir keeps
// or leaves out, and returns it. It is made in the working directory, not
// in the host's /tmp, which the kernel's tmpfs at /tmp would hide.
func testTree(t *testing.T) string {
	t.Helper()
	top, err := os.MkdirTemp(".", ".packtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	dir, err := filepath.Abs(filepath.Join(top, "pkg"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data string, mode os.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	write("a_test.go", "package a\n", 0o644)
	write("testdata/x", "x's contents\n", 0o600)
	write("testdata/prog", "\x7fELF an input of debug/elf's kind", 0o755)
	write("a.test", "\x7fELF a test binary go test -c left", 0o755)
	write(".git", "gitdir: /elsewhere\n", 0o644)
	write("build/out", "the repository's build output", 0o644)
	write("testdata/big", strings.Repeat("b", 5000), 0o644)
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "testdata/x"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("testdata/x", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "testdata/x"), filepath.Join(dir, "testdata/hardlink")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func pack(t *testing.T, dir string, opt PackOptions) ([]byte, PackSummary) {
	t.Helper()
	var b bytes.Buffer
	sum, err := PackDir(&b, dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if int64(b.Len()) != sum.Size {
		t.Errorf("summary says %d bytes, the archive has %d", sum.Size, b.Len())
	}
	return b.Bytes(), sum
}

func TestPackDirRecords(t *testing.T) {
	dir := testTree(t)
	archive, sum := pack(t, dir, PackOptions{MaxFile: 4096, Exclude: []string{filepath.Join(dir, "build")}})
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(archive)))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]cpio.Record{}
	var names []string
	for _, r := range recs {
		byName[r.Name] = r
		names = append(names, r.Name)
	}
	rel := strings.TrimPrefix(dir, "/")
	// The ancestors come first, from the top, as directories.
	parts := strings.Split(rel, "/")
	for i := range parts {
		if names[i] != strings.Join(parts[:i+1], "/") || byName[names[i]].Mode&cpio.S_IFMT != cpio.S_IFDIR {
			t.Fatalf("record %d is %q (mode %#o), want the directory %q", i, names[i], byName[names[i]].Mode, strings.Join(parts[:i+1], "/"))
		}
	}
	want := []string{"a_test.go", "testdata", "testdata/x", "testdata/prog", "testdata/hardlink", "link"}
	for _, w := range want {
		if _, ok := byName[rel+"/"+w]; !ok {
			t.Errorf("%s is missing; the archive has %q", w, names)
		}
	}
	for _, n := range []string{"a.test", ".git", "build", "build/out", "testdata/big", "fifo"} {
		if _, ok := byName[rel+"/"+n]; ok {
			t.Errorf("%s is in the archive", n)
		}
	}
	x := byName[rel+"/testdata/x"]
	if x.Mode != cpio.S_IFREG|0o600 || x.MTime != uint64(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC).Unix()) || x.UID != 0 {
		t.Errorf("testdata/x: mode %#o mtime %d uid %d", x.Mode, x.MTime, x.UID)
	}
	if l := byName[rel+"/link"]; l.Mode&cpio.S_IFMT != cpio.S_IFLNK || readAll(t, l) != "testdata/x" {
		t.Errorf("link: mode %#o target %q", l.Mode, readAll(t, l))
	}
	// The reported skips are the ones a test might miss: the large file
	// and the FIFO, not the binary, .git or build/.
	var reported []string
	for _, s := range sum.Skipped {
		reported = append(reported, s.Path)
	}
	if strings.Join(reported, " ") != "fifo testdata/big" {
		t.Errorf("reported skips %q, want fifo and testdata/big", reported)
	}
	if sum.SkippedAll != 5 {
		t.Errorf("%d paths left out, want 5 (a.test, .git, build, testdata/big, fifo)", sum.SkippedAll)
	}
}

func readAll(t *testing.T, r cpio.Record) string {
	t.Helper()
	if r.ReaderAt == nil {
		return ""
	}
	b, err := io.ReadAll(io.NewSectionReader(r, 0, int64(r.FileSize)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPackDirServedByKernelFS: the kernel's file system (kernel/fs, plain
// Go) reads the archive as the test expects to find its directory: files,
// a hard link with the data, a symbolic link, modes and times.
func TestPackDirServedByKernelFS(t *testing.T) {
	dir := testTree(t)
	archive, _ := pack(t, dir, PackOptions{MaxFile: 4096})
	fsys, err := fs.New(fs.Config{Archive: archive})
	if err != nil {
		t.Fatal(err)
	}
	read := func(path string) string {
		h, e := fsys.Openat(fs.AtCWD, path, syscall.O_RDONLY, 0)
		if e != 0 {
			t.Fatalf("open %s: %v", path, e)
		}
		defer fsys.Close(h)
		buf := make([]byte, 100)
		n, e := fsys.Read(h, buf)
		if e != 0 {
			t.Fatalf("read %s: %v", path, e)
		}
		return string(buf[:n])
	}
	for _, p := range []string{"testdata/x", "testdata/hardlink", "link"} {
		if got := read(dir + "/" + p); got != "x's contents\n" {
			t.Errorf("%s reads %q", p, got)
		}
	}
	if e := fsys.Chdir(dir); e != 0 {
		t.Fatalf("chdir %s: %v", dir, e)
	}
	st, e := fsys.Fstatat(fs.AtCWD, "testdata/x", 0)
	if e != 0 {
		t.Fatal(e)
	}
	if st.Mode != syscall.S_IFREG|0o600 || st.Nlink != 2 || st.Mtime.Sec != time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC).Unix() {
		t.Errorf("testdata/x: mode %#o, %d links, mtime %d", st.Mode, st.Nlink, st.Mtime.Sec)
	}
	if _, e := fsys.Openat(fs.AtCWD, "a.test", syscall.O_RDONLY, 0); e != fs.ENOENT {
		t.Errorf("the test binary opens with %v, want ENOENT", e)
	}
	if _, e := fsys.Openat(fs.AtCWD, "a_test.go", syscall.O_RDWR, 0); e != fs.EROFS {
		t.Errorf("writing a_test.go: %v, want EROFS", e)
	}
}

func TestPackDirLimit(t *testing.T) {
	dir := testTree(t)
	var b bytes.Buffer
	sum, err := PackDir(&b, dir, PackOptions{MaxTotal: 4096})
	if !errors.Is(err, ErrPackTooLarge) {
		t.Fatalf("err %v, want ErrPackTooLarge", err)
	}
	if b.Len() != 0 {
		t.Error("PackDir wrote part of an archive it refused")
	}
	msg := err.Error()
	for _, want := range []string{dir, "over the limit of 4.0 KiB", "testdata/big"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message lacks %q:\n%s", want, msg)
		}
	}
	if sum.Size <= 4096 {
		t.Errorf("summary size %d", sum.Size)
	}
}

// TestPackDirExtra: an extra file goes in at its own path with its
// ancestors, even an ELF file outside testdata and outside the directory.
func TestPackDirExtra(t *testing.T) {
	dir := testTree(t)
	prog := filepath.Join(filepath.Dir(dir), "elsewhere", "prog")
	if err := os.MkdirAll(filepath.Dir(prog), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prog, []byte("\x7fELF a program"), 0o755); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(dir, "a.test") // an ELF file the rules leave out
	archive, _ := pack(t, dir, PackOptions{Extra: []string{prog, inside, filepath.Join(dir, "a_test.go")}})
	count := recordCounts(t, archive)
	for _, p := range []string{prog, filepath.Dir(prog), inside} {
		if count[strings.TrimPrefix(p, "/")] != 1 {
			t.Errorf("%s is in the archive %d times, want once", p, count[strings.TrimPrefix(p, "/")])
		}
	}
	if n := count[strings.TrimPrefix(filepath.Join(dir, "a_test.go"), "/")]; n != 1 {
		t.Errorf("a file both in the directory and extra is in the archive %d times", n)
	}
	if _, err := PackDir(io.Discard, dir, PackOptions{Extra: []string{"relative"}}); err == nil {
		t.Error("a relative extra path was packed")
	}
}

// TestPackDirTrees: a further tree (std's ../testdata) goes in at its own
// path with its ancestors, by the directory's rules: an ELF file in it is
// an input (it is a testdata directory), a large one is left out, and a
// tree that overlaps the directory adds nothing twice.
func TestPackDirTrees(t *testing.T) {
	dir := testTree(t)
	data := filepath.Join(filepath.Dir(dir), "testdata")
	for name, body := range map[string]string{"shared.txt": "shared input", "prog": "\x7fELF an input", "big": strings.Repeat("b", 5000)} {
		if err := os.MkdirAll(data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	archive, sum := pack(t, dir, PackOptions{MaxFile: 4096, Trees: []string{data, filepath.Join(dir, "testdata")}})
	count := recordCounts(t, archive)
	for _, p := range []string{data, filepath.Join(data, "shared.txt"), filepath.Join(data, "prog"), filepath.Join(dir, "testdata", "x")} {
		if n := count[strings.TrimPrefix(p, "/")]; n != 1 {
			t.Errorf("%s is in the archive %d times, want once", p, n)
		}
	}
	if count[strings.TrimPrefix(filepath.Join(data, "big"), "/")] != 0 {
		t.Error("a file over MaxFile in a further tree was packed")
	}
	if len(sum.Skipped) == 0 || sum.Skipped[len(sum.Skipped)-1].Path != "../testdata/big" {
		t.Errorf("skips %v: want ../testdata/big reported", sum.Skipped)
	}
	if _, err := PackDir(io.Discard, dir, PackOptions{Trees: []string{"relative"}}); err == nil {
		t.Error("a relative tree was packed")
	}
}

// recordCounts counts the archive's records by name.
func recordCounts(t *testing.T, archive []byte) map[string]int {
	t.Helper()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(archive)))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range recs {
		count[r.Name]++
	}
	return count
}
