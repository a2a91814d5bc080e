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
// path (EFAULT, ENAMETOOLONG), execveat's flags (EINVAL), an empty path
// (ENOENT, unless AT_EMPTY_PATH), the file (EBADF, ENOENT, ENOTDIR,
// ELOOP, EACCES for a directory, a file that is not regular or has no
// execute bit), argv and envp (EFAULT, E2BIG), a #! script's interpreter
// line (ENOEXEC) and the interpreter (as the file, ELOOP past 4 scripts
// deep), the ELF program (ENOEXEC), memory (ENOMEM); 0 once committed.
func execLoad(slot uintptr, v *execView, buf []byte) syscall.Errno {
	if v.DirFD >= 0 {
		defer syscall.Close(int(v.DirFD))
	}
	path, e := execString(slot, v.Path, buf[:pathMax])
	if e != 0 {
		return e
	}
	if v.Flags&^(atSymlinkNofollow|atEmptyPath) != 0 {
		return syscall.EINVAL
	}
	if path == "" && v.Flags&atEmptyPath == 0 {
		return syscall.ENOENT
	}
	f, name, e := execOpen(v, path)
	if e != 0 {
		return e
	}
	defer func() { f.Close() }()
	total := 0
	argv, e := execStrings(slot, v.Argv, buf, &total)
	if e != 0 {
		return e
	}
	envp, e := execStrings(slot, v.Envp, buf, &total)
	if e != 0 {
		return e
	}
	execFn := name
	for depth := 0; ; depth++ {
		interp, arg, script, e := scriptLine(f)
		if e != 0 {
			return e
		}
		if !script {
			break
		}
		if depth == execMaxScripts {
			return syscall.ELOOP
		}
		if v.DirCloexec && depth == 0 && v.DirArg != atFDCWD && (path == "" || path[0] != '/') {
			return syscall.ENOENT // its name, /dev/fd/N/..., is gone after the execve
		}
		// Linux's argv for a script: the interpreter, its argument if
		// the line has one, the script's name, then the old argv but
		// its first.
		args := []string{interp}
		if arg != "" {
			args = append(args, arg)
		}
		args = append(args, name)
		for _, s := range args {
			if total += len(s) + 1 + 8; total > execArgMax {
				return syscall.E2BIG
			}
		}
		if len(argv) > 0 {
			argv = argv[1:]
		}
		argv = append(args, argv...)
		f.Close()
		if f, e = execOpenFile(interp, 0); e != 0 {
			return e
		}
		name = interp
	}
	plan, err := loader.Load(f, &loader.Options{MinAddr: processWindowStart, MaxAddr: processWindowEnd})
	if err != nil {
		return syscall.ENOEXEC
	}
	exe := executablePath(name) // the program loaded: a script's interpreter, as Linux's
	if _, _, e := syscall.RawSyscall(sysExecNew, slot, 0, 0); e != 0 {
		return e
	}
	mem := &procMemory{index: execTarget | uint64(slot)}
	if err := mem.load(plan, f, argv, envp, execFn); err != nil {
		return errnoOf(err, syscall.ENOMEM)
	}
	// An error here (the process ended meanwhile) the kernel has
	// answered itself: the request is done either way.
	syscall.RawSyscall6(sysExecCommit, slot, uintptr(plan.Entry), uintptr(mem.sp), uintptr(plan.Brk),
		uintptr(unsafe.Pointer(unsafe.StringData(exe))), uintptr(len(exe)))
	runtime.KeepAlive(exe)
	return 0
}

// execMaxScripts is how many #! scripts deep an execve may go, as
// Linux's BINPRM_MAX_RECURSION (one more is ELOOP).
const execMaxScripts = 4

