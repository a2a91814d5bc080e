// Context: handler. Every method of VM and AddressSpace below, except
// Bind, BindKernel and Init, runs where the kernel's page-fault and
// system-call handlers run (docs/DESIGN.md, "Handler context"): no heap
// allocation, no Go locks, no Go pointers stored, no panics. The caller
// serializes the calls on one AddressSpace (the kernel: the space's
// spinlock; the host tests: one goroutine); calls on different spaces may
// run at once on different CPUs, so what they share is safe for that: the
// VM's counters are atomic, the frame allocator locks itself, reference
// counts are atomic, and no page table is changed by two spaces (the
// shared windows' tables belong to the kernel task's space alone; fork
// copies leaf entries, never links a table into two spaces).

package mm

import (
	"sync/atomic"

	"hurdvm/mm/store"
	"hurdvm/paging"
)

// The vm.h interface (seeds/vm.h in the steering repository), sentence by
// sentence: see Allocate and Deallocate.

// PageSize is vm.h's page size.
const PageSize = 4096

// vm.h's enum gives VM_HERE = 0 and VM_ZEROFILL = 1: bit numbers, so the
// flags are these bits.
const (
	VM_HERE     uintptr = 1 << 0
	VM_ZEROFILL uintptr = 1 << 1
)

const knownFlags = VM_HERE | VM_ZEROFILL

// Region flags the VM keeps in Region.Flags. (VM_ZEROFILL leaves no
// mark: every frame the VM hands out is zeroed, so a zero-fill region is
// like any other, and may merge with its neighbours.)
const (
	regionShared = 1 << 1 // mapped in a slot every address space shares (Global pages)
	// regionUser: a region of a process's space (AddressSpace.User),
	// whose pages carry U/S. Every region of such a space has it (insert
	// adds it), so it never keeps two neighbours from merging.
	regionUser = 1 << 2
)

// Stats are kernel-wide counters.
type Stats struct {
	TotalFrames uint64 // frames of RAM the allocator manages (the machine's memory, less what the firmware and the boot keep)
	FreeFrames  uint64 // frames the allocator can hand out now
	PageFaults  uint64 // page faults resolved by the VM since boot
	COWCopies   uint64 // frames copied because of a copy-on-write fault since boot
	COWReuses   uint64 // copy-on-write faults that took the frame over (last sharer)
	Regions     uint64 // regions in all live address spaces
	// SharedFrames counts the frames taken by the shared windows (in the
	// kernel, the Go runtime's heap): their pages, and the page tables and
	// region-map growth their operations needed. FreeFrames+SharedFrames
	// changes only by what vm_allocate regions and tasks hold, which lets
	// tests prove the VM leaks nothing while the runtime allocates beside
	// them (with KernelFrames: the kernel's threads come and go too).
	SharedFrames uint64
	// ZeroFrames counts the free frames known to be all zero (cleared
	// ahead of use while the CPU was idle): faults and map_now take them
	// without clearing.
	ZeroFrames uint64
	// KernelFrames counts the frames the kernel took for records of its
	// own outside the VM (a frame per thread slot, kept for the next
	// thread in the slot). With it, FreeFrames+SharedFrames+KernelFrames
	// changes only by what regions and tasks hold.
	KernelFrames uint64

	// The pager (docs/DESIGN.md, "Pager").
	Evictions     uint64 // pages evicted since boot (zero pages included: they went back to demand-zero)
	MajorFaults   uint64 // faults that brought an evicted page back
	EvictFailures uint64 // evictions the store refused (full, or no frame)
	StoreErrors   uint64 // slots the store did not know (a pager bug: should stay 0)
	StoreFrames   uint64 // frames the store holds (its pages and its slot table)
	Reclaims      uint64 // faults that evicted pages themselves (free frames short)
	// SharedEvictions counts the evictions of frames shared copy-on-write
	// (one each, from every sharer; in Evictions too).
	SharedEvictions uint64
	StorePages      uint64 // pages in the store (a slot shared by a fork once)
	StoreRefs       uint64 // references to them (soft entries)
	// StoreUncompressed and StoreCompressed are the bytes the store's
	// pages hold, as pages and compressed.
	StoreUncompressed, StoreCompressed uint64
	StoreCapacity                      uint64 // uncompressed bytes the store may hold
}

