//go:build hurdvm && hurdvmtest

// Package frames tests the physical frame allocator in the kernel, over the
// machine's real memory map: booted by make test-qemu at 512 MiB and again
// at 128 MiB, 1 GiB and 5 GiB (RAM above 4 GiB).
package frames

import (
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"unsafe"

	"hurdvm/kernel"
	"hurdvm/kernel/memmap"
	"hurdvm/mm"
	"hurdvm/tests/internal/probe"
)

// TestCountsMatchMemoryMap: every whole frame of the map's usable RAM is
// known to the allocator, free or accounted for as reserved or in use; the
// kernel reserves exactly its own: the first MiB, the image's backed part
// (the demand-zero BSS is not: its frames are free), the early page tables
// and the frame records.
func TestCountsMatchMemoryMap(t *testing.T) {
	var usable, wholeFrames, lowFrames uint64
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
		if lo < 1<<20 {
			lowFrames += (min(hi, 1<<20) - lo) / mm.FrameSize
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
	im := kernel.Image()
	backed := (im.End - im.Start) / mm.FrameSize
	for _, r := range im.Lazy {
		backed -= (r[1] - r[0]) / mm.FrameSize
	}
	var modules uint64
	for _, m := range im.Modules {
		modules += ((m[1]+mm.FrameSize-1)&^(mm.FrameSize-1) - m[0]&^(mm.FrameSize-1)) / mm.FrameSize
	}
	const earlyTables = memmap.EarlyTables / mm.FrameSize
	if want := lowFrames + backed + earlyTables + st.RecordFrames + modules; st.ReservedFrames != want {
		t.Errorf("%d frames reserved, want %d: %d below 1 MiB, %d of the image's %d (%d are demand-zero), %d early tables, %d records, %d of boot modules",
			st.ReservedFrames, want, lowFrames, backed, (im.End-im.Start)/mm.FrameSize, (im.End-im.Start)/mm.FrameSize-backed, earlyTables, st.RecordFrames, modules)
	}
}

// untouched is a package variable far larger than qemu.LazyMinSize: the
// boot stage leaves it unbacked, and nothing in this package touches it
// but TestLazyBSS, one page at a time.
var untouched [16 << 20]byte

// TestLazyBSS: a large package-level array costs no frame until a page of
// it is touched; that page then costs one frame (and the tables to map
// it), reads as zero and keeps what is written; the rest stays unbacked.
func TestLazyBSS(t *testing.T) {
	pages := wholePages(t)
	for _, i := range []int{0, len(pages) / 3, len(pages) - 1} {
		if tr := kernel.Translate(pages[i]); tr.Mapped {
			t.Fatalf("page %d of %d is backed before anything touched it", i, len(pages))
		}
	}

	// The counters are the kernel task's: a fault of the runtime's own
	// (the GC, the pager's goroutine) may land between the two reads and
	// add to them. Such a measurement is taken again on the next page,
	// up to five times; a page that costs more than one fault every time
	// fails.
	var page []byte
	touched := len(pages) / 2
	for try := 0; ; try++ {
		touched = len(pages)/2 + try
		page = pageBytes(pages[touched])
		before := mm.ReadStats()
		for i, b := range page {
			if b != 0 {
				t.Fatalf("byte %d of a fresh page reads %#x", i, b)
			}
		}
		after := mm.ReadStats()
		took := before.FreeFrames - after.FreeFrames
		if after.PageFaults != before.PageFaults+1 && try < 4 {
			t.Logf("touching one page: %d faults (others' meanwhile?); again on the next page", after.PageFaults-before.PageFaults)
			continue
		}
		if after.PageFaults != before.PageFaults+1 || took < 1 || took > 4 || after.SharedFrames-before.SharedFrames != took {
			t.Errorf("touching one page: %d faults, %d frames taken (%d counted as shared), want 1 fault and 1 frame plus at most 3 tables",
				after.PageFaults-before.PageFaults, took, after.SharedFrames-before.SharedFrames)
		}
		break
	}
	for i := range page {
		page[i] = byte(i * 7)
	}
	for i, b := range page {
		if b != byte(i*7) {
			t.Fatalf("byte %d reads %#x after writing %#x", i, b, byte(i*7))
		}
	}
	if tr := kernel.Translate(pages[touched]); !tr.Mapped || tr.PageSize != mm.PageSize {
		t.Errorf("the touched page is not mapped as one 4 KiB page: %+v", tr)
	}
	for _, i := range []int{0, touched + 1, len(pages) - 1} {
		if tr := kernel.Translate(pages[i]); tr.Mapped {
			t.Errorf("page %d became backed when page %d was touched", i, touched)
		}
	}
}

// wholePages are the addresses of the pages wholly inside untouched,
// after checking that they are demand-zero (the partial pages at its ends
// may hold other variables, and stay backed). Addresses, not pointers:
// taking the address of an element through a pointer to a page costs a
// nil check, which reads the page.
func wholePages(t *testing.T) []uintptr {
	t.Helper()
	base := uintptr(unsafe.Pointer(&untouched))
	start := (base + mm.PageSize - 1) &^ (mm.PageSize - 1)
	end := (base + uintptr(len(untouched))) &^ (mm.PageSize - 1)
	lazy := false
	for _, r := range kernel.Image().Lazy {
		if r[0] <= uint64(start) && uint64(end) <= r[1] {
			lazy = true
		}
	}
	if !lazy {
		t.Fatalf("untouched's pages %#x-%#x are not in a demand-zero range: %x", start, end, kernel.Image().Lazy)
	}
	var pages []uintptr
	for va := start; va < end; va += mm.PageSize {
		pages = append(pages, va)
	}
	return pages
}

// pageBytes is the page of untouched at va, as a slice (making it touches
// nothing).
func pageBytes(va uintptr) []byte {
	return untouched[va-uintptr(unsafe.Pointer(&untouched)):][:mm.PageSize]
}

// TestSystemCallIntoLazyBSS: a system call that writes into a page of the
// demand-zero BSS nothing touched yet works (the kernel faults the page in
// before it writes, in the system call's handler context).
func TestSystemCallIntoLazyBSS(t *testing.T) {
	const sysInspectFrameStats = 0x48560033 // kernel/inspect.go: writes an mm.FrameStats at a0
	pages := wholePages(t)
	out := pages[len(pages)-2]
	if tr := kernel.Translate(out); tr.Mapped {
		t.Fatal("the page is already backed")
	}
	if r, _, _ := syscall.RawSyscall(sysInspectFrameStats, out, 0, 0); r != 0 {
		t.Fatalf("the system call writing into the demand-zero page returned %#x", r)
	}
	var st mm.FrameStats
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&st)), unsafe.Sizeof(st)), pageBytes(out))
	if st.TotalFrames != kernel.FrameStats().TotalFrames {
		t.Errorf("the system call wrote %+v", st)
	}
}

