package main

import (
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// childSpec says what a child forked by rawFork does, by raw calls only
// (the Go runtime is not to be trusted in a forked copy of one thread):
// setpgid(0, 0) and setsid if asked, then its pid, pgrp and sid written
// to fd (if >= 0), then spin (yielding) until killed or exit with status.
type childSpec struct {
	status            int
	spin              bool
	setpgid, setsid   bool
	fd                int
	exitSignalSIGCHLD bool
}

// rawFork forks a child that does what c says; the child's pid.
func rawFork(c childSpec) (int, error) {
	pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	if pid != 0 {
		return int(pid), nil
	}
	if c.setpgid {
		syscall.RawSyscall(syscall.SYS_SETPGID, 0, 0, 0)
	}
	if c.setsid {
		syscall.RawSyscall(syscall.SYS_SETSID, 0, 0, 0)
	}
	if c.fd >= 0 {
		var ids [3]int32
		me, _, _ := syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
		pg, _, _ := syscall.RawSyscall(syscall.SYS_GETPGID, 0, 0, 0)
		sid, _, _ := syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0)
		ids[0], ids[1], ids[2] = int32(me), int32(pg), int32(sid)
		syscall.RawSyscall(syscall.SYS_WRITE, uintptr(c.fd), uintptr(unsafe.Pointer(&ids[0])), 12)
	}
	for c.spin {
		syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, uintptr(c.status), 0, 0)
	return 0, nil
}

// siginfo is the part of siginfo_t waitid fills.
type siginfo struct {
	Signo, Errno, Code, _ int32
	Pid, Uid, Status      int32
	_                     [100]byte
}

const (
	pAll, pPID, pPGID, pPIDFD = 0, 1, 2, 3
	wExited, wNowait          = 4, 0x1000000
	cldExited, cldKilled      = 1, 2
)

func waitid(idtype, id int, info *siginfo, options int) error {
	_, _, e := syscall.Syscall6(syscall.SYS_WAITID, uintptr(idtype), uintptr(id), uintptr(unsafe.Pointer(info)), uintptr(options), 0, 0)
	return rawErr(e)
}

// wantInfo fails unless info says child pid ended with code and status.
func wantInfo(what string, info *siginfo, pid int, code, status int32) error {
	if info.Signo != int32(syscall.SIGCHLD) || info.Errno != 0 || info.Code != code || info.Pid != int32(pid) || info.Uid != 0 || info.Status != status {
		return fmt.Errorf("%s: siginfo signo %d errno %d code %d pid %d uid %d status %d, want SIGCHLD 0 %d %d 0 %d",
			what, info.Signo, info.Errno, info.Code, info.Pid, info.Uid, info.Status, code, pid, status)
	}
	return nil
}

