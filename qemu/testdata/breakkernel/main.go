// breakkernel asks the kernel to fault in handler context (a write to an
// unmapped kernel address): the host must see a readable kernel panic.
// With the argument "pf", the fault happens inside the page-fault handler
// itself, on the page-fault stack. With "rsvd", a page-table entry of the
// program's gets a reserved bit, and the program touches the page.
package main

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

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
	if len(os.Args) > 1 && os.Args[1] == "rsvd" {
		b := make([]byte, 1<<20)
		p := &b[len(b)/2]
		*p = 1
		if r, _, _ := syscall.Syscall(0x48560001, uintptr(unsafe.Pointer(p)), 2, 0); r != 0 {
			fmt.Println("could not set a reserved bit:", int64(r))
			os.Exit(1)
		}
		fmt.Println("touching a page whose entry has a reserved bit set")
		*p = 2
		fmt.Println("the kernel survived a reserved-bit page fault")
		return
	}
	if len(os.Args) > 1 {
		if vec, ok := map[string]uintptr{"ts": 10, "np": 11, "ss": 12}[os.Args[1]]; ok {
			fmt.Println("raising exception", vec, "as if from the program's code")
			syscall.Syscall(0x48560001, vec, 3, 0)
			fmt.Println("the program went on after its exception")
			return
		}
	}
	fmt.Println("breaking the kernel")
	syscall.Syscall(0x48560001, 0x1234, 0, 0)
	fmt.Println("the kernel survived a fault in handler context")
}
