//go:build hurdvm && hurdvmtest

package smp

import (
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestSignalDuringPipeWrite: a signal sent to a thread while its pipe
// write waits for the file server's answer must end the write once the
// server says the pipe is full, as it ends a write already waiting for
// room. The server is a goroutine of the program, on another CPU here,
// so the signal often comes before its answer: the kernel lets a signal
// pass a thread waiting for the server (that wait is not interruptible),
// and once lost the signal was delivered only when the pipe had room
// again. This failed 1 boot in 5 of tests/syscalls at -smp 4 on a busy
// host (the row signal-during/write/pipe-partly-written); here each
// trial sends the signal a little later after the write began.
func TestSignalDuringPipeWrite(t *testing.T) {
	needCPUs(t)
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	defer signal.Stop(c)
	big := make([]byte, 256<<10)
	lost := 0
	const trials = 60
	for i := 0; i < trials; i++ {
		var p [2]int
		if err := syscall.Pipe(p[:]); err != nil {
			t.Fatal(err)
		}
		if err := syscall.SetNonblock(p[0], true); err != nil { // the test's reads, at the end
			t.Fatal(err)
		}
		tid := make(chan int)
		done := make(chan uintptr, 1)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tid <- syscall.Gettid()
			r, _, _ := syscall.Syscall(syscall.SYS_WRITE, uintptr(p[1]), uintptr(unsafe.Pointer(&big[0])), uintptr(len(big)))
			done <- r
		}()
		id := <-tid
		// 0 to 3 ms after the thread was about to write: before, during
		// and after the server's answer.
		for until := time.Now().Add(time.Duration(i) * 50 * time.Microsecond); time.Now().Before(until); {
		}
		if err := syscall.Tgkill(syscall.Getpid(), id, syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		select {
		case <-c:
		case <-time.After(10 * time.Second):
			lost++
			t.Errorf("trial %d: SIGUSR1 was not delivered in 10 s to the thread blocked writing to a full pipe", i)
		}
		// Drain the pipe until the write ends (ended by the signal, or
		// after the handler made it again).
		var r uintptr
		buf := make([]byte, 64<<10)
	drain:
		for {
			select {
			case r = <-done:
				break drain
			default:
			}
			if _, err := syscall.Read(p[0], buf); err != nil {
				runtime.Gosched()
			}
		}
		syscall.Close(p[0])
		syscall.Close(p[1])
		if int(r) < 0 || r > uintptr(len(big)) {
			t.Errorf("trial %d: the write returned %#x", i, r)
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d signals lost", lost, trials)
	}
}
