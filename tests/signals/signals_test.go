//go:build hurdvm

// Package signals tests the Linux personality's signals as programs meet
// them: signal.Notify of a signal the process sends itself, blocked system
// calls that a signal ends with EINTR or makes again, and the CPU-time
// clocks.
package signals

import (
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	_ "hurdvm/kernel"
	"hurdvm/tests/internal/probe"
)

// kill(getpid(), sig) is for the process: a thread that does not block it
// takes it, and the runtime's handler passes it to signal.Notify. It once
// always went to thread 1, which blocks most signals while it waits.
func TestNotifyOfKillToSelf(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP} {
		c := make(chan os.Signal, 1)
		signal.Notify(c, sig)
		if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-c:
			if got != sig {
				t.Errorf("got %v, want %v", got, sig)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%v sent to the process never reached signal.Notify", sig)
		}
		signal.Stop(c)
	}
}

// What a signal does to a blocked call is Linux's: nanosleep and
// epoll_wait end with EINTR whatever the handler; a futex wait without a
// timeout and an eventfd read are made again after a handler with
// SA_RESTART (as every Go handler is), a timed futex wait ends with EINTR.
// (Checked on Linux 6.1 and 6.18: tests/syscalls has the rows.) They once
// all ended with EINTR.

func TestSignalEndsNanosleep(t *testing.T) {
	var rem syscall.Timespec
	res := probe.MustSignalBlockedCall(t, func() (uintptr, syscall.Errno) {
		req := syscall.Timespec{Sec: 30}
		r, _, e := syscall.Syscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&req)), uintptr(unsafe.Pointer(&rem)), 0)
		return r, e
	}, func() {})
	if !res.Ended || res.Err != syscall.EINTR {
		t.Fatalf("nanosleep interrupted: %+v, want EINTR", res)
	}
	if res.Took > 5*time.Second || rem.Sec < 20 || rem.Sec > 30 {
		t.Errorf("took %v, remaining %v s; want a prompt EINTR with about 30 s left", res.Took, rem.Sec)
	}
}

func TestSignalRestartsFutexWait(t *testing.T) {
	var word uint32
	wait := func(timeout *syscall.Timespec) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) {
			r, _, e := syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&word)), 0 /* FUTEX_WAIT */, 0, uintptr(unsafe.Pointer(timeout)), 0, 0)
			return r, e
		}
	}
	wake := func() {
		syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&word)), 1 /* FUTEX_WAKE */, 1, 0, 0, 0)
	}
	if res := probe.MustSignalBlockedCall(t, wait(nil), wake); res.Ended || res.Err != 0 {
		t.Errorf("futex wait without a timeout: %+v; want it made again after the handler, then woken", res)
	}
	if res := probe.MustSignalBlockedCall(t, wait(&syscall.Timespec{Sec: 30}), wake); !res.Ended || res.Err != syscall.EINTR {
		t.Errorf("futex wait with a timeout: %+v; want EINTR", res)
	}
}

func TestSignalRestartsEventfdRead(t *testing.T) {
	efd, _, e := syscall.Syscall(syscall.SYS_EVENTFD2, 0, 0, 0)
	if e != 0 {
		t.Fatal(e)
	}
	defer syscall.Close(int(efd))
	var v [8]byte
	res := probe.MustSignalBlockedCall(t, func() (uintptr, syscall.Errno) {
		r, _, e := syscall.Syscall(syscall.SYS_READ, efd, uintptr(unsafe.Pointer(&v[0])), 8)
		return r, e
	}, func() {
		one := [8]byte{1}
		syscall.Write(int(efd), one[:])
	})
	if res.Ended || res.Err != 0 || res.R != 8 || v[0] != 1 {
		t.Errorf("eventfd read: %+v, counter %d; want it made again after the handler, then reading 1", res, v[0])
	}
}

func TestSignalEndsEpollWait(t *testing.T) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(ep)
	var events [4]syscall.EpollEvent
	res := probe.MustSignalBlockedCall(t, func() (uintptr, syscall.Errno) {
		r, _, e := syscall.Syscall6(syscall.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])), 4, 30_000, 0, 0)
		return r, e
	}, func() {})
	if !res.Ended || res.Err != syscall.EINTR || res.Took > 5*time.Second {
		t.Fatalf("epoll_pwait: %+v, want a prompt EINTR", res)
	}
}

func cpuTime(clock int) time.Duration {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(clock), uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

// sched_yield once charged a whole time slice (10 ms) to the thread's CPU
// time; CLOCK_PROCESS_CPUTIME_ID was the calling thread's alone.
func TestCPUClocks(t *testing.T) {
	const thread, process = 3, 2 // CLOCK_THREAD_CPUTIME_ID, CLOCK_PROCESS_CPUTIME_ID
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, wallBefore := cpuTime(thread), time.Now()
	for i := 0; i < 200; i++ {
		syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
	}
	used, wall := cpuTime(thread)-before, time.Since(wallBefore)
	if used > wall+time.Millisecond {
		t.Errorf("200 sched_yields: %v of thread CPU time in %v of wall time", used, wall)
	}
	// Burn CPU on another thread: the process's time grows by it, this
	// thread's does not.
	var wg sync.WaitGroup
	wg.Add(1)
	pBefore, tBefore := cpuTime(process), cpuTime(thread)
	go func() {
		defer wg.Done()
		for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
		}
	}()
	wg.Wait()
	if dp, dt := cpuTime(process)-pBefore, cpuTime(thread)-tBefore; dp < 80*time.Millisecond || dt > dp/2 {
		t.Errorf("after 100 ms of work on another thread: process CPU +%v, this thread's +%v", dp, dt)
	}
}

// More threads than the old table held (511): the Go runtime makes one per
// goroutine that locks its thread and blocks.
func TestThousandsOfThreads(t *testing.T) {
	const n = 2000
	var wg sync.WaitGroup
	release := make(chan struct{})
	started := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			started <- struct{}{}
			<-release
			runtime.UnlockOSThread()
		}()
	}
	for i := 0; i < n; i++ {
		<-started
	}
	close(release)
	wg.Wait()
}
