package syscalls

// What a signal does to a system call blocked when it comes: Linux ends
// some with EINTR whatever the handler (-ERESTARTNOHAND,
// -ERESTART_RESTARTBLOCK: epoll_wait, nanosleep, a futex wait with a
// timeout) and makes others again after a handler with SA_RESTART
// (-ERESTARTSYS: a futex wait without one, reads of eventfds and pipes);
// a write that moved bytes before it blocked ends with their count. Go
// installs every handler with SA_RESTART. Linux's side is
// arch/x86/kernel/signal.c (handle_signal).

import (
	"runtime"
	"syscall"
	"unsafe"

	"hurdvm/tests/internal/probe"
)

// signalled answers what a signal did to the blocked call (see
// probe.SignalBlockedCall): "ended:" and the call's answer if the signal
// ended it, "restarted:" and the answer it gave when woken if it was made
// again after the handler.
func signalled(call func() (uintptr, syscall.Errno), wake func()) string {
	res, err := probe.SignalBlockedCall(call, wake)
	switch {
	case err != nil:
		return "failed:" + err.Error()
	case res.Ended:
		return "ended:" + answer(res.R, res.Err)
	}
	return "restarted:" + answer(res.R, res.Err)
}

func restartRows() []row {
	var word uint32
	futexWaitFor := func(timeout uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) {
			return sysBlocking(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&word)), futexWait|futexPrivate, 0, timeout)
		}
	}
	futexWakeAll := func() { sys(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&word)), futexWake|futexPrivate, 1<<30) }
	nothing := func() {}
	buf := make([]byte, 1<<18)
	bufAt := uintptr(unsafe.Pointer(&buf[0]))
	return []row{
		{name: "signal-during/futex-wait", want: "restarted:0", call: func() string {
			return signalled(futexWaitFor(0), futexWakeAll)
		}},
		{name: "signal-during/futex-wait/timeout", want: "ended:EINTR", call: func() string {
			// The wait holds only the timespec's address: keep it
			// alive, or a GC meanwhile frees it and the kernel reads
			// whatever took its place (EINVAL, once, under load).
			ts := &syscall.Timespec{Sec: 30}
			defer runtime.KeepAlive(ts)
			return signalled(futexWaitFor(uintptr(unsafe.Pointer(ts))), futexWakeAll)
		}},
		{name: "signal-during/read/eventfd", want: "restarted:8", call: func() string {
			efd := eventFD(0, 0)
			defer closeFD(efd)
			return signalled(func() (uintptr, syscall.Errno) {
				return sysBlocking(syscall.SYS_READ, efd, bufAt, 8)
			}, func() {
				one := uint64(1)
				sys(syscall.SYS_WRITE, efd, uintptr(unsafe.Pointer(&one)), 8)
			})
		}},
		{name: "signal-during/read/pipe", want: "restarted:5", call: onPipe(func(r, w uintptr) string {
			return signalled(func() (uintptr, syscall.Errno) {
				return sysBlocking(syscall.SYS_READ, r, bufAt, 100)
			}, func() {
				b := []byte("after")
				sys(syscall.SYS_WRITE, w, uintptr(unsafe.Pointer(&b[0])), 5)
			})
		})},
		{name: "signal-during/write/pipe-partly-written", want: "ended:65536", call: onPipe(func(r, w uintptr) string {
			return signalled(func() (uintptr, syscall.Errno) {
				return sysBlocking(syscall.SYS_WRITE, w, bufAt, uintptr(len(buf)))
			}, nothing)
		})},
		{name: "signal-during/epoll_wait", want: "ended:EINTR", call: onEpoll(func(ep uintptr) string {
			return signalled(func() (uintptr, syscall.Errno) {
				return sysBlocking(syscall.SYS_EPOLL_WAIT, ep, bufAt, 4, 30_000)
			}, nothing)
		})},
		{name: "signal-during/nanosleep", want: "ended:EINTR", call: func() string {
			ts := &syscall.Timespec{Sec: 30}
			defer runtime.KeepAlive(ts) // as for the timed futex wait
			return signalled(func() (uintptr, syscall.Errno) {
				return sysBlocking(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(ts)), 0)
			}, nothing)
		}},
	}
}

// onPipe runs f on a fresh blocking pipe and closes it.
func onPipe(f func(r, w uintptr) string) func() string {
	return func() string {
		var fds [2]int32
		must(sys(syscall.SYS_PIPE2, uintptr(unsafe.Pointer(&fds)), 0))
		defer closeFD(uintptr(fds[0]))
		defer closeFD(uintptr(fds[1]))
		return f(uintptr(fds[0]), uintptr(fds[1]))
	}
}
