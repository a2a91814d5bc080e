//go:build hurdvm && hurdvmtest

package process

import "testing"

// TestGoFork: an ordinary Go program forks (fork(2), raw calls in the
// child as os/exec's child makes them): a child writes into a pipe it
// shares with its parent and exits with 5, which sends SIGCHLD (os/signal
// delivers it); wait4 reaps it with Linux's status word, the child's byte
// is in the pipe and the pipe still works for the parent (the child's end
// released only its own references to the server's handles); a child spinning in ring 3 is killed by kill(2) and reaped with
// SIGKILL's status; wait4 then finds no child (ECHILD), and kill of the
// reaped pid is ESRCH. The children's copy-on-write tasks give every
// frame back, as do the file server's handles they shared.
func TestGoFork(t *testing.T) {
	warm(t)
	runFilesAllBack(t, "fork")
}

// TestGoWaitNotEINTR: a Go program whose other threads are busy forks
// children that end soon, each waited for by a raw wait4 (syscall.Wait4
// does not retry EINTR). The child's end sends SIGCHLD, whose runtime
// handler is SA_RESTART: as on Linux, the waiter's wait4 returns the
// child, never EINTR, whichever thread takes the signal (another thread's
// handler does not end this thread's call; its own restarts it).
func TestGoWaitNotEINTR(t *testing.T) {
	warm(t)
	before := frames()
	runFiles(t, "waitintr:40")
	framesBack(t, before)
}
