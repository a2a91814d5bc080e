// Context: handler. The pager's handler-context half (docs/DESIGN.md,
// "Pager"): eviction of one page under its space's lock, the major fault,
// the release and duplication of store slots by unmap, destroy and fork.
// The caller holds the space's lock, as for every AddressSpace method; the
// store is shared by every space, so each call into it is made under
// VM.storeLock (after the space's lock, before the frame locks).

package mm

import (
	"unsafe"

	"hurdvm/mm/store"
	"hurdvm/paging"
)

// SetStore gives vm a backing store: from then on task pages may be
// evicted into it (Evict) and faults bring them back. It stores a Go
// interface value: call it once, at boot (or in a host test), before any
// space uses vm. Without a store nothing is ever evicted.
func (vm *VM) SetStore(b store.Backend) { vm.Store = b }

// SetPager turns eviction on or off (it is on once there is a store):
// off, Evict refuses every page, as without a store; evicted pages still
// come back.
func (vm *VM) SetPager(on bool) { vm.pagerOff.Store(!on) }

// StoreLock is the spinlock every call into vm.Store is made under, for
// callers that reach the store directly (the kernel's test hooks).
func (vm *VM) StoreLock() *SpinLock { return &vm.storeLock }

// StoreFrames is the store.Frames the kernel lends the compressed store:
// order-0 frames of vm's allocator, counted in Stats.StoreFrames. The store
// may take frames below the tasks' limit (canTake), down to half the
// runtime's reserve: it takes them to free more (an evicted page packed
// with others), and an eviction that cannot get one fails and changes
// nothing.
type StoreFrames struct{ VM *VM }

// Alloc takes a frame for the store.
func (f StoreFrames) Alloc() (uint64, bool) {
	vm := f.VM
	if vm.free() < vm.Reserve/2+vm.claimed.Load() {
		return 0, false
	}
	pa, err := vm.Frames.Alloc(0)
	if err != nil {
		return 0, false
	}
	vm.storeFrames.Add(1)
	return uint64(pa), true
}

// Free gives a frame of the store back.
func (f StoreFrames) Free(pa uint64) {
	f.VM.check(PhysAddr(pa), f.VM.Frames.Free(PhysAddr(pa), 0))
	f.VM.storeFrames.Add(^uint64(0))
}

// Page is the frame at pa through the physmap.
func (f StoreFrames) Page(pa uint64) *[store.PageSize]byte {
	return f.VM.Frames.framePage(PhysAddr(pa))
}

// framePage is the 4 KiB frame at pa as an array (no conversion that can
// panic: a short slice would fail the index, a run-time check).
func (fa *FrameAllocator) framePage(pa PhysAddr) *[FrameSize]byte {
	b := fa.bytesAt(pa, FrameSize)
	return (*[FrameSize]byte)(unsafe.Pointer(&b[0]))
}

// SpaceTable is the machine's address spaces as the pager sees them when
// it evicts a frame shared copy-on-write: every sharer maps the frame at
// the same address (fork shares leaves in place), so a pass over the
// spaces finds them all. Set once, at boot; its funcs are handler code.
type SpaceTable struct {
	N int // spaces are 0 to N-1
	// TryLock returns space i locked for the caller (who holds another
	// space's lock already: the lock is tried, never waited for, so no
	// order between space locks is needed), nil when there is no live
	// task space i or the caller's CPU holds its lock already (its own
	// space, or one whose holder it interrupted: a sharer there is not
	// counted, and the page stays); busy when another CPU holds it.
	TryLock func(i int) (as *AddressSpace, busy bool)
	// Unlock releases what TryLock took.
	Unlock func(i int)
}

// maxSharers bounds the spaces that share one frame the pager evicts (its
// reference count): wider sharing is left resident.
const maxSharers = 16

// EvictResult says what Evict did.
type EvictResult uint8

const (
	EvictDone        EvictResult = iota // the page is in the store (or was all zero: demand-zero again)
	EvictNotResident                    // no present 4 KiB page there (a hole, evicted already, a huge page)
	EvictShared                         // the frame is shared copy-on-write and its sharers could not all be had (no SpaceTable, a sharer's lock busy, a reference elsewhere): left alone
	EvictRefused                        // no store, not a task page, or the store could not take it: left mapped
	EvictYoung                          // shared, and a sharer used it since the clock last passed (its Accessed bit, now cleared)
)

