// Command procapi is an ordinary Go program (built as gohello is: make
// progs) that tests/process runs as a process to check the process calls
// of issue 17 beyond files and fork: a working directory of its own,
// waitid and pidfds, process groups and sessions, execveat and #! scripts,
// vfork, resource limits, prctl and the CPU-time clocks. Each argument
// names a check, with a parameter after a colon for some, run in order; it
// prints "ok NAME" after each, "FAIL NAME: why" and exit status 101 for
// one that fails. It runs on Linux too (go run, or its binary), where
// every check passes: what it expects is Linux's answer.
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
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
	"cwd":          cwd,
	"pwd":          pwd,
	"exit":         exit,
	"sleep":        sleep,
	"waitid":       waitidCheck,
	"pidfd":        pidfdCheck,
	"groups":       groups,
	"ids":          ids,
	"vfork":        vforkCheck,
	"scripts":      scripts,
	"execveat":     execveat,
	"limits":       limits,
	"prctl":        prctlCheck,
	"cpuclock":     cpuClocks,
	"execkill":     execKill,
	"sleeprestart": sleepRestart,
	"execthread":   execThread,
	"tids":         tids,
}

// pwd prints the working directory, as getcwd(2) says it.
func pwd(string) error {
	wd, err := getcwd()
	if err != nil {
		return err
	}
	fmt.Printf("pwd: %s\n", wd)
	return nil
}

// exit ends the program with its parameter's status.
func exit(param string) error {
	n := 0
	fmt.Sscan(param, &n)
	os.Exit(n)
	return nil
}

// getcwd is getcwd(2) itself (os.Getwd believes $PWD when it names the
// same directory).
func getcwd() (string, error) {
	var buf [4096]byte
	n, _, e := syscall.RawSyscall(syscall.SYS_GETCWD, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0)
	if e != 0 {
		return "", e
	}
	return string(buf[:n-1]), nil
}

// errnoIs fails unless err is the errno want.
func errnoIs(what string, err error, want syscall.Errno) error {
	if e, ok := err.(syscall.Errno); !ok || e != want {
		return fmt.Errorf("%s: %v, want %v", what, err, want)
	}
	return nil
}

// rawErr is the errno of a raw call's result (nil for none).
func rawErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// badAddr is an address no program has mapped (the kernel's half).
const badAddr = 0xffff800000001000
