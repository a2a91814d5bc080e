// Command gofiles is an ordinary Go program (built as gohello is: make
// progs) that tests/process runs as a process to use files through the os
// package: its test's testdata (read-only, at the test's path, its
// working directory), /tmp (the tmpfs every program shares), pipes with a
// goroutine on each end, and bad pointers handed to the file calls. Each
// argument names a check, with a parameter after a colon for some, run in
// order; it prints "ok NAME" after each, "FAIL NAME: why" and exit status
// 101 for one that fails.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	for _, arg := range os.Args[1:] {
		name, param, _ := strings.Cut(arg, ":")
		check, ok := checks[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "no check %q\n", arg)
			os.Exit(100)
		}
		if err := check(param); err != nil {
			fmt.Printf("FAIL %s: %v\n", name, err)
			os.Exit(101)
		}
		fmt.Printf("ok %s\n", name)
	}
}

var checks = map[string]func(string) error{
	"testdata": testdata,
	"tmp":      tmp,
	"pipe":     pipe,
	"efault":   efault,
	"leave":    leave,
	"fork":     fork,
	"waitintr": waitIntr,
	"exec":     execCmd,
	"execerr":  execErrors,
	"execself": execSelf,
	"exe":      executable,
	"uname":    uname,
	"mincore":  mincore,
	"keepcaps": keepcaps,
	"echo":     echo,
	"exit":     exit,
	"child":    child,
}

// testdata reads a file of the test's testdata by a relative path (the
// working directory is the test's), lists the directory and finds that
// it cannot write there (EROFS).
func testdata(string) error {
	b, err := os.ReadFile("testdata/greeting.txt")
	if err != nil {
		return err
	}
	if string(b) != "hello from testdata\n" {
		return fmt.Errorf("read %q", b)
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	fi, err := os.Stat(filepath.Join(wd, "testdata", "greeting.txt"))
	if err != nil || fi.Size() != int64(len(b)) || !fi.Mode().IsRegular() {
		return fmt.Errorf("stat by its absolute path: %v, %v", fi, err)
	}
	ents, err := os.ReadDir("testdata")
	if err != nil {
		return err
	}
	found := false
	for _, e := range ents {
		found = found || e.Name() == "greeting.txt"
	}
	if !found {
		return fmt.Errorf("testdata's %d entries lack greeting.txt", len(ents))
	}
	if err := os.WriteFile("testdata/new.txt", b, 0o644); !errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("a write into the test's directory: %v, want EROFS", err)
	}
	fmt.Printf("testdata: %d bytes of greeting.txt in %s, %d entries\n", len(b), wd, len(ents))
	return nil
}

