// Context: handler. Alloc, AllocZeroed, ZeroSome, Free, Split, IncRef,
// DecRef, RefCount and Stats run where the kernel's page-fault and
// system-call handlers run, under the rules of docs/DESIGN.md, "Handler
// context" (they are //go:nosplit, as that section says why); errors are
// constants, so returning one allocates nothing. Init runs once at boot,
// before any handler, and allocates nothing.
//
// Locking. Callers run with interrupts off (the kernel's handlers always
// do; the host has no interrupts), so a lock held here is never wanted by
// code interrupting its holder on the same CPU. The buddy lists, the zero
// lists and ZeroSome's block are under one spinlock (lock). Order-0 frames
// also live in per-CPU caches (EnableCaches; Linux's per-CPU page lists,
// Bonwick's magazines): Alloc(0), AllocZeroed(0) and Free(pa, 0) take
// only the cache of the CPU they run on (its own spinlock, which another
// CPU takes only to drain it), and reach the buddy lists a batch at a
// time. Lock order: a cache's lock, then lock; never two caches' locks
// but in Stats, in index order. Reference counts are atomic and need no
// lock: a frame's count changes only while someone holds a reference.
// Without EnableCaches (one CPU; the host tests, the fuzzers' first
// mode) every call goes to the buddy lists and takes no lock, and
// reference counts change with plain stores: there is no one to race.

package mm

import (
	"sync/atomic"
	"unsafe"
)

// FrameAllocator is a binary buddy allocator of physical memory. It hands
// out blocks of 2^order contiguous 4 KiB frames (order 0 to MaxOrder), each
// aligned in physical address to its own size, and merges a freed block
// with its buddy for as long as the buddy is free too. Its state is plain
// integers, so it can be a package-level variable of the kernel: all
// per-frame bookkeeping lives in physical memory reached through the
// physmap, never on the Go heap.
//
// Frame records. Init carves an array of 16-byte records, one per frame from
// the lowest to the highest usable frame (holes included, so a frame's
// record is found by subtraction), out of usable memory itself: 0.4% of the
// span. Only the record of a block's first frame (its head) describes the
// block; the block's other frames are marked tail. Merging and splitting
// therefore touch one record per level, never the whole block. The free
// lists are doubly linked through the records by frame index, so taking a
// buddy out of the middle of its list is O(1), and free frames themselves
// are never touched (they stay out of the cache, and a sparse host arena
// stays sparse).
//
// Reference counts. A fresh allocation has count 1. The count belongs to
// the allocation as a whole and lives in its head record: IncRef and DecRef
// take the block's first address; RefCount of any frame inside a live block
// reports the block's count. Split copies the count to every frame it
// makes, so a shared huge page split into small pages stays shared. DecRef
// never frees: at zero the caller frees. Free takes a block whose count is
// 1 (never shared) or 0 (dropped by DecRef) and refuses a shared one.
//
// Zeroing belongs at allocation, in AllocZeroed, as one memclr of the block
// (clear on an unsafe.Slice compiles to runtime.memclrNoHeapPointers: AVX
// or ERMS stores, nosplit assembly), with no "known zero" bit. Measured
// with frames_bench_test.go on the development host (AMD EPYC VM, go1.26.8,
// best of several runs; the machine was shared, so medians ran 10-40%
// higher):
//
//	clear one hot 4 KiB frame: memclr 75 ns, a loop of 8-byte stores 270 ns
//	AllocZeroed(0)+Free, frame cold (128 MiB FIFO)  405 ns; without clear 20 ns
//	AllocZeroed(9)+Free (2 MiB)                     39 us (53 GB/s)
//
//	life of a page (BenchmarkZeroPolicy)   clear at alloc  at free  never
//	  thread then fills the 4 KiB page        548 ns        608 ns   548 ns
//	  thread writes one cache line            505 ns        507 ns    75 ns
//
// A cold frame costs one trip to memory whoever clears it (about 430 ns
// for 4 KiB), and clearing at allocation is the only place that pays it
// once: the clear pulls the lines into the cache and the thread's own
// writes then hit, so it costs nothing over never clearing at all for a
// page the thread fills. Clearing at free pays the trip and then the
// thread's first write pays it again when the frame has gone cold (and it
// clears frames that Alloc then hands out for copying). Only a frame
// already known to be zero beats it: time no one is using can clear free
// blocks ahead of their allocation. ZeroSome does that, a piece at a time,
// when the kernel's CPU would otherwise idle; the cleared blocks go on zero
// lists of their own, which AllocZeroed takes first and does not clear
// again (README, Benchmarks: map_now of 64 MiB after an idle pause).
type FrameAllocator struct {
	physOffset uintptr  // virtual address of physical address 0 (the physmap)
	recVA      uintptr  // virtual address of the record array
	recPA      PhysAddr // physical address of the record array
	basePFN    uint64   // frame number of record 0; aligned to 2^MaxOrder frames
	nframes    uint32   // number of records (frames from basePFN)

	// The free lists, by order (slots past MaxOrder unused): lists holds
	// blocks with unknown contents, zlists blocks known to be all zero
	// (ZeroFreeBlock, run when the CPU is idle): AllocZeroed takes those
	// first and skips the clearing, Alloc takes the others first.
	lists   [orderSlots]freeList
	zlists  [orderSlots]freeList
	zblocks uint64 // blocks on zlists: with none, no one looks there

	// zeroing is the free block ZeroSome is clearing: off every list,
	// its head in state stZeroing, with done bytes cleared so far. take
	// gives it back to the lists rather than fail for want of it.
	zeroing struct {
		i     uint32
		order int
		done  uintptr
		held  bool
	}

	totalFrames, reservedFrames, recordFrames uint64
	// freeFrames counts the free frames on the lists (and ZeroSome's);
	// the caches' frames are free too (FreeFrames adds them).
	freeFrames uint64

	// lock guards everything above but the counters of Init. (Handler
	// context: a spinlock, see the file comment.)
	lock SpinLock
	// The per-CPU caches of order-0 frames (EnableCaches), and the
	// function that names the CPU running the caller (nil: CPU 0).
	caches  [MaxCPUs]frameCache
	ncaches int
	cpu     func() int
	// smp: several CPUs call (EnableCaches). Without it no lock is
	// taken and reference counts change with plain stores: one CPU with
	// interrupts off, or one goroutine, has no one to race with, and
	// make bench's one-CPU rows showed what the locked instructions
	// cost (README, Benchmarks).
	smp bool
}

