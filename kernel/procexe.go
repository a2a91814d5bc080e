//go:build hurdvm

// A process's own program, as Linux's /proc/self/exe names it: the
// absolute path of the file it was started from or last execve'd, which
// os.Executable reads (readlink "/proc/self/exe"). Std's tests that run
// their own binary again (os/exec's helper processes, through
// testenv.Executable) need it; the file system has no /proc, so the
// kernel answers that one path itself, for processes. The kernel's
// program records the path when it starts a process (sysProcStart) and
// when an execve commits (sysExecCommit), both made absolute by the
// loader's side (procstart.go, execserver.go). Handler context.

package kernel

// procSelfExe is the one path of /proc the kernel answers.
const procSelfExe = "/proc/self/exe"

// procSetExe records the n bytes at addr (the kernel program's memory) as
// p's program.
func procSetExe(p *proc, addr, n uint64) uint64 {
	if n == 0 || n >= uint64(len(p.exe)) {
		return errno(eINVAL)
	}
	if !copyIn(p.exe[:n], addr) {
		p.exeLen = 0
		return errno(eFAULT)
	}
	p.exeLen = uint32(n)
	return 0
}

// procReadlink answers readlink and readlinkat of "/proc/self/exe" (an
// absolute path: dirfd does not matter) with p's program, as Linux does:
// at most size bytes, no NUL, the count. ok is false for any other path
// (the file server's), and for a path it cannot read (the server says
// EFAULT).
func procReadlink(p *proc, path, buf uint64, size int32) (r uint64, ok bool) {
	var name [len(procSelfExe) + 1]byte
	if userCopyPartial(name[:], path) != uint64(len(name)) ||
		string(name[:len(procSelfExe)]) != procSelfExe || name[len(procSelfExe)] != 0 {
		return 0, false
	}
	if size <= 0 {
		return errno(eINVAL), true
	}
	if p.exeLen == 0 {
		return errno(eNOENT), true
	}
	n := min(uint64(p.exeLen), uint64(size))
	if !copyOut(buf, p.exe[:n]) {
		return errno(eFAULT), true
	}
	return n, true
}