// Evict moves the 4 KiB page at va out of memory: its entry is emptied and
// shot down on every CPU (paging.TakeLeaf), the frame is compressed into
// the store, the entry records the slot (a soft entry) and the frame is
// freed. An all-zero page leaves an empty entry: it comes back as
// demand-zero. A frame shared copy-on-write (reference count above 1: a
// fork's pages until one side writes) goes out of every sharer at once
// (evictShared), or stays if they cannot all be had. On EvictRefused the
// page is mapped again as it was, Accessed and Dirty bits included. Only
// task spaces' own regions are evicted, never the kernel task's shared
// windows (the Go heap the kernel runs on).
func (as *AddressSpace) Evict(va uintptr) EvictResult {
	vm := as.vm
	if vm.Store == nil || as.kernel || vm.pagerOff.Load() {
		return EvictRefused
	}
	page := va &^ (PageSize - 1)
	r, ok := as.Regions.Find(page)
	if !ok || r.Flags&regionShared != 0 {
		return EvictRefused
	}
	e, l, ok := as.PT.Leaf(page)
	if !ok || l != paging.PT || e&paging.Present == 0 {
		return EvictNotResident
	}
	pa := PhysAddr(e.Addr())
	if vm.Frames.RefCount(pa) != 1 {
		return as.evictShared(r, page, pa, false)
	}
	old, ok := as.PT.TakeLeaf(page)
	if !ok {
		return EvictNotResident
	}
	vm.storeLock.Lock()
	slot, err := vm.Store.Put(vm.Frames.framePage(pa))
	vm.storeLock.Unlock()
	if err != nil {
		// The entry is empty and its table there: cannot fail.
		as.PT.PutLeaf(page, old)
		vm.evictFailures.Add(1)
		return EvictRefused
	}
	if slot != store.ZeroSlot {
		as.PT.SetSoft(page, slot.PTE())
	}
	vm.release(pa)
	vm.evictions.Add(1)
	as.evictions++
	return EvictDone
}

// majorFault brings back the evicted page at page, whose soft entry holds
// slot: a frame (*spare if the caller took one), the page decompressed into
// it, this space's reference to the slot dropped, the frame mapped with the
// region's protection. The frame is the space's own (a slot shared by a
// fork stays in the store for the other sharers, each of which gets its
// own copy when it faults), so a write needs no copy-on-write fault
// later. The space's lock is held: two threads faulting on the page get
// one frame, the second finds it mapped. FaultNoMemory, with the page
// still in the store, when there is no frame.
func (as *AddressSpace) majorFault(r Region, page uintptr, slot store.Slot, spare *PhysAddr) FaultResult {
	vm := as.vm
	var pa PhysAddr
	// The reserve holds here too: the kernel took *spare before it
	// looked (vmFault), so a fault with one still checks the free count.
	if !vm.canTake(1) && !as.reclaim(1) {
		return FaultNoMemory
	}
	if spare != nil && *spare != 0 {
		pa, *spare = *spare, 0
	} else {
		var err error
		if pa, err = vm.Frames.Alloc(0); err != nil {
			return FaultNoMemory
		}
	}
	vm.storeLock.Lock()
	err := vm.Store.Get(slot, vm.Frames.framePage(pa))
	if err == nil {
		err = vm.Store.Free(slot)
	}
	vm.storeLock.Unlock()
	if err != nil {
		// A slot the store does not know: the pager's bug. The page is
		// lost; the thread gets the fault.
		vm.check(pa, vm.Frames.Free(pa, 0))
		vm.storeErrors.Add(1)
		return FaultNoMemory
	}
	as.PT.TakeSoft(page)
	if err := as.PT.MapPage(page, uint64(pa), pageFlags(r, true, vm)); err != nil {
		// Cannot happen: the entry is empty, its table there.
		vm.check(pa, vm.Frames.Free(pa, 0))
		vm.storeErrors.Add(1)
		return FaultNoMemory
	}
	vm.majorFaults.Add(1)
	vm.pageFaults.Add(1)
	as.majorFaults++
	as.faults++
	return FaultResolved
}

// freeSlot drops one reference to the slot of a soft entry paging removed
// (Unmap, Destroy: releaseLeaf with paging.SoftSize).
func (vm *VM) freeSlot(v uint64) {
	if vm.Store == nil {
		return
	}
	vm.storeLock.Lock()
	err := vm.Store.Free(store.SlotOfPTE(v))
	vm.storeLock.Unlock()
	if err != nil {
		vm.storeErrors.Add(1)
	}
}

