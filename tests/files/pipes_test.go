//go:build hurdvm

package files

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"hurdvm/tests/internal/probe"
)

// os.Pipe's ends go through Go's poller (epoll): a reader waits for data
// the writer sends in pieces of every size, 4 MiB in all.
func TestPipeThroughThePoller(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data := make([]byte, 4<<20)
	rand.New(rand.NewSource(3)).Read(data)
	go func() {
		rng := rand.New(rand.NewSource(4))
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+rng.Intn(200<<10))
			if _, err := w.Write(rest[:n]); err != nil {
				t.Error(err)
				break
			}
			rest = rest[n:]
		}
		w.Close()
	}()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("io.Copy: %d bytes, %v", n, err)
	}
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("the bytes out of the pipe differ from those in")
	}
}

// A blocking pipe (syscall.Pipe, not through the poller): a read waits in
// the kernel for the writer, and a write larger than the pipe (64 KiB)
// waits for room as often as it must, then returns all of its count.
func TestBlockingPipe(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])

	got := make(chan []byte)
	go func() {
		runtime.LockOSThread()
		b := make([]byte, 100)
		n, err := syscall.Read(p[0], b)
		if err != nil {
			t.Error(err)
		}
		got <- b[:max(n, 0)]
	}()
	time.Sleep(20 * time.Millisecond) // the reader blocks
	if _, err := syscall.Write(p[1], []byte("wake up")); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if string(b) != "wake up" {
			t.Errorf("read %q", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a blocked read did not see the write")
	}

	data := make([]byte, 1<<20+7)
	rand.New(rand.NewSource(5)).Read(data)
	wrote := make(chan int)
	go func() {
		runtime.LockOSThread()
		n, err := syscall.Write(p[1], data)
		if err != nil {
			t.Error(err)
		}
		wrote <- n
	}()
	var read []byte
	b := make([]byte, 10000) // smaller pieces than the writer's
	for len(read) < len(data) {
		n, err := syscall.Read(p[0], b)
		if err != nil || n == 0 {
			t.Fatalf("read after %d bytes: %d, %v", len(read), n, err)
		}
		read = append(read, b[:n]...)
	}
	if n := <-wrote; n != len(data) {
		t.Errorf("the blocking write returned %d, want %d", n, len(data))
	}
	if !bytes.Equal(read, data) {
		t.Error("the bytes out of the pipe differ from those in")
	}
}

// A write to a pipe with no reader: EPIPE, and SIGPIPE for the writer.
func TestBrokenPipe(t *testing.T) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGPIPE)
	defer signal.Stop(c)
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	syscall.Close(p[0])
	defer syscall.Close(p[1])
	if _, err := syscall.Write(p[1], []byte("x")); err != syscall.EPIPE {
		t.Fatalf("write with no reader: %v, want EPIPE", err)
	}
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatal("no SIGPIPE")
	}
	// The reader's side: end of file once the writer is gone.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("last"))
	w.Close()
	b, err := io.ReadAll(r)
	if string(b) != "last" || err != nil {
		t.Errorf("ReadAll after the writer closed: %q %v", b, err)
	}
	r.Close()
}

// A signal reaching a blocked pipe read: the read is made again after the
// handler (SA_RESTART, as Linux's pipe_read says -ERESTARTSYS), and a
// blocked write that moved some bytes ends with their count.
func TestSignalOnBlockedPipe(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	b := make([]byte, 10)
	res := probe.MustSignalBlockedCall(t, func() (uintptr, syscall.Errno) {
		return rawCall(syscall.SYS_READ, uintptr(p[0]), b)
	}, func() { syscall.Write(p[1], []byte("after")) })
	if res.Ended || res.Err != 0 || string(b[:res.R]) != "after" {
		t.Errorf("pipe read: %+v; want it made again after the handler, then reading what came", res)
	}

	big := make([]byte, 200000)
	res = probe.MustSignalBlockedCall(t, func() (uintptr, syscall.Errno) {
		return rawCall(syscall.SYS_WRITE, uintptr(p[1]), big)
	}, func() {})
	if !res.Ended || res.Err != 0 || res.R != 64<<10 {
		t.Errorf("pipe write of %d bytes: %+v; want it ended with the 65536 bytes the pipe took", len(big), res)
	}
}

func rawCall(nr, fd uintptr, b []byte) (uintptr, syscall.Errno) {
	r, _, e := syscall.Syscall(nr, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return r, e
}

// epoll watches pipes only: Linux says EPERM for a regular file, which is
// how Go's os package learns to read files without its poller.
func TestEpollRefusesRegularFiles(t *testing.T) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(ep)
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != syscall.EPERM {
		t.Errorf("epoll_ctl of /dev/null: %v, want EPERM", err)
	}
	// A new pipe's write end is writable at once, its read end not.
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	for _, fd := range p {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT, Fd: int32(fd)}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			t.Fatal(err)
		}
	}
	evs := make([]syscall.EpollEvent, 4)
	n, err := syscall.EpollWait(ep, evs, 0)
	if err != nil || n != 1 || evs[0].Fd != int32(p[1]) || evs[0].Events != syscall.EPOLLOUT {
		t.Errorf("epoll_wait on a new pipe: %d events %+v, %v; want the write end's EPOLLOUT", n, evs[:max(n, 0)], err)
	}
	if _, err := syscall.Read(p[0], make([]byte, 1)); err != syscall.EAGAIN {
		t.Errorf("read of an empty O_NONBLOCK pipe: %v, want EAGAIN", err)
	}
}
