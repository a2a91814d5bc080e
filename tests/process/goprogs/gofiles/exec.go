package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// echo prints its parameter.
func echo(param string) error {
	fmt.Printf("echo: %s\n", param)
	return nil
}

// exit ends the program with its parameter's status.
func exit(param string) error {
	n, err := strconv.Atoi(param)
	if err != nil {
		return err
	}
	os.Exit(n)
	return nil
}

// child says what a program started by execve finds: its pid and its
// parent's, the environment variable named by its parameter, which of
// the descriptors 20 (opened without FD_CLOEXEC before the execve) and 21
// (with it) are open, and whether SIGHUP is ignored (it was, before).
func child(param string) error {
	open := func(fd int) bool {
		_, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		return e == 0
	}
	fmt.Printf("child: pid %d ppid %d %s=%q fd20 %v fd21 %v sighup-ignored %v\n",
		os.Getpid(), os.Getppid(), param, os.Getenv(param), open(20), open(21), signal.Ignored(syscall.SIGHUP))
	return nil
}

// execCmd runs this program again through os/exec (os.Args[0], from the
// file system): clone(CLONE_VFORK|CLONE_VM), dup3 and execve in the child,
// the status pipe that close-on-exec closes, wait4 (Go falls back to it:
// waitid and pidfds are ENOSYS). Its output and exit status come back; a
// program that cannot be run is the child's execve's errno, through the
// status pipe.
func execCmd(string) error {
	cmd := exec.Command(os.Args[0], "echo:from-the-child", "child:EXECTEST")
	cmd.Env = []string{"EXECTEST=42"}
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%v: %v (output %q)", cmd, err, out)
	}
	want := fmt.Sprintf("echo: from-the-child\nok echo\nchild: pid %d ppid %d EXECTEST=\"42\"", cmd.Process.Pid, os.Getpid())
	if !strings.HasPrefix(string(out), want) {
		return fmt.Errorf("the child wrote %q, want it to begin %q", out, want)
	}
	fmt.Printf("exec: the child wrote %q\n", out)

	cmd = exec.Command(os.Args[0], "echo:seven", "exit:7")
	out, err = cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 || string(out) != "echo: seven\nok echo\n" {
		return fmt.Errorf("%v: %v, output %q; want exit status 7 and its echo", cmd, err, out)
	}

	missing := &exec.Cmd{Path: "testdata/missing.elf", Args: []string{"missing"}}
	if err := missing.Run(); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("running a missing program: %v, want ENOENT from its execve", err)
	}
	junk, err := junkProgram()
	if err != nil {
		return err
	}
	defer os.Remove(junk)
	notELF := &exec.Cmd{Path: junk, Args: []string{"junk"}}
	if err := notELF.Run(); !errors.Is(err, syscall.ENOEXEC) {
		return fmt.Errorf("running a file that is not ELF: %v, want ENOEXEC from its execve", err)
	}
	fmt.Printf("exec: exit status 7 came back; a missing program: %v; not ELF: %v\n", "ENOENT", "ENOEXEC")
	return nil
}

// junkProgram is a file in /tmp with execute permission that is not a
// program.
func junkProgram() (string, error) {
	f, err := os.CreateTemp("", "junk-*")
	if err != nil {
		return "", err
	}
	f.WriteString("this is not an ELF program\n")
	f.Close()
	return f.Name(), os.Chmod(f.Name(), 0o755)
}

