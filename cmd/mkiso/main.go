// Command mkiso builds hurdvm's hybrid USB/CD image (BIOS and UEFI) with
// grub-mkrescue: a GRUB menu with the demo kernel first and then one entry
// per in-kernel test package.
//
//	mkiso -o build/hurdvm.iso build/hurdvm.elf build/tests/boot.test build/tests/vm.test ...
//
// The first argument is the demo's multiboot image (what `make` builds);
// each further argument is a test binary built for the kernel (go test -c
// with the kernel's flags), named NAME.test: it is wrapped in a multiboot
// image and listed as "tests/NAME", run with -test.v.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"hurdvm/qemu"
)

func main() {
	out := flag.String("o", "build/hurdvm.iso", "the ISO image to write")
	timeout := flag.Int("timeout", 10, "seconds the GRUB menu waits before booting the demo")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mkiso [-o ISO] [-timeout SECONDS] DEMO_IMAGE [NAME.test...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	root, err := qemu.RepoRoot(".")
	if err != nil {
		fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(*out), ".mkiso-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)
	entries := []qemu.ISOEntry{{
		ID:    "demo",
		Title: "hurdvm: demo (Go on the VM, copy-on-write, a task using twice the RAM)",
		File:  "hurdvm.elf",
		Image: flag.Arg(0),
		// As make qemu boots it: a store that holds twice the RAM, for
		// the task that writes twice the RAM.
		Args: "hurdvm.store=200%",
	}}
	for _, bin := range flag.Args()[1:] {
		name, ok := strings.CutSuffix(filepath.Base(bin), ".test")
		if !ok {
			fatal(fmt.Errorf("%s: a test binary is named NAME.test", bin))
		}
		image := filepath.Join(tmp, name+".elf")
		if err := qemu.BuildImage(root, bin, image); err != nil {
			fatal(err)
		}
		entries = append(entries, qemu.ISOEntry{
			ID:    "tests/" + name,
			Title: "hurdvm: in-kernel tests: tests/" + name,
			File:  "tests/" + name + ".test", // go test's name for it: tests/boot checks os.Args[0]
			Image: image,
			Args:  "-test.v",
		})
	}
	err = qemu.BuildISO(root, qemu.ISOConfig{Entries: entries, Timeout: *timeout, Out: *out})
	os.RemoveAll(tmp)
	if err != nil {
		fatal(err)
	}
	fmt.Printf("built %s: %d menu entries\n", *out, len(entries))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mkiso:", err)
	os.Exit(1)
}
