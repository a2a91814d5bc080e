// Context: handler. The page-fault path: called from the kernel's #PF trap
// with the faulting address and the kind of access (docs/DESIGN.md, "Handler context").

package mm

import (
	"hurdvm/mm/store"
	"hurdvm/paging"
)

// Access is what the faulting instruction tried to do.
type Access uint8

const (
	AccessRead Access = iota
	AccessWrite
	AccessExec
)

func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	case AccessExec:
		return "execute"
	}
	return "access"
}

// Fault resolves a page fault at va in this address space: a page of a
// region that was never touched gets a zeroed frame (demand allocation);
// an evicted page comes back from the store (majorFault, pager.go);
// a write to a page shared copy-on-write gets its own copy, or takes the
// frame over when no one else shares it any more. Anything else is the
// faulting thread's problem: no region, an access the region forbids, or
// no frame to give.
func (as *AddressSpace) Fault(va uintptr, access Access) FaultResult {
	return as.FaultWith(va, access, nil)
}

// FaultWith is Fault with a zeroed frame the caller took beforehand
// (*spare, from AllocZeroed(0)), which a demand fault maps rather than
// take and clear one: the kernel clears it before it takes the space's
// lock, so that faults of several CPUs in one space clear their frames
// in parallel and hold the lock only for the tables. *spare becomes 0 when
// the frame is used; the caller frees it otherwise. Not for the shared
// windows (their faults charge SharedFrames with what they take).
func (as *AddressSpace) FaultWith(va uintptr, access Access, spare *PhysAddr) FaultResult {
	r, ok := as.Regions.Find(va)
	if !ok {
		return FaultNoRegion
	}
	switch {
	case r.Prot == 0,
		access == AccessWrite && r.Prot&ProtWrite == 0,
		access == AccessExec && r.Prot&ProtExec == 0:
		return FaultProtection
	}
	page := va &^ (PageSize - 1)
	e, l, present := as.PT.Leaf(page)
	if !present || e&paging.Present == 0 {
		// An evicted page: Leaf gave the soft entry it stopped at.
		if as.vm.Store != nil && r.Flags&regionShared == 0 && l == paging.PT && e.IsSoft() {
			return as.majorFault(r, page, store.SlotOfPTE(e.SoftValue()), spare)
		}
		if r.Flags&regionShared != 0 {
			as.shared()
			before := as.vm.taken()
			res := as.faultIn(r, page, nil)
			as.vm.charge(before)
			as.unshared()
			return res
		}
		return as.faultIn(r, page, spare)
	}
	if access == AccessWrite && e&paging.Writable == 0 {
		// The frame under page: the leaf's, plus page's offset in a huge leaf.
		size := uintptr(l.Size())
		old := PhysAddr(e.Addr()&^uint64(size-1)) + PhysAddr(page&(size-1))
		return as.copyOnWrite(r, page, old)
	}
	// Mapped and allowed: another thread resolved it first, or a stale
	// TLB entry. The retry will succeed.
	as.vm.Env.TLB.InvalidateLocal(page)
	return FaultResolved
}

// tablesPerMap is the most tables mapping one 4 KiB page can allocate (a
// PDPT, a PD and a PT below a present PML4 entry).
const tablesPerMap = 3

// faultIn backs an untouched page with a zeroed frame: *spare if the
// caller has one.
func (as *AddressSpace) faultIn(r Region, page uintptr, spare *PhysAddr) FaultResult {
	var pa PhysAddr
	if spare != nil && *spare != 0 {
		if !as.vm.canTake(tablesPerMap) && !as.reclaim(tablesPerMap) {
			return FaultNoMemory
		}
		pa, *spare = *spare, 0
	} else {
		if r.Flags&regionShared == 0 && !as.vm.canTake(1+tablesPerMap) && !as.reclaim(1+tablesPerMap) {
			return FaultNoMemory
		}
		var err error
		if pa, err = as.vm.Frames.AllocZeroed(0); err != nil {
			return FaultNoMemory
		}
	}
	if err := as.PT.MapPage(page, uint64(pa), pageFlags(r, true, as.vm)); err != nil {
		as.vm.check(pa, as.vm.Frames.Free(pa, 0))
		return FaultNoMemory
	}
	as.vm.pageFaults.Add(1)
	if r.Flags&regionShared == 0 {
		as.faults++
	}
	return FaultResolved
}

// copyOnWrite handles a write to a page mapped read-only in a writable
// region: the frame is shared with another address space (fork). If this
// is its last sharer the page just becomes writable; otherwise it gets a
// copy. A huge page is first split, by protecting the one 4 KiB page, so a
// write copies 4 KiB, not 2 MiB.
func (as *AddressSpace) copyOnWrite(r Region, page uintptr, old PhysAddr) FaultResult {
	fa := as.vm.Frames
	writable := pageFlags(r, true, as.vm)
	if fa.RefCount(old) <= 1 {
		if err := as.PT.Protect(page, PageSize, writable); err != nil {
			return FaultNoMemory
		}
		as.vm.cowReuses.Add(1)
		as.vm.pageFaults.Add(1)
		as.cowReuses++
		as.faults++
		return FaultResolved
	}
	// A fresh frame, and tables to split a huge page around this one:
	// make sure they exist before changing anything.
	if !as.vm.canTake(1+tablesPerMap) && !as.reclaim(1+tablesPerMap) {
		return FaultNoMemory
	}
	fresh, err := fa.Alloc(0)
	if err != nil {
		return FaultNoMemory
	}
	copy(fa.frameBytes(fresh), fa.frameBytes(old))
	if err := as.PT.Replace(page, uint64(fresh), writable); err != nil {
		as.vm.check(fresh, fa.Free(fresh, 0))
		return FaultNoMemory
	}
	as.vm.release(old)
	as.vm.cowCopies.Add(1)
	as.vm.pageFaults.Add(1)
	as.cowCopies++
	as.faults++
	return FaultResolved
}

// frameBytes is the 4 KiB frame at pa, through the physmap.
func (fa *FrameAllocator) frameBytes(pa PhysAddr) []byte { return fa.bytesAt(pa, FrameSize) }
