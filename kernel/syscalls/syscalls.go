// Package syscalls names the x86-64 Linux system calls by number, for the
// kernel's messages ("unimplemented system call 258 (mkdirat)"). The table
// is generated (go generate) from golang.org/x/sys/unix's
// zsysnum_linux_amd64.go, at the version go.mod requires, which is in turn
// generated from Linux's own headers; the table is constant data, so a
// lookup allocates nothing and works in handler context.
package syscalls

//go:generate go run ./gen -o names.go

// Name is the Linux name of system call nr, or "" for a number x86-64
// Linux does not use.
func Name(nr uint64) string {
	if nr < uint64(len(names)) {
		return names[nr]
	}
	return ""
}
