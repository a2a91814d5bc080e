//go:build hurdvm && hurdvmtest

// Package frames tests the physical frame allocator in the kernel, over the
// machine's real memory map: booted by make test-qemu at 512 MiB and again
// at 128 MiB, 1 GiB and 5 GiB (RAM above 4 GiB).
package frames

import (
	"runtime"
	"runtime/debug"
	"testing"
	"unsafe"

	"hurdvm/kernel"
	"hurdvm/mm"
	"hurdvm/tests/internal/probe"
)

// TestCountsMatchMemoryMap: every whole frame of the map's usable RAM is
// known to the allocator, free or accounted for as reserved or in use.
func TestCountsMatchMemoryMap(t *testing.T) {
	var usable, wholeFrames uint64
	for _, r := range kernel.MemoryMap() {
		if !r.Usable {
			continue
		}
		usable += r.Length
		lo := (r.Base + mm.FrameSize - 1) &^ (mm.FrameSize - 1)
		hi := (r.Base + r.Length) &^ (mm.FrameSize - 1)
		if hi > lo {
			wholeFrames += (hi - lo) / mm.FrameSize
		}
	}
	st := kernel.FrameStats()
	t.Logf("usable %d MiB in the map; allocator: %d frames, %d free, %d reserved (%d for records)",
		usable>>20, st.TotalFrames, st.FreeFrames, st.ReservedFrames, st.RecordFrames)
	if st.TotalFrames != wholeFrames {
		t.Errorf("allocator knows %d frames, the map has %d whole usable frames", st.TotalFrames, wholeFrames)
	}
	inUse := st.Allocs - st.Frees
	if st.ReservedFrames+st.FreeFrames+inUse != st.TotalFrames {
		t.Errorf("reserved %d + free %d + in use %d != total %d", st.ReservedFrames, st.FreeFrames, inUse, st.TotalFrames)
	}
	// The kernel keeps little for itself: the image, the low MiB, the
	// early tables and the records (16 bytes a frame at most).
	if max := 64<<20/mm.FrameSize + st.TotalFrames/256; st.ReservedFrames > max {
		t.Errorf("%d frames reserved, more than %d", st.ReservedFrames, max)
	}
}

type block struct {
	pa    uint64
	order int
}

func word(pa uint64) *uint64 { return (*uint64)(unsafe.Pointer(uintptr(kernel.PhysmapBase + pa))) }

// TestExhaustPatternFree takes every free frame (largest blocks first),
// writes a pattern naming each frame into it through the physmap, checks
// every pattern, gives everything back and finds the free lists as they
// were. The Go runtime must not need a new frame meanwhile: the GC is off
// and the bookkeeping slice is allocated and touched beforehand.
func TestExhaustPatternFree(t *testing.T) {
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	n := 0
	for _, c := range kernel.FrameStats().FreeByOrder {
		n += int(c)
	}
	blocks := make([]block, n+64)
	for i := range blocks {
		blocks[i] = block{}
	}
	heap := probe.Held(mm.ReadStats())
	start := kernel.FrameStats()
	got := 0
	for order := mm.MaxOrder; order >= 0; order-- {
		for got < len(blocks) {
			pa, err := kernel.AllocFrames(order)
			if err != nil {
				break
			}
			blocks[got] = block{pa, order}
			got++
		}
	}
	exhausted := kernel.FrameStats()
	_, errAfter := kernel.AllocFrames(0)
	for _, b := range blocks[:got] {
		for f := uint64(0); f < 1<<b.order; f++ {
			pa := b.pa + f*mm.FrameSize
			*word(pa) = pa ^ 0x5a5a_5a5a_5a5a_5a5a
			*word(pa + mm.FrameSize - 8) = ^pa
		}
	}
	bad := 0
	for _, b := range blocks[:got] {
		for f := uint64(0); f < 1<<b.order; f++ {
			pa := b.pa + f*mm.FrameSize
			if *word(pa) != pa^0x5a5a_5a5a_5a5a_5a5a || *word(pa + mm.FrameSize - 8) != ^pa {
				bad++
			}
		}
	}
	for _, b := range blocks[:got] {
		if err := kernel.FreeFrames(b.pa, b.order); err != nil {
			t.Fatalf("freeing %#x order %d: %v", b.pa, b.order, err)
		}
	}
	end := kernel.FrameStats()
	heapTook := probe.Held(mm.ReadStats()) - heap // the runtime and the kernel may take frames meanwhile
	// Everything but the Go runtime's reserve (mm.VM.Reserve: 1024 frames).
	if exhausted.FreeFrames > 1024 || errAfter == nil {
		t.Errorf("after taking everything: %d frames still free, one more allocation: %v", exhausted.FreeFrames, errAfter)
	}
	if bad != 0 {
		t.Errorf("%d frames lost their pattern: two allocations overlap", bad)
	}
	if end.FreeFrames+heapTook != start.FreeFrames || (heapTook == 0 && end.FreeByOrder != start.FreeByOrder) {
		t.Errorf("free lists did not come back: %d free (+%d the runtime took) by order %v, want %d by order %v",
			end.FreeFrames, heapTook, end.FreeByOrder, start.FreeFrames, start.FreeByOrder)
	}
	t.Logf("took %d blocks, %d frames (%d MiB), patterned and checked every one", got, start.FreeFrames, start.FreeFrames>>8)
}

func TestDoubleFreeIsRefused(t *testing.T) {
	pa, err := kernel.AllocFrames(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := kernel.FreeFrames(pa, 0); err != nil {
		t.Fatal(err)
	}
	before := kernel.FrameStats()
	if err := kernel.FreeFrames(pa, 0); err == nil {
		t.Fatal("a double free was accepted")
	}
	if err := kernel.FreeFrames(pa+mm.FrameSize/2, 0); err == nil {
		t.Fatal("a misaligned free was accepted")
	}
	if after := kernel.FrameStats(); after.FreeByOrder != before.FreeByOrder {
		t.Fatal("a refused free changed the free lists")
	}
}

func BenchmarkAllocFreeOrder0(b *testing.B) {
	for i := 0; i < b.N; i++ {
		pa, _ := kernel.AllocFrames(0)
		kernel.FreeFrames(pa, 0)
	}
}

func BenchmarkAllocFreeOrder9(b *testing.B) {
	for i := 0; i < b.N; i++ {
		pa, _ := kernel.AllocFrames(9)
		kernel.FreeFrames(pa, 9)
	}
}
