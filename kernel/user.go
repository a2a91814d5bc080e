//go:build hurdvm

// Access to the memory of the code that made a system call. Everything is
// one address space in ring 0, so the kernel reads and writes it directly;
// touchUser first makes sure every page is present, resolving demand
// faults in software, so that handlers that must not fault (the signal
// frame written from the page-fault handler) never do. Handler context.

package kernel

import (
	"unsafe"

	"hurdvm/mm"
	"hurdvm/paging"
)

// mapped reports whether va is mapped in the current thread's address
// space, and whether writably, by paging's one walker.
func mapped(va uint64) (present, writable bool) {
	_, flags, _, ok := spaces[threads[current].space].PT.Translate(uintptr(va))
	return ok, flags&paging.Writable != 0
}

// touchUser makes [addr, addr+n) present (and writable when write is set),
// faulting pages in as the page-fault handler would. It reports false for
// memory the program may not access.
func touchUser(addr, n uint64, write bool) bool {
	if n == 0 {
		return true
	}
	end := addr + n
	if end < addr || addr < pageSize || addr >= physmapBase {
		return false
	}
	for va := addr &^ (pageSize - 1); va < end; va += pageSize {
		present, writable := mapped(va)
		if present && (writable || !write) {
			continue
		}
		acc := mm.AccessRead
		if write {
			acc = mm.AccessWrite
		}
		if vmFault(va, acc) != mm.FaultResolved {
			return false
		}
	}
	return true
}

// at is the pointer to the kernel-known address a: user memory already
// checked by touchUser, the physmap, a device's registers. unsafe.Add from
// nil, rather than converting the integer, says what this is: an address
// the kernel owns, not a Go pointer that was hidden in an integer (and it
// keeps go vet's unsafeptr check meaningful for the rest of the code).
func at(a uint64) unsafe.Pointer { return unsafe.Add(nil, uintptr(a)) }
