package mm

import (
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"unsafe"
)

// BenchmarkRegionMapVM measures the region map as the VM uses it, through
// an AddressSpace on the simulated machine, at 10 to 1,000,000 regions:
// one-page regions with three-page gaps (so no new region touches one, and
// none merge), made with VM_HERE in address order. Four operations:
//
//	lookup      Regions.Find, what the page-fault handler does first, at
//	            addresses spread over the map (half in regions, half in gaps)
//	anywhere    Allocate of 4 pages without VM_HERE: first fit, where no
//	            gap between regions fits (the answer is past the last one)
//	here        Allocate of 1 page with VM_HERE in a gap, spread over the map
//	dealloc     Deallocate of such a page (a whole region goes)
//
// Each reports cpu-ns/op, the CPU time of the benchmark's own thread per
// operation (on a shared host wall time also counts waiting for a CPU),
// timed over batches of up to 100 operations; the undoing of a batch
// (deallocating what it allocated, or the reverse) is not timed. The file
// uses nothing but the VM's interface, so that the same file measures
// another implementation of the map (README "Region map").
//
//	go test -run X -bench RegionMapVM -benchtime 0.2s ./mm/
func BenchmarkRegionMapVM(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10_000, 100_000, 1_000_000} {
		m := newTestMachine(b, PhysAddr(max(64<<20, n*64)))
		_ = syscall.Madvise(m.ar.mem, 14) // MADV_HUGEPAGE, as the physmap maps RAM with large pages; a hint
		as := new(AddressSpace)
		if err := as.Init(&m.vm, vmbWindowStart, vmbWindowEnd); err != nil {
			b.Fatal(err)
		}
		built := true
		for i := range n {
			a := vmbRegion(i)
			if err := as.Allocate(&a, PageSize, VM_HERE, false); err != nil {
				built = false // the map cannot hold n regions
				break
			}
		}
		for _, op := range vmbOps {
			b.Run(op.name+"/"+strconv.Itoa(n), func(b *testing.B) {
				if !built {
					b.Skipf("the map does not hold %d regions", n)
				}
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var clk vmbClock
				op.f(b, as, n, &clk)
				b.ReportMetric(float64(clk.total)/float64(b.N), "cpu-ns/op")
			})
		}
		as.Destroy()
	}
}

const (
	vmbWindowStart = 0x0000_4000_0000_0000
	vmbWindowEnd   = 0x0000_8000_0000_0000
	vmbBatch       = 100
)

// vmbRegion is the address of region i; vmbGap(i) the page in the middle
// of the gap after it.
func vmbRegion(i int) uintptr { return vmbWindowStart + uintptr(4*i)*PageSize }
func vmbGap(i int) uintptr    { return vmbRegion(i) + 2*PageSize }

// vmbSpread is the k-th index of an order that jumps over [0, n).
func vmbSpread(k, n int) int { return int(uint64(k) * 7919 % uint64(n)) }

var vmbOps = []struct {
	name string
	f    func(b *testing.B, as *AddressSpace, n int, clk *vmbClock)
}{
	{"lookup", func(b *testing.B, as *AddressSpace, n int, clk *vmbClock) {
		found := 0
		clk.start()
		for i := range b.N {
			va := vmbRegion(vmbSpread(i, n)) + uintptr(i&1)*2*PageSize + 123
			if _, ok := as.Regions.Find(va); ok {
				found++
			}
		}
		clk.stop()
		if found != (b.N+1)/2 {
			b.Fatalf("found %d of %d", found, b.N)
		}
	}},
	{"anywhere", func(b *testing.B, as *AddressSpace, n int, clk *vmbClock) {
		var got [vmbBatch]uintptr
		for i := 0; i < b.N; i += vmbBatch {
			k := min(vmbBatch, b.N-i)
			clk.start()
			for j := range k {
				if err := as.Allocate(&got[j], 4*PageSize, 0, false); err != nil {
					b.Fatal(err)
				}
			}
			clk.stop()
			b.StopTimer()
			if got[0] <= vmbRegion(n-1) {
				b.Fatalf("first fit at %#x, inside the map", got[0])
			}
			for j := range k {
				if err := as.Deallocate(got[j], 4*PageSize); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
	}},
	{"here", func(b *testing.B, as *AddressSpace, n int, clk *vmbClock) { vmbHere(b, as, n, clk, true) }},
	{"dealloc", func(b *testing.B, as *AddressSpace, n int, clk *vmbClock) { vmbHere(b, as, n, clk, false) }},
}

// vmbHere allocates a page with VM_HERE in gaps spread over the map and
// deallocates it again, b.N of each, in batches of up to vmbBatch (and n),
// timing the allocations (timeAlloc) or the deallocations.
func vmbHere(b *testing.B, as *AddressSpace, n int, clk *vmbClock, timeAlloc bool) {
	for i := 0; i < b.N; {
		k := min(vmbBatch, b.N-i, n)
		for half, timed := range [2]bool{timeAlloc, !timeAlloc} {
			if timed {
				clk.start()
			} else {
				b.StopTimer()
			}
			for j := range k {
				a := vmbGap(vmbSpread(i+j, n))
				var err error
				if half == 0 {
					err = as.Allocate(&a, PageSize, VM_HERE, false)
				} else {
					err = as.Deallocate(a, PageSize)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if timed {
				clk.stop()
			} else {
				b.StartTimer()
			}
		}
		i += k
	}
}

// vmbClock adds up the CPU time of the calling thread between start and
// stop (CLOCK_THREAD_CPUTIME_ID), less what an empty start-stop pair
// measures.
type vmbClock struct{ began, total int64 }

func vmbThreadCPU() int64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0) // CLOCK_THREAD_CPUTIME_ID
	return ts.Nano()
}

var vmbClockCost = func() int64 {
	least := int64(1 << 62)
	for range 1000 {
		t := vmbThreadCPU()
		least = min(least, vmbThreadCPU()-t)
	}
	return least
}()

func (c *vmbClock) start() { c.began = vmbThreadCPU() }
func (c *vmbClock) stop()  { c.total += max(vmbThreadCPU()-c.began-vmbClockCost, 0) }
