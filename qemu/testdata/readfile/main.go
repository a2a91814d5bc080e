// readfile prints the size and SHA-256 of the file its argument names,
// read through the kernel's file server: a relative name is found in the
// working directory, which the kernel takes from PWD in the archive
// qemuexec packs.
package main

import (
	"crypto/sha256"
	"fmt"
	"os"

	_ "hurdvm/kernel"
)

func main() {
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println("readfile:", err)
		os.Exit(1)
	}
	fmt.Printf("readfile: %d bytes, sha256 %x\n", len(b), sha256.Sum256(b))
}
