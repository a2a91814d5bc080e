// bigbss carries a 64 MiB package array and touches one page of it: the
// boot stage leaves the array unbacked (qemu/bss.go), so the kernel needs
// no more memory than without it, and the page reads zero and keeps what
// is written.
package main

import (
	"fmt"
	"os"

	_ "hurdvm/kernel"
)

var big [64 << 20]byte

func main() {
	p := &big[len(big)/2]
	was := *p
	*p = 42
	fmt.Printf("bigbss: a page of a %d MiB array read %d, then %d\n", len(big)>>20, was, *p)
	if was != 0 || *p != 42 {
		os.Exit(1)
	}
}