// VM is the memory manager of one machine: the frame allocator, the page
// tables' environment and the counters. The kernel has one; host tests make
// their own over simulated physical memory.
type VM struct {
	Frames *FrameAllocator
	Env    *paging.Env
	// NoExecute: the CPU has NX (EFER.NXE on), so regions without
	// ProtExec get non-executable pages.
	NoExecute bool
	// Reserve is how many free frames only the shared windows (the Go
	// runtime's heap, which the kernel itself runs on) may take: tasks and
	// vm_allocate regions get ENOMEM or a fault below it, so a task that
	// exhausts memory cannot starve the runtime under every task.
	Reserve uint64
	// FrameError is called when the frame allocator refuses to free,
	// split or reference-count a frame the VM holds: the VM's accounting
	// is broken, and going on would corrupt memory. The kernel panics with
	// the frame's address. Without it the VM only counts such refusals
	// (FrameErrors): handler code has no Go panic to fall back on.
	FrameError func(pa PhysAddr, err error)
	// FrameErrors counts the refusals FrameError was told of, or would
	// have been.
	FrameErrors atomic.Uint64
	// Spaces, when set (once, at boot, like SetStore), lets the pager
	// evict frames shared copy-on-write: it reaches every address space
	// that may map one (pager.go, evictShared). Without it such frames
	// stay resident.
	Spaces SpaceTable

	// The machine's counters: atomic, since address spaces change on
	// several CPUs at once (each under its own lock).
	pageFaults, cowCopies, cowReuses, sharedFrames atomic.Uint64
	// Store is the pager's backing store (SetStore, pager.go); nil: no
	// page is ever evicted. storeLock serializes the calls into it.
	Store     store.Backend
	storeLock SpinLock
	pagerOff  atomic.Bool // SetPager
	// The pager's counters.
	evictions, majorFaults, evictFailures, storeErrors, storeFrames, reclaims atomic.Uint64
	sharedEvictions                                                           atomic.Uint64
	// claimed is what operations in flight that take many frames
	// (populate) have claimed and not yet taken: canTake leaves it for
	// them.
	claimed atomic.Uint64
}

// FaultResult says what Fault did.
type FaultResult int

const (
	FaultResolved   FaultResult = iota // a page was mapped (or already was): retry the access
	FaultNoRegion                      // no region: SIGSEGV, SEGV_MAPERR
	FaultProtection                    // the region forbids the access: SIGSEGV, SEGV_ACCERR
	FaultNoMemory                      // no frame for it: the faulting thread gets the fault
)

func (r FaultResult) String() string {
	switch r {
	case FaultResolved:
		return "resolved"
	case FaultNoRegion:
		return "no region there"
	case FaultProtection:
		return "the region forbids it"
	case FaultNoMemory:
		return "no memory for the page"
	}
	return "fault"
}

// AddressSpace is one task's memory: its page tables, its regions, and the
// window hurd_vm_allocate hands out. An AddressSpace must not be copied
// once bound (its page tables' Env points into it).
type AddressSpace struct {
	vm      *VM
	PT      paging.PageTable
	Regions RegionMap

	// [WindowStart, WindowEnd) is where this space's vm_allocate regions
	// live. The page tables may map more (the kernel half shared by every
	// space), but vm_allocate and vm_deallocate touch nothing else.
	WindowStart, WindowEnd uintptr

	// env is vm.Env with this space's own source of table frames
	// (tableSource), which keeps vm.Reserve for the shared windows.
	env paging.Env
	// kernel: this is the kernel task's space, which owns the shared
	// windows. sharedOp is set while it works on one of them: then its
	// page tables and region map may take the reserve.
	kernel, sharedOp bool
	// claiming: the operation holds a claim (VM.claim) that covers its
	// tables.
	claiming bool
	// User: the space is a process's (issue 17), whose code runs in ring
	// 3: every page its regions map carries U/S (its regions carry
	// regionUser, which pageFlags reads). Set by the kernel right after
	// Create, before anything is mapped; Create clears it. The
	// pages of every other space (the kernel task's, the tasks of Go code
	// in ring 0) are supervisor pages, and the kernel half every space
	// links never carries U/S.
	User bool

	// dead are the frames an unmap removed, on their way back
	// (releaseLeaf).
	dead  [releaseBatch]PhysAddr
	ndead int

	// The space's own counters (Stats): what happened in its own
	// regions, the shared windows' not counted.
	faults, cowCopies, cowReuses uint64
	// The pager's: pages evicted from here, brought back here, and the
	// clock's hand (EvictSome).
	evictions, majorFaults uint64
	hand                   uintptr
	// victims are the pages EvictSome has taken out of the tables and
	// not yet stored (flushVictims).
	victims  [evictBatch]victim
	nvictims int
}

