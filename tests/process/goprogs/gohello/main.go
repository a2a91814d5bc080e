// Command gohello is an ordinary Go program (no hurdvm import, built with
// CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build, only its link address
// given: make progs) that tests/process runs as a process in ring 3. Each
// argument names a check, run in order; it prints what it saw, "ok NAME"
// after each, and exits with the status of the last "exit:N" argument (not exit=N: qemuexec makes NAME=value words the environment)
// (0 without one).
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	status := 0
	for _, arg := range os.Args[1:] {
		if n, ok := strings.CutPrefix(arg, "exit:"); ok {
			status, _ = strconv.Atoi(n)
			continue
		}
		check, ok := checks[arg]
		if !ok {
			fmt.Fprintf(os.Stderr, "no check %q\n", arg)
			os.Exit(100)
		}
		if err := check(); err != nil {
			fmt.Printf("FAIL %s: %v\n", arg, err)
			os.Exit(101)
		}
		fmt.Printf("ok %s\n", arg)
	}
	os.Exit(status)
}

var checks = map[string]func() error{
	"hello":    hello,
	"threads":  threads,
	"gc":       gc,
	"sleep":    sleep,
	"preempt":  preempt,
	"segv":     segv,
	"protnone": protnone,
	"crash":    crash,
	"spin":     spin,
}

// hello prints with fmt.
func hello() error {
	fmt.Printf("hello from Go %s on %s/%s, pid %d, %d CPUs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, os.Getpid(), runtime.NumCPU())
	return nil
}

// threads runs goroutines locked to threads of their own, all at once,
// and counts the threads (gettid) they ran on.
func threads() error {
	const n = 8
	var wg sync.WaitGroup
	var ready sync.WaitGroup
	tids := make(chan int, n)
	release := make(chan struct{})
	ready.Add(n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // held to the end: the thread ends with it
			tids <- syscall.Gettid()
			ready.Done()
			<-release // every goroutine holds its thread at once
		}()
	}
	ready.Wait()
	close(release)
	wg.Wait()
	close(tids)
	seen := map[int]bool{}
	for tid := range tids {
		seen[tid] = true
	}
	fmt.Printf("threads: %d goroutines on %d threads\n", n, len(seen))
	if len(seen) != n {
		return fmt.Errorf("%d goroutines locked to threads ran on %d threads", n, len(seen))
	}
	return nil
}

// gc makes garbage on several goroutines and collects it.
func gc() error {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	var sum atomic.Uint64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				b := make([]byte, 4096+i)
				b[i] = byte(i)
				sum.Add(uint64(b[i]))
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	fmt.Printf("gc: %d collections, %d MiB allocated in all\n", after.NumGC-before.NumGC, after.TotalAlloc>>20)
	if after.NumGC-before.NumGC < 3 {
		return fmt.Errorf("%d collections, want at least 3", after.NumGC-before.NumGC)
	}
	return nil
}

// sleep sleeps and uses timers (the netpoller: epoll, an eventfd).
func sleep() error {
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	if d := time.Since(start); d < 20*time.Millisecond {
		return fmt.Errorf("slept %v, want 20ms", d)
	}
	fired := make(chan time.Time, 1)
	time.AfterFunc(10*time.Millisecond, func() { fired <- time.Now() })
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < 3; i++ {
		<-tick.C
	}
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		return errors.New("AfterFunc never ran")
	}
	fmt.Printf("sleep: %v in all\n", time.Since(start).Round(time.Millisecond))
	return nil
}

var spinCount uint64

// preempt runs a call-free loop on the only P: the main goroutine runs
// again only if the runtime preempts the loop (SIGURG from its own
// tgkill, the handler moving the loop into asyncPreempt).
func preempt() error {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	var stop atomic.Bool
	go func() {
		for !stop.Load() { // atomic loads are no calls
			spinCount++
		}
	}()
	runtime.Gosched() // the loop runs
	time.Sleep(10 * time.Millisecond)
	stop.Store(true)
	fmt.Printf("preempt: the main goroutine ran beside a call-free loop\n")
	return nil
}

// segv recovers a nil pointer dereference: SIGSEGV delivered to the
// runtime's handler, which makes it a panic.
func segv() (err error) {
	defer func() {
		r := recover()
		re, ok := r.(runtime.Error)
		if !ok {
			err = fmt.Errorf("recovered %v (%T), want a runtime.Error", r, r)
			return
		}
		fmt.Printf("segv: recovered %q\n", re.Error())
		if !strings.Contains(re.Error(), "nil pointer dereference") {
			err = fmt.Errorf("recovered %q", re.Error())
		}
	}()
	var p *int
	*p = 1
	return errors.New("a nil pointer store went through")
}

// crash crashes with threads running: GOTRACEBACK=crash makes an
// unrecovered panic end the process with SIGABRT.
func crash() error {
	startSpinners()
	debug.SetTraceback("crash")
	panic("crash: the process ends by SIGABRT")
}

// spin spins on several threads for ever, for the test to kill.
func spin() error {
	startSpinners()
	fmt.Println("spinning")
	select {}
}

// startSpinners starts call-free loops on threads of their own.
func startSpinners() {
	for i := 0; i < 3; i++ {
		go func() {
			runtime.LockOSThread()
			for {
				atomic.AddUint64(&spinCount, 1)
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
}
