// Command hurdvm is the kernel's main program: booted by `make qemu`, it
// prints what the machine gave it and runs a short demo of the Go runtime
// on the kernel's memory manager.
package main

import (
	"fmt"
	"runtime"
	"time"

	_ "hurdvm/kernel"
)

func main() {
	fmt.Println("hello from Go", runtime.Version(), "GOMAXPROCS", runtime.GOMAXPROCS(0))
	done := make(chan int)
	for i := 0; i < 4; i++ {
		go func(i int) { done <- i * i }(i)
	}
	sum := 0
	for i := 0; i < 4; i++ {
		sum += <-done
	}
	fmt.Println("goroutines:", sum)
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	fmt.Println("slept", time.Since(start))
	runtime.GC()
	fmt.Println("GC done")
}
