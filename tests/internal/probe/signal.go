package probe

import (
	"errors"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// BlockedCall is what became of a system call that a signal reached while
// it was blocked.
type BlockedCall struct {
	R   uintptr
	Err syscall.Errno
	// Ended: the signal ended the call (EINTR, or a partial count).
	// Otherwise the call was made again after the handler, as Linux does
	// for the calls it restarts under SA_RESTART (every Go handler has
	// it), and returned only once wake made it.
	Ended bool
	Took  time.Duration // from the signal to the end of the call
}

// restartWindow is how long a call must stay blocked after its signal was
// handled to count as made again. An ended call returns at once (before
// the handler's signal.Notify is seen, or just after).
const restartWindow = 500 * time.Millisecond

// SignalBlockedCall runs call on a thread of its own, sends that thread
// SIGUSR1 once the call has blocked, and waits until the runtime's handler
// has passed the signal to signal.Notify. If call has not returned
// restartWindow later, it calls wake, which must make call return. The
// error says what did not happen in time.
func SignalBlockedCall(call func() (uintptr, syscall.Errno), wake func()) (BlockedCall, error) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	defer signal.Stop(c)
	tid := make(chan int)
	done := make(chan BlockedCall, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- syscall.Gettid()
		r, err := call()
		done <- BlockedCall{R: r, Err: err}
	}()
	id := <-tid
	time.Sleep(50 * time.Millisecond) // let it block
	start := time.Now()
	if err := syscall.Tgkill(syscall.Getpid(), id, syscall.SIGUSR1); err != nil {
		return BlockedCall{}, err
	}
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		return BlockedCall{}, errors.New("SIGUSR1 was not delivered to the blocked thread")
	}
	select {
	case res := <-done:
		res.Ended, res.Took = true, time.Since(start)
		return res, nil
	case <-time.After(restartWindow):
	}
	wake()
	select {
	case res := <-done:
		res.Took = time.Since(start)
		return res, nil
	case <-time.After(10 * time.Second):
		return BlockedCall{}, errors.New("the call made again after the handler did not end when woken")
	}
}

// MustSignalBlockedCall is SignalBlockedCall failing t for what did not
// happen in time.
func MustSignalBlockedCall(t testing.TB, call func() (uintptr, syscall.Errno), wake func()) BlockedCall {
	t.Helper()
	res, err := SignalBlockedCall(call, wake)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
