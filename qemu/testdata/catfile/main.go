// catfile prints the file named by its argument, which the kernel's file
// server reads from the initramfs the boot loader passed as a module
// (QEMU's -initrd under multiboot 1, GRUB's module2 under multiboot2).
package main

import (
	"fmt"
	"os"

	_ "hurdvm/kernel"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Println("usage: catfile FILE")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println("catfile:", err)
		os.Exit(1)
	}
	fmt.Printf("catfile: %s: %d bytes: %s\n", os.Args[1], len(b), b)
}
