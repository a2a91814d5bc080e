package main

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"
)

const cloneVfork = 0x4000

// vforkCheck: the parent of a CLONE_VFORK child waits until the child
// makes its execve or ends, as Linux's. clone(CLONE_VFORK|SIGCHLD)
// (without CLONE_VM, so that the child's Go stack is its own, as fork's:
// the wait is the flag's alone) of a child that sleeps 300 ms, writes a
// byte into a pipe and exits: clone returns in the parent after the
// sleep, the byte already there. Then one that sleeps 300 ms and makes
// an execve of a program that sleeps 3 s: clone returns after the first
// sleep, long before the program's end.
func vforkCheck(string) error {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return err
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	nap := syscall.Timespec{Nsec: 300e6}
	self := selfPath()
	argv0, _ := syscall.BytePtrFromString(self)
	arg1, _ := syscall.BytePtrFromString("sleep:3s")
	argv := []*byte{argv0, arg1, nil}
	env := []*byte{nil}
	for _, exec := range []bool{false, true} {
		start := time.Now()
		pid, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, cloneVfork|uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
		if e != 0 {
			return fmt.Errorf("clone(CLONE_VFORK): %v", e)
		}
		if pid == 0 {
			syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&nap)), 0, 0)
			if exec {
				syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(argv0)), uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&env[0])))
				syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 99, 0, 0)
			}
			b := [1]byte{'v'}
			syscall.RawSyscall(syscall.SYS_WRITE, uintptr(p[1]), uintptr(unsafe.Pointer(&b[0])), 1)
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 6, 0, 0)
		}
		took := time.Since(start)
		if took < 250*time.Millisecond {
			return fmt.Errorf("clone(CLONE_VFORK) (execve %v) returned in the parent after %v, before the child's 300 ms sleep ended", exec, took)
		}
		var ws syscall.WaitStatus
		if !exec {
			var b [1]byte
			if n, err := syscall.Read(p[0], b[:]); n != 1 || b[0] != 'v' {
				return fmt.Errorf("when clone(CLONE_VFORK) returned, the pipe held %d bytes (%v), want the child's byte", n, err)
			}
			if _, err := syscall.Wait4(int(pid), &ws, 0, nil); err != nil || ws.ExitStatus() != 6 {
				return fmt.Errorf("wait4 for the vfork child: %v, status %#x", err, uint32(ws))
			}
			continue
		}
		if took > 2*time.Second {
			return fmt.Errorf("clone(CLONE_VFORK) returned after %v: the parent waited past the child's execve", took)
		}
		if got, err := syscall.Wait4(int(pid), &ws, syscall.WNOHANG, nil); got != 0 || err != nil {
			return fmt.Errorf("wait4(WNOHANG) of the child running its new program: %d, %v, status %#x", got, err, uint32(ws))
		}
		if _, err := syscall.Wait4(int(pid), &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
			return fmt.Errorf("wait4 for the exec'd vfork child: %v, status %#x", err, uint32(ws))
		}
	}
	return nil
}
