package mm

import (
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"unsafe"
)

// Benchmarks of the region map at 10, 1,000, 100,000 and 1,000,000
// regions: one-page regions with one-page gaps from page 0 (regionComb),
// inserted in address order. The frames are a simulated physical window
// backed by transparent huge pages where the host gives them, as the
// kernel's physmap maps RAM with large pages: the figures then measure the
// tree and the cache, not the host's TLB.
//
// Besides ns/op (wall time), each reports cpu-ns/op: the CPU time of the
// benchmark's own thread, which on a host shared with other work leaves
// out the time the thread waited for a CPU.
//
//	go test -run X -bench Region -benchtime 1s ./mm/

var regionBenchSizes = []int{10, 1000, 100_000, 1_000_000}

// benchFrames is regionFrames over memory advised to huge pages.
func benchFrames(b *testing.B, size uintptr) *FrameAllocator {
	b.Helper()
	mem, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		b.Skipf("cannot map a %d-byte window: %v", size, err)
	}
	_ = syscall.Madvise(mem, 14) // MADV_HUGEPAGE; a hint
	b.Cleanup(func() { syscall.Munmap(mem) })
	a := new(FrameAllocator)
	if err := a.Init(uintptr(unsafe.Pointer(&mem[0])), []PhysRange{{0, PhysAddr(size)}}, nil); err != nil {
		b.Fatal(err)
	}
	return a
}

// benchEachSize runs f as a sub-benchmark per size on a comb of that many
// regions, built once per size, and reports cpu-ns/op: the thread's CPU
// time over the timed part (f calls cpu.start and cpu.stop around what it
// times, as it would b.StartTimer and b.StopTimer).
func benchEachSize(b *testing.B, f func(b *testing.B, m *RegionMap, n int, cpu *vmbClock)) {
	for _, n := range regionBenchSizes {
		a := benchFrames(b, max(64<<20, uintptr(n/leafCap+64)*4*FrameSize*2))
		m := newRegionMap(b, a)
		regionComb(b, m, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var cpu vmbClock
			f(b, m, n, &cpu)
			b.ReportMetric(float64(cpu.total)/float64(b.N), "cpu-ns/op")
		})
		m.Destroy()
	}
}

// BenchmarkRegionFind: Find over the whole map, region after region in
// address order, half the lookups in the gaps: the pattern of faults
// walking through memory. Each lookup descends from the root.
func BenchmarkRegionFind(b *testing.B) {
	benchEachSize(b, func(b *testing.B, m *RegionMap, n int, cpu *vmbClock) {
		found := 0
		cpu.start()
		for i := range b.N {
			if _, ok := m.Find(uintptr(i%(2*n))*rPage + 123); ok {
				found++
			}
		}
		cpu.stop()
		if found != (b.N+1)/2 && b.N <= 2*n {
			b.Fatalf("found %d of %d", found, b.N)
		}
	})
}

// BenchmarkRegionFindRandom: Find at addresses spread over the whole map
// in no order (a stride coprime with 2n pages): every lookup a different
// leaf, which at a million regions (30 MiB of nodes) is a cache miss or
// more, the cost of memory rather than of the search.
func BenchmarkRegionFindRandom(b *testing.B) {
	benchEachSize(b, func(b *testing.B, m *RegionMap, n int, cpu *vmbClock) {
		found := 0
		cpu.start()
		for i := range b.N {
			if _, ok := m.Find(uintptr(i*7919%(2*n))*rPage + 123); ok {
				found++
			}
		}
		cpu.stop()
		if found == 0 && b.N >= 2*n {
			b.Fatal("found nothing")
		}
	})
}

// BenchmarkRegionInsertRemove: an Insert into a gap (no merge, different
// attributes) and the RemoveRange of it, at places spread over the map.
func BenchmarkRegionInsertRemove(b *testing.B) {
	benchEachSize(b, func(b *testing.B, m *RegionMap, n int, cpu *vmbClock) {
		pieces := 0
		visit := func(Region) { pieces++ }
		cpu.start()
		for i := range b.N {
			p := uintptr(2*(i*7919%n) + 1)
			if err := m.Insert(rgn(p, p+1, ProtRead)); err != nil {
				b.Fatal(err)
			}
			if err := m.RemoveRange(p*rPage, (p+1)*rPage, visit); err != nil {
				b.Fatal(err)
			}
		}
		cpu.stop()
		if pieces != b.N {
			b.Fatalf("%d pieces for %d removals", pieces, b.N)
		}
	})
}

