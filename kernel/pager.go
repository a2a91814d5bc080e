//go:build hurdvm

// The pager in the kernel (docs/DESIGN.md, "Pager"): the compressed store
// (made at boot, pagerInit from vmInit), and the pager's goroutine, which
// sleeps on a futex until a page fault or a memory call finds free frames
// below pagerLow (pagerNote), and then asks the kernel (SysPagerRun,
// handler context) to evict task pages until pagerHigh. pagerInit runs in
// kmain; pagerRun in the system-call handler; pagerNote in the fault path
// and the memory calls, pagerWakeOwed in the scheduler (handler context
// all three); pagerLoop is ordinary Go.
//
// The wake (wake-on-demand, DESIGN section 9). The fault path holds no
// kernel lock and may not take it (it holds a space's lock, or the kernel
// lock would put every fault of every CPU behind the scheduler's), while
// waking a thread is the scheduler's business, under the kernel lock. So
// the fault that finds memory short only notes it: pagerWord goes from 0
// (the goroutine sleeps, or is about to) to 1 by a compare-and-swap, so
// that one fault of many sends the note; pagerKick says a wake is owed;
// and an interrupt to its own CPU (vecWakeup) brings the CPU into the
// scheduler as soon as the fault returns, where pagerWakeOwed wakes the
// goroutine's futex under the kernel lock. No allocation, no Go lock, one
// IPI per wake. The goroutine sets pagerWord to 1 while it runs (faults
// then send nothing), back to 0 before it looks at the free frames a last
// time and sleeps, so a note is never lost: one that comes before the
// look is seen by it, one after finds the word 0 and wakes the futex (or
// makes FUTEX_WAIT return at once).

package kernel

import (
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"hurdvm/mm"
	"hurdvm/mm/store"
)

var (
	// kernelStore is where evicted task pages go: frames of the
	// allocator, capacity min(RAM/2, 4 GiB) or hurdvm.store=.
	kernelStore store.Compressed
	// The water marks, in free frames: below pagerLow the goroutine
	// evicts until pagerHigh (pagerGap above it). pagerBootLow is
	// pagerInit's low mark (test kernels can move it: setPagerLow).
	pagerLow, pagerHigh    atomic.Uint64
	pagerGap, pagerBootLow uint64
	// pagerNext is the task slot the next pager step starts with
	// (round robin over the spaces).
	pagerNext atomic.Uint32

	// pagerWord is the goroutine's futex word: 0 while it sleeps (or is
	// about to), 1 while it runs or once a note is on its way. Only
	// atomics touch it.
	pagerWord uint32
	// pagerKick: a note was sent and the wake is owed (pagerWakeOwed).
	pagerKick atomic.Uint32
	// pagerWakes counts the goroutine's wakes by a note. pagerNotedAt
	// is when a fault last found free frames short while the goroutine
	// slept (nanotime; 0 once the goroutine looked), pagerLatency the
	// time from then to the goroutine's first look after it, and
	// pagerLatencyMax the longest (test kernels read them).
	pagerWakes, pagerLooks        atomic.Uint64 // pagerLooks: the latencies measured
	pagerNotedAt                  atomic.Int64
	pagerLatency, pagerLatencyMax atomic.Int64
	// pagerPolling turns wake-on-demand off (test kernels, to show what
	// it changes): the goroutine polls as it did before it, every
	// pagerPeriod, or pagerIdle while free frames are plentiful.
	pagerPolling atomic.Bool
)

const (
	// pagerPeriod: how long the goroutine waits before it looks again
	// when free frames are below the low-water mark and nothing more can
	// be evicted now (every task page shared, evicted or just used): a
	// note would wake it at every fault then. A fault that finds them
	// short meanwhile evicts in its own space (mm's reclaim).
	pagerPeriod = 10 * time.Millisecond
	// pagerIdle is the polling period while free frames are plentiful
	// (above twice pagerHigh), when wake-on-demand is off (pagerPolling).
	pagerIdle = 100 * time.Millisecond
	// pagerStep bounds the evictions of one SysPagerRun (interrupts are
	// off in it); the goroutine calls again while there is work.
	pagerStep = 64
	// pagerScan bounds the pages one call looks at (Accessed bits
	// tested and cleared).
	pagerScan = 1024
)

