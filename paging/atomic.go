// Context: handler: nosplit, no heap, no locks.
//
// Leaf entries the hardware writes: a CPU walking the tables of a space it
// runs sets Accessed, and Dirty on a write, with a locked read-modify-write
// of the entry, on whatever CPU runs a thread of the space while another
// changes its tables (each space's changes are serialized by its owner's
// lock; the hardware's are not). Where paging reads a present leaf,
// modifies it and writes it back (Change, the write-protection of fork,
// the split of a huge page, Unmap's marking), it does so with a
// compare-and-swap that retries, so that no bit the hardware set in
// between is lost. Plain stores remain where an entry is written whole
// (an empty one filled, a leaf cleared or replaced).

package paging

import (
	"sync/atomic"
	"unsafe"
)

// loadEntry reads *e in one access.
//
//go:nosplit
func loadEntry(e *Entry) Entry { return Entry(atomic.LoadUint64((*uint64)(unsafe.Pointer(e)))) }

// updateEntry replaces *e by f(*e) atomically, with f made of clear and
// set (what every read-modify-write here is), and returns the old and new
// values.
//
//go:nosplit
func updateEntry(e *Entry, clear, set Entry) (old, nw Entry) {
	p := (*uint64)(unsafe.Pointer(e))
	for {
		old = Entry(atomic.LoadUint64(p))
		nw = old&^clear | set
		if nw == old || atomic.CompareAndSwapUint64(p, uint64(old), uint64(nw)) {
			return old, nw
		}
	}
}

// clearBits clears the bits in *e with one locked AND (the result
// unused, so the compiler emits LOCK ANDQ, not a loop).
//
//go:nosplit
func clearBits(e *Entry, bits Entry) { atomic.AndUint64((*uint64)(unsafe.Pointer(e)), ^uint64(bits)) }

// setBits sets bits in *e with one locked OR.
//
//go:nosplit
func setBits(e *Entry, bits Entry) { atomic.OrUint64((*uint64)(unsafe.Pointer(e)), uint64(bits)) }

// swapIfSame replaces *e by nw if it still holds old.
//
//go:nosplit
func swapIfSame(e *Entry, old, nw Entry) bool {
	return atomic.CompareAndSwapUint64((*uint64)(unsafe.Pointer(e)), uint64(old), uint64(nw))
}

// markDying makes the present leaf *e non-present and dying (Unmap's
// mark, unmap.go) with one locked instruction: Present is set and dying
// clear in a present leaf, and the hardware meanwhile only sets Accessed
// and Dirty, so adding dying-Present clears the one bit and sets the other
// without a borrow or a carry reaching any other bit.
//
//go:nosplit
func markDying(e *Entry) { atomic.AddUint64((*uint64)(unsafe.Pointer(e)), uint64(dying-Present)) }
