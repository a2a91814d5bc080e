//go:build hurdvm

package main

import (
	"fmt"
	"os"

	"hurdvm/kernel"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: procinit PROGRAM [ARG...]")
		os.Exit(2)
	}
	p, err := kernel.StartProcess(os.Args[1], &kernel.ProcessOptions{
		Args: os.Args[2:], Env: os.Environ(), Echo: true,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "procinit:", err)
		os.Exit(127)
	}
	s, err := p.Wait()
	if err != nil {
		fmt.Fprintln(os.Stderr, "procinit:", err)
		os.Exit(1)
	}
	if s.Signal != 0 {
		fmt.Fprintf(os.Stderr, "procinit: %v\n", s)
		os.Exit(128 + s.Signal)
	}
	os.Exit(s.ExitCode)
}
