//go:build hurdvm

// The exec server (issue 17): a goroutine of the kernel's own program that
// carries out processes' execve calls (the kernel's side, handler context,
// is procexec.go). Ordinary Go: it reads the caller's path, argv and envp
// through the kernel, opens the program through the file system, plans it
// with kernel/loader and loads it into a fresh space with the code that
// starts a process (procMemory.load), then commits; any error before the
// commit is the caller's errno, the caller unchanged. StartProcess starts
// it, once: no process can execve before a process exists.

package kernel

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"hurdvm/kernel/loader"
)

const (
	// execStringMax is Linux's MAX_ARG_STRLEN: one argument or
	// environment string, its NUL included (longer: E2BIG).
	execStringMax = 32 * pageSize
	// execArgMax is what argv and envp may take in all, strings and
	// pointers, as Linux counts them against a quarter of an 8 MiB stack
	// limit (more: E2BIG).
	execArgMax = StackSize / 4
)

var execServerOnce sync.Once

// serveExec is the server's loop: take a request, load, commit or fail.
func serveExec() {
	runtime.LockOSThread() // its own thread: it blocks in the kernel between requests
	buf := make([]byte, execStringMax)
	for {
		var v execView
		// syscall.Syscall, not RawSyscall: the goroutine gives its P
		// back while it waits in the kernel.
		slot, _, e := syscall.Syscall(sysExecNext, uintptr(unsafe.Pointer(&v)), 0, 0)
		if e != 0 {
			continue
		}
		if e := execLoad(slot, &v, buf); e != 0 {
			syscall.RawSyscall(sysExecFail, slot, uintptr(e), 0)
		}
	}
}

// execLoad loads request slot's program, in Linux's order of checks: the
// path (EFAULT, ENAMETOOLONG, ENOENT for ""), the file (ENOENT, ENOTDIR,
// EACCES for a directory, a file that is not regular or has no execute
// bit), argv and envp (EFAULT, E2BIG), the ELF program (ENOEXEC), memory
// (ENOMEM); 0 once committed.
func execLoad(slot uintptr, v *execView, buf []byte) syscall.Errno {
	path, e := execString(slot, v.Path, buf[:pathMax])
	if e != 0 {
		return e
	}
	if path == "" {
		return syscall.ENOENT
	}
	f, err := os.Open(path)
	if err != nil {
		return errnoOf(err, syscall.ENOENT)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return errnoOf(err, syscall.EACCES)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return syscall.EACCES
	}
	total := 0
	argv, e := execStrings(slot, v.Argv, buf, &total)
	if e != 0 {
		return e
	}
	envp, e := execStrings(slot, v.Envp, buf, &total)
	if e != 0 {
		return e
	}
	plan, err := loader.Load(f, &loader.Options{MinAddr: processWindowStart, MaxAddr: processWindowEnd})
	if err != nil {
		return syscall.ENOEXEC
	}
	exe, err := executablePath(path)
	if err != nil {
		return errnoOf(err, syscall.ENOENT)
	}
	if _, _, e := syscall.RawSyscall(sysExecNew, slot, 0, 0); e != 0 {
		return e
	}
	mem := &procMemory{index: execTarget | uint64(slot)}
	if err := mem.load(plan, f, argv, envp, path); err != nil {
		return errnoOf(err, syscall.ENOMEM)
	}
	// An error here (the process ended meanwhile) the kernel has
	// answered itself: the request is done either way.
	syscall.RawSyscall6(sysExecCommit, slot, uintptr(plan.Entry), uintptr(mem.sp), uintptr(plan.Brk),
		uintptr(unsafe.Pointer(unsafe.StringData(exe))), uintptr(len(exe)))
	runtime.KeepAlive(exe)
	return 0
}

// execString reads the caller's NUL-terminated string at addr, at most
// len(buf) bytes with the NUL: EFAULT, or ENAMETOOLONG when longer.
func execString(slot uintptr, addr uint64, buf []byte) (string, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(sysExecString, slot, uintptr(addr), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if e != 0 {
		return "", e
	}
	return string(buf[:n]), 0
}

// execStrings reads the caller's NULL-terminated array of strings at
// addr (none for NULL, as Linux), counting what they take in *total.
func execStrings(slot uintptr, addr uint64, buf []byte, total *int) ([]string, syscall.Errno) {
	var list []string
	for i := uint64(0); addr != 0; i++ {
		var p uint64
		if n, _, _ := syscall.RawSyscall6(sysExecCopy, slot, uintptr(addr+8*i), uintptr(unsafe.Pointer(&p)), 8, 0, 0); n != 8 {
			return nil, syscall.EFAULT
		}
		if p == 0 {
			break
		}
		s, e := execString(slot, p, buf)
		if e == syscall.ENAMETOOLONG {
			return nil, syscall.E2BIG
		}
		if e != 0 {
			return nil, e
		}
		if *total += len(s) + 1 + 8; *total > execArgMax {
			return nil, syscall.E2BIG
		}
		list = append(list, s)
	}
	return list, 0
}

// errnoOf is err's errno, or def when it carries none.
func errnoOf(err error, def syscall.Errno) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) && e != 0 {
		return e
	}
	return def
}
