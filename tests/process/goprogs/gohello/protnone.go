package main

import (
	"fmt"
	"runtime/debug"
	"syscall"
	"unsafe"
)

// protnone: mprotect(PROT_NONE) of a page the program has written takes
// every access away (a read is SIGSEGV, which SetPanicOnFault makes a
// panic; write(2) from it is EFAULT) and PROT_READ|PROT_WRITE gives the
// byte back. Linux answers so; hurdvm let the page be read until its VM
// withheld touched pages.
func protnone() error {
	mem, err := syscall.Mmap(-1, 0, 2*4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return err
	}
	defer syscall.Munmap(mem)
	mem[100], mem[4096] = 42, 43
	if err := syscall.Mprotect(mem[:4096], syscall.PROT_NONE); err != nil {
		return err
	}
	if faulted, v := readFaults(&mem[100]); !faulted {
		return fmt.Errorf("a PROT_NONE page was read: %d", v)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_WRITE, 1, uintptr(unsafe.Pointer(&mem[100])), 1); e != syscall.EFAULT {
		return fmt.Errorf("write(2) from a PROT_NONE page: errno %d, want EFAULT", e)
	}
	if faulted, v := readFaults(&mem[4096]); faulted || v != 43 {
		return fmt.Errorf("the page after the PROT_NONE one: faulted %v, %d", faulted, v)
	}
	if err := syscall.Mprotect(mem[:4096], syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
		return err
	}
	if mem[100] != 42 {
		return fmt.Errorf("after PROT_NONE and back the byte is %d, want 42", mem[100])
	}
	fmt.Printf("protnone: a read faulted, write(2) EFAULT, the byte back\n")
	return nil
}

var sink byte

// readFaults reads *p and reports whether that faulted.
func readFaults(p *byte) (faulted bool, v byte) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() { faulted = recover() != nil }()
	sink = *p
	return false, sink
}
