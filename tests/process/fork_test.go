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
	before, handles := frames(), settledHandles(t, -1)
	runFiles(t, "fork")
	if h := settledHandles(t, handles); h != handles {
		t.Errorf("the file server holds %d handles after the processes, %d before", h, handles)
	}
	framesBack(t, before)
}
