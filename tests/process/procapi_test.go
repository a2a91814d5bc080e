//go:build hurdvm && hurdvmtest

package process

import (
	"os"
	"testing"
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
