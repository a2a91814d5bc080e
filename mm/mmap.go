// Context: handler. What the kernel's mmap, munmap and madvise system calls
// do to the kernel task's address space: the Go runtime's own memory is
// regions of the same kind as hurd_vm_allocate's, demand-paged by the same
// Fault (docs/DESIGN.md, "The VM").

package mm

// MapAnon is mmap(MAP_ANONYMOUS|MAP_PRIVATE) in [lo, hi): a region with
// protection prot, at addr exactly when fixed (replacing whatever was
// there, as MAP_FIXED does), otherwise at the lowest free range (hints are
// ignored: the kernel chooses). shared marks mappings in slots every
// address space links (the kernel's heap window): their pages are global.
func (as *AddressSpace) MapAnon(addr, size uintptr, prot Prot, fixed, shared bool, lo, hi uintptr) (uintptr, error) {
	if shared {
		as.shared()
		defer as.unshared()
		defer as.vm.charge(as.vm.taken())
	}
	if size == 0 || size%PageSize != 0 || addr%PageSize != 0 {
		return 0, EINVAL
	}
	if fixed {
		end := addr + size
		if end <= addr || addr < lo || end > hi {
			return 0, EINVAL
		}
		if err := as.remove(addr, end); err != nil {
			return 0, err
		}
	} else {
		s, err := as.Regions.FindFree(size, PageSize, lo, hi)
		if err != nil {
			return 0, ENOMEM
		}
		addr = s
	}
	r := Region{Start: addr, End: addr + size, Prot: prot, Inherit: InheritShare}
	if shared {
		r.Flags |= regionShared
	}
	if err := as.insert(r, false); err != nil {
		return 0, err
	}
	return addr, nil
}

// Unmap is munmap: [addr, addr+size) in [lo, hi) stops being part of the
// address space; gaps are ignored. [lo, hi) is a shared window: what this
// frees is taken off SharedFrames.
func (as *AddressSpace) Unmap(addr, size, lo, hi uintptr) error {
	as.shared()
	defer as.unshared()
	defer as.vm.charge(as.vm.taken())
	if addr%PageSize != 0 || size == 0 {
		return EINVAL
	}
	end := (addr + size + PageSize - 1) &^ (PageSize - 1)
	if end <= addr {
		return EINVAL
	}
	addr, end = max(addr, lo), min(end, hi)
	if addr >= end {
		return nil
	}
	return as.remove(addr, end)
}

// Discard is madvise(MADV_DONTNEED): the pages of [addr, addr+size) go
// back (their frames freed unless shared) and read as zero when touched
// again; the regions stay. In the kernel task the range is in a shared
// window: what it frees is taken off SharedFrames. A task's (a process's
// heap) frames are its own, and SharedFrames does not change.
func (as *AddressSpace) Discard(addr, size uintptr) error {
	if as.kernel {
		as.shared()
		defer as.unshared()
		defer as.vm.charge(as.vm.taken())
	}
	if addr%PageSize != 0 {
		return EINVAL
	}
	end := (addr + size + PageSize - 1) &^ (PageSize - 1)
	if end < addr {
		return EINVAL
	}
	if end == addr {
		return nil
	}
	if as.PT.SplitEdges(addr, end-addr) != nil {
		return ENOMEM
	}
	return as.unmap(addr, end)
}
