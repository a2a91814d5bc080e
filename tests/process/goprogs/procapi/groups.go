package main

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"unsafe"
)

// readIDs reads a child's pid, pgrp and sid from the pipe (rawFork's
// report).
func readIDs(fd int) ([3]int32, error) {
	var ids [3]int32
	b := unsafe.Slice((*byte)(unsafe.Pointer(&ids[0])), 12)
	for got := 0; got < 12; {
		n, err := syscall.Read(fd, b[got:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return ids, fmt.Errorf("reading a child's ids: %d, %v", n, err)
		}
		got += n
	}
	return ids, nil
}

// groups: process groups and sessions. The process's getpgrp, getpgid(0)
// and getsid(0); a forked child in its parent's group and session; a
// child's setpgid(0, 0) and the parent's setpgid of another child into
// that group; kill(-pgid) ends both, wait4(-pgid) reaps them; a child's
// setsid (leader of a session and group: its setpgid is EPERM then); the
// errors of setpgid (EINVAL, ESRCH, EPERM), setsid (EPERM for a group
// leader), kill (ESRCH for an empty group); kill(0, 0); the parent's
// setpgid of a child that made an execve (EACCES); os/exec's
// SysProcAttr{Setpgid: true} (the child in a group of its own).
func groups(string) error {
	me := syscall.Getpid()
	pgrp := syscall.Getpgrp()
	if pg, err := syscall.Getpgid(0); err != nil || pg != pgrp {
		return fmt.Errorf("getpgid(0): %d, %v; getpgrp %d", pg, err, pgrp)
	}
	sid, err := getsid(0)
	if err != nil || sid <= 0 {
		return fmt.Errorf("getsid(0): %d, %v", sid, err)
	}
	if pg, err := syscall.Getpgid(me); err != nil || pg != pgrp {
		return fmt.Errorf("getpgid(itself): %d, %v", pg, err)
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return err
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])

	// A child is in its parent's group and session.
	a, err := rawFork(childSpec{spin: true, fd: p[1]})
	if err != nil {
		return err
	}
	ids, err := readIDs(p[0])
	if err != nil {
		return err
	}
	if ids != [3]int32{int32(a), int32(pgrp), int32(sid)} {
		return fmt.Errorf("a forked child's pid, pgrp, sid: %v, want %d %d %d", ids, a, pgrp, sid)
	}
	if pg, err := syscall.Getpgid(a); err != nil || pg != pgrp {
		return fmt.Errorf("getpgid(child): %d, %v", pg, err)
	}
	// The parent moves it into a group of its own, then another child
	// there.
	if err := syscall.Setpgid(a, 0); err != nil {
		return fmt.Errorf("setpgid(child, 0): %v", err)
	}
	if pg, _ := syscall.Getpgid(a); pg != a {
		return fmt.Errorf("getpgid(child) after setpgid(child, 0): %d, want %d", pg, a)
	}
	b, err := rawFork(childSpec{spin: true, fd: -1})
	if err != nil {
		return err
	}
	if err := syscall.Setpgid(b, a); err != nil {
		return fmt.Errorf("setpgid(second child, first's group): %v", err)
	}
	if err := errnoIs("setpgid into a group that is not there", syscall.Setpgid(b, 1<<22-1), syscall.EPERM); err != nil {
		return err
	}
	if err := errnoIs("setpgid(-1 pgid)", syscall.Setpgid(0, -1), syscall.EINVAL); err != nil {
		return err
	}
	if err := errnoIs("setpgid of no process", syscall.Setpgid(1<<22-1, 0), syscall.ESRCH); err != nil {
		return err
	}
	if err := syscall.Kill(0, 0); err != nil {
		return fmt.Errorf("kill(0, 0): %v", err)
	}
	if err := errnoIs("kill of an empty group", syscall.Kill(-(1<<22-1), 0), syscall.ESRCH); err != nil {
		return err
	}
	var ws syscall.WaitStatus
	if got, err := syscall.Wait4(-a, &ws, syscall.WNOHANG, nil); got != 0 || err != nil {
		return fmt.Errorf("wait4(-pgid, WNOHANG) with the group running: %d, %v", got, err)
	}
	if err := syscall.Kill(-a, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill(-pgid, SIGKILL): %v", err)
	}
	reaped := map[int]bool{}
	for i := 0; i < 2; i++ {
		got, err := syscall.Wait4(-a, &ws, 0, nil)
		if err != nil || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			return fmt.Errorf("wait4(-pgid): %d, %v, status %#x, want a child killed", got, err, uint32(ws))
		}
		reaped[got] = true
	}
	if !reaped[a] || !reaped[b] {
		return fmt.Errorf("wait4(-pgid) reaped %v, want %d and %d", reaped, a, b)
	}
	if _, err := syscall.Wait4(-a, &ws, syscall.WNOHANG, nil); err != syscall.ECHILD {
		return fmt.Errorf("wait4(-pgid) of an empty group: %v, want ECHILD", err)
	}

	// waitid(P_PGID) and wait4(0): the caller's own group.
	c, err := rawFork(childSpec{status: 3, setpgid: true, fd: p[1]})
	if err != nil {
		return err
	}
	if _, err := readIDs(p[0]); err != nil {
		return err
	}
	d, err := rawFork(childSpec{status: 4, fd: -1})
	if err != nil {
		return err
	}
	var info siginfo
	if err := waitid(pPGID, c, &info, wExited); err != nil {
		return fmt.Errorf("waitid(P_PGID, child's group): %v", err)
	}
	if err := wantInfo("P_PGID", &info, c, cldExited, 3); err != nil {
		return err
	}
	if got, err := syscall.Wait4(0, &ws, 0, nil); got != d || err != nil || ws.ExitStatus() != 4 {
		return fmt.Errorf("wait4(0): %d, %v, status %#x, want %d with 4", got, err, uint32(ws), d)
	}

	// A child's setsid.
	e, err := rawFork(childSpec{spin: true, setsid: true, fd: p[1]})
	if err != nil {
		return err
	}
	if ids, err = readIDs(p[0]); err != nil {
		return err
	}
	if ids != [3]int32{int32(e), int32(e), int32(e)} {
		return fmt.Errorf("after setsid, the child's pid, pgrp, sid: %v, want %d three times", ids, e)
	}
	if s, err := getsid(e); err != nil || s != e {
		return fmt.Errorf("getsid(child): %d, %v", s, err)
	}
	if err := errnoIs("setpgid of a child in another session", syscall.Setpgid(e, e), syscall.EPERM); err != nil {
		return err
	}
	syscall.Kill(e, syscall.SIGKILL)
	syscall.Wait4(e, &ws, 0, nil)
	if pgrp == me {
		if _, err := syscall.Setsid(); err != syscall.EPERM {
			return fmt.Errorf("setsid of a group leader: %v, want EPERM", err)
		}
	}

	// setpgid of a child that made an execve; os/exec's Setpgid.
	self := selfPath()
	cmd := exec.Command(self, "sleep:10s")
	if err := cmd.Start(); err != nil {
		return err
	}
	cmd2 := exec.Command(self, "ids")
	cmd2.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd2.Output()
	if err != nil {
		return fmt.Errorf("os/exec with Setpgid: %v", err)
	}
	var cpid, cpg, csid int
	if _, err := fmt.Sscanf(strings.SplitN(string(out), "\n", 2)[0], "ids: pid %d pgrp %d sid %d", &cpid, &cpg, &csid); err != nil || cpg != cpid || csid != sid {
		return fmt.Errorf("os/exec with Setpgid: the child says %q, want its own group in session %d", out, sid)
	}
	// The first child made its execve before Start returned (os/exec
	// learns of it from its status pipe's end).
	if err := errnoIs("setpgid of a child after its execve", syscall.Setpgid(cmd.Process.Pid, 0), syscall.EACCES); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	cmd.Process.Kill()
	cmd.Wait()
	return nil
}

// ids prints the process's pid, process group and session.
func ids(string) error {
	sid, _ := getsid(0)
	fmt.Printf("ids: pid %d pgrp %d sid %d\n", syscall.Getpid(), syscall.Getpgrp(), sid)
	return nil
}

func getsid(pid int) (int, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(pid), 0, 0)
	return int(r), rawErr(e)
}
