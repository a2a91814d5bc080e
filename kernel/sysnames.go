//go:build hurdvm

// System calls by name in the kernel's messages. Handler context: the
// table is constant data.

package kernel

import "hurdvm/kernel/syscalls"

// kprintSyscallName prints " (name)" for a system call Linux has, nothing
// for a number it does not use.
func kprintSyscallName(nr uint64) {
	if name := syscalls.Name(nr); name != "" {
		kprint(" (")
		kprint(name)
		kprint(")")
	}
}
