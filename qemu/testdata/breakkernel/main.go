// breakkernel asks the kernel to fault in handler context (a write to an
// unmapped kernel address): the host must see a readable kernel panic.
// With the argument "pf", the fault happens inside the page-fault handler
// itself, on the page-fault stack.
package main

import (
	"fmt"
	"os"
	"syscall"

	_ "hurdvm/kernel"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "pf" {
		fmt.Println("breaking the page-fault handler")
		syscall.Syscall(0x48560001, 0, 1, 0)
		b := make([]byte, 64<<20) // fresh heap memory: its first touch faults
		b[len(b)/2] = 1
		fmt.Println("the kernel survived a fault in its page-fault handler")
		return
	}
	fmt.Println("breaking the kernel")
	syscall.Syscall(0x48560001, 0x1234, 0, 0)
	fmt.Println("the kernel survived a fault in handler context")
}