// BenchmarkRegionFindFree: first fit of two pages when no gap between the
// regions fits: the answer is past the last region.
func BenchmarkRegionFindFree(b *testing.B) {
	benchEachSize(b, func(b *testing.B, m *RegionMap, n int, cpu *vmbClock) {
		want := uintptr(2*n-1) * rPage
		cpu.start()
		for range b.N {
			if s, err := m.FindFree(2*rPage, rPage, 0, 1<<46); s != want || err != nil {
				b.Fatal(s, err)
			}
		}
		cpu.stop()
	})
}

// BenchmarkRegionFindFreeOneGap: first fit when exactly one gap fits, in
// the middle of the map, 2 MiB aligned there: the search walks down to it
// (and, for the alignment, into every subtree holding a gap of two pages
// or more below it: here none).
func BenchmarkRegionFindFreeOneGap(b *testing.B) {
	benchEachSize(b, func(b *testing.B, m *RegionMap, n int, cpu *vmbClock) {
		p := uintptr(n/2*2) &^ 511 // a 2 MiB boundary, inside the comb
		if p < 512 {
			p = 0
		}
		if err := m.RemoveRange(p*rPage, (p+3)*rPage, nil); err != nil {
			b.Fatal(err)
		}
		if p > 0 { // the gap's left side is the gap before page p
			p--
		}
		defer func() {
			for q := p; q < p+4; q++ {
				if q%2 == 0 && !m.Overlaps(q*rPage, (q+1)*rPage) {
					_ = m.Insert(rgn(q, q+1, protRW))
				}
			}
		}()
		want, _ := m.FindFree(3*rPage, 1<<21, 0, 1<<46)
		b.ResetTimer()
		cpu.start()
		for range b.N {
			if s, err := m.FindFree(3*rPage, 1<<21, 0, 1<<46); s != want || err != nil {
				b.Fatal(s, err)
			}
		}
		cpu.stop()
	})
}

// BenchmarkRegionDestroy: Destroy of a map: fresh copies of the comb are
// made (Clone) with the timer stopped, up to 64 at a time for small maps, then
// destroyed one after the other in one timed span. cpu-ns/region is the
// figure that compares across sizes.
func BenchmarkRegionDestroy(b *testing.B) {
	benchEachSize(b, func(b *testing.B, m *RegionMap, n int, cpu *vmbClock) {
		batch := min(max(100_000/n, 1), 64)
		cs := make([]RegionMap, batch)
		for i := 0; i < b.N; i += batch {
			k := min(batch, b.N-i)
			b.StopTimer()
			for j := range k {
				if err := cs[j].Init(m.frames); err != nil {
					b.Fatal(err)
				}
				if err := m.Clone(&cs[j]); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			cpu.start()
			for j := range k {
				cs[j].Destroy()
			}
			cpu.stop()
		}
		b.ReportMetric(float64(cpu.total)/float64(b.N)/float64(n), "cpu-ns/region")
	})
}

// BenchmarkRegionSplitMerge: removing a page from the middle of a region
// (a split) and putting it back (a merge on both sides), among 100.
func BenchmarkRegionSplitMerge(b *testing.B) {
	a := regionFrames(b, 1<<20)
	m := newRegionMap(b, a)
	for i := range uintptr(100) {
		if err := m.Insert(rgn(4*i, 4*i+3, protRW)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		p := uintptr(4*(i%100) + 1)
		if err := m.RemoveRange(p*rPage, (p+1)*rPage, nil); err != nil {
			b.Fatal(err)
		}
		if err := m.Insert(rgn(p, p+1, protRW)); err != nil {
			b.Fatal(err)
		}
	}
}