// lockLists takes the lists' lock when several CPUs may call.
//
//go:nosplit
func (a *FrameAllocator) lockLists() {
	if a.smp {
		a.lock.Lock()
	}
}

//go:nosplit
func (a *FrameAllocator) unlockLists() {
	if a.smp {
		a.lock.Unlock()
	}
}

// setRef stores a reference count.
//
//go:nosplit
func (a *FrameAllocator) setRef(r *frameRec, v uint32) {
	if a.smp {
		atomic.StoreUint32(&r.ref, v)
	} else {
		r.ref = v
	}
}

// decRef drops one from r's count, unless it is zero; it returns the count
// before and whether it dropped one.
//
//go:nosplit
func (a *FrameAllocator) decRef(r *frameRec) (uint32, bool) {
	if !a.smp {
		old := r.ref
		if old == 0 {
			return 0, false
		}
		r.ref = old - 1
		return old, true
	}
	for {
		old := atomic.LoadUint32(&r.ref)
		if old == 0 {
			return 0, false
		}
		if atomic.CompareAndSwapUint32(&r.ref, old, old-1) {
			return old, true
		}
	}
}

// MaxCPUs is how many CPUs the allocator keeps caches for.
const MaxCPUs = 64

const (
	// cacheSize is how many frames a CPU's cache holds at most, and
	// cacheBatch how many move between it and the buddy lists at once
	// (Linux's pcp high and batch, scaled down: a cache is at most
	// 256 KiB of memory the buddy lists cannot merge).
	cacheSize  = 64
	cacheBatch = 32
)

// frameCache is one CPU's cache: frames of unknown contents (u[:n]) and
// frames known to be all zero (z[:zn]), each a stack of frame indices in
// state stCached. Its counters count every frame the CPU allocated and
// freed, through the cache or not.
type frameCache struct {
	lock  SpinLock
	n, zn uint32
	// Written by the cache's CPU alone, read by others (atomic loads).
	allocs, frees uint64
	u, z          [cacheSize]uint32
	_             [64 - (4+8+16)%64]byte // a cache line or more of its own
}

// freeList is the list of free blocks of one order.
type freeList struct {
	head  uint32 // frame index + 1 of the first block (0: empty)
	count uint32 // blocks on the list
}

// PhysAddr is a physical address.
type PhysAddr uint64

// PhysRange is [Start, End) in physical memory.
type PhysRange struct{ Start, End PhysAddr }

// FrameSize is the size of a physical frame (a small page).
const FrameSize = 4096

// MaxOrder is the largest block order: blocks hold 2^0 .. 2^MaxOrder frames
// (order 9 is 2 MiB, a huge page; order 10 is 4 MiB).
const MaxOrder = 10

// MaxInitRanges is the most usable, and the most reserved, ranges Init
// accepts: it sorts and merges them in fixed arrays on its stack.
const MaxInitRanges = 64

const frameShift = 12

// orderSlots is MaxOrder+1 rounded up to a power of two, so that per-order
// arrays indexed with order&(orderSlots-1) need no bounds check.
const orderSlots = 16

// FrameStats are the allocator's counters. Every usable frame is in exactly
// one of three states, so TotalFrames == ReservedFrames + FreeFrames +
// (frames allocated) always holds.
type FrameStats struct {
	// TotalFrames counts the usable frames (whole frames inside the union of
	// the usable ranges). ReservedFrames counts those withheld from
	// allocation: the ones touching a reserved range (and frame 0), plus
	// the RecordFrames that hold the allocator's own records.
	TotalFrames, FreeFrames, ReservedFrames, RecordFrames uint64
	FreeByOrder                                           [MaxOrder + 1]uint64 // free blocks per order
	ZeroByOrder                                           [MaxOrder + 1]uint64 // of which known to be all zero
	Allocs, Frees                                         uint64               // frames handed out / returned since Init
}

// FrameError is an allocator misuse. The values are constants, so returning
// one allocates nothing; the kernel panics with the error and the address.
type FrameError string

func (e FrameError) Error() string { return string(e) }

// The errors of Free, Split and the reference counts. Exhaustion is ENOMEM.
const (
	ErrBadOrder      = FrameError("mm: frame block order out of range")
	ErrMisaligned    = FrameError("mm: frame address not aligned to the block size")
	ErrOutOfRange    = FrameError("mm: frame address outside the memory the allocator manages")
	ErrNotAllocated  = FrameError("mm: frame was never allocated (reserved or a hole)")
	ErrDoubleFree    = FrameError("mm: double free: frame is already free")
	ErrWrongOrder    = FrameError("mm: block order differs from the one allocated")
	ErrInsideBlock   = FrameError("mm: frame address inside an allocation, not at its start")
	ErrShared        = FrameError("mm: free of a frame whose reference count is above one")
	ErrFrameFree     = FrameError("mm: reference count of a free frame")
	ErrRefUnderflow  = FrameError("mm: DecRef of a frame whose reference count is zero")
	ErrRefOverflow   = FrameError("mm: IncRef would overflow the reference count")
	ErrRefDead       = FrameError("mm: IncRef of a frame whose count dropped to zero (free it)")
	ErrTooManyRanges = FrameError("mm: more memory ranges than Init accepts")
)

// Frame states. The zero value is stReserved, so clearing the record array
// reserves everything until Init frees the usable frames.
const (
	stReserved = iota // not allocatable: a hole, a reserved range, the records
	stTail            // a frame of a block other than its first
	stFree            // first frame of a free block, on free list .order
	stAlloc           // first frame of a live allocation of .order
	stZeroing         // first frame of the free block ZeroSome is clearing (on no list)
	stCached          // a free order-0 frame in a CPU's cache (on no list)
)

