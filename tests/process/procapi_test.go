//go:build hurdvm && hurdvmtest

package process

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"hurdvm/kernel"
)

// The process calls beyond files and fork (goprogs/procapi, an ordinary
// Go program whose checks pass on Linux too): a working directory per
// process, waitid and pidfds, process groups, execveat and #! scripts,
// vfork, limits, prctl and the CPU-time clocks.

// TestWorkingDirectory: a process has a working directory of its own.
// It chdirs into a fresh directory of /tmp, where every path call's
// relative path starts (openat, newfstatat, mkdirat, renameat2, symlinkat,
// readlinkat, faccessat, unlinkat); chdir(".."), fchdir (the directory
// stays after its descriptor closes); chdir's ENOENT, ENOTDIR, EFAULT,
// ENAMETOOLONG, fchdir's ENOTDIR and EBADF, getcwd's ERANGE and EFAULT; a
// forked child starts where its parent is and its chdir moves it alone;
// os/exec's Dir (the child's chdir before its execve) and a program named
// by a path relative to the process's directory. The kernel program's
// directory does not move, and the handles that held the process's
// directories are released.
func TestWorkingDirectory(t *testing.T) {
	warm(t)
	wd, _ := os.Getwd()
	runChecksAllBack(t, "procapi", "cwd", "pwd")
	if now, _ := os.Getwd(); now != wd {
		t.Errorf("the kernel program's directory moved from %s to %s", wd, now)
	}
}

// TestWaitid: waitid(P_PID) with WNOWAIT leaves the child to be reaped,
// without it reaps (ECHILD after); P_ALL finds a child killed by SIGKILL
// (si_code CLD_KILLED, si_status 9); WNOHANG with a live child is 0 with
// a siginfo of zeros; WSTOPPED alone finds nothing (no process stops);
// the siginfo is Linux's (si_signo SIGCHLD, si_errno 0, si_code
// CLD_EXITED, si_pid, si_uid 0, si_status the exit status); EINVAL for no
// option, an unknown one, an unknown idtype, P_PID 0, P_PGID -1, EBADF
// for P_PIDFD of a descriptor that is not a pidfd, ECHILD with no child.
func TestWaitid(t *testing.T) {
	warm(t)
	runChecksAllBack(t, "procapi", "waitid")
}

// TestPidfds: pidfd_open of itself (close-on-exec, waitid ECHILD,
// pidfd_send_signal of 0: Go's os package's probe), its EINVAL and
// ESRCH; clone(CLONE_PIDFD) by syscall.ForkExec: epoll reports the
// child's pidfd readable only once it has ended (after its 300 ms
// sleep), waitid(P_PIDFD) reaps it, pidfd_send_signal is ESRCH then; a
// spinning child killed by pidfd_send_signal(SIGKILL); os/exec and
// os.Process (Signal, Wait, ErrProcessDone after), which go through
// pidfds once the probe passes.
func TestPidfds(t *testing.T) {
	warm(t)
	runChecksAllBack(t, "procapi", "pidfd")
}

// TestProcessGroups: a process leads its own group and session; a
// forked child is in them; setpgid moves a child into a group of its own
// and another child into that group; kill(-pgid, SIGKILL) ends both and
// wait4(-pgid) reaps them; waitid(P_PGID) and wait4(0); a child's setsid
// (pid, pgrp and sid all its own; the parent's setpgid of it EPERM);
// setpgid's EINVAL, ESRCH and EPERM, setsid's EPERM for a group leader,
// kill's ESRCH for an empty group; setpgid of a child after its execve is
// EACCES; os/exec's SysProcAttr{Setpgid: true} puts the child in a group
// of its own.
func TestProcessGroups(t *testing.T) {
	warm(t)
	runChecksAllBack(t, "procapi", "groups")
}

// TestVfork: the thread that makes a CLONE_VFORK child waits until the
// child makes its execve or ends, as Linux's: a child that sleeps 300 ms
// and exits (its byte in a pipe before the parent's clone returns), one
// that sleeps 300 ms and makes an execve of a program that sleeps 3 s
// (the parent goes on at the execve, not at the program's end).
func TestVfork(t *testing.T) {
	warm(t)
	runChecksAllBack(t, "procapi", "vfork")
}

// TestScripts: #! scripts whose interpreter is the args program (it
// prints its argv and environment and exits with argc): Linux's argv
// (the interpreter, the line's one argument, the script's path, the old
// argv but its first) for an interpreter with an argument (blanks inside
// kept), without one, after blanks and a tab, by a path relative to the
// working directory, a script interpreting a script, a line without a
// newline; ENOEXEC for no interpreter and a path cut at 256 bytes;
// ENOENT and EACCES for the interpreter; EACCES for a script without an
// execute bit; ELOOP for a script interpreting itself.
func TestScripts(t *testing.T) {
	warm(t)
	runChecksAllBack(t, "procapi", "scripts:"+prog("args"))
}

