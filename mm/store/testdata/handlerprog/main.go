// Command handlerprog uses the compressed store as the kernel's fault and
// eviction paths will: a Compressed value set up once at boot, called
// through the Backend interface, over a Frames implementation in the
// kernel's manner (memory reached by address arithmetic, a free stack of
// frames; no Go heap). TestHandlerContext runs the handler-context checker
// (hurdvm/kernel/handlercheck) over its machine code from main.handler,
// and from main.allocates, which must fail.
package main

import (
	"unsafe"

	"hurdvm/mm/store"
)

const frameCount = 64

// physFrames is Frames over a physmap: physical address pa is visible at
// base+pa.
type physFrames struct {
	base uintptr
	free [frameCount]uint64
	n    int
}

func (f *physFrames) Alloc() (uint64, bool) {
	if f.n == 0 {
		return 0, false
	}
	f.n--
	return f.free[f.n], true
}

func (f *physFrames) Free(pa uint64) {
	f.free[f.n] = pa
	f.n++
}

func (f *physFrames) Page(pa uint64) *[store.PageSize]byte {
	return (*[store.PageSize]byte)(unsafe.Pointer(f.base + uintptr(pa)))
}

var (
	memory  [(frameCount + 1) * store.PageSize]byte
	frames  physFrames
	zstore  store.Compressed
	backend store.Backend
	page    [store.PageSize]byte
	dst     [store.PageSize]byte
	cmdline = [...]byte{'h', 'u', 'r', 'd', 'v', 'm', '.', 's', 't', 'o', 'r', 'e', '=', '2', '5', '%'}
	sink    uint64
)

// handler is everything handler context calls: the root of the check.
//
//go:noinline
func handler() {
	c, err := store.CapacityFromCmdline(cmdline[:], 1<<30)
	if err == nil {
		zstore.SetCapacity(c)
	}
	sl, err := backend.Put(&page)
	if err != nil {
		return
	}
	pte := sl.PTE() | 1<<9
	sl = store.SlotOfPTE(pte)
	if backend.Dup(sl) == nil && backend.Get(sl, &dst) == nil {
		sink += uint64(backend.Refs(sl))
	}
	backend.Free(sl)
	backend.Free(sl)
	sink += backend.Stats().Frames()
}

// allocates is a root that must fail the check: New allocates.
//
//go:noinline
func allocates() {
	backend = store.New(&frames, 1<<20)
}

func main() {
	base := (uintptr(unsafe.Pointer(&memory[0])) + store.PageSize - 1) &^ (store.PageSize - 1)
	frames.base = base
	for i := range frameCount {
		frames.Free(uint64(i) * store.PageSize)
	}
	// Boot: bind the store to its frames once (kmain's write barriers
	// are allowed, the runtime has not started).
	zstore.Init(&frames, 1<<30)
	backend = &zstore
	for i := range page {
		page[i] = byte(i / 64)
	}
	handler()
	if sink == 0 {
		allocates()
	}
}