// execOpen opens the program of execve or execveat: path from the
// process's working directory (the server's file calls start there for
// the request: execCwd), from execveat's directory, or, with
// AT_EMPTY_PATH and an empty path, execveat's descriptor itself. name is
// the program's name as Linux gives it to a script's interpreter and in
// AT_EXECFN: the path, or /dev/fd/N[/path] for a directory descriptor's.
func execOpen(v *execView, path string) (*os.File, string, syscall.Errno) {
	abs := path != "" && path[0] == '/'
	if abs || v.DirArg == atFDCWD {
		f, e := execOpenFile(path, int(v.Flags))
		return f, path, e
	}
	switch v.Dir {
	case handleBad:
		return nil, "", syscall.EBADF
	case handleNotServer: // the console, an epoll or event descriptor
		if path == "" {
			return nil, "", syscall.EACCES
		}
		return nil, "", syscall.ENOTDIR
	}
	if v.DirFD < 0 {
		return nil, "", syscall.EMFILE // no descriptor for the server to read through
	}
	name := "/dev/fd/" + itoa(int(v.DirArg))
	if path == "" {
		// The descriptor's own file: read through a copy of it (pread,
		// never its offset).
		fd, err := syscall.Dup(int(v.DirFD))
		if err != nil {
			return nil, "", errnoOf(err, syscall.EMFILE)
		}
		syscall.CloseOnExec(fd)
		f := os.NewFile(uintptr(fd), name)
		return f, name, execCheck(f)
	}
	flags := syscall.O_RDONLY | syscall.O_CLOEXEC
	if v.Flags&atSymlinkNofollow != 0 {
		flags |= syscall.O_NOFOLLOW
	}
	fd, err := syscall.Openat(int(v.DirFD), path, flags, 0)
	if err != nil {
		return nil, "", errnoOf(err, syscall.ENOENT)
	}
	f := os.NewFile(uintptr(fd), path)
	return f, name + "/" + path, execCheck(f)
}

// execOpenFile opens path (from the process's working directory) for an
// execve: AT_SYMLINK_NOFOLLOW in flags makes a symlink at its end ELOOP.
func execOpenFile(path string, flags int) (*os.File, syscall.Errno) {
	oflags := syscall.O_RDONLY | syscall.O_CLOEXEC
	if flags&atSymlinkNofollow != 0 {
		oflags |= syscall.O_NOFOLLOW
	}
	fd, err := syscall.Open(path, oflags, 0)
	if err != nil {
		return nil, errnoOf(err, syscall.ENOENT)
	}
	f := os.NewFile(uintptr(fd), path)
	if e := execCheck(f); e != 0 {
		f.Close()
		return nil, e
	}
	return f, 0
}

// execCheck is execve's check of the file: a regular file with an
// execute bit (EACCES otherwise).
func execCheck(f *os.File) syscall.Errno {
	fi, err := f.Stat()
	if err != nil {
		return errnoOf(err, syscall.EACCES)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return syscall.EACCES
	}
	return 0
}

// scriptLine reads a #! script's interpreter line as Linux 6.1's
// load_script does, in the file's first 256 bytes (BINPRM_BUF_SIZE, NUL
// past the file's end): after "#!" and blanks, the interpreter's path up
// to a blank or NUL, then the rest of the line, its blanks trimmed, as
// one optional argument. A line without a newline in the 256 bytes must
// have a blank or NUL after the path (else the path may be cut:
// ENOEXEC), and its argument is what the buffer holds; a line with no
// interpreter is ENOEXEC. script is false for a file that does not start
// with "#!".
func scriptLine(f *os.File) (interp, arg string, script bool, e syscall.Errno) {
	var buf [256]byte
	f.ReadAt(buf[:], 0)
	if buf[0] != '#' || buf[1] != '!' {
		return "", "", false, 0
	}
	blank := func(c byte) bool { return c == ' ' || c == '\t' }
	terminator := func(c byte) bool { return blank(c) || c == 0 }
	bufEnd := len(buf) - 1
	end := -1 // i_end
	for i, c := range buf {
		if c == '\n' {
			end = i
			break
		}
	}
	if end < 0 {
		i := 2
		for i < bufEnd && blank(buf[i]) {
			i++
		}
		if i == bufEnd {
			return "", "", true, syscall.ENOEXEC // all blanks
		}
		for i < bufEnd && !terminator(buf[i]) {
			i++
		}
		if i == bufEnd {
			return "", "", true, syscall.ENOEXEC // the path may go on past the buffer
		}
		end = bufEnd
	}
	for end > 2 && blank(buf[end-1]) {
		end--
	}
	name := 2
	for name < end && blank(buf[name]) {
		name++
	}
	if name == end {
		return "", "", true, syscall.ENOEXEC // no interpreter
	}
	sep := name
	for sep < end && !terminator(buf[sep]) {
		sep++
	}
	interp = string(buf[name:sep])
	if sep < end && buf[sep] != 0 {
		i := sep
		for i < end && blank(buf[i]) {
			i++
		}
		if i < end {
			a := buf[i:end]
			for j, c := range a {
				if c == 0 {
					a = a[:j]
					break
				}
			}
			arg = string(a)
		}
	}
	return interp, arg, true, 0
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
