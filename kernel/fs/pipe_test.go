package fs

import (
	"bytes"
	"testing"
)

// notes records Config.Notify's calls.
type notes struct{ got []note }

type note struct {
	h  Handle
	ev Events
}

func (n *notes) notify(h Handle, ev Events) { n.got = append(n.got, note{h, ev}) }

func (n *notes) take() []note {
	got := n.got
	n.got = nil
	return got
}

func TestPipeBlocking(t *testing.T) {
	var wakes notes
	fsys := newFS(t, Config{Notify: wakes.notify})
	r, w, e := fsys.Pipe(0)
	must(t, e)
	buf := make([]byte, 100)

	// Empty, writer open: wait.
	n, e := fsys.Read(r, buf)
	wantErr(t, "read empty", e, ErrWouldBlock)
	if ev, _ := fsys.Poll(r); ev != 0 {
		t.Errorf("empty read end polls %#x", ev)
	}
	if ev, _ := fsys.Poll(w); ev != EPOLLOUT|EPOLLWRNORM {
		t.Errorf("empty write end polls %#x", ev)
	}

	// A write wakes the reader with EPOLLIN.
	n, e = fsys.Write(w, []byte("ping"))
	if n != 4 || e != 0 {
		t.Fatalf("write: %d %v", n, e)
	}
	if got := wakes.take(); len(got) != 1 || got[0] != (note{r, EPOLLIN | EPOLLRDNORM}) {
		t.Errorf("write woke %v", got)
	}

	// Fill it: a blocking write of more than fits writes what fits and
	// asks to wait for the rest.
	big := bytes.Repeat([]byte("x"), 2*PipeCapacity)
	n, e = fsys.Write(w, big)
	if e != ErrWouldBlock || n != PipeCapacity-pageSize {
		t.Fatalf("big write: %d %v, want %d and ErrWouldBlock", n, e, PipeCapacity-pageSize)
	}
	wakes.take()
	if ev, _ := fsys.Poll(w); ev != 0 {
		t.Errorf("full write end polls %#x", ev)
	}
	// A small write is all or nothing: nothing.
	n, e = fsys.Write(w, []byte("y"))
	if n != 0 || e != ErrWouldBlock {
		t.Errorf("small write to a full pipe: %d %v", n, e)
	}
	// Reading from a full pipe wakes the writer.
	n, e = fsys.Read(r, buf[:4])
	if n != 4 || e != 0 || string(buf[:4]) != "ping" {
		t.Fatalf("read: %d %v %q", n, e, buf[:n])
	}
	if got := wakes.take(); len(got) != 1 || got[0] != (note{w, EPOLLOUT | EPOLLWRNORM}) {
		t.Errorf("read of a full pipe woke %v", got)
	}

	// The reader goes away: the writer is in error, writing is EPIPE
	// (the server sends SIGPIPE).
	must(t, fsys.Dup(r))
	must(t, fsys.Close(r)) // a duplicate keeps it open
	if got := wakes.take(); len(got) != 0 {
		t.Errorf("closing a duplicate woke %v", got)
	}
	must(t, fsys.Close(r))
	if got := wakes.take(); len(got) != 1 || got[0] != (note{w, EPOLLOUT | EPOLLWRNORM | EPOLLERR}) {
		t.Errorf("closing the reader woke %v", got)
	}
	n, e = fsys.Write(w, []byte("z"))
	if n != 0 || e != EPIPE {
		t.Errorf("write without reader: %d %v", n, e)
	}
	must(t, fsys.Close(w))
	if fsys.OpenHandles() != 0 {
		t.Errorf("%d handles left", fsys.OpenHandles())
	}
}

func TestPipeEOFAndHangup(t *testing.T) {
	var wakes notes
	fsys := newFS(t, Config{Notify: wakes.notify})
	r, w, _ := fsys.Pipe(O_NONBLOCK)
	fsys.Write(w, []byte("last words"))
	wakes.take()
	must(t, fsys.Close(w))
	want := EPOLLIN | EPOLLRDNORM | EPOLLHUP
	if got := wakes.take(); len(got) != 1 || got[0] != (note{r, want}) {
		t.Errorf("closing the writer woke %v", got)
	}
	buf := make([]byte, 4)
	if n, e := fsys.Read(r, buf); n != 4 || e != 0 {
		t.Errorf("read: %d %v", n, e)
	}
	if got := readAll(t, fsys, r); got != " words" {
		t.Errorf("rest: %q", got)
	}
	if ev, _ := fsys.Poll(r); ev != EPOLLHUP {
		t.Errorf("drained, no writer: %#x", ev)
	}
	if n, e := fsys.Read(r, buf); n != 0 || e != 0 {
		t.Errorf("end of file: %d %v", n, e)
	}
}

