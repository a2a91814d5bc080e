// Context: any, including handlers (nosplit, no heap).
//
// This file is the only place in paging that turns an integer into a
// pointer. Audit it alone: every table access goes through table().

package paging

import "unsafe"

// Table is one page-table frame: 512 entries, 4 KiB.
type Table [512]Entry

// table returns the page table in the frame at physical address pa, seen
// through the physmap (PhysOffset + pa).
//
// The address is built as a uintptr and reinterpreted through its own
// storage instead of with unsafe.Pointer(uintptr): the table lives outside
// any Go object the compiler knows (the kernel's physmap) or inside a byte
// arena it cannot tie to this arithmetic (host tests), so the checkptr
// instrumentation of -race builds would reject the direct conversion, and
// vet flags it. The pointer is never kept beyond the operation: for the
// garbage collector it is either outside the Go heap (kernel: ignored) or an
// interior pointer into the live arena (host).
//
//go:nosplit
func (pt *PageTable) table(pa uint64) *Table {
	va := pt.env.PhysOffset + uintptr(pa&uint64(addrMask))
	return *(**Table)(unsafe.Pointer(&va))
}
