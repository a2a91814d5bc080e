//go:build hurdvm && hurdvmtest

package process

import (
	"regexp"
	"strings"
	"testing"
)

// TestGoExec: an ordinary Go program runs itself (os.Args[0], from the
// file system) through os/exec: clone(CLONE_VFORK|CLONE_VM), pipe2 with
// O_CLOEXEC, dup3 and execve in the child, the status pipe that the
// execve's close-on-exec closes, wait4. The child's output (its pid, its
// parent's, the environment it was given) and exit status 7 come back; a
// missing program and one that is not ELF are the child's execve's
// ENOENT and ENOEXEC, through the status pipe. Every frame (the children's
// old images' and new ones') and every handle of the file server back.
func TestGoExec(t *testing.T) {
	warm(t)
	runFilesAllBack(t, "exec")
}

// TestExecErrors: execve by raw calls with a NULL, a kernel and a
// non-canonical path, an empty one, a missing file, a path through a
// file, a file without execute permission, a directory, a file that is
// not ELF, a bad argv, argument and envp, an argument longer than
// MAX_ARG_STRLEN and 4 MiB of environment: EFAULT, ENOENT, ENOTDIR,
// EACCES, ENOEXEC and E2BIG as Linux answers, and after each the program
// goes on (its pipe, its timers).
func TestExecErrors(t *testing.T) {
	warm(t)
	before := frames()
	runFiles(t, "execerr")
	framesBack(t, before)
}

// TestExecWithThreads: a Go program with three goroutines spinning on
// threads of their own execs itself (syscall.Exec): its other threads
// end, its pid stays, descriptor 20 (no FD_CLOEXEC) stays open and 21
// (FD_CLOEXEC) is closed, SIGHUP stays ignored, the new image gets its
// arguments and environment and exits with 3; every frame of both images
// back.
func TestExecWithThreads(t *testing.T) {
	warm(t)
	before := frames()
	s := run(t, "gofiles", "execself")
	out := string(s.Output)
	t.Logf("gofiles execself:\n%s", out)
	if s.Signal != 0 || s.ExitCode != 3 {
		t.Errorf("gofiles execself ended so: %v, want exit status 3", s)
	}
	m := regexp.MustCompile(`execself: pid (\d+), (\d+) threads`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no pid before the execve")
	}
	want := "echo: after-exec\nok echo\nchild: pid " + m[1] + " ppid 1 EXECSELF=\"yes\" fd20 true fd21 false sighup-ignored true\nok child\n"
	if !strings.Contains(out, want) {
		t.Errorf("after the execve, want %q", want)
	}
	if m[1] != "" && s.PID != atoi(m[1]) {
		t.Errorf("the process's pid is %d, the program's %s", s.PID, m[1])
	}
	framesBack(t, before)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestGoExecutable: os.Executable (readlink of /proc/self/exe, which the
// kernel answers for a process) is the program's absolute path, in the
// process and in a child it runs by that path, as std's tests run their
// own binary again; a short buffer gets the path cut, none EINVAL.
func TestGoExecutable(t *testing.T) {
	warm(t)
	runFilesAllBack(t, "exe")
}
