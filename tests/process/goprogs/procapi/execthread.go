package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// execThread: execve from a thread that is not the process's first:
// as Linux's de_thread, the thread takes the process's pid as its tid,
// which the new image's gettid shows (its "tids" check).
func execThread(string) error {
	pid := syscall.Getpid()
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		tid := syscall.Gettid()
		if tid == pid {
			errc <- fmt.Errorf("the new goroutine's thread is the first one (tid %d)", tid)
			return
		}
		fmt.Printf("execthread: pid %d, execve from tid %d\n", pid, tid)
		os.Stdout.Sync()
		self := selfPath()
		errc <- syscall.Exec(self, []string{self, "tids"}, nil)
	}()
	return <-errc
}

// tids prints the process's pid and the calling thread's tid.
func tids(string) error {
	fmt.Printf("tids: pid %d tid %d\n", syscall.Getpid(), syscall.Gettid())
	return nil
}
