package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// The main goroutine keeps the process's first thread (sleepRestart's
// sleeper is that thread, the one a signal to the process wakes first).
func init() { runtime.LockOSThread() }

// sleepRestart: the main thread sleeps 1 s in a raw nanosleep while
// another thread sends the process SIGUSR1 (handled: os/signal). The
// kernel wakes the sleeper, but the sender takes the signal on its way
// out of kill; as Linux's, the sleep then goes on to its end (no handler
// ran on the sleeper) rather than ending with EINTR. With "strict" (one
// CPU, where the sender always takes it first) EINTR fails the check;
// with several, the sleeper may take the signal itself, and EINTR with
// the time left is right too.
func sleepRestart(param string) error {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	go func() {
		time.Sleep(200 * time.Millisecond)
		syscall.Kill(syscall.Getpid(), syscall.SIGUSR1)
	}()
	req := syscall.Timespec{Sec: 1}
	rem := syscall.Timespec{Sec: -1}
	start := time.Now()
	_, _, e := syscall.Syscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&req)), uintptr(unsafe.Pointer(&rem)), 0)
	took := time.Since(start)
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("SIGUSR1 was not delivered")
	}
	switch {
	case e == 0 && took >= 950*time.Millisecond:
		fmt.Printf("sleeprestart: the sleep went on to its end (%v) while another thread took the signal\n", took.Round(time.Millisecond))
	case e == syscall.EINTR && param != "strict" && rem.Sec >= 0 && rem.Nano() <= 1e9:
		fmt.Printf("sleeprestart: the sleeper took the signal itself: EINTR after %v, %v left\n", took.Round(time.Millisecond), time.Duration(rem.Nano()))
	default:
		return fmt.Errorf("nanosleep(1 s) while another thread took SIGUSR1: %v after %v (rem %v), want 0 after 1 s", e, took, time.Duration(rem.Nano()))
	}
	return nil
}
