package fs

import (
	"syscall"
	"testing"
)

func TestHandles(t *testing.T) {
	fsys := newFS(t, Config{MaxHandles: 4})
	a := open(t, fsys, "/work/pkg/a.go", O_RDONLY, 0)
	b := open(t, fsys, "/work/pkg/a.go", O_RDONLY, 0)
	if a == b || a <= 0 || b <= 0 {
		t.Fatalf("handles %d %d", a, b)
	}
	// A duplicate shares the offset; another open does not.
	must(t, fsys.Dup(a))
	buf := make([]byte, 3)
	fsys.Read(a, buf)
	if off, _ := fsys.Lseek(a, 0, SEEK_CUR); off != 3 {
		t.Errorf("offset %d", off)
	}
	if off, _ := fsys.Lseek(b, 0, SEEK_CUR); off != 0 {
		t.Errorf("other open's offset %d", off)
	}
	must(t, fsys.Close(a))
	if off, e := fsys.Lseek(a, 0, SEEK_CUR); off != 3 || e != 0 {
		t.Errorf("after closing one reference: %d %v", off, e)
	}
	must(t, fsys.Close(a))
	wantErr(t, "closed", fsys.Close(a), EBADF)
	wantErr(t, "dup closed", fsys.Dup(a), EBADF)
	// Numbers are not reused at once.
	c := open(t, fsys, "/work/pkg/a.go", O_RDONLY, 0)
	if c == a {
		t.Errorf("handle %d reused", c)
	}
	// The table's limit: ENFILE.
	open(t, fsys, "/work", O_PATH, 0)
	open(t, fsys, "/work", O_RDONLY, 0)
	_, e := fsys.Openat(AtCWD, "/work", O_RDONLY, 0)
	wantErr(t, "fifth open", e, ENFILE)
	for _, h := range []Handle{-1, 0, 1 << 30, AtCWD} {
		if _, e := fsys.Read(h, buf); e != EBADF {
			t.Errorf("read handle %d: %v", h, e)
		}
	}
}

// Handle numbers wrap around below ChosenHandles and skip the ones in
// use.
func TestHandleWrap(t *testing.T) {
	fsys := newFS(t, Config{})
	a := open(t, fsys, "/work", O_PATH, 0)
	fsys.nextHandle = ChosenHandles - 1
	b := open(t, fsys, "/work", O_PATH, 0)
	c := open(t, fsys, "/work", O_PATH, 0)
	if b != ChosenHandles-1 || c <= 0 || c >= ChosenHandles || c == a {
		t.Errorf("handles %d %d %d", a, b, c)
	}
}

// PipeAt makes a pipe whose ends have the numbers the caller chose, from
// ChosenHandles up; it works as Pipe's, and FS never hands those numbers
// out itself.
func TestPipeAt(t *testing.T) {
	fsys := newFS(t, Config{})
	r, w := ChosenHandles+10, ChosenHandles+11
	for _, c := range []struct {
		r, w  Handle
		flags int
		want  Errno
	}{
		{1, w, 0, EBADF},         // not a chosen number
		{r, r, 0, EBADF},         // the same twice
		{r, w, O_DIRECT, EINVAL}, // packet mode
		{r, w, O_NONBLOCK, 0},    // made
		{r, w + 1, 0, EBADF},     // r in use
	} {
		if e := fsys.PipeAt(c.r, c.w, c.flags); e != c.want {
			t.Errorf("PipeAt(%d, %d, %#x): %v, want %v", c.r, c.w, c.flags, e, c.want)
		}
	}
	if n, e := fsys.Write(w, []byte("abc")); n != 3 || e != 0 {
		t.Fatalf("write: %d %v", n, e)
	}
	buf := make([]byte, 8)
	if n, e := fsys.Read(r, buf); string(buf[:n]) != "abc" || e != 0 {
		t.Fatalf("read: %q %v", buf[:n], e)
	}
	if _, e := fsys.Read(r, buf); e != EAGAIN {
		t.Errorf("read of the empty O_NONBLOCK pipe: %v, want EAGAIN", e)
	}
	fsys.Close(w)
	if n, e := fsys.Read(r, buf); n != 0 || e != 0 {
		t.Errorf("read after the writer closed: %d %v, want end of file", n, e)
	}
	fsys.Close(r)
	if len(fsys.handles) != 0 {
		t.Errorf("%d handles left", len(fsys.handles))
	}
}

