//go:build !hurdvm

package main

// The host's build of procinit (without the hurdvm tag, as go vet and go
// build ./... make it) only says what it is: main.go is the kernel
// program.

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "procinit is a hurdvm kernel program (build tag hurdvm): qemuexec -process boots it")
	os.Exit(2)
}