// tmp makes a directory and files in /tmp (MkdirTemp, CreateTemp), writes,
// seeks, reads back, truncates, renames, links, lists and removes them.
func tmp(string) error {
	dir, err := os.MkdirTemp("", "gofiles")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(dir, "/tmp/") {
		return fmt.Errorf("MkdirTemp made %s, not under /tmp", dir)
	}
	f, err := os.CreateTemp(dir, "data-*.bin")
	if err != nil {
		return err
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320,000 bytes: more than one of the server's chunks
	if n, err := f.Write(data); err != nil || n != len(data) {
		return fmt.Errorf("write: %d, %v", n, err)
	}
	if _, err := f.Seek(16, io.SeekStart); err != nil {
		return err
	}
	head := make([]byte, 4)
	if _, err := io.ReadFull(f, head); err != nil || string(head) != "0123" {
		return fmt.Errorf("read after seek: %q, %v", head, err)
	}
	if _, err := f.ReadAt(head, 170); err != nil || string(head) != "abcd" {
		return fmt.Errorf("pread: %q, %v", head, err)
	}
	if err := f.Truncate(1000); err != nil {
		return err
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != 1000 {
		return fmt.Errorf("fstat after ftruncate: %v, %v", fi, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	moved := filepath.Join(dir, "moved.bin")
	if err := os.Rename(f.Name(), moved); err != nil {
		return err
	}
	back, err := os.ReadFile(moved)
	if err != nil || !bytes.Equal(back, data[:1000]) {
		return fmt.Errorf("read back %d bytes, %v", len(back), err)
	}
	if err := os.Symlink("moved.bin", filepath.Join(dir, "link")); err != nil {
		return err
	}
	if target, err := os.Readlink(filepath.Join(dir, "link")); err != nil || target != "moved.bin" {
		return fmt.Errorf("readlink: %q, %v", target, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 3 {
		return fmt.Errorf("ReadDir: %d entries, %v", len(ents), err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s after RemoveAll: %v", dir, err)
	}
	fmt.Printf("tmp: %s: wrote %d bytes, read them back, removed it all\n", dir, len(data))
	return nil
}

// pipe sends 1 MiB through os.Pipe from a goroutine: more than the pipe
// holds, so the writer waits (in the runtime's poller, on epoll) until
// the reader drains it; the reader sees the end when the writer closes.
func pipe(string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	const total = 1 << 20
	sum := make(chan uint32, 1)
	go func() {
		h := crc32.NewIEEE()
		chunk := make([]byte, 12345)
		for sent := 0; sent < total; {
			n := min(len(chunk), total-sent)
			for i := range chunk[:n] {
				chunk[i] = byte(sent + i*7)
			}
			if _, err := w.Write(chunk[:n]); err != nil {
				fmt.Printf("pipe write: %v\n", err)
				break
			}
			h.Write(chunk[:n])
			sent += n
		}
		w.Close()
		sum <- h.Sum32()
	}()
	got, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	r.Close()
	if len(got) != total || crc32.ChecksumIEEE(got) != <-sum {
		return fmt.Errorf("read %d bytes of %d, or not the ones written", len(got), total)
	}
	fmt.Printf("pipe: %d bytes through os.Pipe\n", len(got))
	return nil
}

// efault hands the file calls addresses outside the process's memory
// (param: hexadecimal addresses, comma-separated: the kernel's data, its
// heap, the physmap...): write and pwrite64 from each, read and pread64
// into each, a path at each, fstat and getcwd into each: EFAULT every
// time, and the file holds nothing of them.
func efault(param string) error {
	f, err := os.CreateTemp("", "efault")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	fd := f.Fd()
	if _, err := f.Write([]byte("0123456789")); err != nil {
		return err
	}
	for _, s := range strings.Split(param, ",") {
		a, err := strconv.ParseUint(s, 16, 64)
		if err != nil {
			return err
		}
		atFDCWD := uintptr(0xffffff9c) // -100 as an int
		calls := []struct {
			name string
			nr   uintptr
			args [4]uintptr
		}{
			{"write", syscall.SYS_WRITE, [4]uintptr{fd, uintptr(a), 8}},
			{"pwrite64", syscall.SYS_PWRITE64, [4]uintptr{fd, uintptr(a), 8, 0}},
			{"read", syscall.SYS_READ, [4]uintptr{fd, uintptr(a), 8}},
			{"pread64", syscall.SYS_PREAD64, [4]uintptr{fd, uintptr(a), 8, 0}},
			{"openat", syscall.SYS_OPENAT, [4]uintptr{atFDCWD, uintptr(a), 0}},
			{"fstat", syscall.SYS_FSTAT, [4]uintptr{fd, uintptr(a)}},
			{"getcwd", syscall.SYS_GETCWD, [4]uintptr{uintptr(a), 64}},
		}
		for _, c := range calls {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			r, _, e := syscall.Syscall6(c.nr, c.args[0], c.args[1], c.args[2], c.args[3], 0, 0)
			if e != syscall.EFAULT {
				return fmt.Errorf("%s at %#x: %d, %v, want EFAULT", c.name, a, int64(r), e)
			}
		}
	}
	b, err := os.ReadFile(f.Name())
	if err != nil || string(b) != "0123456789" {
		return fmt.Errorf("the file holds %q after the calls (%v)", b, err)
	}
	fmt.Printf("efault: 7 calls at %d addresses, EFAULT each\n", strings.Count(param, ",")+1)
	return nil
}

// leave makes a pipe, writes a file (param: its path) and exits with
// both still open: the process's end closes them.
func leave(param string) error {
	_, w, err := os.Pipe()
	if err != nil {
		return err
	}
	f, err := os.Create(param)
	if err != nil {
		return err
	}
	if _, err := f.WriteString("left open\n"); err != nil {
		return err
	}
	_, _ = w, f // open at the exit
	return nil
}

// childByte is what a child writes into its descriptor.
var childByte = [1]byte{'c'}

// forkChild forks; the child writes childByte to fd (if fd >= 0) and
// makes exit_group(status), or spins (status < 0) until it is killed.
// Raw calls only in the child, as syscall.forkAndExecInChild: it has one
// thread, the copy of this one.
func forkChild(status int, fd int) (int, error) {
	pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	if pid == 0 {
		if fd >= 0 {
			syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&childByte[0])), 1)
		}
		for status < 0 {
			syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
		}
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, uintptr(status), 0, 0)
	}
	return int(pid), nil
}

// fork makes children with fork(2): one that writes into a pipe it shares
// with this process and exits with 5 (SIGCHLD arrives, wait4 reaps it
// with its status; its byte is in the pipe, and the pipe still works
// after its end closed its copies of the descriptors), one killed by
// kill(2) (SIGKILL in its status); then no child is left (ECHILD) and a
// pid that is no one's is ESRCH.
func fork(string) error {
	chld := make(chan os.Signal, 4)
	signal.Notify(chld, syscall.SIGCHLD)
	defer signal.Stop(chld)
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	defer w.Close()
	pid, err := forkChild(5, int(w.Fd()))
	if err != nil {
		return fmt.Errorf("fork: %v", err)
	}
	select {
	case <-chld:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("no SIGCHLD within 10 s of the child's exit")
	}
	var ws syscall.WaitStatus
	got, err := syscall.Wait4(pid, &ws, 0, nil)
	if err != nil || got != pid || !ws.Exited() || ws.ExitStatus() != 5 {
		return fmt.Errorf("wait4(%d): %d, %v, status %#x, want the child exited with 5", pid, got, err, uint32(ws))
	}
	if _, err := w.Write([]byte("p")); err != nil {
		return fmt.Errorf("the parent's write after the child's end: %v", err)
	}
	two := make([]byte, 2)
	if _, err := io.ReadFull(r, two); err != nil || string(two) != "cp" {
		return fmt.Errorf("the pipe held %q (%v), want the child's byte and the parent's", two, err)
	}
	spinner, err := forkChild(-1, -1)
	if err != nil {
		return fmt.Errorf("fork: %v", err)
	}
	if got, err := syscall.Wait4(spinner, &ws, syscall.WNOHANG, nil); got != 0 || err != nil {
		return fmt.Errorf("wait4(WNOHANG) of a running child: %d, %v", got, err)
	}
	if err := syscall.Kill(spinner, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill(%d, SIGKILL): %v", spinner, err)
	}
	got, err = syscall.Wait4(-1, &ws, 0, nil)
	if err != nil || got != spinner || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return fmt.Errorf("wait4(-1): %d, %v, status %#x, want the spinner killed by SIGKILL", got, err, uint32(ws))
	}
	if _, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); err != syscall.ECHILD {
		return fmt.Errorf("wait4 with no child: %v, want ECHILD", err)
	}
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		return fmt.Errorf("kill of the reaped child %d: %v, want ESRCH", pid, err)
	}
	fmt.Printf("fork: child %d exited with 5 (SIGCHLD, wait4), child %d killed, then ECHILD and ESRCH\n", pid, spinner)
	return nil
}

