//go:build hurdvm && hurdvmtest

package process

import "testing"

// TestGoFork: an ordinary Go program forks (fork(2), raw calls in the
// child as os/exec's child makes them): a child that exits with 5 sends
// SIGCHLD (os/signal delivers it) and wait4 reaps it with Linux's status
// word; a child spinning in ring 3 is killed by kill(2) and reaped with
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