// pagerInit makes the store and the water marks (kmain, from vmInit).
func pagerInit() {
	total := frames.Stats().TotalFrames
	capacity, err := store.CapacityFromCmdline(cmdline[:cmdlineLen], total*pageSize)
	if err != nil {
		kprint("hurdvm: ")
		kprint(err.Error())
		kprint("; the store gets its default size\n")
	}
	kernelStore.Init(mm.StoreFrames{VM: &kernelVM}, capacity)
	kernelVM.SetStore(&kernelStore)
	pagerGap = max(total/64, 256)
	pagerBootLow = runtimeReserve + pagerGap
	setPagerLow(pagerBootLow)
}

// setPagerLow sets the low-water mark to low free frames (0: pagerInit's)
// and the high one pagerGap above it, and returns the old low mark.
func setPagerLow(low uint64) uint64 {
	if low == 0 {
		low = pagerBootLow
	}
	old := pagerLow.Load()
	pagerLow.Store(low)
	pagerHigh.Store(low + pagerGap)
	return old
}

// pagerRun is one step of the pager (SysPagerRun): with start set, only
// when free frames are below pagerLow; then, while they are below
// pagerHigh, the task spaces in turn (under each one's lock, one at a
// time) run their clocks (mm.AddressSpace.EvictSome): a space keeps the
// turn while its clock moves, at most pagerStep evictions and pagerScan
// pages a call. It returns pagerAgain when the goroutine should call again
// at once, pagerStuck when free frames are still below the high-water
// mark and the clocks found nothing to do, pagerDone otherwise (and
// pagerPlenty, for the polling goroutine, when free frames are above
// twice the high-water mark).
func pagerRun(start bool) uint64 {
	if at := pagerNotedAt.Load(); at != 0 && start {
		d := nanotime() - at
		pagerNotedAt.Store(0)
		pagerLatency.Store(d)
		pagerLooks.Add(1)
		if d > pagerLatencyMax.Load() {
			pagerLatencyMax.Store(d)
		}
	}
	free := func() uint64 { return kernelVM.Frames.FreeFrames() }
	pagerLow, pagerHigh := pagerLow.Load(), pagerHigh.Load()
	if start && free() >= 2*pagerHigh {
		return pagerPlenty
	}
	if start && free() >= pagerLow || free() >= pagerHigh {
		return pagerDone
	}
	evicted, cleared := 0, 0
	for tries := 0; tries < maxSpaces && evicted < pagerStep && free() < pagerHigh; tries++ {
		i := pagerNext.Load()
		if i == kernelSpace || i >= maxSpaces {
			pagerNext.Store(1)
			continue
		}
		as := &spaces[i]
		lockSpace(as)
		k, c := 0, 0
		if as.PT.Live() {
			k, c = as.EvictSome(pagerStep-evicted, pagerScan)
		}
		unlockSpace(as)
		evicted, cleared = evicted+k, cleared+c
		if k+c > 0 {
			break
		}
		// Nothing here (or a lap done): the next space.
		pagerNext.Store(i%(maxSpaces-1) + 1) // the task slots, 1 to maxSpaces-1
	}
	switch {
	case free() >= pagerHigh:
		return pagerDone
	case evicted+cleared > 0:
		// Call again while the clock moved and memory is still short:
		// each call either evicts or clears Accessed bits, and once a
		// lap has cleared them all the next ones evict.
		return pagerAgain
	}
	return pagerStuck
}

// pagerRun's results.
const (
	pagerDone = iota
	pagerAgain
	pagerPlenty
	pagerStuck
)