// waitidCheck: waitid's P_PID with WNOWAIT (the child stays to be
// reaped) and without (reaped: ECHILD after), P_ALL for a child killed
// by SIGKILL (CLD_KILLED), WNOHANG with a live child (0, a siginfo of
// zeros), WSTOPPED alone (nothing stops: 0 with WNOHANG), and Linux's
// EINVAL, EBADF and ECHILD.
func waitidCheck(string) error {
	pid, err := rawFork(childSpec{status: 7, fd: -1})
	if err != nil {
		return err
	}
	var info siginfo
	if err := waitid(pPID, pid, &info, wExited|wNowait); err != nil {
		return fmt.Errorf("waitid(P_PID, WNOWAIT): %v", err)
	}
	if err := wantInfo("WNOWAIT", &info, pid, cldExited, 7); err != nil {
		return err
	}
	info = siginfo{}
	if err := waitid(pPID, pid, &info, wExited); err != nil {
		return fmt.Errorf("waitid(P_PID) after WNOWAIT: %v", err)
	}
	if err := wantInfo("P_PID", &info, pid, cldExited, 7); err != nil {
		return err
	}
	if err := errnoIs("waitid of the reaped child", waitid(pPID, pid, &info, wExited), syscall.ECHILD); err != nil {
		return err
	}
	spinner, err := rawFork(childSpec{spin: true, fd: -1})
	if err != nil {
		return err
	}
	info = siginfo{Signo: -1, Code: -1, Pid: -1, Status: -1}
	if err := waitid(pAll, 0, &info, wExited|syscall.WNOHANG); err != nil || info.Signo != 0 || info.Pid != 0 || info.Code != 0 || info.Status != 0 {
		return fmt.Errorf("waitid(P_ALL, WNOHANG) with a live child: %v, signo %d pid %d code %d status %d, want 0 and zeros", err, info.Signo, info.Pid, info.Code, info.Status)
	}
	if err := waitid(pAll, 0, &info, syscall.WSTOPPED|syscall.WNOHANG); err != nil || info.Pid != 0 {
		return fmt.Errorf("waitid(WSTOPPED|WNOHANG): %v, pid %d", err, info.Pid)
	}
	syscall.Kill(spinner, syscall.SIGKILL)
	if err := waitid(pAll, 0, &info, wExited); err != nil {
		return fmt.Errorf("waitid(P_ALL) for the killed child: %v", err)
	}
	if err := wantInfo("P_ALL, killed", &info, spinner, cldKilled, int32(syscall.SIGKILL)); err != nil {
		return err
	}
	for _, c := range []struct {
		what            string
		idtype, id, opt int
		want            syscall.Errno
	}{
		{"no option", pAll, 0, 0, syscall.EINVAL},
		{"an unknown option", pAll, 0, wExited | 0x100, syscall.EINVAL},
		{"idtype 7", 7, 0, wExited, syscall.EINVAL},
		{"P_PID 0", pPID, 0, wExited, syscall.EINVAL},
		{"P_PGID -1", pPGID, -1, wExited, syscall.EINVAL},
		{"P_PIDFD of a closed descriptor", pPIDFD, 200, wExited, syscall.EBADF},
		{"P_PIDFD of stdout", pPIDFD, 1, wExited, syscall.EBADF},
		{"no child", pAll, 0, wExited, syscall.ECHILD},
	} {
		if err := errnoIs("waitid "+c.what, waitid(c.idtype, c.id, &info, c.opt), c.want); err != nil {
			return err
		}
	}
	return nil
}

func pidfdOpen(pid, flags int) (int, error) {
	fd, _, e := syscall.Syscall(434, uintptr(pid), uintptr(flags), 0)
	return int(fd), rawErr(e)
}

func pidfdSendSignal(fd int, sig syscall.Signal) error {
	_, _, e := syscall.Syscall6(424, uintptr(fd), uintptr(sig), 0, 0, 0, 0)
	return rawErr(e)
}

