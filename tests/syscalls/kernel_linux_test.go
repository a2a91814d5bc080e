//go:build !hurdvm

package syscalls

import (
	"os"
	"syscall"
)

const onHurdvm = false

// kernelText is Linux's kernel text at its link address; with KASLR the
// text is elsewhere in the top 2 GiB, and every kernel address is
// refused alike (access_ok).
const kernelText = 0xffff_ffff_8100_0000

// finish waits, when the test is /init under Linux (cmd/parity), for the
// console to send what the test wrote: init's exit panics the kernel,
// which does not flush the serial line's buffer first.
func finish() {
	if os.Getpid() == 1 {
		const tcsbrk = 0x5409 // tcdrain is TCSBRK with a nonzero argument
		syscall.Syscall(syscall.SYS_IOCTL, 1, tcsbrk, 1)
	}
}