// Writes of up to PIPE_BUF bytes are atomic: in whole or not at all, also
// when the last buffer has a little room.
func TestPipeAtomicWrites(t *testing.T) {
	fsys := newFS(t, Config{})
	r, w, _ := fsys.Pipe(O_NONBLOCK)
	for i := 0; i < pipeSlots; i++ {
		if n, e := fsys.Write(w, bytes.Repeat([]byte{'a'}, PipeBuf-10)); n != PipeBuf-10 || e != 0 {
			t.Fatalf("write %d: %d %v", i, n, e)
		}
	}
	// Ten bytes of room in the last buffer: 10 fit, 11 do not.
	if n, e := fsys.Write(w, make([]byte, 11)); n != 0 || e != EAGAIN {
		t.Errorf("11 bytes: %d %v", n, e)
	}
	if n, e := fsys.Write(w, make([]byte, 10)); n != 10 || e != 0 {
		t.Errorf("10 bytes: %d %v", n, e)
	}
	if n, e := fsys.Write(w, make([]byte, 1)); n != 0 || e != EAGAIN {
		t.Errorf("full: %d %v", n, e)
	}
	fsys.Close(r)
	fsys.Close(w)
}

func TestPipeMisuse(t *testing.T) {
	fsys := newFS(t, Config{MaxHandles: 3})
	_, _, e := fsys.Pipe(O_DIRECT)
	wantErr(t, "packet mode", e, EINVAL)
	r, w, e := fsys.Pipe(O_CLOEXEC)
	must(t, e)
	if !fsys.Pollable(r) || !fsys.Pollable(w) {
		t.Error("pipes are pollable")
	}
	_, _, e = fsys.Pipe(0)
	wantErr(t, "pipe with one handle left", e, ENFILE)
	st, e := fsys.Fstat(r)
	must(t, e)
	if st.Mode != S_IFIFO|0o600 || st.Nlink != 1 {
		t.Errorf("pipe stat %+v", st)
	}
	_, mask, e := fsys.Statx(r, "", AT_EMPTY_PATH, STATX_BASIC_STATS|STATX_BTIME)
	if e != 0 || mask&STATX_BTIME != 0 {
		t.Errorf("pipe statx mask %#x %v", mask, e)
	}
	wantErr(t, "read 0 bytes", func() Errno { _, e := fsys.Read(r, nil); return e }(), 0)
	wantErr(t, "write 0 bytes", func() Errno { _, e := fsys.Write(w, nil); return e }(), 0)
	wantErr(t, "openat relative to a pipe", func() Errno { _, e := fsys.Openat(r, "x", O_RDONLY, 0); return e }(), ENOTDIR)
	wantErr(t, "fchdir to a pipe", fsys.Fchdir(r), ENOTDIR)
}

func TestPollOtherFiles(t *testing.T) {
	fsys := newFS(t, Config{})
	for _, p := range []string{"/work/pkg/a.go", "/work", "/dev/null"} {
		h := open(t, fsys, p, O_RDONLY, 0)
		if fsys.Pollable(h) {
			t.Errorf("%s is pollable: epoll_ctl must say EPERM", p)
		}
		if ev, e := fsys.Poll(h); e != 0 || ev != EPOLLIN|EPOLLOUT|EPOLLRDNORM|EPOLLWRNORM {
			t.Errorf("%s polls %#x %v", p, ev, e)
		}
		fsys.Close(h)
	}
	h := open(t, fsys, "/work", O_PATH, 0)
	if _, e := fsys.Poll(h); e != EBADF {
		t.Errorf("poll O_PATH: %v", e)
	}
	if fsys.Pollable(h) {
		t.Error("O_PATH handle pollable")
	}
}