// pidfdCheck: pidfd_open of itself (close-on-exec; waitid ECHILD, as
// for no child; pidfd_send_signal of 0), pidfd_open's and
// pidfd_send_signal's EINVAL and ESRCH; a child started with
// clone(CLONE_PIDFD) (syscall.ForkExec with PidFD) whose pidfd epoll
// reports readable only once it has ended; waitid(P_PIDFD) reaps it;
// then pidfd_send_signal is ESRCH; a spinning child killed through
// pidfd_send_signal; and os/exec and os.Process (which use pidfds when
// the kernel has them) run a program, its exit status back.
func pidfdCheck(string) error {
	fd, err := pidfdOpen(os.Getpid(), 0)
	if err != nil {
		return fmt.Errorf("pidfd_open of itself: %v", err)
	}
	if fl, _, _ := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); fl != syscall.FD_CLOEXEC {
		return fmt.Errorf("a pidfd's descriptor flags: %#x, want FD_CLOEXEC", fl)
	}
	var info siginfo
	if err := errnoIs("waitid(P_PIDFD) of itself", waitid(pPIDFD, fd, &info, wExited), syscall.ECHILD); err != nil {
		return err
	}
	if err := pidfdSendSignal(fd, 0); err != nil {
		return fmt.Errorf("pidfd_send_signal(itself, 0): %v", err)
	}
	_, _, e := syscall.Syscall6(424, uintptr(fd), 0, 0, 8, 0, 0) // 8: unknown to 6.1 and to later kernels (6.9 gave 1, 2 and 4 a meaning)
	if err := errnoIs("pidfd_send_signal with flags 8", rawErr(e), syscall.EINVAL); err != nil {
		return err
	}
	if err := errnoIs("pidfd_send_signal to stdout", pidfdSendSignal(1, 0), syscall.EBADF); err != nil {
		return err
	}
	syscall.Close(fd)
	if _, err := pidfdOpen(os.Getpid(), 1); err != syscall.EINVAL {
		return fmt.Errorf("pidfd_open with flags 1: %v, want EINVAL", err)
	}
	if _, err := pidfdOpen(0, 0); err != syscall.EINVAL {
		return fmt.Errorf("pidfd_open(0): %v, want EINVAL", err)
	}
	if _, err := pidfdOpen(1<<22-1, 0); err != syscall.ESRCH {
		return fmt.Errorf("pidfd_open of no process: %v, want ESRCH", err)
	}

	// clone(CLONE_PIDFD) by syscall.ForkExec; epoll on the pidfd.
	self := selfPath()
	pidfd := -1
	pid, err := syscall.ForkExec(self, []string{self, "sleep:300ms", "exit:4"}, &syscall.ProcAttr{
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{PidFD: &pidfd},
	})
	if err != nil || pidfd < 0 {
		return fmt.Errorf("ForkExec with PidFD: pid %d pidfd %d, %v", pid, pidfd, err)
	}
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	defer syscall.Close(ep)
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, pidfd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(pidfd)}); err != nil {
		return fmt.Errorf("epoll_ctl of a pidfd: %v", err)
	}
	evs := make([]syscall.EpollEvent, 1)
	if n, err := syscall.EpollWait(ep, evs, 0); n != 0 || err != nil {
		return fmt.Errorf("epoll_wait on a live child's pidfd: %d, %v, want nothing ready", n, err)
	}
	start := time.Now()
	n, err := syscall.EpollWait(ep, evs, 20000)
	for err == syscall.EINTR {
		n, err = syscall.EpollWait(ep, evs, 20000)
	}
	if n != 1 || evs[0].Fd != int32(pidfd) || evs[0].Events&syscall.EPOLLIN == 0 {
		return fmt.Errorf("epoll_wait for the child's end: %d, %v, events %#x", n, err, evs[0].Events)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		return fmt.Errorf("the pidfd was ready %v after the start, before the child's 300 ms sleep", d)
	}
	if err := waitid(pPIDFD, pidfd, &info, wExited); err != nil {
		return fmt.Errorf("waitid(P_PIDFD): %v", err)
	}
	if err := wantInfo("P_PIDFD", &info, pid, cldExited, 4); err != nil {
		return err
	}
	if err := errnoIs("pidfd_send_signal to the reaped child", pidfdSendSignal(pidfd, 0), syscall.ESRCH); err != nil {
		return err
	}
	syscall.Close(pidfd)

	// A spinner killed through its pidfd.
	spinner, err := rawFork(childSpec{spin: true, fd: -1})
	if err != nil {
		return err
	}
	sfd, err := pidfdOpen(spinner, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open of a child: %v", err)
	}
	if err := pidfdSendSignal(sfd, syscall.SIGKILL); err != nil {
		return fmt.Errorf("pidfd_send_signal(SIGKILL): %v", err)
	}
	if err := waitid(pPIDFD, sfd, &info, wExited); err != nil {
		return fmt.Errorf("waitid(P_PIDFD) of the killed child: %v", err)
	}
	if err := wantInfo("P_PIDFD, killed", &info, spinner, cldKilled, int32(syscall.SIGKILL)); err != nil {
		return err
	}
	syscall.Close(sfd)

	// os/exec and os.Process.
	err = exec.Command(self, "exit:5").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 5 {
		return fmt.Errorf("os/exec of exit:5: %v", err)
	}
	p, err := os.StartProcess(self, []string{self, "sleep:10s"}, &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
	if err != nil {
		return err
	}
	// The os package took a pidfd for it: its probe (os.checkPidfd)
	// passed. (The handle is unexported; reflect may look.)
	if h := reflect.ValueOf(p).Elem().FieldByName("handle"); !h.IsValid() || h.IsNil() {
		p.Kill()
		p.Wait()
		return fmt.Errorf("os.Process holds no pidfd: the os package's probe of pidfds failed")
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("os.Process.Signal: %v", err)
	}
	st, err := p.Wait()
	if err != nil || st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		return fmt.Errorf("os.Process.Wait after SIGTERM: %v, %v", st, err)
	}
	if err := p.Signal(syscall.SIGTERM); err != os.ErrProcessDone {
		return fmt.Errorf("os.Process.Signal after Wait: %v, want %v", err, os.ErrProcessDone)
	}
	return nil
}

// sleep sleeps for its parameter's duration.
func sleep(param string) error {
	d, err := time.ParseDuration(param)
	if err != nil {
		return err
	}
	time.Sleep(d)
	return nil
}

// selfPath is the program's absolute path.
func selfPath() string {
	self := os.Args[0]
	if len(self) > 0 && self[0] != '/' {
		wd, _ := getcwd()
		self = wd + "/" + self
	}
	return self
}

var _ = strconv.Itoa