// frameRec is the record of one frame. Links are frame index + 1 so that 0
// means none and a cleared record is a reserved frame with no links.
type frameRec struct {
	next, prev uint32 // free-list links (stFree heads only)
	ref        uint32 // reference count (stAlloc heads only)
	state      uint8
	order      uint8
	zero       uint8 // stFree heads: the block is on zlists, all zero
	_          uint8 // spare
}

const recSize = unsafe.Sizeof(frameRec{})

// maxFrames bounds the record array so index + 1 fits a uint32 link
// (16 TiB of span); memory beyond it is ignored.
const maxFrames = 1<<32 - 2

// ---- Memory access: the only code that turns addresses into pointers. ----

// ptrAt returns addr as a pointer. Every address it sees is in the physmap
// (or, on the host, the test arena), never in the Go heap. Reading the
// uintptr's bits as a pointer, rather than converting it, is what keeps
// vet's unsafeptr check quiet about a conversion it cannot see is safe.
//
//go:nosplit
func ptrAt(addr uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}

// rec returns the record of frame index i (i < a.nframes).
//
//go:nosplit
func (a *FrameAllocator) rec(i uint32) *frameRec {
	return (*frameRec)(ptrAt(a.recVA + uintptr(i)*recSize))
}

// bytesAt returns the n bytes at physical address pa, through the physmap.
//
//go:nosplit
func (a *FrameAllocator) bytesAt(pa PhysAddr, n uintptr) []byte {
	return unsafe.Slice((*byte)(ptrAt(a.physOffset+uintptr(pa))), n)
}

// ---- Free lists. ----

// push puts the block at frame index i on the free list of its order.
//
//go:nosplit
func (a *FrameAllocator) push(i uint32, order int) {
	a.pushOn(&a.lists[order&(orderSlots-1)], i, order, 0)
}

// pushZero puts the block at frame index i, all zero, on zlists.
//
//go:nosplit
func (a *FrameAllocator) pushZero(i uint32, order int) {
	a.pushOn(&a.zlists[order&(orderSlots-1)], i, order, 1)
	a.zblocks++
}

//go:nosplit
func (a *FrameAllocator) pushOn(l *freeList, i uint32, order int, zero uint8) {
	next := l.head
	l.head = i + 1
	l.count++
	if next != 0 {
		a.rec(next - 1).prev = i + 1
	}
	*a.rec(i) = frameRec{next: next, state: stFree, order: uint8(order), zero: zero}
}

// remove takes the free block whose record is r off its list, in O(1).
// Its own stale links are left behind: only free heads' links are read.
//
//go:nosplit
func (a *FrameAllocator) remove(r *frameRec, order int) {
	l := &a.lists[order&(orderSlots-1)]
	if r.zero != 0 {
		l = &a.zlists[order&(orderSlots-1)]
		a.zblocks--
	}
	next, prev := r.next, r.prev
	if prev != 0 {
		a.rec(prev - 1).next = next
	} else {
		l.head = next
	}
	if next != 0 {
		a.rec(next - 1).prev = prev
	}
	l.count--
}

//go:nosplit
func (a *FrameAllocator) addr(i uint32) PhysAddr {
	return PhysAddr((a.basePFN + uint64(i)) << frameShift)
}

// ---- Allocation. ----

// Alloc returns the physical address of a block of 2^order frames aligned to
// its size, with reference count 1. Its contents are whatever was there. It
// returns ENOMEM when no block that large is free.
//
//go:nosplit
func (a *FrameAllocator) Alloc(order int) (PhysAddr, error) {
	i, _, err := a.get(order, false)
	return a.addr(i), err
}

// get is Alloc and AllocZeroed: from this CPU's cache for order 0, else
// from the lists; when they have nothing, the caches are drained into
// them (merging what they held) and the lists tried again, so that ENOMEM
// means no free block of the order exists anywhere.
//
//go:nosplit
func (a *FrameAllocator) get(order int, wantZero bool) (uint32, bool, error) {
	if !a.smp {
		// One CPU: no caches to look in or drain, no lock (make bench's
		// one-CPU rows pay for nothing else).
		i, zero, err := a.take(order, wantZero)
		if err == nil {
			a.caches[0].allocs += 1 << order
		}
		return i, zero, err
	}
	c := a.thisCache()
	if order == 0 && a.ncaches > 0 {
		if i, zero, ok := a.cacheTake(c, wantZero); ok {
			c.allocs++
			return i, zero, nil
		}
	}
	a.lockLists()
	i, zero, err := a.take(order, wantZero)
	a.unlockLists()
	if err == ENOMEM && a.ncaches > 0 {
		a.Drain()
		a.lockLists()
		i, zero, err = a.take(order, wantZero)
		a.unlockLists()
	}
	if err == nil {
		c.allocs += 1 << order
	}
	return i, zero, err
}

// thisCache is the cache (and counters) of the CPU running the caller.
//
//go:nosplit
func (a *FrameAllocator) thisCache() *frameCache {
	if a.cpu == nil || a.ncaches == 0 {
		return &a.caches[0]
	}
	// (A CPU past ncaches shares a cache: safe, each has its lock.)
	return &a.caches[uint(a.cpu())%uint(a.ncaches)%MaxCPUs]
}

// EnableCaches turns on per-CPU caches for n CPUs (at most MaxCPUs);
// cpu names the CPU running its caller, 0 to n-1. The kernel calls it at
// boot, before any other CPU runs; host tests with a CPU of their
// choosing. Boot context.
func (a *FrameAllocator) EnableCaches(n int, cpu func() int) {
	a.ncaches = min(max(n, 1), MaxCPUs)
	a.cpu = cpu
	a.smp = true
}

