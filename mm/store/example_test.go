package store_test

import (
	"fmt"
	"unsafe"

	"hurdvm/mm/store"
)

// arena is a Frames over a byte array standing for physical memory, as a
// host program or test would give the store; the kernel's comes from its
// frame allocator and reaches frames through the physmap.
type arena struct {
	mem  []byte
	free []uint64
}

func newArena(frames int) *arena {
	buf := make([]byte, (frames+1)*store.PageSize)
	off := int(-uintptr(unsafe.Pointer(&buf[0])) & (store.PageSize - 1))
	a := &arena{mem: buf[off : off+frames*store.PageSize]}
	for i := frames - 1; i >= 0; i-- {
		a.free = append(a.free, uint64(i)*store.PageSize)
	}
	return a
}

func (a *arena) Alloc() (uint64, bool) {
	if len(a.free) == 0 {
		return 0, false
	}
	pa := a.free[len(a.free)-1]
	a.free = a.free[:len(a.free)-1]
	return pa, true
}

func (a *arena) Free(pa uint64) { a.free = append(a.free, pa) }

func (a *arena) Page(pa uint64) *[store.PageSize]byte {
	return (*[store.PageSize]byte)(a.mem[pa : pa+store.PageSize])
}

// The life of an evicted page: Put when the pager evicts it, its slot in
// the page-table entry, Get when it faults back in, Free when the slot is
// no longer referenced.
func Example() {
	frames := newArena(64)
	s := store.New(frames, 1<<20) // 1 MiB of uncompressed pages

	var page [store.PageSize]byte
	for i := range page {
		page[i] = "hurd_vm_allocate "[i%17]
	}
	slot, err := s.Put(&page)
	if err != nil {
		panic(err)
	}
	pte := slot.PTE() | 1<<9 // the paging layer adds its marker bit
	fmt.Printf("present bit: %d\n", pte&1)

	var back [store.PageSize]byte
	if err := s.Get(store.SlotOfPTE(pte), &back); err != nil {
		panic(err)
	}
	fmt.Println("intact:", back == page)

	st := s.Stats()
	fmt.Printf("%d page, %d bytes compressed\n", st.Pages, st.CompressedBytes)

	s.Free(slot)
	fmt.Println("frames held once freed:", s.Stats().Frames())
	// Output:
	// present bit: 0
	// intact: true
	// 1 page, 55 bytes compressed
	// frames held once freed: 0
}

// A page of zeroes is not stored: Put returns ZeroSlot, which the pager
// turns back into an empty entry (demand-zero).
func ExampleCompressed_Put_zero() {
	s := store.New(newArena(16), 1<<20)
	var zero [store.PageSize]byte
	slot, err := s.Put(&zero)
	fmt.Println(slot == store.ZeroSlot, err, s.Stats().ZeroPages, s.Stats().Frames())
	// Output: true <nil> 1 0
}

// Copy-on-write across fork: the child's page table refers to the parent's
// slot, with a reference of its own.
func ExampleCompressed_Dup() {
	s := store.New(newArena(16), 1<<20)
	var page [store.PageSize]byte
	page[0] = 1
	slot, _ := s.Put(&page)
	s.Dup(slot) // fork: the child shares it
	fmt.Println("refs after fork:", s.Refs(slot))
	s.Free(slot) // the parent brings the page back and drops its reference
	fmt.Println("refs:", s.Refs(slot), "pages held:", s.Stats().Pages)
	s.Free(slot) // the child exits
	fmt.Println("refs:", s.Refs(slot), "pages held:", s.Stats().Pages)
	// Output:
	// refs after fork: 2
	// refs: 1 pages held: 1
	// refs: 0 pages held: 0
}

// When the store holds its capacity, Put says so and keeps nothing.
func ExampleCompressed_Put_full() {
	s := store.New(newArena(16), store.PageSize) // room for one page
	var page [store.PageSize]byte
	page[0] = 1
	_, err := s.Put(&page)
	fmt.Println(err)
	_, err = s.Put(&page)
	fmt.Println(err, err == store.ErrFull)
	// Output:
	// <nil>
	// store: full (capacity of uncompressed bytes reached) true
}

// The capacity the kernel command line sets, on a 1 GiB machine.
func ExampleCapacityFromCmdline() {
	const ram = 1 << 30
	for _, line := range []string{"/prog", "/prog hurdvm.store=768M", "/prog hurdvm.store=150%", "/prog hurdvm.store=off", "/prog hurdvm.store=big"} {
		c, err := store.CapacityFromCmdline([]byte(line), ram)
		fmt.Printf("%-26q %5d MiB %v\n", line, c>>20, err)
	}
	// Output:
	// "/prog"                      512 MiB <nil>
	// "/prog hurdvm.store=768M"    768 MiB <nil>
	// "/prog hurdvm.store=150%"   1536 MiB <nil>
	// "/prog hurdvm.store=off"       0 MiB <nil>
	// "/prog hurdvm.store=big"     512 MiB store: bad capacity option (want a size such as 512M, 4G, 25% or off)
}