// pagerNote is called by handler code after it took frames (a page fault,
// a memory call) with no space lock held: if free frames are below the
// low-water mark and the goroutine sleeps, it sends the note that wakes
// it (the package comment says how). A fault on one CPU costs two loads
// and a compare while memory is not short.
//
//go:nosplit
func pagerNote() {
	if kernelVM.Frames.FreeFrames() >= pagerLow.Load() || atomic.LoadUint32(&pagerWord) != 0 {
		return
	}
	if pagerPolling.Load() {
		// No wake: the goroutine's next poll finds the free frames
		// short. Only when that was is recorded, to compare.
		pagerNotedAt.CompareAndSwap(0, nanotime())
		return
	}
	if !atomic.CompareAndSwapUint32(&pagerWord, 0, 1) {
		return
	}
	pagerNotedAt.Store(nanotime())
	pagerKick.Store(1)
	lapicSendSelf(vecWakeup) // taken once the trap returns: the CPU enters the scheduler
}

// pagerWakeOwed wakes the goroutine if a note asked for it (leaveKernel,
// under the kernel lock). On a CPU with no idle CPU to take the goroutine,
// the current thread yields to it: the pager starts now, not at the end of
// the thread's slice.
func pagerWakeOwed(c *cpu) {
	if pagerKick.Load() == 0 || pagerKick.Swap(0) == 0 {
		return
	}
	if futexWake(uint64(uintptr(unsafe.Pointer(&pagerWord))), 1, futexBitsetAny) == 0 {
		return // it was not asleep yet: its last look sees the note
	}
	pagerWakes.Add(1)
	for i := int32(0); i < ncpu; i++ {
		if i != c.index && isIdle(cpus[i].current) {
			return // wake kicked it
		}
	}
	c.yielding = true
}

// pagerLoop is the pager's goroutine.
func pagerLoop() {
	for {
		atomic.StoreUint32(&pagerWord, 1)
		var r uintptr
		for start := uintptr(1); ; start = 0 {
			r, _, _ = syscall.RawSyscall(mm.SysPagerRun, start, 0, 0)
			if r != pagerAgain {
				break
			}
		}
		if pagerPolling.Load() {
			// Wake-on-demand off: poll as before it (the word at 0
			// while it sleeps, so that faults record when they found
			// memory short).
			atomic.StoreUint32(&pagerWord, 0)
			if r == pagerPlenty {
				time.Sleep(pagerIdle)
			} else {
				time.Sleep(pagerPeriod)
			}
			continue
		}
		if r == pagerStuck {
			// Memory short and nothing to evict now: look again in a
			// while, the word left at 1 so that faults send no note.
			time.Sleep(pagerPeriod)
			continue
		}
		// Memory is not short: sleep until a note. The word at 0 first,
		// then a last look, so that a note sent before it is not lost.
		atomic.StoreUint32(&pagerWord, 0)
		if r, _, _ := syscall.RawSyscall(mm.SysPagerRun, 1, 0, 0); r != pagerDone && r != pagerPlenty {
			continue
		}
		// EAGAIN when a note set the word meanwhile; EINTR: look again.
		syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&pagerWord)), futexOpWait|futexPrivate, 0, 0, 0, 0)
	}
}

// setPagerPolling turns wake-on-demand off (polling on) or back on, and
// returns the old setting; the goroutine, which may sleep on its futex,
// is woken to take the new one (test kernels: the hook's system call,
// under the kernel lock).
func setPagerPolling(on bool) bool {
	old := pagerPolling.Swap(on)
	pagerWakeNow()
	return old
}

// pagerWakeNow wakes the goroutine if it sleeps on its futex, for it to
// look at the free frames (and the settings) again: the test kernels'
// hooks, under the kernel lock, after they change the marks or the mode.
func pagerWakeNow() {
	atomic.StoreUint32(&pagerWord, 1)
	futexWake(uint64(uintptr(unsafe.Pointer(&pagerWord))), 1, futexBitsetAny)
}

func init() { go pagerLoop() }