// SpaceStats are one address space's counters, for its own regions (the
// kernel task's shared windows, the Go runtime's heap, are left out).
type SpaceStats struct {
	PageFaults    uint64 // faults resolved here: demand zero and copy-on-write
	COWCopies     uint64 // copy-on-write faults that copied the page
	COWReuses     uint64 // copy-on-write faults that took the frame over
	ResidentPages uint64 // pages with a frame mapped now
	Regions       uint64 // regions, shared windows' included
	Evictions     uint64 // pages of this space the pager evicted
	MajorFaults   uint64 // faults here that brought an evicted page back
}

// Stats returns the space's counters. The resident pages are counted in
// its window's page tables when asked, rather than kept on every fault and
// unmap (a deallocation of 64 MiB paid 9 % for keeping them).
func (as *AddressSpace) Stats() SpaceStats {
	return SpaceStats{PageFaults: as.faults, COWCopies: as.cowCopies, COWReuses: as.cowReuses,
		ResidentPages: uint64(as.PT.Mapped(as.WindowStart, as.WindowEnd-as.WindowStart) / PageSize),
		Regions:       uint64(as.Regions.Len()), Evictions: as.evictions, MajorFaults: as.majorFaults}
}

// tableSource gives an address space's page tables their frames: the
// machine's (vm.Env.Frames), except the last vm.Reserve of them, which
// only work on a shared window may take. It is how the reserve holds for
// every frame a task can make the VM take: data frames are checked where
// they are taken (canTake), tables here, region-map nodes by the map's own
// keep (SetKeep).
type tableSource struct{ as *AddressSpace }

func (t tableSource) AllocTable() (uint64, bool) {
	as := t.as
	if !as.sharedOp && !as.claiming && !as.vm.canTake(1) {
		return 0, false
	}
	return as.vm.Env.Frames.AllocTable()
}

func (t tableSource) FreeTable(pa uint64) { t.as.vm.Env.Frames.FreeTable(pa) }

// Init makes as an empty task address space of vm with the given window:
// Bind and Create in one, for code that may store Go pointers (host tests,
// the kernel at boot).
func (as *AddressSpace) Init(vm *VM, windowStart, windowEnd uintptr) error {
	as.Bind(vm)
	return as.Create(windowStart, windowEnd)
}

// Bind ties as to vm as a task's space. It stores the Go pointers an
// address space holds (to vm, its page tables' Env, the region map's frame
// allocator), which handler code must never do (a write barrier needs a
// real g), so the kernel binds every slot of its address-space table once
// at boot, and Create and Destroy, which run in handler context, store
// none.
func (as *AddressSpace) Bind(vm *VM) {
	as.vm = vm
	as.env = *vm.Env
	as.env.Frames = tableSource{as}
	as.PT.Bind(&as.env)
	as.Regions.Bind(vm.Frames)
	as.Regions.SetKeep(vm.Reserve)
}

// BindKernel is Bind for the kernel task's space, which owns the shared
// windows (MapAnon with shared): work there may take the reserve.
func (as *AddressSpace) BindKernel(vm *VM) {
	as.Bind(vm)
	as.kernel = true
}

// shared marks the start of work on a shared window (only the kernel
// task's space has one): the reserve is open to it until unshared.
func (as *AddressSpace) shared() {
	if as.kernel {
		as.sharedOp = true
		as.Regions.SetKeep(0)
	}
}

func (as *AddressSpace) unshared() {
	if as.sharedOp {
		as.sharedOp = false
		as.Regions.SetKeep(as.vm.Reserve)
	}
}