// forkYielder forks a child that yields yields times (its parent meanwhile
// blocks in wait4) and exits with status; raw calls only in the child, as
// forkChild's.
func forkYielder(yields, status int) (int, error) {
	pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	if pid == 0 {
		for i := 0; i < yields; i++ {
			syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
		}
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, uintptr(status), 0, 0)
	}
	return int(pid), nil
}

// waitIntr forks children one after another, each ending soon after its
// fork, and waits for each with a raw wait4 (syscall.Wait4 does not retry
// EINTR) while goroutines keep other threads of the process busy. The
// runtime's SIGCHLD handler is SA_RESTART (signal.Notify or not), so on
// Linux a wait4 is never EINTR: the signal delivered to another thread
// does not end it, one delivered to the waiter restarts it. The parameter
// is the number of children (40); half are waited for with os/signal
// watching SIGCHLD, half without.
func waitIntr(param string) error {
	n := 40
	if param != "" {
		v, err := strconv.Atoi(param)
		if err != nil || v < 2 {
			return fmt.Errorf("bad count %q", param)
		}
		n = v
	}
	var stop atomic.Bool
	done := make(chan struct{})
	const busy = 3
	for g := 0; g < busy; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			x := 0
			for !stop.Load() {
				for i := 0; i < 10000; i++ {
					x += i
				}
				time.Sleep(50 * time.Microsecond)
			}
			_ = x
		}()
	}
	defer func() {
		stop.Store(true)
		for g := 0; g < busy; g++ {
			<-done
		}
	}()
	eintr := 0
	for k := 0; k < n; k++ {
		if k == n/2 {
			chld := make(chan os.Signal, 64)
			signal.Notify(chld, syscall.SIGCHLD)
			defer signal.Stop(chld)
		}
		pid, err := forkYielder(20+k%7*10, k&0x7f)
		if err != nil {
			return fmt.Errorf("fork: %v", err)
		}
		for {
			var ws syscall.WaitStatus
			got, err := syscall.Wait4(pid, &ws, 0, nil)
			if err == syscall.EINTR {
				eintr++
				continue
			}
			if err != nil || got != pid || !ws.Exited() || ws.ExitStatus() != k&0x7f {
				return fmt.Errorf("wait4(%d): %d, %v, status %#x, want the child exited with %d", pid, got, err, uint32(ws), k&0x7f)
			}
			break
		}
	}
	if eintr != 0 {
		return fmt.Errorf("wait4 answered EINTR %d times for %d children, want 0 (SA_RESTART handlers)", eintr, n)
	}
	fmt.Printf("waitintr: %d children reaped, wait4 never EINTR\n", n)
	return nil
}

