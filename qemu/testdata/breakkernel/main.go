// breakkernel asks the kernel to fault in handler context (a write to an
// unmapped kernel address): the host must see a readable kernel panic.
package main

import (
	"fmt"
	"syscall"

	_ "hurdvm/kernel"
)

func main() {
	fmt.Println("breaking the kernel")
	syscall.Syscall(0x48560001, 0x1234, 0, 0)
	fmt.Println("the kernel survived a fault in handler context")
}