// cacheTake takes an order-0 frame from cache c, refilling it from the
// lists when it lacks one (of the kind wanted, when the lists have that
// kind); false when both are out.
//
//go:nosplit
func (a *FrameAllocator) cacheTake(c *frameCache, wantZero bool) (uint32, bool, bool) {
	c.lock.Lock()
	if c.n+c.zn == 0 || wantZero && c.zn == 0 && atomic.LoadUint64(&a.zblocks) != 0 && c.n+c.zn < cacheSize {
		a.refill(c, wantZero)
	}
	var i uint32
	zero := false
	switch {
	case c.zn > 0 && (wantZero || c.n == 0):
		c.zn--
		i, zero = c.z[c.zn%cacheSize], true
	case c.n > 0:
		c.n--
		i = c.u[c.n%cacheSize]
	default:
		c.lock.Unlock()
		return 0, false, false
	}
	r := a.rec(i)
	r.state, r.order, r.zero = stAlloc, 0, 0
	a.setRef(r, 1)
	c.lock.Unlock()
	return i, zero, true
}

// refill moves up to cacheBatch order-0 frames from the lists into cache
// c (whose lock the caller holds), of the kind wanted first.
//
// Not nosplit, unlike the allocator around it: the cache's slow path is
// where a region-map change's chain (the tree, its frames, the cache, the
// buddy lists) would pass the linker's nosplit limit under -cover; a stack
// check here starts a new bounded chain (docs/DESIGN.md, "Stacks").
func (a *FrameAllocator) refill(c *frameCache, wantZero bool) {
	a.lockLists()
	for k := 0; k < cacheBatch && c.n+c.zn < cacheSize; k++ {
		i, zero, err := a.take(0, wantZero)
		if err != nil {
			break
		}
		// (take counted it out of freeFrames: FreeFrames counts the
		// caches' frames apart)
		a.rec(i).state = stCached
		if zero {
			c.z[c.zn%cacheSize] = i
			c.zn++
		} else {
			c.u[c.n%cacheSize] = i
			c.n++
		}
	}
	a.unlockLists()
}

// cachePut frees the order-0 frame i (record r, checked) into this CPU's
// cache, first moving a batch back to the lists when it is full.
//
//go:nosplit
func (a *FrameAllocator) cachePut(c *frameCache, i uint32, r *frameRec) {
	c.lock.Lock()
	a.cachePutLocked(c, i, r)
	c.lock.Unlock()
}

// cachePutLocked is cachePut with c's lock held.
//
//go:nosplit
func (a *FrameAllocator) cachePutLocked(c *frameCache, i uint32, r *frameRec) {
	if c.n+c.zn >= cacheSize {
		a.lockLists()
		for k := 0; k < cacheBatch && c.n+c.zn > 0; k++ {
			var j uint32
			if c.n > 0 {
				c.n--
				j = c.u[c.n%cacheSize]
			} else {
				c.zn-- // zero frames go last: they are worth keeping
				j = c.z[c.zn%cacheSize]
			}
			a.release(j)
		}
		a.unlockLists()
	}
	a.setRef(r, 0)
	r.state = stCached
	c.u[c.n%cacheSize] = i
	c.n++
}

// ReleaseFrames drops one reference to each of the order-0 allocations
// at pas and frees those it was the last of: DecRef and Free for many
// frames (what unmapping a range gives back), under one hold of this CPU's
// cache or of the lists. It goes on past a frame it must refuse and
// returns the first refusal and its frame.
//
//go:nosplit
func (a *FrameAllocator) ReleaseFrames(pas []PhysAddr) (PhysAddr, error) {
	c := a.thisCache()
	cached := a.ncaches > 0
	if cached {
		c.lock.Lock()
	} else {
		a.lockLists()
	}
	var bad PhysAddr
	var first error
	freed := uint64(0)
	for _, pa := range pas {
		r, err := a.refHead(pa)
		if err == nil && r.order != 0 {
			err = ErrWrongOrder
		}
		if err == nil {
			old, ok := a.decRef(r)
			switch {
			case !ok:
				err = ErrRefUnderflow
			case old == 1:
				freed++
				i := uint32(uint64(pa)>>frameShift - a.basePFN)
				if cached {
					a.cachePutLocked(c, i, r)
				} else {
					a.freeFrames++
					a.merge(i, r, 0)
				}
			}
		}
		if err != nil && first == nil {
			bad, first = pa, err
		}
	}
	if cached {
		c.lock.Unlock()
	} else {
		a.unlockLists()
	}
	c.frees += freed
	return bad, first
}

// release gives the cached frame j back to the lists (a.lock held); it
// was counted free all along.
//
//go:nosplit
func (a *FrameAllocator) release(j uint32) {
	r := a.rec(j)
	r.state = stAlloc // (merge rewrites it)
	a.freeFrames++
	a.merge(j, r, 0)
}

// Drain gives every frame of every CPU's cache back to the lists, merged
// with its free buddies: what Alloc does before it says ENOMEM, and what a
// caller does that wants FreeByOrder to show the merged blocks.
//
//go:nosplit
func (a *FrameAllocator) Drain() {
	for k := 0; k < a.ncaches; k++ {
		c := &a.caches[k%MaxCPUs]
		if atomic.LoadUint32(&c.n)+atomic.LoadUint32(&c.zn) == 0 {
			continue
		}
		c.lock.Lock()
		a.lockLists()
		for c.n > 0 {
			c.n--
			a.release(c.u[c.n%cacheSize])
		}
		for c.zn > 0 {
			c.zn--
			a.release(c.z[c.zn%cacheSize])
		}
		a.unlockLists()
		c.lock.Unlock()
	}
}