// Errno's texts are Go's syscall package's.
func TestErrnoText(t *testing.T) {
	for e := range errnoText {
		if e == ErrWouldBlock {
			continue
		}
		if got, want := e.Error(), syscall.Errno(e).Error(); got != want {
			t.Errorf("%d: %q, syscall says %q", e, got, want)
		}
	}
	if got := Errno(1234).Error(); got != "errno 1234" {
		t.Errorf("unknown: %q", got)
	}
}

func TestTimes(t *testing.T) {
	clock := &fixedClock{Timespec{1000, 0}}
	fsys := newFS(t, Config{Clock: clock.now})
	tick := func(sec int64) { clock.t = Timespec{sec, 0} }
	stat := func(p string) Stat {
		st, e := fsys.Fstatat(AtCWD, p, AT_SYMLINK_NOFOLLOW)
		must(t, e)
		return st
	}
	tick(2000)
	h := open(t, fsys, "/tmp/f", O_CREAT|O_RDWR, 0o644)
	if st := stat("/tmp"); st.Mtime.Sec != 2000 || st.Ctime.Sec != 2000 {
		t.Errorf("directory times after a create: %+v", st)
	}
	st := stat("/tmp/f")
	if st.Atime.Sec != 2000 || st.Mtime.Sec != 2000 || st.Btime.Sec != 2000 {
		t.Errorf("new file: %+v", st)
	}
	tick(3000)
	fsys.Write(h, []byte("x"))
	if st := stat("/tmp/f"); st.Mtime.Sec != 3000 || st.Ctime.Sec != 3000 || st.Atime.Sec != 2000 {
		t.Errorf("after a write: %+v", st)
	}
	tick(4000)
	fsys.Pread(h, make([]byte, 1), 0) // atime <= mtime: relatime updates
	if st := stat("/tmp/f"); st.Atime.Sec != 4000 {
		t.Errorf("after a read: %+v", st)
	}
	tick(5000)
	fsys.Pread(h, make([]byte, 1), 0) // atime > mtime, less than a day: kept
	if st := stat("/tmp/f"); st.Atime.Sec != 4000 {
		t.Errorf("after a second read: %+v", st)
	}
	tick(4000 + day)
	fsys.Pread(h, make([]byte, 1), 0) // a day later: updated
	if st := stat("/tmp/f"); st.Atime.Sec != 4000+day {
		t.Errorf("a day later: %+v", st)
	}
	tick(200000)
	must(t, fsys.Fchmod(h, 0o600))
	if st := stat("/tmp/f"); st.Ctime.Sec != 200000 || st.Mtime.Sec != 3000 {
		t.Errorf("after chmod: %+v", st)
	}
	must(t, fsys.Futimens(h, &[2]Timespec{{7, 8}, {Nsec: UTIME_OMIT}}))
	if st := stat("/tmp/f"); st.Atime != (Timespec{7, 8}) || st.Mtime.Sec != 3000 {
		t.Errorf("after futimens: %+v", st)
	}
	wantErr(t, "futimens bad nsec", fsys.Futimens(h, &[2]Timespec{{7, 1e9}, {7, 0}}), EINVAL)
	must(t, fsys.Close(h))
	// The read-only tree keeps its archive times.
	before := stat("/work/pkg/a.go")
	h = open(t, fsys, "/work/pkg/a.go", O_RDONLY, 0)
	readAll(t, fsys, h)
	if after := stat("/work/pkg/a.go"); after.Atime != before.Atime {
		t.Errorf("read-only atime changed: %+v", after)
	}
}
