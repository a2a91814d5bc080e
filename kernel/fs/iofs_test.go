package fs

import (
	"errors"
	"io"
	iofs "io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/u-root/u-root/pkg/cpio"
)

// ioFS shows a directory of an FS as an io/fs.FS, so that
// testing/fstest checks what Go's file system code relies on: listings
// that agree with stat, whatever the ReadDir chunk size, reads and seeks
// that agree with sizes, errors that are fs.ErrNotExist.
type ioFS struct {
	fsys *FS
	dir  Handle
}

func (a ioFS) Open(name string) (iofs.File, error) {
	if !iofs.ValidPath(name) {
		return nil, &iofs.PathError{Op: "open", Path: name, Err: iofs.ErrInvalid}
	}
	h, e := a.fsys.Openat(a.dir, name, O_RDONLY, 0)
	if e != 0 {
		return nil, &iofs.PathError{Op: "open", Path: name, Err: e}
	}
	return &ioFile{a.fsys, h, path.Base(name)}, nil
}

// ReadLink and Lstat make ioFS an io/fs.ReadLinkFS.
func (a ioFS) ReadLink(name string) (string, error) {
	buf := make([]byte, PathMax)
	n, e := a.fsys.Readlinkat(a.dir, name, buf)
	if e != 0 {
		return "", &iofs.PathError{Op: "readlink", Path: name, Err: e}
	}
	return string(buf[:n]), nil
}

func (a ioFS) Lstat(name string) (iofs.FileInfo, error) {
	st, e := a.fsys.Fstatat(a.dir, name, AT_SYMLINK_NOFOLLOW)
	if e != 0 {
		return nil, &iofs.PathError{Op: "lstat", Path: name, Err: e}
	}
	return fileInfo{path.Base(name), st}, nil
}

type ioFile struct {
	fsys *FS
	h    Handle
	name string
}

func (f *ioFile) Stat() (iofs.FileInfo, error) {
	st, e := f.fsys.Fstat(f.h)
	if e != 0 {
		return nil, e
	}
	return fileInfo{f.name, st}, nil
}

func (f *ioFile) Read(p []byte) (int, error) {
	n, e := f.fsys.Read(f.h, p)
	if e != 0 {
		return n, e
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (f *ioFile) ReadAt(p []byte, off int64) (int, error) {
	n, e := f.fsys.Pread(f.h, p, off)
	if e != 0 {
		return n, e
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *ioFile) Seek(off int64, whence int) (int64, error) {
	r, e := f.fsys.Lseek(f.h, off, whence)
	if e != 0 {
		return r, e
	}
	return r, nil
}

func (f *ioFile) Close() error {
	if e := f.fsys.Close(f.h); e != 0 {
		return e
	}
	return nil
}

// ReadDir lists through getdents64 and stats each entry, as os.File's
// ReadDir does; a small buffer makes every listing resume often.
func (f *ioFile) ReadDir(n int) ([]iofs.DirEntry, error) {
	var out []iofs.DirEntry
	buf := make([]byte, 64)
	for n <= 0 || len(out) < n {
		off, _ := f.fsys.Lseek(f.h, 0, SEEK_CUR)
		k, e := f.fsys.Getdents64(f.h, buf)
		if e == EINVAL {
			buf = make([]byte, 2*len(buf))
			continue
		}
		if e != 0 {
			return out, e
		}
		if k == 0 {
			break
		}
		for _, r := range decodeDirents(buf[:k]) {
			if r.name == "." || r.name == ".." {
				off = r.off
				continue
			}
			if n > 0 && len(out) == n {
				f.fsys.Lseek(f.h, off, SEEK_SET) // give the rest back
				return out, nil
			}
			st, e := f.fsys.Fstatat(f.h, r.name, AT_SYMLINK_NOFOLLOW)
			if e != 0 {
				return out, e
			}
			out = append(out, iofs.FileInfoToDirEntry(fileInfo{r.name, st}))
			off = r.off
		}
	}
	if n > 0 && len(out) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

type fileInfo struct {
	name string
	st   Stat
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.st.Size }
func (fi fileInfo) ModTime() time.Time { return time.Unix(fi.st.Mtime.Sec, fi.st.Mtime.Nsec) }
func (fi fileInfo) IsDir() bool        { return fi.st.Mode&S_IFMT == S_IFDIR }
func (fi fileInfo) Sys() any           { return fi.st }
func (fi fileInfo) Mode() iofs.FileMode {
	m := iofs.FileMode(fi.st.Mode & 0o777)
	switch fi.st.Mode & S_IFMT {
	case S_IFDIR:
		m |= iofs.ModeDir
	case S_IFLNK:
		m |= iofs.ModeSymlink
	case S_IFCHR:
		m |= iofs.ModeDevice | iofs.ModeCharDevice
	case S_IFIFO:
		m |= iofs.ModeNamedPipe
	}
	return m
}

func TestIOFS(t *testing.T) {
	fsys := newFS(t, Config{Archive: archive(t,
		cpio.Directory("work/pkg/testdata", 0o755),
		cpio.StaticFile("work/pkg/a.go", "package a\n", 0o644),
		cpio.StaticFile("work/pkg/testdata/hello.txt", strings.Repeat("hello\n", 2000), 0o644),
		cpio.Symlink("work/pkg/testdata/link", "hello.txt"),
		cpio.Directory("work/pkg/testdata/empty", 0o755),
	)})
	work := open(t, fsys, "/work", O_RDONLY|O_DIRECTORY, 0)
	if err := fstest.TestFS(ioFS{fsys, work}, "pkg/a.go", "pkg/testdata/hello.txt", "pkg/testdata/link"); err != nil {
		t.Error(err)
	}
	must(t, fsys.Mkdirat(AtCWD, "/tmp/t", 0o755))
	must(t, fsys.Mkdirat(AtCWD, "/tmp/t/sub", 0o755))
	for i := 0; i < 30; i++ {
		writeFile(t, fsys, "/tmp/t/sub/file"+string(rune('a'+i%26))+string(rune('0'+i/26)), "contents")
	}
	writeFile(t, fsys, "/tmp/t/empty", "")
	tmp := open(t, fsys, "/tmp/t", O_RDONLY|O_DIRECTORY, 0)
	if err := fstest.TestFS(ioFS{fsys, tmp}, "empty", "sub/filea0"); err != nil {
		t.Error(err)
	}
	_, err := ioFS{fsys, tmp}.Open("missing")
	if !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
