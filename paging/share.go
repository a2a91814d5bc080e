// Context: ordinary kernel code (boot, task creation); no heap all the same.
//
// The kernel half of every address space is the same set of PDPTs linked
// from the same PML4 slots (docs/DESIGN.md, "Memory layout"), so that switching CR3
// between tasks never changes a kernel translation. The kernel's own
// PageTable owns those PDPTs and pins them: Pin allocates a PDPT for each
// slot of a range and marks the PML4 entry Pinned, so it is never freed
// when it becomes empty (task PML4s still link it). A task's PageTable then
// links the same PDPTs with ShareKernelHalf; its entries carry Borrowed as
// well, so Destroy of the task leaves them alone. Anything mapped later
// below a shared slot, by either PageTable, is seen by every address space
// at once: nothing is copied, and no PML4 needs updating afterwards.
//
// The shared slots need not be contiguous (kernel image and heap low,
// physmap high): call Pin and ShareKernelHalf once per range.

package paging

// Pin gives each PML4 slot in [first, last] a PDPT (allocating the missing
// ones) and marks it Pinned. On ErrNoMemory nothing has changed.
func (pt *PageTable) Pin(first, last int) error {
	if !pt.live() {
		return ErrEnv
	}
	if first < 0 || last > 511 || first > last {
		return ErrSlot
	}
	root := pt.table(pt.Root)
	// Take every frame first, chained through their first word, so a
	// shortage changes nothing.
	list := noFrame
	for i := first; i <= last; i++ {
		if root[i]&Present != 0 {
			continue
		}
		pa, ok := pt.env.Frames.AllocTable()
		if !ok {
			pt.freeList(list)
			return ErrNoMemory
		}
		pt.table(pa)[0] = Entry(list)
		list = pa
	}
	for i := first; i <= last; i++ {
		if root[i]&Present == 0 {
			pa := list
			t := pt.table(pa)
			list = uint64(t[0])
			t[0] = 0
			root[i] = Entry(pa)&addrMask | tableLink
		}
		root[i] |= Pinned
	}
	return nil
}

func (pt *PageTable) freeList(list uint64) {
	for list != noFrame {
		t := pt.table(list)
		next := uint64(t[0])
		t[0] = 0
		pt.env.Frames.FreeTable(list)
		list = next
	}
}

// ShareKernelHalf links src's PDPTs of PML4 slots [first, last] into pt:
// the same tables, not copies. src must have pinned those slots (ErrNotPinned
// otherwise: an unpinned PDPT could be freed under pt); pt's slots must be
// empty or already link the same PDPTs (ErrMapped otherwise). On error
// nothing has changed. The new entries are valid at once: adding present
// entries needs no TLB invalidation.
func (pt *PageTable) ShareKernelHalf(src *PageTable, first, last int) error {
	if !pt.live() || src == nil || !src.live() {
		return ErrEnv
	}
	if first < 0 || last > 511 || first > last {
		return ErrSlot
	}
	if src == pt || src.Root == pt.Root {
		return ErrMapped
	}
	from, to := src.table(src.Root), pt.table(pt.Root)
	for i := first; i <= last; i++ {
		if from[i]&(Present|Pinned) != Present|Pinned {
			return ErrNotPinned
		}
		if to[i] != 0 && to[i].Addr() != from[i].Addr() {
			return ErrMapped
		}
	}
	for i := first; i <= last; i++ {
		to[i] = from[i] | Borrowed
	}
	return nil
}