// Create makes a bound, unused space empty, with the given window: a fresh
// PML4 (unless the space already has tables: the kernel task keeps the
// kernel's own) and an empty region map. ENOMEM leaves nothing behind.
func (as *AddressSpace) Create(windowStart, windowEnd uintptr) error {
	if windowStart%PageSize != 0 || windowEnd%PageSize != 0 || windowStart >= windowEnd ||
		!paging.Canonical(windowStart) || !paging.Canonical(windowEnd-1) {
		return EINVAL
	}
	as.WindowStart, as.WindowEnd = windowStart, windowEnd
	created := false
	if !as.PT.Live() {
		if err := as.PT.Create(); err != nil {
			return ENOMEM
		}
		created = true
	}
	if err := as.Regions.Create(); err != nil {
		if created {
			as.PT.Destroy(nil)
		}
		return ENOMEM
	}
	as.faults, as.cowCopies, as.cowReuses = 0, 0, 0
	as.evictions, as.majorFaults, as.hand = 0, 0, windowStart
	as.User = false
	return nil
}

// check reports an allocator refusal on a frame the VM holds.
func (vm *VM) check(pa PhysAddr, err error) {
	if err == nil {
		return
	}
	vm.FrameErrors.Add(1)
	if vm.FrameError != nil {
		vm.FrameError(pa, err)
	}
}

// release drops one reference to the frame at pa and frees it when it
// was the last.
func (vm *VM) release(pa PhysAddr) {
	left, err := vm.Frames.DecRef(pa)
	vm.check(pa, err)
	if err == nil && left == 0 {
		vm.check(pa, vm.Frames.Free(pa, 0))
	}
}

// zeroFrames counts the free frames on the allocator's zero lists.
func (vm *VM) zeroFrames() uint64 {
	st := vm.Frames.Stats()
	n := uint64(0)
	for k, c := range st.ZeroByOrder {
		n += c << k
	}
	return n
}

// releaseLeaf releases every frame of a leaf paging removed (a page of size
// bytes at pa): the release callback of Unmap and Destroy. The frames
// gather in as.dead and go back releaseBatch at a time
// (FrameAllocator.ReleaseFrames); the operation calls flushDead before it
// returns.
func (as *AddressSpace) releaseLeaf(pa uint64, size uintptr) {
	if size == paging.SoftSize {
		as.vm.freeSlot(pa) // an evicted page: its slot
		return
	}
	for off := uint64(0); off < uint64(size); off += FrameSize {
		if as.ndead == releaseBatch {
			as.flushDead()
		}
		as.dead[as.ndead%releaseBatch] = PhysAddr(pa + off)
		as.ndead++
	}
}

// flushDead releases the frames releaseLeaf gathered.
func (as *AddressSpace) flushDead() {
	if as.ndead > 0 {
		pa, err := as.vm.Frames.ReleaseFrames(as.dead[:as.ndead%(releaseBatch+1)])
		as.ndead = 0
		as.vm.check(pa, err)
	}
}

// releaseBatch is how many frames an unmap gives back at once.
const releaseBatch = 64

// free is the allocator's free-frame count.
func (vm *VM) free() uint64 { return vm.Frames.FreeFrames() }

// canTake reports whether a task may take n more frames without dipping
// into the reserve, leaving what other operations claimed (claim). On
// one CPU it is exact. With several, the check and the allocations after
// it are not one step: the faults in flight on the other CPUs (at most
// 1+tablesPerMap frames each) may take frames in between, so tasks can
// dip into the reserve by that much, never by a map_now's pages (those
// are claimed).
func (vm *VM) canTake(n uint64) bool { return vm.free() >= n+vm.Reserve+vm.claimed.Load() }

// claim reserves n frames for an operation that takes many (canTake
// leaves them to it), or reports that there are not that many beyond the
// reserve and the other claims. unclaim ends the claim.
func (vm *VM) claim(n uint64) bool {
	for {
		c := vm.claimed.Load()
		if vm.free() < n+vm.Reserve+c {
			return false
		}
		if vm.claimed.CompareAndSwap(c, c+n) {
			return true
		}
	}
}

func (vm *VM) unclaim(n uint64) { vm.claimed.Add(-n) }

// taken is how many frames the code on this CPU has taken from the
// allocator (less those it gave back) so far: charge's starting point.
func (vm *VM) taken() uint64 { return vm.Frames.TakenHere() }

// charge adds what an operation on a shared window took from the
// allocator (or gave back) since taken() was before: what this CPU took,
// so operations on other CPUs meanwhile are not charged to it.
func (vm *VM) charge(before uint64) { vm.sharedFrames.Add(vm.taken() - before) }

