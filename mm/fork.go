// Context: handler. Fork and Destroy run in the system-call handlers that
// serve Task.Fork and Task.Destroy (docs/DESIGN.md, "Handler context").

package mm

import "hurdvm/paging"

// ForkInto fills child, an empty address space with the same window, with
// this one's regions: "The region is initially set to be inherited COW by
// its children." Every region appears in the child at the same address
// with the same attributes; every page mapped in the parent is mapped in
// the child to the same frame, read-only in both, with the frame's
// reference count raised. No data frame is copied: the first write by
// either side copies the page (Fault), or takes the frame over when the
// other side has let go. Pages never touched stay demand-zero in both.
// InheritShare regions share their frames writable.
//
// Regions of the shared windows (the kernel task's Go heap) are not the
// parent's to give: every space links them already, and a child holding
// them as its own would unmap them, for every space, when it is destroyed.
// They are left out, so forking the kernel task gives a child with its
// task-window regions only (the kernel refuses to fork the kernel task all
// the same: see Task.Fork).
//
// The region map is copied whole, node for node (RegionMap.Clone: O(nodes)
// rather than an Insert a region), and the shared windows' regions taken
// out of the copy again (a whole region's removal takes no frame).
//
// On ENOMEM the child is left with whatever was copied so far; the caller
// destroys it. The parent is unchanged apart from pages made read-only,
// which only costs it copy-on-write faults that then take the frames over.
func (as *AddressSpace) ForkInto(child *AddressSpace) error {
	if err := as.Regions.Clone(&child.Regions); err != nil {
		return err
	}
	err := as.shareRegions(child)
	// One shootdown for every region's write-protection: every CPU sees
	// the parent's pages read-only before fork returns (a write that
	// lands later faults and copies), on ENOMEM too.
	as.PT.SyncTLB()
	return err
}

// shareRegions is ForkInto's copy of the page tables, region by region
// (paging.ShareLeaves, whose shootdown ForkInto makes once for all).
func (as *AddressSpace) shareRegions(child *AddressSpace) error {
	fa := as.vm.Frames
	for r, ok := as.Regions.Next(0); ok; r, ok = as.Regions.Next(r.End) {
		if r.Flags&regionShared != 0 {
			if err := child.Regions.RemoveRange(r.Start, r.End, nil); err != nil {
				return err // cannot happen: nothing is split
			}
			continue
		}
		// A refused IncRef is reported (check) and remembered as a plain
		// bool: storing the error itself into this closure's captured
		// variable would be a pointer store, with a write barrier.
		refused := false
		err := as.PT.ShareLeaves(&child.PT, r.Start, r.End-r.Start, r.Inherit != InheritShare, func(pas []uint64, size uintptr) {
			// A mapped frame is live: only an overflowing count can
			// refuse, and that is reported (check).
			switch size {
			case paging.SoftSize:
				// Evicted pages: one slot each, now referenced by both.
				for _, v := range pas {
					if !as.vm.dupSlot(v) {
						refused = true
					}
				}
			case FrameSize: // the common case: every page of a fork
				if k, pa, e := fa.IncRefs(pas); k > 0 {
					refused = true
					as.vm.check(pa, e) // the first of k
				}
			default:
				for _, pa := range pas {
					for off := uintptr(0); off < size; off += FrameSize {
						if e := fa.IncRef(PhysAddr(pa) + PhysAddr(off)); e != nil {
							refused = true
							as.vm.check(PhysAddr(pa)+PhysAddr(off), e)
						}
					}
				}
			}
		})
		if err != nil || refused {
			return ENOMEM
		}
	}
	return nil
}

// Destroy gives back every frame this space holds alone, every page table
// it owns and its region map, in one pass over the tables (no TLB work: a
// space being destroyed is loaded on no CPU), and leaves the space
// unusable until Create. The tables it borrows (the shared windows) are
// left alone, with whatever they map.
func (as *AddressSpace) Destroy() {
	as.PT.Destroy(as.releaseLeaf)
	as.flushDead()
	as.Regions.Destroy()
}
