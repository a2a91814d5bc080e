//go:build hurdvm

package syscalls

import _ "hurdvm/kernel"

// onHurdvm: the rows expect differences.txt's answers where it has one.
const onHurdvm = true

// kernelText is the kernel's code: on hurdvm the image's text, at the -T
// address of qemu.GoLDFlags (0xffffffff81001000, in the top 2 GiB as
// Linux's), mapped read-only. The program's code is the kernel's, so
// hurdvm may let the program read it: rows use it only for buffers the
// kernel would write (pointers_test.go).
const kernelText = 0xffff_ffff_8100_1000

// finish: hurdvm's console writes are synchronous, nothing to wait for.
func finish() {}
