// Command mkimage wraps a Go program linked for hurdvm into a bootable
// multiboot image (what GRUB's multiboot command and QEMU's -kernel load).
//
//	mkimage -o build/hurdvm.elf build/kernel.elf
package main

import (
	"flag"
	"fmt"
	"os"

	"hurdvm/qemu"
)

func main() {
	out := flag.String("o", "build/hurdvm.elf", "the multiboot image to write")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mkimage [-o IMAGE] KERNEL_ELF")
		os.Exit(2)
	}
	root, err := qemu.RepoRoot(".")
	if err == nil {
		err = qemu.BuildImage(root, flag.Arg(0), *out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}