// uname checks the system's name (syscall.Uname: os/exec's tests read the
// kernel's version so) and getcpu, which every program may make.
func uname(string) error {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return fmt.Errorf("uname: %v", err)
	}
	str := func(f [65]int8) string {
		b := make([]byte, 0, len(f))
		for _, c := range f {
			if c == 0 {
				break
			}
			b = append(b, byte(c))
		}
		return string(b)
	}
	if sys, rel, mach := str(u.Sysname), str(u.Release), str(u.Machine); sys != "Linux" || !strings.HasPrefix(rel, "6.1") || mach != "x86_64" {
		return fmt.Errorf("uname: %q %q %q, want Linux 6.1... x86_64", sys, rel, mach)
	}
	var cpu, node uint32
	if _, _, e := syscall.RawSyscall(309, // getcpu
		uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0); e != 0 || node != 0 {
		return fmt.Errorf("getcpu: %v, node %d", e, node)
	}
	return nil
}

// mincore checks mincore as Linux answers it (the runtime's tests call it
// so): an unaligned address is EINVAL, a page of its own heap is resident
// once written, an address in the kernel's heap window is ENOMEM (not the
// process's memory), a bad vector EFAULT.
func mincore(string) error {
	page := make([]byte, 8192)
	page[0] = 1
	addr := (uintptr(unsafe.Pointer(&page[0])) + 4095) &^ 4095
	page[addr-uintptr(unsafe.Pointer(&page[0]))] = 1
	var vec [1]byte
	call := func(a, n uintptr, v unsafe.Pointer) syscall.Errno {
		_, _, e := syscall.Syscall(syscall.SYS_MINCORE, a, n, uintptr(v))
		return e
	}
	if e := call(addr+1, 1, unsafe.Pointer(&vec[0])); e != syscall.EINVAL {
		return fmt.Errorf("mincore of an unaligned address: %v, want EINVAL", e)
	}
	if e := call(addr, 4096, unsafe.Pointer(&vec[0])); e != 0 || vec[0]&1 == 0 {
		return fmt.Errorf("mincore of a written page: %v, vec %d; want 0 and resident", e, vec[0])
	}
	if e := call(0xffffff4000000000, 4096, unsafe.Pointer(&vec[0])); e != syscall.ENOMEM {
		return fmt.Errorf("mincore of the kernel's heap window: %v, want ENOMEM", e)
	}
	if e := call(addr, 4096, nil); e != syscall.EFAULT {
		return fmt.Errorf("mincore into NULL: %v, want EFAULT", e)
	}
	return nil
}

// keepcaps checks prctl's keep-capabilities flag as os/signal's and
// syscall's AllThreadsSyscall tests use it: set on every thread of the
// process, read back on this one, 2 EINVAL.
func keepcaps(string) error {
	const prGetKeepcaps, prSetKeepcaps = 7, 8
	get := func() (uintptr, syscall.Errno) {
		r, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prGetKeepcaps, 0, 0)
		return r, e
	}
	for _, v := range []uintptr{1, 0} {
		if _, _, e := syscall.AllThreadsSyscall(syscall.SYS_PRCTL, prSetKeepcaps, v, 0); e != 0 {
			return fmt.Errorf("PR_SET_KEEPCAPS %d on every thread: %v", v, e)
		}
		if r, e := get(); e != 0 || r != v {
			return fmt.Errorf("PR_GET_KEEPCAPS after setting %d: %d, %v", v, r, e)
		}
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetKeepcaps, 2, 0); e != syscall.EINVAL {
		return fmt.Errorf("PR_SET_KEEPCAPS 2: %v, want EINVAL", e)
	}
	return nil
}
