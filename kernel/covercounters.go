//go:build hurdvm

// Coverage counters of go build -cover / go test -cover: each
// instrumented function writes a header (its number of counters, its
// package's id, its own id) before its counters on every call. The
// package's id is a variable its init sets; the kernel runs much of
// hurdvm/kernel, mm and paging before any init (the boot path), so those
// functions' headers say package 0, which the runtime's coverage writer
// takes for a broken table and fails on. Once the packages are
// initialised their headers are right; the entries still saying 0 are of
// code that ran only before: they are cleared, and that code counts as
// not run.

package kernel

import "unsafe"

//go:linkname covctrs runtime.covctrs
var covctrs [0]uint32

//go:linkname ecovctrs runtime.ecovctrs
var ecovctrs [0]uint32

// init runs after every package hurdvm/kernel imports is initialised.
func init() {
	start, end := unsafe.Pointer(&covctrs), unsafe.Pointer(&ecovctrs)
	if start == end {
		return // not built with -cover
	}
	ctrs := unsafe.Slice((*uint32)(start), (uintptr(end)-uintptr(start))/4)
	const header = 3 // numCtrs, pkgID, funcID
	for i := 0; i < len(ctrs); {
		n := int(ctrs[i])
		if n == 0 || i+header+n > len(ctrs) {
			i++
			continue
		}
		if ctrs[i+1] == 0 {
			clear(ctrs[i : i+header+n])
		}
		i += header + n
	}
}
