// console exercises the kernel's console. First it makes system calls the
// kernel does not implement, which the kernel names on the console:
// mount (165) twice, and 500, which x86-64 Linux does not use. Then it
// writes 256 KiB from several threads at once, each write(2) a chunk of
// whole lines the host checks (consolelines), while another goroutine
// sleeps 1 ms at a time and measures how late it wakes. Last it times a
// single 64 KiB write, and reports both with the kernel's console figures
// on a line "console: name=value ...". The host judges them.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"hurdvm/kernel"
	"hurdvm/qemu/consolelines"
)

func main() {
	for _, nr := range []uintptr{syscall.SYS_MOUNT, syscall.SYS_MOUNT, 500} {
		if _, _, e := syscall.RawSyscall(nr, 0, 0, 0); e != syscall.ENOSYS {
			fmt.Printf("console: system call %d: %v, want ENOSYS\n", nr, e)
			os.Exit(1)
		}
	}

	const total = 256 << 10
	stop := make(chan struct{})
	lateness := make(chan time.Duration)
	go func() { lateness <- sleepLoop(stop) }()

	var wg sync.WaitGroup
	for w := 0; w < consolelines.Writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // each writer its own kernel thread
			fd := 1 + w%2          // stdout and stderr are the same console
			written := 0
			for c := 0; written < total/consolelines.Writers; c++ {
				chunk := consolelines.Chunk(w, c)
				if n, err := syscall.Write(fd, chunk); n != len(chunk) || err != nil {
					fmt.Printf("console: write returned %d, %v for %d bytes\n", n, err, len(chunk))
					os.Exit(1)
				}
				written += len(chunk)
			}
			fmt.Printf("console: writer %d wrote %d bytes\n", w, written)
		}()
	}
	wg.Wait()
	close(stop)
	late := <-lateness

	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = '.'
		if i%64 == 63 {
			big[i] = '\n'
		}
	}
	start := time.Now()
	syscall.Write(1, big)
	d := time.Since(start)

	st := kernel.ReadConsoleStats()
	fmt.Printf("console: sleep-late-ns=%d write64k-ns=%d longest-off-ns=%d steps=%d waits=%d\n",
		late, d, st.LongestNS, st.Steps, st.Blocked)
	fmt.Println("console: done")
}

// sleepLoop sleeps 1 ms at a time until stop closes and returns how much
// later than asked the latest wake-up came.
func sleepLoop(stop chan struct{}) time.Duration {
	var worst time.Duration
	for {
		select {
		case <-stop:
			return worst
		default:
		}
		start := time.Now()
		time.Sleep(time.Millisecond)
		worst = max(worst, time.Since(start)-time.Millisecond)
	}
}