// execErrors makes execve with what it refuses, by raw calls, and goes on
// after each: the errno is Linux's, and the program (its goroutines, its
// descriptors) is as it was.
func execErrors(string) error {
	junk, err := junkProgram()
	if err != nil {
		return err
	}
	defer os.Remove(junk)
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	defer w.Close()
	var ticks atomic.Int64
	stop := make(chan bool)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				ticks.Add(1)
			}
		}
	}()
	defer close(stop)

	// The raw calls take addresses: what they point to is kept alive
	// (keep) until the last call.
	var keep []any
	str := func(s string) uintptr {
		p, _ := syscall.BytePtrFromString(s)
		keep = append(keep, p)
		return uintptr(unsafe.Pointer(p))
	}
	self := str(os.Args[0])
	arr := func(ps ...uintptr) uintptr {
		a := append(ps, 0)
		keep = append(keep, a)
		return uintptr(unsafe.Pointer(&a[0]))
	}
	long := str(strings.Repeat("x", 200<<10)) // past MAX_ARG_STRLEN
	many := make([]uintptr, 0, 40)
	for i := 0; i < 40; i++ {
		many = append(many, str(strings.Repeat("y", 100<<10))) // 4 MiB in all
	}
	cases := []struct {
		name             string
		path, argv, envp uintptr
		want             syscall.Errno
	}{
		{"NULL path", 0, 0, 0, syscall.EFAULT},
		{"a kernel address as the path", 0xffffffff80200000, 0, 0, syscall.EFAULT},
		{"a non-canonical path", 0x8000000000000000, 0, 0, syscall.EFAULT},
		{"an empty path", str(""), 0, 0, syscall.ENOENT},
		{"a missing file", str("testdata/missing.elf"), arr(str("missing")), 0, syscall.ENOENT},
		{"a path through a file", str("testdata/greeting.txt/x"), 0, 0, syscall.ENOTDIR},
		{"a file without execute permission", str("testdata/greeting.txt"), 0, 0, syscall.EACCES},
		{"a directory", str("testdata"), 0, 0, syscall.EACCES},
		{"a file that is not ELF", str(junk), arr(str("junk")), 0, syscall.ENOEXEC},
		{"argv a kernel address", self, 0xffffffff80200000, 0, syscall.EFAULT},
		{"an argument a bad pointer", self, arr(self, 0x10), 0, syscall.EFAULT},
		{"envp a bad pointer", self, arr(self), 0x8000000000000000, syscall.EFAULT},
		{"an argument longer than MAX_ARG_STRLEN", self, arr(self, long), 0, syscall.E2BIG},
		{"4 MiB of environment", self, arr(self), arr(many...), syscall.E2BIG},
	}
	for _, c := range cases {
		before := ticks.Load()
		_, _, e := syscall.RawSyscall(syscall.SYS_EXECVE, c.path, c.argv, c.envp)
		runtime.KeepAlive(keep)
		if e != c.want {
			return fmt.Errorf("execve with %s: %v (%d), want %v", c.name, e, e, c.want)
		}
		// The program goes on: its pipe and its timers work.
		if _, err := w.Write([]byte{'x'}); err != nil {
			return fmt.Errorf("after execve with %s: write: %v", c.name, err)
		}
		b := make([]byte, 1)
		if _, err := r.Read(b); err != nil {
			return fmt.Errorf("after execve with %s: read: %v", c.name, err)
		}
		for deadline := time.Now().Add(5 * time.Second); ticks.Load() < before+2; {
			if time.Now().After(deadline) {
				return fmt.Errorf("after execve with %s: the ticker stopped", c.name)
			}
			time.Sleep(time.Millisecond)
		}
		fmt.Printf("execerr: %s: %v\n", c.name, e)
	}
	return nil
}

// execSelf runs this program again by syscall.Exec, with goroutines
// spinning on threads of their own (their threads end), descriptor 20
// without FD_CLOEXEC (kept) and 21 with it (closed), SIGHUP ignored (it
// stays ignored) and SIGINT handled (its action goes back to the default).
func execSelf(string) error {
	for i := 0; i < 3; i++ {
		go func() {
			runtime.LockOSThread()
			for x := 0; ; x++ {
				if x%1000000 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	if err := syscall.Dup3(int(w.Fd()), 20, 0); err != nil {
		return err
	}
	if err := syscall.Dup3(int(r.Fd()), 21, syscall.O_CLOEXEC); err != nil {
		return err
	}
	signal.Ignore(syscall.SIGHUP)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "execself: pid %d, %d threads\n", os.Getpid(), threads())
	os.Stdout.Write(buf.Bytes())
	err = syscall.Exec(os.Args[0], []string{os.Args[0], "echo:after-exec", "child:EXECSELF", "exit:3"}, append(os.Environ(), "EXECSELF=yes"))
	return fmt.Errorf("syscall.Exec: %v", err)
}

// threads is how many threads the runtime has made (the OS threads it
// reports, as its threadcreate profile counts them).
func threads() int {
	n, _ := runtime.ThreadCreateProfile(nil)
	return n
}

// executable checks /proc/self/exe (os.Executable): the program's own
// absolute path, cut at the buffer's size (readlink writes no NUL),
// EINVAL for a size of 0; then the same in a child started by that path,
// as std's tests run their own binary again (testenv.Executable). With
// the parameter "child" it does only the first part.
func executable(param string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("os.Executable: %v", err)
	}
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		return err
	}
	if exe != self {
		return fmt.Errorf("os.Executable is %q, want %q", exe, self)
	}
	buf := make([]byte, 4)
	if n, err := syscall.Readlink("/proc/self/exe", buf); err != nil || n != 4 || string(buf) != exe[:4] {
		return fmt.Errorf("readlink with a 4-byte buffer: %d %q, %v; want 4 %q", n, buf[:max(n, 0)], err, exe[:4])
	}
	if _, err := syscall.Readlink("/proc/self/exe", nil); err != syscall.EINVAL {
		return fmt.Errorf("readlink with no buffer: %v, want EINVAL", err)
	}
	fmt.Printf("exe: %s\n", exe)
	if param == "child" {
		return nil
	}
	out, err := exec.Command(exe, "exe:child").CombinedOutput()
	if want := "exe: " + exe + "\nok exe\n"; err != nil || string(out) != want {
		return fmt.Errorf("the child by os.Executable's path: %v, output %q; want %q", err, out, want)
	}
	return nil
}
