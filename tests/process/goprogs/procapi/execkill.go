package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// execKill: children killed by SIGKILL from this process in the middle of
// their execve of this program (3 MiB): each child says it is about to
// make the call, and the parent kills it after a delay that grows from 0
// by step (its parameter, in µs; 2000 by default) over 24 children, so
// that the kills land before, during and after the load. Each child ends
// by SIGKILL (wait4); it says how many lived to print from the new image.
func execKill(param string) error {
	step := 2000 * time.Microsecond
	if param != "" {
		us, err := strconv.Atoi(param)
		if err != nil {
			return err
		}
		step = time.Duration(us) * time.Microsecond
	}
	self := selfPath()
	argv0, _ := syscall.BytePtrFromString(self)
	a1, _ := syscall.BytePtrFromString("ids")
	a2, _ := syscall.BytePtrFromString("sleep:20s")
	argv := []*byte{argv0, a1, a2, nil}
	envp := []*byte{nil}
	ran := 0
	for i := 0; i < 24; i++ {
		var sync, out [2]int
		if err := syscall.Pipe2(sync[:], syscall.O_CLOEXEC); err != nil {
			return err
		}
		if err := syscall.Pipe2(out[:], syscall.O_CLOEXEC); err != nil {
			return err
		}
		pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
		if e != 0 {
			return e
		}
		if pid == 0 {
			syscall.RawSyscall(syscall.SYS_DUP3, uintptr(out[1]), 1, 0)
			b := [1]byte{'x'}
			syscall.RawSyscall(syscall.SYS_WRITE, uintptr(sync[1]), uintptr(unsafe.Pointer(&b[0])), 1)
			syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(argv0)), uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envp[0])))
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 99, 0, 0)
		}
		syscall.Close(sync[1])
		syscall.Close(out[1])
		var b [1]byte
		for {
			n, err := syscall.Read(sync[0], b[:])
			if err != syscall.EINTR {
				if n != 1 {
					return fmt.Errorf("child %d did not say it would execve: %d, %v", pid, n, err)
				}
				break
			}
		}
		time.Sleep(time.Duration(i) * step)
		if err := syscall.Kill(int(pid), syscall.SIGKILL); err != nil {
			return fmt.Errorf("kill(%d, SIGKILL): %v", pid, err)
		}
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(int(pid), &ws, 0, nil); err != nil || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			return fmt.Errorf("child %d killed %v into its execve: %v, status %#x, want SIGKILL", pid, time.Duration(i)*step, err, uint32(ws))
		}
		buf := make([]byte, 256)
		n, _ := syscall.Read(out[0], buf)
		if n > 0 && strings.HasPrefix(string(buf[:n]), "ids:") {
			ran++
		}
		syscall.Close(sync[0])
		syscall.Close(out[0])
	}
	fmt.Printf("execkill: 24 children killed, %d after their new image ran\n", ran)
	return nil
}
