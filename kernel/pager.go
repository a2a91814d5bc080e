//go:build hurdvm

// The pager in the kernel (docs/DESIGN.md, "Pager"): the compressed store
// (made at boot, pagerInit from vmInit), and the pager's goroutine, which
// wakes every pagerPeriod (pagerIdle while memory is plentiful) and, when
// free frames are below pagerLow, asks
// the kernel (SysPagerRun, handler context) to evict task pages until
// pagerHigh. pagerInit runs in kmain; pagerRun in the system-call handler;
// pagerLoop is ordinary Go.

package kernel

import (
	"sync/atomic"
	"syscall"
	"time"

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
)

const (
	// pagerPeriod: how often the goroutine looks at the free frames. A
	// fault that finds them short evicts in its own space meanwhile
	// (mm's reclaim), so the period bounds only how soon the others'
	// pages start to go.
	pagerPeriod = 10 * time.Millisecond
	// pagerIdle is the period while free frames are plentiful (above
	// twice pagerHigh): the goroutine costs the machine ten wake-ups a
	// second then, not a hundred.
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
// pages a call. It returns 1 when the goroutine should call again at once,
// 2 when free frames are plentiful (the goroutine may sleep longer).
func pagerRun(start bool) uint64 {
	free := func() uint64 { return kernelVM.Frames.FreeFrames() }
	pagerLow, pagerHigh := pagerLow.Load(), pagerHigh.Load()
	if start && free() >= 2*pagerHigh {
		return 2
	}
	if start && free() >= pagerLow || free() >= pagerHigh {
		return 0
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
	// Call again while the clock moved and memory is still short: each
	// call either evicts or clears Accessed bits, and once a lap has
	// cleared them all the next ones evict.
	if evicted+cleared > 0 && free() < pagerHigh {
		return 1
	}
	return 0
}

// pagerLoop is the pager's goroutine.
func pagerLoop() {
	period := pagerPeriod
	for {
		time.Sleep(period)
		period = pagerPeriod
		start := uintptr(1)
		for {
			r, _, _ := syscall.RawSyscall(mm.SysPagerRun, start, 0, 0)
			if r == 2 {
				period = pagerIdle
			}
			if r != 1 {
				break
			}
			start = 0
		}
	}
}

func init() { go pagerLoop() }