// dupSlot adds a reference to the slot of a soft entry fork copied. It
// cannot fail but for a pager bug (a slot the store does not know;
// StoreErrors): the count is 32 bits, and a slot has at most one
// reference per address space.
func (vm *VM) dupSlot(v uint64) bool {
	if vm.Store == nil {
		return false
	}
	vm.storeLock.Lock()
	err := vm.Store.Dup(store.SlotOfPTE(v))
	vm.storeLock.Unlock()
	if err != nil {
		vm.storeErrors.Add(1)
	}
	return err == nil
}

// reclaimScan bounds the pages one turn of reclaim looks at, and
// reclaimBatch the pages it evicts: clearing an Accessed bit is cheap, an
// eviction is one page's compression. An evicted page frees its frame but
// the store takes some back (about half of one for data that compresses
// 2:1; a whole one for incompressible data, which gains nothing), so one
// frame's worth takes several evictions.
const (
	reclaimScan  = 512
	reclaimBatch = 32 // Linux's direct reclaim batch, SWAP_CLUSTER_MAX
	// reclaimTurns bounds the turns: a space whose pages were all used
	// since the hand passed needs one lap of the clock (clearing their
	// bits) before it evicts; 128 turns are a lap of 256 MiB of
	// resident pages. Past it, the fault gives up (FaultNoMemory).
	reclaimTurns = 128
)

// reclaim is the fault path's own eviction when free frames are short
// (canTake(need) refused): it evicts pages of this space, found by its
// clock (EvictSome), until need frames may be taken, at most reclaimBatch
// of them, and reports whether the frames are there now. Only this
// space's pages: its lock is the only space lock the fault holds, and
// taking another's would break the lock order. The pager's goroutine
// keeps free frames above its low-water mark across all spaces, so that
// a fault rarely gets here.
func (as *AddressSpace) reclaim(need uint64) bool {
	if as.vm.Store == nil || as.kernel {
		return false
	}
	evicted, idleLaps := 0, 0
	for turn := 0; !as.vm.canTake(need) && evicted < reclaimBatch && turn < reclaimTurns; turn++ {
		// A turn that evicts nothing but clears Accessed bits has
		// moved the clock on: a later turn finds those pages idle.
		// Turns over evicted pages and holes find neither; two wraps
		// of the hand with neither: there is nothing to evict.
		before := as.hand
		k, cleared := as.EvictSome(1, reclaimScan)
		evicted += k
		if k+cleared > 0 {
			idleLaps = 0
		} else if as.hand <= before {
			if idleLaps++; idleLaps == 2 {
				break
			}
		}
	}
	as.vm.reclaims.Add(1)
	return as.vm.canTake(need)
}

// EvictSome runs this space's clock: from its hand, over the present 4 KiB
// pages of its regions in address order (wrapping once), a page whose
// Accessed bit is set has it cleared and is passed over, one whose bit
// stayed clear since the hand last passed is evicted, in batches of
// evictBatch pages that share one shootdown (a page shared copy-on-write
// on its own, from every sharer, when none of them used it either:
// evictShared). It stops after n
// evictions, scan steps (a page, or a hole skipped whole), or the first
// eviction the store refuses, and returns the evictions and the Accessed
// bits it cleared (pages the next lap may evict).
func (as *AddressSpace) EvictSome(n, scan int) (evicted, cleared int) {
	if as.vm.Store == nil || as.kernel || n <= 0 || as.vm.pagerOff.Load() {
		return 0, 0
	}
	done := 0
	hand := as.hand
	wrapped := false
	for scan > 0 && done < n {
		r, ok := as.Regions.Next(hand)
		if !ok || r.Flags&regionShared != 0 {
			if wrapped {
				break
			}
			wrapped = true
			hand = as.WindowStart
			continue
		}
		if hand < r.Start {
			hand = r.Start
		}
		for hand < r.End && scan > 0 && done < n {
			scan-- // every step counts; a hole is skipped whole
			young, present := as.PT.Young(hand)
			if !present {
				// A hole (skip the unmapped block the walk found), a
				// huge page (skip it: not evicted), a soft entry.
				_, _, size, _ := as.PT.Translate(hand)
				if size < PageSize {
					size = PageSize
				}
				next := hand&^(size-1) + size
				if next <= hand {
					next = r.End
				}
				hand = next
				continue
			}
			if young {
				cleared++
			} else {
				switch as.takeVictim(r, hand) {
				case victimEvicted:
					done++
				case victimYoung:
					cleared++
				case victimRefused:
					k, _ := as.flushVictims()
					as.hand = hand + PageSize
					return done + k, cleared
				}
				if as.nvictims == evictBatch || as.nvictims > 0 && done+as.nvictims >= n {
					k, refused := as.flushVictims()
					done += k
					if refused {
						// The store is full or has no frame: the
						// next page would most likely fare the same.
						as.hand = hand + PageSize
						return done, cleared
					}
				}
			}
			hand += PageSize
		}
		if hand >= r.End {
			hand = r.End
		}
	}
	k, _ := as.flushVictims()
	as.hand = hand
	return done + k, cleared
}