// ReadStats returns the counters.
func (vm *VM) ReadStats() Stats {
	st := Stats{
		TotalFrames: vm.Frames.totalFrames,
		FreeFrames:  vm.Frames.FreeFrames(),
		PageFaults:  vm.pageFaults.Load(),
		COWCopies:   vm.cowCopies.Load(),
		COWReuses:   vm.cowReuses.Load(),

		SharedFrames: vm.sharedFrames.Load(),
		ZeroFrames:   vm.zeroFrames(),

		Evictions:     vm.evictions.Load(),
		MajorFaults:   vm.majorFaults.Load(),
		EvictFailures: vm.evictFailures.Load(),
		StoreErrors:   vm.storeErrors.Load(),
		StoreFrames:   vm.storeFrames.Load(),
		Reclaims:      vm.reclaims.Load(),

		SharedEvictions: vm.sharedEvictions.Load(),
	}
	if vm.Store != nil {
		vm.storeLock.Lock()
		ss := vm.Store.Stats()
		vm.storeLock.Unlock()
		st.StorePages, st.StoreRefs = ss.Pages, ss.Refs
		st.StoreUncompressed, st.StoreCompressed = ss.UncompressedBytes, ss.CompressedBytes
		st.StoreCapacity = ss.Capacity
	}
	return st
}

// inWindow reports whether [start, start+size) is a canonical range inside
// the window, without wrapping.
func (as *AddressSpace) inWindow(start, size uintptr) bool {
	end := start + size
	return end > start && start >= as.WindowStart && end <= as.WindowEnd
}

// pageFlags are the page-table flags of a page of region r; writable says
// whether this mapping may be written (false for a copy-on-write share).
func pageFlags(r Region, writable bool, vm *VM) paging.Flags {
	f := paging.Flags(0)
	if writable && r.Prot&ProtWrite != 0 {
		f |= paging.Writable
	}
	if r.Prot&ProtExec == 0 && vm.NoExecute {
		f |= paging.NoExecute
	}
	if r.Flags&regionShared != 0 {
		f |= paging.Global
	}
	if r.Flags&regionUser != 0 {
		f |= paging.User
	}
	return f
}

func (as *AddressSpace) unclaim(n uint64) {
	as.claiming = false
	as.vm.unclaim(n)
}

// Allocate is hurd_vm_allocate on this address space.
//
// "Allocate a region of virtual memory to be backed by anonymous storage.
// (Memory is allocated on demand and multiplexed.)" The region costs no
// frame until a page is touched (Fault), unless mapNow.
//
// "The region initially has read and write access permissions set." and
// "is initially set to be inherited COW by its children": Prot read|write,
// InheritCopy.
//
// "If FLAGS contains VM_HERE, the region starting at *ADDRESS and
// continuing for SIZE bytes shall be used. If *ADDRESS is an invalid
// address, EINVAL is returned." Invalid: not page aligned, or the range not
// inside the window (which also rules out non-canonical addresses, the
// kernel half and wrapping). "If any part of the specified region is in
// use, the operation fails and EEXIST is returned."
//
// "If FLAGS does not contain VM_HERE and there is insufficient space in the
// address space, ENOSPC is returned." Without VM_HERE, *address is ignored:
// the lowest free range of the window that fits is used (first fit; 2 MiB
// aligned when mapNow and the size allow huge pages).
//
// "If FLAGS contains VM_ZEROFILL, the backing memory is zerod, otherwise,
// the contents are undefined." Every frame the VM hands out is zeroed, so
// both read as zeros: a frame never carries another task's or the
// kernel's old data, and zeroing at allocation is the one place that
// guarantees it.
//
// "If SIZE is not a multiple of the page size, EINVAL is returned." A size
// of zero is EINVAL too (an empty region cannot exist), and so are unknown
// flag bits.
//
// "If MAP_NOW is true, then physical memory is allocated and a mapping
// established before the function returns." With 2 MiB pages wherever the
// range allows.
//
// "If there is insufficient memory to perform the operation, ENOMEM is
// returned." And nothing is left behind: no region, no frame, no table.
//
// "On success, *ADDRESS contains the address of the start of the region and
// zero is returned."
func (as *AddressSpace) Allocate(address *uintptr, size, flags uintptr, mapNow bool) error {
	if flags&^knownFlags != 0 || size == 0 || size%PageSize != 0 {
		return EINVAL
	}
	var start uintptr
	if flags&VM_HERE != 0 {
		start = *address
		if start%PageSize != 0 || !as.inWindow(start, size) {
			return EINVAL
		}
		if as.Regions.Overlaps(start, start+size) {
			return EEXIST
		}
	} else {
		align := uintptr(PageSize)
		if mapNow && size >= paging.HugePageSize {
			align = paging.HugePageSize
		}
		s, err := as.Regions.FindFree(size, align, as.WindowStart, as.WindowEnd)
		if err != nil && align != PageSize {
			s, err = as.Regions.FindFree(size, PageSize, as.WindowStart, as.WindowEnd)
		}
		if err != nil {
			return ENOSPC
		}
		start = s
	}
	r := Region{Start: start, End: start + size, Prot: ProtRead | ProtWrite, Inherit: InheritCopy}
	if err := as.insert(r, mapNow); err != nil {
		return err
	}
	*address = start
	return nil
}