// take removes a free block of the given order from the lists, splitting a
// larger one if need be, and returns its index and whether it is all zero.
// wantZero prefers zero blocks (at any order), otherwise blocks of unknown
// contents; either falls back to the other kind.
//
//go:nosplit
func (a *FrameAllocator) take(order int, wantZero bool) (uint32, bool, error) {
	if uint(order) > MaxOrder {
		return 0, false, ErrBadOrder
	}
	first, second := &a.lists, &a.zlists
	if wantZero {
		first, second = second, first
	}
	if a.zblocks == 0 {
		first, second = &a.lists, &a.lists // nothing is known zero
	}
	var i uint32
	k, found := order, false
	for _, ls := range [2]*[orderSlots]freeList{first, second} {
		for k = order; k <= MaxOrder; k++ {
			if ls[k].head != 0 {
				i, found = ls[k].head-1, true
				break
			}
		}
		if found {
			break
		}
	}
	if !found && a.zeroing.held {
		// Nothing else is big enough: the block being cleared goes
		// back, uncleared and merged with its free buddies (which
		// may make it big enough when it alone is not), and the
		// unknown-contents lists are searched again.
		a.unhold()
		for k = order; k <= MaxOrder; k++ {
			if a.lists[k&(orderSlots-1)].head != 0 {
				i, found = a.lists[k&(orderSlots-1)].head-1, true
				break
			}
		}
	}
	if !found {
		return 0, false, ENOMEM
	}
	r := a.rec(i)
	zero := r.zero != 0
	a.remove(r, k)
	// Split down to the order asked for, freeing the upper halves (zero
	// halves of a zero block).
	for k > order {
		k--
		if zero {
			a.pushZero(i+1<<k, k)
		} else {
			a.push(i+1<<k, k)
		}
	}
	r = a.rec(i)
	r.state = stAlloc
	r.order = uint8(order)
	r.ref = 1
	r.zero = 0
	a.freeFrames -= uint64(1) << order
	return i, zero, nil
}

// AllocZeroed is Alloc with the block cleared (see the zeroing note on
// FrameAllocator for why here).
//
//go:nosplit
func (a *FrameAllocator) AllocZeroed(order int) (PhysAddr, error) {
	i, zero, err := a.get(order, true)
	if err != nil {
		return 0, err
	}
	pa := a.addr(i)
	if !zero {
		clear(a.bytesAt(pa, FrameSize<<order))
	}
	return pa, nil
}

// ZeroSome clears up to chunk bytes (rounded up to a frame) of a free
// block of unknown contents, and moves the block to the zero lists once it
// is all clear, so that a later AllocZeroed need not clear it. It works on
// one block at a time, the largest up to maxOrder there is, and reports
// whether there is more to do. The kernel calls it when its CPU would
// otherwise idle, with interrupts off around each call: chunk bounds the
// time interrupts wait. The block stays free throughout (no counter
// changes); an allocation that finds nothing else takes it back.
//
//go:nosplit
func (a *FrameAllocator) ZeroSome(maxOrder int, chunk uintptr) bool {
	a.lockLists()
	more := a.zeroSome(maxOrder, chunk)
	a.unlockLists()
	return more
}

// zeroSome is ZeroSome under the lock.
//
//go:nosplit
func (a *FrameAllocator) zeroSome(maxOrder int, chunk uintptr) bool {
	z := &a.zeroing
	if !z.held {
		k := min(maxOrder, MaxOrder)
		for ; k >= 0 && a.lists[k&(orderSlots-1)].head == 0; k-- {
		}
		if k < 0 {
			return false
		}
		i := a.lists[k&(orderSlots-1)].head - 1
		r := a.rec(i)
		a.remove(r, k)
		r.state = stZeroing
		z.i, z.order, z.done, z.held = i, k, 0, true
	}
	size := uintptr(FrameSize) << z.order
	n := min((max(chunk, 1)+FrameSize-1)&^(FrameSize-1), size-z.done)
	clear(a.bytesAt(a.addr(z.i)+PhysAddr(z.done), n))
	z.done += n
	if z.done == size {
		z.held = false
		if a.buddyFree(z.i, z.order) {
			// Its buddy was freed meanwhile: merge them, as free
			// blocks always are, at the cost of the clearing.
			z.held = true
			a.unhold()
		} else {
			a.pushZero(z.i, z.order)
		}
	}
	return z.held || a.unknownBlocks(maxOrder)
}

// unhold gives the block ZeroSome was clearing back to the lists, merged
// with its buddies, as of unknown contents (it was counted free all along).
//
// Not nosplit: a rare path (the idle CPU's held block), where a stack
// check starts a new bounded chain for the merge below it, which
// instrumented builds (fuzzing, -cover) would otherwise push past the
// linker's nosplit limit from the region map's callers.
func (a *FrameAllocator) unhold() {
	z := &a.zeroing
	if !z.held {
		return
	}
	z.held = false
	a.merge(z.i, a.rec(z.i), z.order)
}

// unknownBlocks reports whether a free block of unknown contents of order
// maxOrder or below exists.
//
//go:nosplit
func (a *FrameAllocator) unknownBlocks(maxOrder int) bool {
	for k := min(maxOrder, MaxOrder); k >= 0; k-- {
		if a.lists[k&(orderSlots-1)].head != 0 {
			return true
		}
	}
	return false
}

// buddyFree reports whether the buddy of the order-k block at index i is a
// free block of order k.
//
//go:nosplit
func (a *FrameAllocator) buddyFree(i uint32, k int) bool {
	b := i ^ 1<<k
	if k >= MaxOrder || b >= a.nframes {
		return false
	}
	br := a.rec(b)
	return br.state == stFree && int(br.order) == k
}

// Free returns a block that Alloc (or Split, for order 0) handed out, and
// merges it with its free buddies. The block's reference count must be 1 or
// 0. Any misuse returns an error and changes nothing.
//
//go:nosplit
func (a *FrameAllocator) Free(pa PhysAddr, order int) error {
	c := a.thisCache()
	if order == 0 && a.ncaches > 0 {
		i, err := a.liveHead(pa, 0)
		if err != nil {
			return err
		}
		r := a.rec(i)
		if atomic.LoadUint32(&r.ref) > 1 {
			return ErrShared
		}
		a.cachePut(c, i, r)
		c.frees++
		return nil
	}
	a.lockLists()
	i, err := a.liveHead(pa, order)
	if err != nil {
		a.unlockLists()
		return err
	}
	r := a.rec(i)
	if atomic.LoadUint32(&r.ref) > 1 {
		a.unlockLists()
		return ErrShared
	}
	a.setRef(r, 0)
	a.freeFrames += uint64(1) << order
	a.merge(i, r, order)
	a.unlockLists()
	c.frees += 1 << order
	return nil
}