// evictBatch is how many pages EvictSome takes out of the tables before
// one shootdown for them all (paging.TakeLeafDeferred, SyncTLB): each
// page's own would be an IPI to every CPU running the space.
const evictBatch = 32

// victim is a page EvictSome took out of the tables and has not stored
// yet: its address and its old leaf.
type victim struct {
	va  uintptr
	old paging.Entry
}

// What takeVictim did with a page.
const (
	victimNone    = iota // not a victim: not a present 4 KiB leaf, or shared and left resident
	victimQueued         // its entry emptied and queued for flushVictims
	victimEvicted        // shared copy-on-write: evicted from every sharer at once
	victimYoung          // shared, and a sharer used it since the clock last passed
	victimRefused        // shared, and the store refused it
)

// takeVictim empties the entry of the page at va, a present 4 KiB leaf
// whose frame this space alone holds, without the shootdown, and queues
// it for flushVictims; a frame shared copy-on-write is evicted from every
// sharer now (evictShared).
func (as *AddressSpace) takeVictim(r Region, va uintptr) int {
	e, l, ok := as.PT.Leaf(va)
	if !ok || l != paging.PT || e&paging.Present == 0 {
		return victimNone
	}
	if pa := PhysAddr(e.Addr()); as.vm.Frames.RefCount(pa) != 1 {
		switch as.evictShared(r, va, pa, true) {
		case EvictDone:
			return victimEvicted
		case EvictYoung:
			return victimYoung
		case EvictRefused:
			return victimRefused
		}
		return victimNone
	}
	old, ok := as.PT.TakeLeafDeferred(va)
	if !ok {
		return victimNone
	}
	as.victims[as.nvictims%evictBatch] = victim{va, old}
	as.nvictims++
	return victimQueued
}

// evictShared evicts the page at page of region r, whose frame pa this
// space shares copy-on-write with others (its reference count above 1),
// from every sharer at once: the SpaceTable's spaces that map pa at the
// same address (fork shares leaves in place) are locked (tried: a busy
// one and the page stays), and only when they are all there (this space
// and they account for every reference) is each entry emptied and shot
// down, the page stored once, its slot given one reference per sharer
// (store.Dup), and each entry made the soft entry. Each sharer's major
// fault then brings its own copy back (majorFault), as after a fork of an
// evicted page. With clock set, a sharer whose entry was used since the
// clock last passed (its Accessed bit, which this clears) keeps the page
// for now (EvictYoung). Not for regions that share their frames writable
// (InheritShare): those sharers must go on seeing one frame. Every lock
// taken is released before it returns.
func (as *AddressSpace) evictShared(r Region, page uintptr, pa PhysAddr, clock bool) EvictResult {
	vm := as.vm
	st := &vm.Spaces
	refs := uint64(vm.Frames.RefCount(pa))
	if st.TryLock == nil || r.Inherit == InheritShare || refs < 2 || refs > maxSharers {
		return EvictShared
	}
	var others [maxSharers - 1]*AddressSpace
	var slots [maxSharers - 1]int
	n := 0
	res := EvictShared
	complete := true
	for i := 0; i < st.N && uint64(n)+1 < refs; i++ {
		o, busy := st.TryLock(i)
		if busy {
			complete = false
			break
		}
		if o == nil {
			continue
		}
		e, l, ok := o.PT.Leaf(page)
		if o == as || !ok || l != paging.PT || e&paging.Present == 0 || PhysAddr(e.Addr()) != pa {
			st.Unlock(i)
			continue
		}
		others[n], slots[n] = o, i
		n++
	}
	if complete && uint64(n)+1 == refs {
		res = as.evictSharers(page, pa, others[:n], clock)
	}
	for k := 0; k < n; k++ {
		st.Unlock(slots[k])
	}
	return res
}

