// Context: handler. Fork and Destroy run in the system-call handlers that
// serve Task.Fork and Task.Destroy (DESIGN.md section 6).

package mm

// ForkInto fills child, an empty address space with the same window, with
// this one's regions: "The region is initially set to be inherited COW by
// its children." Every region appears in the child at the same address
// with the same attributes; every page mapped in the parent is mapped in
// the child to the same frame, read-only in both, with the frame's
// reference count raised. No data frame is copied: the first write by
// either side copies the page (Fault), or takes the frame over when the
// other side has let go. Pages never touched stay demand-zero in both.
// Regions inherited InheritNone are left out; InheritShare regions share
// their frames writable.
//
// On ENOMEM the child is left with whatever was copied so far; the caller
// destroys it. The parent is unchanged apart from pages made read-only,
// which only costs it copy-on-write faults that then take the frames over.
func (as *AddressSpace) ForkInto(child *AddressSpace) error {
	fa := as.vm.Frames
	for i := 0; i < as.Regions.Len(); i++ {
		r := as.Regions.At(i)
		if r.Inherit == InheritNone {
			continue
		}
		if err := child.Regions.Insert(r); err != nil {
			return err
		}
		share := r.Inherit == InheritShare
		var refErr error
		err := as.PT.ShareLeaves(&child.PT, r.Start, r.End-r.Start, !share, func(pa uint64, size uintptr) {
			if size == FrameSize { // the common case, once per page
				if e := fa.IncRef(PhysAddr(pa)); e != nil && refErr == nil {
					refErr = e
					as.vm.check(PhysAddr(pa), e)
				}
				return
			}
			for off := uintptr(0); off < size; off += FrameSize {
				if e := fa.IncRef(PhysAddr(pa) + PhysAddr(off)); e != nil && refErr == nil {
					refErr = e
					as.vm.check(PhysAddr(pa)+PhysAddr(off), e) // a mapped frame is live: only overflow can refuse
				}
			}
		})
		if err != nil || refErr != nil {
			return ENOMEM
		}
	}
	return nil
}

// Destroy removes every region, gives back every frame this space holds
// alone and every table it owns, and leaves the space unusable until Init.
func (as *AddressSpace) Destroy() {
	for as.Regions.Len() > 0 {
		r := as.Regions.At(0)
		as.Regions.RemoveRange(r.Start, r.End, nil) // whole regions: never needs room
		as.unmap(r.Start, r.End, r.Flags&regionShared != 0)
	}
	as.PT.Destroy(as.vm.releaseLeaf)
	as.Regions.Destroy()

}
