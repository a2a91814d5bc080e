//go:build hurdvm

// Package signals tests the Linux personality's signals as programs meet
// them: signal.Notify of a signal the process sends itself, blocked system
// calls that a signal ends with EINTR, and the CPU-time clocks.
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

// interruptedOnLockedThread runs call on a thread of its own and sends that
// thread a signal while the call is blocked: the call must end with EINTR.
// It returns what the call returned and how long it took.
func interruptedOnLockedThread(t *testing.T, call func() (uintptr, syscall.Errno)) (uintptr, syscall.Errno, time.Duration) {
	t.Helper()
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	defer signal.Stop(c)
	tid := make(chan int)
	type result struct {
		r   uintptr
		err syscall.Errno
		d   time.Duration
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- syscall.Gettid()
		start := time.Now()
		r, err := call()
		done <- result{r, err, time.Since(start)}
	}()
	id := <-tid
	time.Sleep(50 * time.Millisecond) // let it block
	if err := syscall.Tgkill(syscall.Getpid(), id, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-done:
		return res.r, res.err, res.d
	case <-time.After(10 * time.Second):
		t.Fatal("the blocked call was not ended by the signal")
	}
	return 0, 0, 0
}

func TestSignalEndsNanosleep(t *testing.T) {
	var rem syscall.Timespec
	_, err, d := interruptedOnLockedThread(t, func() (uintptr, syscall.Errno) {
		req := syscall.Timespec{Sec: 30}
		r, _, e := syscall.Syscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&req)), uintptr(unsafe.Pointer(&rem)), 0)
		return r, e
	})
	if err != syscall.EINTR {
		t.Fatalf("nanosleep interrupted: %v, want EINTR", err)
	}
	if d > 5*time.Second || rem.Sec < 20 || rem.Sec > 30 {
		t.Errorf("took %v, remaining %v s; want a prompt EINTR with about 30 s left", d, rem.Sec)
	}
}

func TestSignalEndsFutexWait(t *testing.T) {
	var word uint32
	_, err, d := interruptedOnLockedThread(t, func() (uintptr, syscall.Errno) {
		r, _, e := syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&word)), 0 /* FUTEX_WAIT */, 0, 0, 0, 0)
		return r, e
	})
	if err != syscall.EINTR || d > 5*time.Second {
		t.Fatalf("futex wait: %v after %v, want a prompt EINTR", err, d)
	}
}

func TestSignalEndsEpollWait(t *testing.T) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(ep)
	var events [4]syscall.EpollEvent
	_, e, d := interruptedOnLockedThread(t, func() (uintptr, syscall.Errno) {
		r, _, e := syscall.Syscall6(syscall.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])), 4, 30_000, 0, 0)
		return r, e
	})
	if e != syscall.EINTR || d > 5*time.Second {
		t.Fatalf("epoll_pwait: %v after %v, want a prompt EINTR", e, d)
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