// insert adds region r (already checked: free, aligned) and, with mapNow,
// backs and maps all of it. On failure nothing is left behind.
//
// The pages come first, the region after them. Taking r out of the map
// again after a failed populate would be no plain removal: r may have
// joined the regions on both its sides into one, and undoing that is a
// split, a new entry, which can need region-map nodes just when memory has
// run out. Unmapping what populate mapped needs no frame (it mapped huge
// pages only inside r, so r's edges cut none), and a map that cannot take
// r has not changed.
func (as *AddressSpace) insert(r Region, mapNow bool) error {
	if as.User {
		r.Flags |= regionUser
	}
	if mapNow {
		if err := as.populate(r); err != nil {
			as.unmap(r.Start, r.End)
			return err
		}
	}
	if err := as.Regions.Insert(r); err != nil {
		if mapNow {
			as.unmap(r.Start, r.End)
		}
		return err
	}
	return nil
}

// populate backs every page of r with a zeroed frame and maps it: 2 MiB
// blocks as huge pages where the virtual range allows, 4 KiB pages around
// them. Every data frame is its own order-0 allocation (a 2 MiB block is
// Split at once), so any page can later be freed, shared or copied alone.
func (as *AddressSpace) populate(r Region) error {
	fa := as.vm.Frames
	// Fail before doing any work when the frames cannot be there: the
	// pages, and a page table per 2 MiB plus the upper levels.
	pages := uint64(r.End-r.Start) / PageSize
	if r.Flags&regionShared == 0 {
		claim := pages + pages/512 + tablesPerMap
		if !as.vm.claim(claim) {
			return ENOMEM
		}
		as.claiming = true
		defer as.unclaim(claim)
	}
	flags := pageFlags(r, true, as.vm)
	for va := r.Start; va < r.End; {
		if va%paging.HugePageSize == 0 && r.End-va >= paging.HugePageSize {
			if pa, err := fa.AllocZeroed(9); err == nil {
				as.vm.check(pa, fa.Split(pa, 9))
				if err := as.PT.Map(va, uint64(pa), paging.HugePageSize, flags); err != nil {
					for i := PhysAddr(0); i < paging.HugePageSize; i += FrameSize {
						as.vm.check(pa+i, fa.Free(pa+i, 0))
					}
					return ENOMEM
				}
				va += paging.HugePageSize
				continue
			}
			// No 2 MiB block free: fall back to single frames.
		}
		pa, err := fa.AllocZeroed(0)
		if err != nil {
			return ENOMEM
		}
		if err := as.PT.MapPages(va, uint64(pa), PageSize, flags); err != nil {
			as.vm.check(pa, fa.Free(pa, 0))
			return ENOMEM
		}
		va += PageSize
	}
	return nil
}

// unmap removes every page in [start, end) from the page tables and drops
// the frames' references, freeing those no one else shares. It needs no
// frame, and so cannot fail, when no huge page straddles start or end:
// callers split the edges first (PT.SplitEdges), or know that none can
// (a whole region: huge pages never cross a region's edges).
func (as *AddressSpace) unmap(start, end uintptr) error {
	err := as.PT.Unmap(start, end-start, as.releaseLeaf)
	as.flushDead()
	if err != nil {
		return ENOMEM
	}
	return nil
}