// TestExecveat: execveat of the args program by AT_FDCWD and a relative
// path, by a directory's descriptor, by its own descriptor with
// AT_EMPTY_PATH, and of a script through a directory's descriptor (the
// interpreter is given /dev/fd/N/script, as on Linux); EINVAL, ENOENT,
// EBADF, ENOTDIR, ELOOP (AT_SYMLINK_NOFOLLOW), and ENOENT for a script
// through a close-on-exec descriptor.
func TestExecveat(t *testing.T) {
	warm(t)
	runChecksAllBack(t, "procapi", "execveat:"+prog("args"))
}

// TestLimits: a process's resource limits are its own, as Linux's:
// RLIMIT_NOFILE is the descriptor table, 256 soft and hard, RLIMIT_STACK
// 8 MiB and unlimited, RLIMIT_CORE 0 and unlimited; lowering
// RLIMIT_NOFILE makes dup EMFILE, dup2 EBADF and F_DUPFD EINVAL past it,
// and a forked child inherits it; EINVAL, EPERM, ESRCH and EFAULT; a
// child's limit set through its pid.
func TestLimits(t *testing.T) {
	warm(t)
	out := runChecksAllBack(t, "procapi", "limits")
	if want := "limits: nofile 256 256 stack 8388608 18446744073709551615 core 0 -1\n"; !strings.Contains(out, want) {
		t.Errorf("want %q", want)
	}
}

// TestPrctl: PR_SET_NAME and PR_GET_NAME, PR_SET_PDEATHSIG and
// PR_GET_PDEATHSIG, EINVAL for a bad signal and an unknown option; a
// grandchild whose parent-death signal is SIGKILL ends when its parent
// exits.
func TestPrctl(t *testing.T) {
	warm(t)
	runChecksAllBack(t, "procapi", "prctl")
}

// TestCPUClocks: CLOCK_PROCESS_CPUTIME_ID sums the process's threads
// (four burning 100 ms of CPU each while the main one sleeps),
// CLOCK_THREAD_CPUTIME_ID, the clocks built from its pid, its tid and a
// child's pid, EINVAL for no process and CPUCLOCK_WHICH 3, clock_getres
// 1 ns; times, getrusage (self, thread, children) and wait4's rusage
// count the CPU time burned.
func TestCPUClocks(t *testing.T) {
	warm(t)
	runChecksAllBack(t, "procapi", "cpuclock")
}

// TestKillDuringExecve: 24 children, each killed by SIGKILL from its
// parent at a delay growing by 15 ms from the moment it makes its execve
// of a 3 MiB program (procapi itself), so that the kills land before,
// during and after the exec server's load: each ends by SIGKILL, the
// kernel lives, every frame (old images, fresh spaces the loads had
// filled, new images) and every server handle comes back, and a program
// runs after.
func TestKillDuringExecve(t *testing.T) {
	warm(t)
	p0, t0, f0, c0 := kernel.ExecsEnded()
	out := runChecksAllBack(t, "procapi", "execkill:15000")
	if !strings.Contains(out, "execkill: 24 children killed") {
		t.Errorf("no execkill summary")
	}
	p1, t1, f1, c1 := kernel.ExecsEnded()
	t.Logf("execve calls cut short by SIGKILL: %d posted, %d while the exec server loaded, %d failed, %d committed", p1-p0, t1-t0, f1-f0, c1-c0)
	if t1 == t0 {
		t.Errorf("no kill landed while the exec server loaded")
	}
	warm(t)
}

// TestSleepRestart: a process's main thread sleeps 1 s in nanosleep; the
// kernel wakes it for a SIGUSR1 another thread sends the process, and the
// sender takes the signal on its way out of kill (with one CPU, always):
// as Linux's, the sleep then goes on to its deadline, no EINTR, since no
// handler ran on the sleeper (a handler that runs there ends it with
// EINTR and the time left: with several CPUs the sleeper may take the
// signal itself).
func TestSleepRestart(t *testing.T) {
	warm(t)
	check := "sleeprestart"
	if kernel.CPUCount() == 1 {
		check += ":strict"
	}
	runChecksAllBack(t, "procapi", check)
}

// TestExecFromAThread: execve from a thread that is not the process's
// first: the thread takes the pid as its tid, as Linux's de_thread, and
// the new image's gettid is its getpid.
func TestExecFromAThread(t *testing.T) {
	warm(t)
	before := frames()
	s := run(t, "procapi", "execthread")
	out := string(s.Output)
	t.Logf("procapi execthread:\n%s", out)
	if s.Signal != 0 || s.ExitCode != 0 || !strings.Contains(out, "ok tids\n") {
		t.Fatalf("procapi execthread ended so: %v, want exit status 0 after the new image's check", s)
	}
	framesBack(t, before)
	var pid, tid, pid2, tid2 int
	if _, err := fmt.Sscanf(out[strings.Index(out, "execthread:"):], "execthread: pid %d, execve from tid %d\ntids: pid %d tid %d", &pid, &tid, &pid2, &tid2); err != nil {
		t.Fatalf("the output: %v", err)
	}
	if pid2 != pid || tid2 != pid {
		t.Errorf("after the execve from tid %d: pid %d tid %d, want both %d", tid, pid2, tid2, pid)
	}
}
