//go:build hurdvm

// Temporary: a fault loop whose faults gdb single-steps (instruction
// profile of the fault path).
package main

import (
	"syscall"

	_ "hurdvm/kernel"
)

//go:noinline
func touch(p *byte) { *p = 1 }

func main() {
	b, err := syscall.Mmap(-1, 0, 64<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(err)
	}
	for i := 0; i < 120; i++ {
		touch(&b[i*4096])
	}
	println("faultprof done")
}