// Deallocate is hurd_vm_deallocate on this address space.
//
// "If *ADDRESS is an invalid address or SIZE is not a multiple of the page
// size, EINVAL is returned." Invalid: not page aligned, or the range not
// inside the window (non-canonical, kernel half, wrapping). A size of zero
// deallocates nothing and succeeds.
//
// "Mapped regions ... need not be deallocated in their entirety": a range
// covering part of a region trims or splits it. "If the region contains
// multiple existing regions each of those regions is deallocated in turn."
// "If any part of the specified region is not actually mapped, that part of
// the region is ignored." "Zero is returned on success."
//
// Frames go back to the allocator when no other address space shares them
// (copy-on-write), the TLB is invalidated, and tables left empty are freed.
// A deallocation that would need memory (splitting a huge page or a region)
// when there is none returns ENOMEM and changes nothing.
func (as *AddressSpace) Deallocate(address, size uintptr) error {
	if address%PageSize != 0 || size%PageSize != 0 {
		return EINVAL
	}
	if size == 0 {
		return nil
	}
	if !as.inWindow(address, size) {
		return EINVAL
	}
	return as.remove(address, address+size)
}

// remove takes [start, end) out of the region map and the page tables, or,
// when it cannot (ENOMEM), changes nothing a program can see. Three steps,
// ordered so that only the first two can fail and neither leaves anything
// to undo:
//  1. split the huge pages that straddle start or end (the only frames the
//     page tables need; no translation changes);
//  2. remove the range from the region map (which may need a node to split
//     a region, and changes nothing when it cannot get one);
//  3. unmap the range, which after step 1 needs no frame. The map changed
//     first, so a fault in the range finds no region from then on.
//
// Deallocating memory must work when memory is exhausted above all: a
// removal that splits nothing needs no frame.
func (as *AddressSpace) remove(start, end uintptr) error {
	if as.PT.SplitEdges(start, end-start) != nil {
		return ENOMEM
	}
	if err := as.Regions.RemoveRange(start, end, nil); err != nil {
		as.PT.SyncTLB() // what SplitEdges split (one shootdown, UnmapSplit's otherwise)
		return err
	}
	as.PT.UnmapSplit(start, end-start, as.releaseLeaf)
	as.flushDead()
	return nil
}

// Protect is mprotect on [start, start+size): every page of it must be in
// a region (ENOMEM otherwise, as Linux answers for unmapped pages), and
// each region piece gets prot. The page tables follow: pages lose write
// and execute access at once where prot takes it away; where prot grants
// write, pages stay as they are and the next write faults (a page shared
// copy-on-write must not simply become writable: the fault decides).
// PROT_NONE withholds the pages that have frames (paging's Withhold: not
// present, the frame kept, huge pages split first), so that every access
// faults and is refused; a later Protect that allows access makes them
// present again, the same frames and bytes. A call that fails (ENOMEM for
// a region-map entry or a page table to split) changes nothing anyone can
// see (PROT_NONE may leave huge pages split).
func (as *AddressSpace) Protect(start, size uintptr, prot Prot) error {
	if start%PageSize != 0 || size%PageSize != 0 {
		return EINVAL
	}
	end := start + size
	if end < start {
		return ENOMEM
	}
	shared := false
	for a := start; a < end; {
		r, ok := as.Regions.Find(a)
		if !ok {
			return ENOMEM
		}
		shared = shared || r.Flags&regionShared != 0
		a = r.End
	}
	if shared {
		as.shared()
		defer as.unshared()
		defer as.vm.charge(as.vm.taken())
	}
	var err error
	if prot == 0 {
		err = as.PT.SplitAll(start, size) // Withhold takes 4 KiB leaves only
	} else {
		err = as.PT.SplitEdges(start, size)
	}
	if err != nil {
		return ENOMEM
	}
	if err := as.Regions.Protect(start, end, prot); err != nil {
		as.PT.SyncTLB() // what the split split
		return err
	}
	if prot == 0 {
		as.PT.Withhold(start, size) // cannot fail: nothing left to split
		return nil
	}
	var clear, set paging.Flags
	if prot&ProtWrite == 0 {
		clear |= paging.Writable
	}
	if as.vm.NoExecute {
		if prot&ProtExec == 0 {
			set |= paging.NoExecute
		} else {
			clear |= paging.NoExecute
		}
	}
	// Cannot fail: the edges are split. Its one shootdown also covers
	// what SplitEdges split; SyncTLB is that shootdown when the change
	// altered no leaf (a split page whose flags were already right).
	as.PT.Change(start, size, clear, set)
	as.PT.SyncTLB()
	return nil
}