// merge puts the block of order k at index i (record r), counted free
// already, on the free lists, merged with its buddy for as long as the
// buddy is a free block of the same order.
//
//go:nosplit
func (a *FrameAllocator) merge(i uint32, r *frameRec, k int) {
	for k < MaxOrder {
		b := i ^ 1<<k
		if b >= a.nframes {
			break
		}
		br := a.rec(b)
		if br.state != stFree || int(br.order) != k {
			break
		}
		a.remove(br, k)
		if b < i {
			r.state = stTail
			i, r = b, br
		} else {
			br.state = stTail
		}
		k++
	}
	a.push(i, k)
}

// Split turns the live block of 2^order frames at pa into 2^order live
// order-0 allocations, each with the block's reference count, so that its
// frames can be freed one at a time.
//
//go:nosplit
func (a *FrameAllocator) Split(pa PhysAddr, order int) error {
	a.lockLists()
	i, err := a.liveHead(pa, order)
	if err != nil {
		a.unlockLists()
		return err
	}
	r := a.rec(i)
	r.order = 0
	ref := atomic.LoadUint32(&r.ref)
	// The tails become heads: one pass of plain stores over their
	// records (a map_now of 2 MiB splits 511 of them). No other CPU reads
	// them meanwhile: the block is the caller's, not yet mapped or
	// shared, and unlocking the lists publishes the stores.
	t := (*[1 << MaxOrder]frameRec)(ptrAt(a.recVA + uintptr(i)*recSize))
	n := min(1<<order, len(t)) // (order is checked: the min only shows the compiler t is large enough)
	for j := 1; j < n; j++ {
		t[j].state, t[j].order, t[j].ref = stAlloc, 0, ref
	}
	a.unlockLists()
	return nil
}

// liveHead checks that pa is the start of a live allocation of the given
// order and returns its frame index.
//
//go:nosplit
func (a *FrameAllocator) liveHead(pa PhysAddr, order int) (uint32, error) {
	if uint(order) > MaxOrder {
		return 0, ErrBadOrder
	}
	if pa&(FrameSize<<order-1) != 0 {
		return 0, ErrMisaligned
	}
	i, err := a.index(pa)
	if err != nil {
		return 0, err
	}
	r := a.rec(i)
	if r.state != stAlloc {
		return 0, a.whyNotLive(i)
	}
	if int(r.order) != order {
		return 0, ErrWrongOrder
	}
	return i, nil
}

// index returns the frame index of the frame-aligned address pa.
//
//go:nosplit
func (a *FrameAllocator) index(pa PhysAddr) (uint32, error) {
	pfn := uint64(pa) >> frameShift
	if pfn < a.basePFN || pfn-a.basePFN >= uint64(a.nframes) {
		return 0, ErrOutOfRange
	}
	return uint32(pfn - a.basePFN), nil
}

// whyNotLive explains why frame i is not the head of a live allocation.
//
//go:nosplit
func (a *FrameAllocator) whyNotLive(i uint32) error {
	switch a.rec(i).state {
	case stReserved:
		return ErrNotAllocated
	case stFree, stZeroing, stCached:
		return ErrDoubleFree
	}
	h, ok := a.blockOf(i)
	if !ok {
		return ErrNotAllocated
	}
	if st := a.rec(h).state; st == stFree || st == stZeroing || st == stCached {
		return ErrDoubleFree
	}
	return ErrInsideBlock
}

// blockOf finds the head of the block containing frame i. A block of order
// m containing i starts at i rounded down to 2^m frames, and every frame
// between there and i is a tail, so the first head met going down is it.
//
//go:nosplit
func (a *FrameAllocator) blockOf(i uint32) (uint32, bool) {
	for k := 0; k <= MaxOrder; k++ {
		h := i &^ (1<<k - 1)
		r := a.rec(h)
		switch r.state {
		case stReserved:
			return 0, false
		case stFree, stAlloc, stZeroing, stCached:
			if int(r.order) >= k {
				return h, true
			}
			return 0, false
		}
	}
	return 0, false
}

// ---- Reference counts. ----

// refHead checks that pa is the first frame of a live allocation.
//
//go:nosplit
func (a *FrameAllocator) refHead(pa PhysAddr) (*frameRec, error) {
	if pa&(FrameSize-1) != 0 {
		return nil, ErrMisaligned
	}
	i, err := a.index(pa)
	if err != nil {
		return nil, err
	}
	r := a.rec(i)
	if r.state == stAlloc {
		return r, nil
	}
	if err := a.whyNotLive(i); err != ErrDoubleFree {
		return nil, err
	}
	return nil, ErrFrameFree
}

// IncRef adds a reference to the allocation starting at pa (a frame shared
// copy-on-write gains a mapping).
//
//go:nosplit
func (a *FrameAllocator) IncRef(pa PhysAddr) error {
	// The fast path (incRefsFast) for the head of a live allocation with
	// room in its count; anything else takes the checked path, which
	// names the problem.
	one := [1]uint64{uint64(pa)}
	if a.incRefsFast(one[:]) == 1 {
		return nil
	}
	return a.incRefChecked(pa)
}

// IncRefs is IncRef of every frame in pas (physical addresses: fork's
// batches of shared pages). Frames that IncRef would refuse are skipped,
// the others still counted: it returns how many were refused, and the
// first of them with its error.
//
//go:nosplit
func (a *FrameAllocator) IncRefs(pas []uint64) (refused int, first PhysAddr, err error) {
	for i := 0; i < len(pas); i++ {
		i += a.incRefsFast(pas[i:])
		if i >= len(pas) {
			break
		}
		if e := a.incRefChecked(PhysAddr(pas[i])); e != nil {
			if refused == 0 {
				first, err = PhysAddr(pas[i]), e
			}
			refused++
		}
	}
	return refused, first, err
}

