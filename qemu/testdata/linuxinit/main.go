// linuxinit is /init under Linux for qemu's RunLinux test: it prints its
// arguments and an environment variable, and exits with status 3.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	fmt.Printf("args: %s\n", strings.Join(os.Args[1:], " "))
	fmt.Printf("env: HURDVM_WORD=%s\n", os.Getenv("HURDVM_WORD"))
	os.Exit(3)
}