// evictSharers is evictShared's eviction, every sharer locked: others are
// the sharers besides as.
func (as *AddressSpace) evictSharers(page uintptr, pa PhysAddr, others []*AddressSpace, clock bool) EvictResult {
	vm := as.vm
	if clock {
		young := false
		for _, o := range others {
			if y, _ := o.PT.Young(page); y {
				young = true
			}
		}
		if young {
			return EvictYoung
		}
	}
	// The invalidations this CPU has gathered for this space (EvictSome's
	// queued victims) go to this space's CPUs first: each Sync below
	// sends the CPU's whole batch to one space's CPUs. Then each sharer's
	// entry is emptied and shot down on its own CPUs; from then on no CPU
	// reaches the frame, which no sharer could write anyway (read-only
	// in all: copy-on-write).
	as.PT.SyncTLB()
	var olds [maxSharers]paging.Entry
	var ok bool
	if olds[0], ok = as.PT.TakeLeafDeferred(page); !ok {
		return EvictShared // cannot happen: a present leaf, under the lock
	}
	as.PT.SyncTLB()
	for k, o := range others {
		if olds[k+1], ok = o.PT.TakeLeafDeferred(page); !ok {
			// Cannot happen either; put back what was taken.
			for j := k - 1; j >= 0; j-- {
				others[j].PT.PutLeaf(page, olds[j+1])
			}
			as.PT.PutLeaf(page, olds[0])
			return EvictShared
		}
		o.PT.SyncTLB()
	}
	vm.storeLock.Lock()
	slot, err := vm.Store.Put(vm.Frames.framePage(pa))
	if err == nil && slot != store.ZeroSlot {
		dups := 0
		for dups < len(others) {
			if err = vm.Store.Dup(slot); err != nil {
				break
			}
			dups++
		}
		if err != nil {
			// Not with 32-bit counts and one reference a space: undo,
			// the Put's reference too (the slot goes).
			for ; dups >= 0; dups-- {
				vm.Store.Free(slot)
			}
			vm.storeErrors.Add(1)
		}
	}
	vm.storeLock.Unlock()
	if err != nil {
		as.PT.PutLeaf(page, olds[0])
		for k, o := range others {
			o.PT.PutLeaf(page, olds[k+1])
		}
		vm.evictFailures.Add(1)
		return EvictRefused
	}
	if slot != store.ZeroSlot {
		as.PT.SetSoft(page, slot.PTE())
		for _, o := range others {
			o.PT.SetSoft(page, slot.PTE())
		}
	}
	vm.release(pa)
	as.evictions++
	for _, o := range others {
		vm.release(pa)
		o.evictions++
	}
	vm.evictions.Add(1)
	vm.sharedEvictions.Add(1)
	return EvictDone
}

// flushVictims shoots the queued victims' translations down, once, and
// then stores each (Evict's second half). When the store refuses one, it
// and the rest are mapped again as they were, and refused is set.
func (as *AddressSpace) flushVictims() (done int, refused bool) {
	if as.nvictims == 0 {
		return 0, false
	}
	vm := as.vm
	as.PT.SyncTLB()
	for i := 0; i < as.nvictims && i < evictBatch; i++ {
		v := as.victims[i]
		if refused {
			as.PT.PutLeaf(v.va, v.old)
			continue
		}
		pa := PhysAddr(v.old.Addr())
		vm.storeLock.Lock()
		slot, err := vm.Store.Put(vm.Frames.framePage(pa))
		vm.storeLock.Unlock()
		if err != nil {
			as.PT.PutLeaf(v.va, v.old)
			vm.evictFailures.Add(1)
			refused = true
			continue
		}
		if slot != store.ZeroSlot {
			as.PT.SetSoft(v.va, slot.PTE())
		}
		vm.release(pa)
		vm.evictions.Add(1)
		as.evictions++
		done++
	}
	as.nvictims = 0
	return done, refused
}

// EvictAll evicts every page of this space's regions that Evict takes,
// whatever its Accessed bit (tests; a task being swapped out whole), and
// returns how many went.
func (as *AddressSpace) EvictAll() int {
	if as.vm.Store == nil || as.kernel {
		return 0
	}
	n := 0
	for r, ok := as.Regions.Next(0); ok; r, ok = as.Regions.Next(r.End) {
		if r.Flags&regionShared != 0 {
			continue
		}
		for va := r.Start; va < r.End; {
			_, _, size, mapped := as.PT.Translate(va)
			if size < PageSize {
				size = PageSize
			}
			if mapped && size == PageSize && as.Evict(va) == EvictDone {
				n++
			}
			next := va&^(size-1) + size
			if next <= va {
				break
			}
			va = next
		}
	}
	return n
}