// TestPhysmapMapsRAMOnly: the physmap maps the RAM of the memory map
// (usable and ACPI ranges) and the first MiB, and never a page of a
// reserved range, which may be a device's (at 5 GiB and every size, QEMU
// reserves 12 GiB below 1 TiB).
func TestPhysmapMapsRAMOnly(t *testing.T) {
	const lapic = 0xfee00000 // mapped uncached where the kernel uses it
	checked := 0
	for _, r := range kernel.MemoryMap() {
		lo := max((r.Base+mm.PageSize-1)&^(mm.PageSize-1), 1<<20)
		hi := (r.Base + r.Length) &^ (mm.PageSize - 1)
		if lo >= hi {
			continue
		}
		for _, pa := range []uint64{lo, lo + ((hi-lo)/2)&^(mm.PageSize-1), hi - mm.PageSize} {
			if pa == lapic {
				continue
			}
			tr := kernel.Translate(uintptr(kernel.PhysmapBase + pa))
			if tr.Mapped != r.Kind.IsRAM() {
				t.Errorf("physmap page of %#x (%v range %#x-%#x): mapped %v", pa, r.Kind, r.Base, r.Base+r.Length, tr.Mapped)
			}
			checked++
		}
	}
	for _, pa := range []uint64{0, 0x9f000, 0xb8000, 0xe0000, 0xff000} {
		if tr := kernel.Translate(uintptr(kernel.PhysmapBase + pa)); !tr.Mapped {
			t.Errorf("physmap page of %#x in the first MiB is not mapped", pa)
		}
	}
	t.Logf("%d physmap pages checked against the map", checked)
}

type block struct {
	pa    uint64
	order int
}

func word(pa uint64) *uint64 { return (*uint64)(unsafe.Add(nil, kernel.PhysmapBase+pa)) }

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