// incRefsFast is IncRef's fast path for each frame of pas in turn, up to
// the first that needs the checked path; it returns how many it counted.
// A loop with no call in it, so that nothing is spilled per frame. (The
// caller holds a reference to each, so no count can drop to zero
// meanwhile: one locked add.)
//
//go:nosplit
func (a *FrameAllocator) incRefsFast(pas []uint64) int {
	base, n, recs, smp := a.basePFN, uint64(a.nframes), a.recVA, a.smp
	for k, pa := range pas {
		i := pa>>frameShift - base
		if pa&(FrameSize-1) != 0 || i >= n {
			return k
		}
		r := (*frameRec)(ptrAt(recs + uintptr(i)*recSize))
		if r.state != stAlloc || atomic.LoadUint32(&r.ref)-1 >= 1<<32-2 {
			return k
		}
		if smp {
			atomic.AddUint32(&r.ref, 1)
		} else {
			r.ref++
		}
	}
	return len(pas)
}

// incRefChecked is IncRef's checked path: every misuse gets its error.
//
//go:nosplit
func (a *FrameAllocator) incRefChecked(pa PhysAddr) error {
	r, err := a.refHead(pa)
	if err != nil {
		return err
	}
	for {
		old := atomic.LoadUint32(&r.ref)
		switch old {
		case 0:
			return ErrRefDead
		case 1<<32 - 1:
			return ErrRefOverflow
		}
		if atomic.CompareAndSwapUint32(&r.ref, old, old+1) {
			return nil
		}
	}
}

// DecRef drops a reference to the allocation starting at pa and returns the
// count left. It never frees: at zero the caller calls Free.
//
//go:nosplit
func (a *FrameAllocator) DecRef(pa PhysAddr) (remaining uint32, err error) {
	r, err := a.refHead(pa)
	if err != nil {
		return 0, err
	}
	old, ok := a.decRef(r)
	if !ok {
		return 0, ErrRefUnderflow
	}
	return old - 1, nil
}

// RefCount returns the reference count of the allocation containing the
// frame at pa, or 0 if the frame is not allocated (or pa is not a frame).
//
//go:nosplit
func (a *FrameAllocator) RefCount(pa PhysAddr) uint32 {
	i, err := a.index(pa)
	if err != nil || pa&(FrameSize-1) != 0 {
		return 0
	}
	// The common case, the copy-on-write fault's question: pa is the head
	// of its allocation (a 4 KiB page), so no search for the head.
	if r := a.rec(i); r.state == stAlloc {
		return atomic.LoadUint32(&r.ref)
	}
	h, ok := a.blockOf(i)
	if !ok {
		return 0
	}
	r := a.rec(h)
	if r.state != stAlloc {
		return 0
	}
	return atomic.LoadUint32(&r.ref)
}

// FreeFrames is Stats().FreeFrames without the rest: the VM asks it on
// every fault. It takes no lock: while other CPUs allocate and free, it
// is a count of some moment during the call, exact when they do not.
//
//go:nosplit
func (a *FrameAllocator) FreeFrames() uint64 {
	n := atomic.LoadUint64(&a.freeFrames)
	for k := 0; k < a.ncaches; k++ {
		c := &a.caches[k%MaxCPUs]
		n += uint64(atomic.LoadUint32(&c.n) + atomic.LoadUint32(&c.zn))
	}
	return n
}

// Contention reports how often a CPU found the lists' lock taken, and a
// cache's lock (another CPU draining it).
//
//go:nosplit
func (a *FrameAllocator) Contention() (lists, caches uint64) {
	for k := range a.caches {
		caches += a.caches[k].lock.Contended.Load()
	}
	return a.lock.Contended.Load(), caches
}

// TakenHere is how many frames the code running on this CPU has
// allocated, less those it freed, since Init: the VM charges an operation
// with the change in it across the operation, which frees and allocations
// on other CPUs meanwhile do not touch.
//
//go:nosplit
func (a *FrameAllocator) TakenHere() uint64 {
	c := a.thisCache()
	return atomic.LoadUint64(&c.allocs) - atomic.LoadUint64(&c.frees)
}

// Stats returns the counters.
//
// Exact: it holds every cache's lock and the lists' at once, so no frame
// is on its way between them. The caches' frames count as free blocks of
// order 0 (Drain first to see them merged).
//
//go:nosplit
//go:nosplit
func (a *FrameAllocator) Stats() (st FrameStats) {
	for k := 0; k < a.ncaches; k++ {
		a.caches[k%MaxCPUs].lock.Lock()
	}
	a.lockLists()
	st = FrameStats{
		TotalFrames:    a.totalFrames,
		FreeFrames:     a.freeFrames,
		ReservedFrames: a.reservedFrames,
		RecordFrames:   a.recordFrames,
	}
	for k := range st.FreeByOrder {
		st.FreeByOrder[k] = uint64(a.lists[k].count + a.zlists[k].count)
		st.ZeroByOrder[k] = uint64(a.zlists[k].count)
	}
	if z := &a.zeroing; z.held {
		st.FreeByOrder[z.order]++ // free, on no list while it is cleared
	}
	for k := range a.caches {
		c := &a.caches[k]
		st.Allocs += atomic.LoadUint64(&c.allocs)
		st.Frees += atomic.LoadUint64(&c.frees)
		if k < a.ncaches {
			st.FreeFrames += uint64(c.n + c.zn)
			st.FreeByOrder[0] += uint64(c.n + c.zn)
			st.ZeroByOrder[0] += uint64(c.zn)
		}
	}
	a.unlockLists()
	for k := 0; k < a.ncaches; k++ {
		a.caches[k%MaxCPUs].lock.Unlock()
	}
	return st
}

// ---- Init (boot context). ----

// Init builds the allocator over the usable ranges minus the reserved ones.
// physOffset is the virtual address at which physical address 0 is visible.
// Ranges may be unaligned, tiny, overlapping, unsorted or above 4 GiB; a
// usable frame is one wholly inside the union of the usable ranges, and a
// frame touching a reserved range is withheld, as is frame 0 always. The
// records (16 bytes per frame of the span from the lowest to the highest
// usable frame) go in the lowest usable place big enough, since early boot
// maps low memory first. Init returns ENOMEM if there is none, and
// ErrTooManyRanges for more than MaxInitRanges of either kind, and then
// leaves the allocator empty. It allocates nothing on the Go heap.
func (a *FrameAllocator) Init(physOffset uintptr, usable, reserved []PhysRange) error {
	*a = FrameAllocator{} // on any error, left empty: every Alloc fails
	if len(usable) > MaxInitRanges || len(reserved) > MaxInitRanges {
		return ErrTooManyRanges
	}
	a.physOffset = physOffset

	// Usable: union the exact byte ranges first (two abutting unaligned
	// ranges may together cover a frame neither covers), then shrink each
	// to whole frames. Reserved: grow to whole frames, then union.
	var use [MaxInitRanges]PhysRange
	var res [MaxInitRanges + 2]PhysRange // + frame 0, + the records
	nu := copy(use[:], usable)
	for i := range use[:nu] {
		use[i] = clampRange(use[i])
	}
	nu = mergeRanges(use[:nu])
	m := 0
	for _, r := range use[:nu] {
		r.Start = alignUp(r.Start, FrameSize)
		r.End = alignDown(r.End, FrameSize)
		if r.Start < r.End {
			use[m] = r
			m++
		}
	}
	nu = m
	// Frame 0 is never handed out: it is the real-mode interrupt table on
	// a PC, and paging takes physical address 0 to mean "no table".
	res[0] = PhysRange{0, FrameSize}
	nr := 1
	for _, r := range reserved {
		r = clampRange(r)
		if r.Start < r.End {
			res[nr] = PhysRange{alignDown(r.Start, FrameSize), alignUp(r.End, FrameSize)}
			nr++
		}
	}
	nr = mergeRanges(res[:nr])
	if nu == 0 {
		return nil // nothing usable: every Alloc fails with ENOMEM
	}

	// The span the records cover, starting at a 2^MaxOrder-frame boundary
	// so that a block's alignment in index is its alignment in address.
	a.basePFN = uint64(use[0].Start) >> frameShift &^ (1<<MaxOrder - 1)
	endPFN := uint64(use[nu-1].End) >> frameShift
	if endPFN-a.basePFN > maxFrames {
		endPFN = a.basePFN + maxFrames
	}
	a.nframes = uint32(endPFN - a.basePFN)
	limit := PhysAddr(endPFN << frameShift)

	for _, r := range use[:nu] {
		if r.Start < limit {
			a.totalFrames += uint64(min(r.End, limit)-r.Start) >> frameShift
		}
	}

	// Place the records: the lowest frame-aligned spot inside one usable
	// range that touches no reserved range. Candidates are the starts of
	// usable ranges and the ends of reserved ones.
	recBytes := uint64(a.nframes) * uint64(recSize)
	a.recordFrames = (recBytes + FrameSize - 1) >> frameShift
	size := PhysAddr(a.recordFrames << frameShift)
	found := false
	for _, u := range use[:nu] {
		try := func(s PhysAddr) bool {
			if s < u.Start || s >= u.End || u.End-s < size || s+size > limit {
				return false
			}
			for _, r := range res[:nr] {
				if r.Start < s+size && s < r.End {
					return false
				}
			}
			if !found || s < a.recPA {
				a.recPA, found = s, true
			}
			return true
		}
		if try(u.Start) {
			break // ranges are sorted: nothing later is lower
		}
		for _, r := range res[:nr] {
			try(r.End)
		}
		if found {
			break
		}
	}
	if !found {
		*a = FrameAllocator{}
		return ENOMEM
	}
	a.recVA = physOffset + uintptr(a.recPA)
	clear(a.bytesAt(a.recPA, uintptr(recBytes))) // all reserved

	// The records are reserved too: add them to the reserved list (the
	// last slot of res is theirs).
	res[nr] = PhysRange{a.recPA, a.recPA + size}
	nr = mergeRanges(res[:nr+1])

	// Free every usable frame outside the reserved ranges, as the largest
	// aligned blocks that fit, marking the other frames of each block as
	// tails.
	for _, u := range use[:nu] {
		s := u.Start
		for _, r := range res[:nr] {
			if r.End <= s || r.Start >= u.End {
				continue
			}
			a.freeRange(s, min(r.Start, u.End), limit)
			s = max(s, r.End)
		}
		a.freeRange(s, u.End, limit)
	}
	a.reservedFrames = a.totalFrames - a.freeFrames
	return nil
}

// freeRange frees the frames of [s, e) (frame aligned) below limit.
func (a *FrameAllocator) freeRange(s, e, limit PhysAddr) {
	e = min(e, limit)
	if s >= e {
		return
	}
	i := uint32(uint64(s)>>frameShift - a.basePFN)
	end := uint32(uint64(e)>>frameShift - a.basePFN)
	for i < end {
		k := MaxOrder
		for i&(1<<k-1) != 0 || end-i < 1<<k {
			k--
		}
		for j := uint32(1); j < 1<<k; j++ {
			a.rec(i + j).state = stTail
		}
		a.push(i, k)
		a.freeFrames += 1 << k
		i += 1 << k
	}
}

// mergeRanges sorts r in place by start, drops empty ranges, merges
// overlapping and abutting ones, and returns how many are left.
func mergeRanges(r []PhysRange) int {
	// Insertion sort: at most MaxInitRanges+2 ranges, and no allocation.
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].Start < r[j-1].Start; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
	n := 0
	for _, x := range r {
		if x.Start >= x.End {
			continue
		}
		if n > 0 && x.Start <= r[n-1].End {
			r[n-1].End = max(r[n-1].End, x.End)
			continue
		}
		r[n] = x
		n++
	}
	return n
}

// maxPhys is the architectural limit of x86-64 physical addresses (52
// bits). Clamping every range to it keeps the alignment arithmetic from
// overflowing on a nonsense memory map.
const maxPhys = 1 << 52

func clampRange(r PhysRange) PhysRange {
	return PhysRange{min(r.Start, maxPhys), min(r.End, maxPhys)}
}

func alignUp(x, a PhysAddr) PhysAddr   { return (x + a - 1) &^ (a - 1) }
func alignDown(x, a PhysAddr) PhysAddr { return x &^ (a - 1) }
