package mm

import (
	"errors"
	"math/rand"
	"slices"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

// Simulated physical memory. An arena stands for the physical window
// [lo, hi): physical address pa is at arena base + (pa - lo), so physOffset
// is base - lo. The arena is an anonymous mapping with MAP_NORESERVE, so a
// window of several GiB costs only the pages actually touched (the records,
// and what tests write): that is how tests put memory above 4 GiB. It lives
// outside the Go heap, as the kernel's physmap does, so the garbage
// collector neither moves nor frees it and no KeepAlive is needed; munmap
// at the end of the test releases it.
type arena struct {
	lo, hi     PhysAddr
	mem        []byte
	physOffset uintptr
}

func newArena(t testing.TB, lo, hi PhysAddr) *arena {
	t.Helper()
	ar, err := mapArena(lo, hi)
	if err != nil {
		t.Skipf("cannot map a %d-byte arena: %v", hi-lo, err)
	}
	t.Cleanup(func() { syscall.Munmap(ar.mem) })
	return ar
}

func mapArena(lo, hi PhysAddr) (*arena, error) {
	mem, err := syscall.Mmap(-1, 0, int(hi-lo), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, err
	}
	base := uintptr(unsafe.Pointer(&mem[0]))
	return &arena{lo: lo, hi: hi, mem: mem, physOffset: base - uintptr(lo)}, nil
}

// bytes returns the arena bytes of physical [pa, pa+n).
func (ar *arena) bytes(pa PhysAddr, n int) []byte {
	if pa < ar.lo || pa+PhysAddr(n) > ar.hi {
		panic("physical address outside the arena")
	}
	off := int(pa - ar.lo)
	return ar.mem[off : off+n]
}

const (
	kiB = 1 << 10
	miB = 1 << 20
	giB = 1 << 30
)

// ---- Reference model of the memory map. ----

// availModel says, frame by frame, which frames of the window are usable
// (wholly inside the union of the usable ranges) and which of those touch
// no reserved range. It is computed the slow, obvious way.
type availModel struct {
	lo       PhysAddr // first frame of the window
	usable   []bool
	avail    []bool // usable and not reserved
	nUsable  int
	nAvail   int
	firstUse int // index of the lowest usable frame, -1 if none
	lastUse  int // index of the highest usable frame
}

func newAvailModel(lo, hi PhysAddr, usable, reserved []PhysRange) *availModel {
	n := int((hi - lo) / FrameSize)
	m := &availModel{lo: lo, usable: make([]bool, n), avail: make([]bool, n), firstUse: -1}
	for f := range n {
		s := lo + PhysAddr(f)*FrameSize
		e := s + FrameSize
		// Covered by the union: keep extending the covered prefix.
		pos := s
		for progress := true; pos < e && progress; {
			progress = false
			for _, u := range usable {
				if u.Start <= pos && pos < u.End {
					pos = u.End
					progress = true
				}
			}
		}
		if pos < e {
			continue
		}
		m.usable[f] = true
		m.nUsable++
		if m.firstUse < 0 {
			m.firstUse = f
		}
		m.lastUse = f
		touched := s == 0 // frame 0 is never handed out
		for _, r := range reserved {
			if r.Start < r.End && r.Start < e && s < r.End {
				touched = true
			}
		}
		if !touched {
			m.avail[f] = true
			m.nAvail++
		}
	}
	return m
}

// span returns the frame range the allocator's records cover: from the
// lowest usable frame rounded down to 2^MaxOrder frames to the highest.
func (m *availModel) span() (base, end PhysAddr) {
	if m.firstUse < 0 {
		return 0, 0
	}
	first := m.lo + PhysAddr(m.firstUse)*FrameSize
	return first &^ (FrameSize<<MaxOrder - 1), m.lo + PhysAddr(m.lastUse+1)*FrameSize
}

// recordPlace returns where the records must go: the lowest run of
// available frames long enough, or ok == false.
func (m *availModel) recordPlace() (pa PhysAddr, frames int, ok bool) {
	base, end := m.span()
	frames = int(((end-base)/FrameSize*uint64Size(recSize) + FrameSize - 1) / FrameSize)
	run := 0
	for f := range m.avail {
		if m.avail[f] {
			run++
		} else {
			run = 0
		}
		if run >= frames && frames > 0 {
			return m.lo + PhysAddr(f-frames+1)*FrameSize, frames, true
		}
	}
	return 0, frames, frames == 0
}

func uint64Size(x uintptr) PhysAddr { return PhysAddr(x) }

// ---- Invariants of the real allocator. ----

type freeBlock struct {
	idx   uint32
	order int
}

// snapshot is the observable state of the free lists.
type snapshot struct {
	blocks      []freeBlock // sorted
	freeByOrder [MaxOrder + 1]uint64
}

// check verifies every structural invariant and returns the free lists.
func check(t testing.TB, a *FrameAllocator) snapshot {
	t.Helper()
	var snap snapshot
	onList := make(map[uint32]int)
	for k := 0; k <= MaxOrder; k++ {
		cnt := uint64(0)
		for z, ls := range [2]*[orderSlots]freeList{&a.lists, &a.zlists} {
			var prev uint32
			lcnt := uint64(0)
			for l := ls[k].head; l != 0; {
				i := l - 1
				if i >= a.nframes {
					t.Fatalf("order %d list: index %d past %d records", k, i, a.nframes)
				}
				r := a.rec(i)
				if r.prev != prev {
					t.Fatalf("order %d list: frame %d prev %d, want %d", k, i, r.prev, prev)
				}
				if r.state != stFree || int(r.order) != k || int(r.zero) != z {
					t.Fatalf("order %d list %d: frame %d state %d order %d zero %d", k, z, i, r.state, r.order, r.zero)
				}
				if i&(1<<k-1) != 0 || uint64(i)+1<<k > uint64(a.nframes) {
					t.Fatalf("order %d list: frame %d misaligned or past the end", k, i)
				}
				if _, dup := onList[i]; dup {
					t.Fatalf("order %d list: frame %d twice (cycle?)", k, i)
				}
				onList[i] = k
				snap.blocks = append(snap.blocks, freeBlock{i, k})
				lcnt++
				prev = l
				l = r.next
			}
			if lcnt != uint64(ls[k].count) {
				t.Fatalf("order %d list %d: %d blocks on the list, counter says %d", k, z, lcnt, ls[k].count)
			}
			cnt += lcnt
		}
		snap.freeByOrder[k] = cnt
	}
	zb := uint64(0)
	for k := 0; k <= MaxOrder; k++ {
		zb += uint64(a.zlists[k].count)
	}
	if zb != a.zblocks {
		t.Fatalf("%d blocks on the zero lists, zblocks says %d", zb, a.zblocks)
	}
	slices.SortFunc(snap.blocks, func(x, y freeBlock) int { return int(x.idx) - int(y.idx) })

	cached := make(map[uint32]bool)
	for k := range a.caches {
		c := &a.caches[k]
		if k >= a.ncaches && c.n+c.zn != 0 {
			t.Fatalf("cache %d of %d holds frames", k, a.ncaches)
		}
		for _, i := range append(append([]uint32(nil), c.u[:c.n]...), c.z[:c.zn]...) {
			if cached[i] {
				t.Fatalf("frame %d in a cache twice", i)
			}
			cached[i] = true
		}
	}
	var free, alloc uint64
	for i := uint32(0); i < a.nframes; {
		r := a.rec(i)
		switch r.state {
		case stReserved:
			i++
			continue
		case stTail:
			t.Fatalf("frame %d: tail outside any block", i)
		case stFree:
			if _, ok := onList[i]; !ok {
				t.Fatalf("frame %d: free head not on a list", i)
			}
			free += 1 << r.order
			// Eager coalescing: a free block's buddy is never a free block
			// of the same order.
			if int(r.order) < MaxOrder {
				b := i ^ 1<<r.order
				if b < a.nframes && a.rec(b).state == stFree && a.rec(b).order == r.order {
					t.Fatalf("frames %d and %d: free buddies of order %d not merged", i, b, r.order)
				}
			}
		case stAlloc:
			alloc += 1 << r.order
		case stCached:
			if !cached[i] || r.order != 0 {
				t.Fatalf("frame %d: cached (order %d), but in no cache", i, r.order)
			}
			delete(cached, i)
			free++
		case stZeroing:
			if z := &a.zeroing; !z.held || z.i != i || z.order != int(r.order) {
				t.Fatalf("frame %d: being cleared, but ZeroSome holds %+v", i, a.zeroing)
			}
			free += 1 << r.order
		default:
			t.Fatalf("frame %d: bad state %d", i, r.state)
		}
		if int(r.order) > MaxOrder || i&(1<<r.order-1) != 0 {
			t.Fatalf("frame %d: order %d misaligned", i, r.order)
		}
		for j := uint32(1); j < 1<<r.order; j++ {
			if a.rec(i+j).state != stTail {
				t.Fatalf("frame %d: in block %d order %d but state %d", i+j, i, r.order, a.rec(i+j).state)
			}
		}
		i += 1 << r.order
	}
	if len(cached) != 0 {
		t.Fatalf("%d frames in caches are not in state cached", len(cached))
	}
	if free != a.FreeFrames() {
		t.Fatalf("free frames: records say %d, counter %d", free, a.FreeFrames())
	}
	if a.totalFrames != a.reservedFrames+free+alloc {
		t.Fatalf("total %d != reserved %d + free %d + allocated %d", a.totalFrames, a.reservedFrames, free, alloc)
	}
	return snap
}

func sameSnapshot(t testing.TB, got, want snapshot) {
	t.Helper()
	if got.freeByOrder != want.freeByOrder {
		t.Fatalf("FreeByOrder %v, want %v", got.freeByOrder, want.freeByOrder)
	}
	if !slices.Equal(got.blocks, want.blocks) {
		t.Fatalf("free lists differ: %d blocks, want %d", len(got.blocks), len(want.blocks))
	}
}

// ---- Memory maps. ----

type memMap struct {
	name             string
	lo, hi           PhysAddr // window to simulate
	usable, reserved []PhysRange
}

// pcMap is a PC-like map of a machine with 'ram' bytes below 3 GiB and
// 'high' bytes above 4 GiB.
func pcMap(ram, high PhysAddr) memMap {
	m := memMap{
		name: "pc",
		lo:   0, hi: ram,
		usable: []PhysRange{{0, 0x9fc00}, {0x100000, ram - 0x20000}},
		reserved: []PhysRange{
			{0, 0x100000},          // low 1 MiB
			{0x100000, 0x2c5a31},   // kernel image
			{0x2c5000, 0x2c6123},   // multiboot info, overlapping the image
			{0x9fc00, 0x100000},    // EBDA, BIOS (outside usable)
			{0x3000000, 0x3100000}, // a module
		},
	}
	if high > 0 {
		m.hi = 4*giB + high
		m.usable = append(m.usable, PhysRange{4 * giB, 4*giB + high})
	}
	return m
}

var oddMaps = []memMap{
	pcMap(64*miB, 0),
	pcMap(128*miB, 64*miB), // sparse: 4 GiB of hole
	{
		name: "holes and unaligned edges",
		lo:   0, hi: 32 * miB,
		usable: []PhysRange{
			{0x1234, 0x9f000 + 0x777}, {0x200001, 0x400fff}, {0x500000, 0x1000000},
			{0x1000800, 0x1800800}, {0x1900000, 0x1901000}, // one frame
			{0x1903000, 0x1903fff}, // less than a frame
		},
		reserved: []PhysRange{{0x600000, 0x600001}, {0x7ff000, 0x802000}},
	},
	{
		name: "unsorted, overlapping, abutting",
		lo:   0, hi: 16 * miB,
		usable: []PhysRange{
			{0x800000, 0xc00000}, {0x100800, 0x300000}, {0x200000, 0x900000},
			{0x80, 0x1800}, {0x1800, 0x3000}, // together: frames 1 and 2, not 0
			{0xd00000, 0xd00000}, // empty
			{0xe00000, 0xd00000}, // inverted
		},
		reserved: []PhysRange{
			{0x400000, 0x500000}, {0x480000, 0x600000}, {0x5ff000, 0x601000},
			{0x700000, 0x700000}, // empty: reserves nothing
			{0, 0x100}, {0xa00000, 0x20000000},
		},
	},
	{
		name: "one-frame ranges",
		lo:   4 * giB, hi: 4*giB + 8*miB,
		usable: []PhysRange{
			{4 * giB, 4*giB + 2*miB},
			{4*giB + 3*miB, 4*giB + 3*miB + FrameSize},
			{4*giB + 3*miB + 2*FrameSize, 4*giB + 3*miB + 3*FrameSize},
			{4*giB + 7*miB + 5*FrameSize, 4*giB + 7*miB + 6*FrameSize},
		},
	},
	{
		name: "straddling 4 GiB",
		lo:   4*giB - 8*miB, hi: 4*giB + 8*miB,
		usable: []PhysRange{{4*giB - 6*miB - 0x10, 4*giB + 6*miB + 0x10}},
		reserved: []PhysRange{
			{4*giB - FrameSize, 4 * giB}, {4*giB - 4*miB, 4*giB - 3*miB},
			{4*giB - 3*miB - 1, 4*giB - 2*miB},
		},
	},
	{
		name: "records pushed past reserved ranges",
		lo:   0, hi: 16 * miB,
		usable:   []PhysRange{{0, 0x1000}, {0x2000, 0x3000}, {0x10000, 16 * miB}},
		reserved: []PhysRange{{0x10000, 0x11000}, {0x11800, 0x12000}},
	},
}

func initMap(t testing.TB, m memMap) (*FrameAllocator, *arena, *availModel) {
	t.Helper()
	ar := newArena(t, m.lo, m.hi)
	a := new(FrameAllocator)
	if err := a.Init(ar.physOffset, m.usable, m.reserved); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return a, ar, newAvailModel(m.lo, m.hi, m.usable, m.reserved)
}

// TestInitOddMaps checks that Init frees exactly the available frames of
// each map, minus the records, which go in the lowest place that fits.
func TestInitOddMaps(t *testing.T) {
	for _, m := range oddMaps {
		t.Run(m.name, func(t *testing.T) {
			a, _, model := initMap(t, m)
			check(t, a)
			recPA, recFrames, ok := model.recordPlace()
			if !ok {
				t.Fatal("model: no room for the records, but Init succeeded")
			}
			if a.recPA != recPA || a.recordFrames != uint64(recFrames) {
				t.Fatalf("records at %#x (%d frames), model says %#x (%d)", a.recPA, a.recordFrames, recPA, recFrames)
			}
			st := a.Stats()
			if st.TotalFrames != uint64(model.nUsable) {
				t.Errorf("TotalFrames %d, model %d", st.TotalFrames, model.nUsable)
			}
			if st.FreeFrames != uint64(model.nAvail-recFrames) {
				t.Errorf("FreeFrames %d, model %d", st.FreeFrames, model.nAvail-recFrames)
			}
			if st.ReservedFrames != uint64(model.nUsable-model.nAvail+recFrames) {
				t.Errorf("ReservedFrames %d, model %d", st.ReservedFrames, model.nUsable-model.nAvail+recFrames)
			}
			// The free frames are exactly the available ones minus the records.
			for i := uint32(0); i < a.nframes; i++ {
				pa := a.addr(i)
				f := int((pa - m.lo) / FrameSize)
				inRecords := pa >= a.recPA && pa < a.recPA+PhysAddr(recFrames)*FrameSize
				wantFree := model.avail[f] && !inRecords
				h, ok := a.blockOf(i)
				isFree := ok && a.rec(h).state == stFree
				if isFree != wantFree {
					t.Fatalf("frame %#x: free %v, want %v", pa, isFree, wantFree)
				}
			}
			t.Logf("total %d, free %d, reserved %d, records %d, by order %v",
				st.TotalFrames, st.FreeFrames, st.ReservedFrames, st.RecordFrames, st.FreeByOrder)
		})
	}
}

// TestInitNoRoomForRecords: a sparse map whose span needs more records than
// any usable range holds, and a map whose memory is all reserved.
func TestInitNoRoomForRecords(t *testing.T) {
	var a FrameAllocator
	// 4 GiB span: 16 MiB of records, but only 1 MiB ranges.
	err := a.Init(0x1000, []PhysRange{{0, 1 * miB}, {4 * giB, 4*giB + 1*miB}}, nil)
	if err != ENOMEM {
		t.Fatalf("sparse map: Init = %v, want ENOMEM", err)
	}
	if _, err := a.Alloc(0); err != ENOMEM {
		t.Fatalf("Alloc after failed Init = %v, want ENOMEM", err)
	}
	err = a.Init(0x1000, []PhysRange{{0, 1 * miB}}, []PhysRange{{0, 2 * miB}})
	if err != ENOMEM {
		t.Fatalf("all reserved: Init = %v, want ENOMEM", err)
	}
	// Exactly enough: one usable frame, the records take it.
	ar := newArena(t, 0, 8*miB)
	if err := a.Init(ar.physOffset, []PhysRange{{0x5000, 0x6000}}, nil); err != nil {
		t.Fatalf("one frame: %v", err)
	}
	if st := a.Stats(); st.TotalFrames != 1 || st.RecordFrames != 1 || st.FreeFrames != 0 {
		t.Fatalf("one frame: %+v", st)
	}
	if _, err := a.Alloc(0); err != ENOMEM {
		t.Fatalf("one frame: Alloc = %v, want ENOMEM", err)
	}
	// Too many ranges.
	many := make([]PhysRange, MaxInitRanges+1)
	if err := a.Init(ar.physOffset, many, nil); err != ErrTooManyRanges {
		t.Fatalf("65 ranges: %v", err)
	}
	// Nothing usable at all is not an error; every Alloc fails.
	if err := a.Init(ar.physOffset, nil, nil); err != nil {
		t.Fatalf("empty map: %v", err)
	}
	if _, err := a.Alloc(0); err != ENOMEM {
		t.Fatalf("empty map: Alloc = %v", err)
	}
}

func TestZeroValue(t *testing.T) {
	var a FrameAllocator
	if _, err := a.Alloc(0); err != ENOMEM {
		t.Fatalf("Alloc = %v", err)
	}
	if err := a.Free(0x1000, 0); err != ErrOutOfRange {
		t.Fatalf("Free = %v", err)
	}
	if a.RefCount(0) != 0 {
		t.Fatal("RefCount != 0")
	}
}

type live struct {
	pa    PhysAddr
	order int
}

// allocAll allocates until memory is exhausted, with orders drawn at random
// (falling back to smaller orders when a large one fails), checking each
// block against the map and all the blocks before it.
func allocAll(t testing.TB, a *FrameAllocator, m memMap, model *availModel, rng *rand.Rand) []live {
	t.Helper()
	owned := make([]bool, len(model.avail))
	var out []live
	for {
		order := rng.Intn(MaxOrder + 1)
		if rng.Intn(2) == 0 {
			order = 0
		}
		var pa PhysAddr
		var err error
		for ; order >= 0; order-- {
			if pa, err = a.Alloc(order); err == nil {
				break
			}
			if err != ENOMEM {
				t.Fatalf("Alloc(%d): %v", order, err)
			}
		}
		if err != nil {
			break
		}
		if pa%(FrameSize<<order) != 0 {
			t.Fatalf("Alloc(%d) = %#x: misaligned", order, pa)
		}
		for j := range 1 << order {
			f := int((pa-m.lo)/FrameSize) + j
			if f < 0 || f >= len(owned) || !model.avail[f] {
				t.Fatalf("Alloc(%d) = %#x: frame %d not available memory", order, pa, j)
			}
			fpa := pa + PhysAddr(j)*FrameSize
			if fpa >= a.recPA && fpa < a.recPA+PhysAddr(a.recordFrames)*FrameSize {
				t.Fatalf("Alloc(%d) = %#x: overlaps the records", order, pa)
			}
			if owned[f] {
				t.Fatalf("Alloc(%d) = %#x: overlaps a live allocation", order, pa)
			}
			owned[f] = true
		}
		if a.RefCount(pa) != 1 || a.RefCount(pa+PhysAddr(FrameSize<<order)-FrameSize) != 1 {
			t.Fatalf("fresh allocation has count %d", a.RefCount(pa))
		}
		out = append(out, live{pa, order})
	}
	return out
}

// TestAllocAllFreeAll allocates everything with mixed orders, frees it all
// in random order, and expects the free lists exactly as Init left them.
func TestAllocAllFreeAll(t *testing.T) {
	for _, m := range oddMaps {
		t.Run(m.name, func(t *testing.T) {
			a, _, model := initMap(t, m)
			initial := check(t, a)
			st0 := a.Stats()
			rng := rand.New(rand.NewSource(int64(len(m.name))))
			for round := range 3 {
				blocks := allocAll(t, a, m, model, rng)
				check(t, a)
				st := a.Stats()
				if st.FreeFrames != 0 || st.FreeByOrder != [MaxOrder + 1]uint64{} {
					t.Fatalf("round %d: after exhaustion %+v", round, st)
				}
				var n uint64
				for _, b := range blocks {
					n += 1 << b.order
				}
				if n != st0.FreeFrames {
					t.Fatalf("round %d: allocated %d frames, %d were free", round, n, st0.FreeFrames)
				}
				rng.Shuffle(len(blocks), func(i, j int) { blocks[i], blocks[j] = blocks[j], blocks[i] })
				for k, b := range blocks {
					if err := a.Free(b.pa, b.order); err != nil {
						t.Fatalf("Free(%#x, %d): %v", b.pa, b.order, err)
					}
					if k%64 == 0 {
						check(t, a)
					}
				}
				sameSnapshot(t, check(t, a), initial)
				st = a.Stats()
				want := st0
				want.Allocs = uint64(round+1) * st0.FreeFrames
				want.Frees = want.Allocs
				if st != want {
					t.Fatalf("round %d: stats %+v, want %+v", round, st, want)
				}
			}
		})
	}
}

// TestAllocZeroed dirties frames, frees them, and expects AllocZeroed to
// return zeroes over the same (LIFO-reused) memory.
func TestAllocZeroed(t *testing.T) {
	a, ar, _ := initMap(t, oddMaps[0])
	for _, order := range []int{0, 1, 9} {
		pa, err := a.Alloc(order)
		if err != nil {
			t.Fatal(err)
		}
		b := ar.bytes(pa, FrameSize<<order)
		for i := range b {
			b[i] = byte(i*7 + 1)
		}
		if err := a.Free(pa, order); err != nil {
			t.Fatal(err)
		}
		pz, err := a.AllocZeroed(order)
		if err != nil {
			t.Fatal(err)
		}
		if pz != pa {
			t.Fatalf("order %d: LIFO reuse expected %#x, got %#x", order, pa, pz)
		}
		for i, c := range ar.bytes(pz, FrameSize<<order) {
			if c != 0 {
				t.Fatalf("order %d: byte %d of %#x is %#x", order, i, pz, c)
			}
		}
		if err := a.Free(pz, order); err != nil {
			t.Fatal(err)
		}
	}
	check(t, a)
}

// TestErrors checks every misuse: the right error, and nothing changed.
func TestErrors(t *testing.T) {
	m := oddMaps[0]
	a, _, _ := initMap(t, m)
	p0, _ := a.Alloc(0)
	p3, _ := a.Alloc(3)
	p9, _ := a.Alloc(9)
	pf, _ := a.Alloc(0)
	pshared, _ := a.Alloc(0)
	if err := a.IncRef(pshared); err != nil {
		t.Fatal(err)
	}
	pdead, _ := a.Alloc(0)
	if n, err := a.DecRef(pdead); n != 0 || err != nil {
		t.Fatalf("DecRef fresh = %d, %v", n, err)
	}
	if err := a.Free(pf, 0); err != nil {
		t.Fatal(err)
	}
	base := a.addr(0)
	end := a.addr(a.nframes)
	// A frame inside a free block, not its first.
	var freeTail PhysAddr
	for k := MaxOrder; k > 0 && freeTail == 0; k-- {
		if a.lists[k].head != 0 {
			freeTail = a.addr(a.lists[k].head-1) + FrameSize
		}
	}
	wrongBig := ErrWrongOrder
	if p3%(FrameSize<<9) != 0 {
		wrongBig = ErrMisaligned
	}
	snap := check(t, a)
	st := a.Stats()

	same := func(what string) {
		t.Helper()
		sameSnapshot(t, check(t, a), snap)
		if a.Stats() != st {
			t.Fatalf("%s changed the stats", what)
		}
	}
	freeCases := []struct {
		name  string
		pa    PhysAddr
		order int
		want  error
	}{
		{"double free", pf, 0, ErrDoubleFree},
		{"free inside a free block", freeTail, 0, ErrDoubleFree},
		{"bad order", p0, MaxOrder + 1, ErrBadOrder},
		{"negative order", p0, -1, ErrBadOrder},
		{"wrong order (smaller)", p3, 0, ErrWrongOrder},
		{"wrong order (larger)", p3, 9, wrongBig},
		{"wrong order, aligned", p9, 3, ErrWrongOrder},
		{"inside an allocation", p3 + FrameSize, 0, ErrInsideBlock},
		{"inside an order-9 allocation", p9 + 8*FrameSize, 3, ErrInsideBlock},
		{"unaligned address", p0 + 8, 0, ErrMisaligned},
		{"block misaligned for its order", p3 + FrameSize, 1, ErrMisaligned},
		{"reserved frame (low 1 MiB)", 0x1000, 0, ErrNotAllocated},
		{"reserved frame (kernel image)", 0x200000, 0, ErrNotAllocated},
		{"the records", a.recPA, 0, ErrNotAllocated},
		{"past the last usable frame", 64*miB - FrameSize, 0, ErrOutOfRange},
		{"the end of the span", end, 0, ErrOutOfRange},
		{"far beyond", 1 << 50, 0, ErrOutOfRange},
		{"shared", pshared, 0, ErrShared},
	}
	if base != 0 {
		t.Fatalf("span base %#x", base)
	}
	for _, c := range freeCases {
		if err := a.Free(c.pa, c.order); err != c.want {
			t.Errorf("%s: Free(%#x, %d) = %v, want %v", c.name, c.pa, c.order, err, c.want)
		}
		same(c.name)
		if c.want != ErrShared {
			if err := a.Split(c.pa, c.order); err != c.want {
				t.Errorf("%s: Split(%#x, %d) = %v, want %v", c.name, c.pa, c.order, err, c.want)
			}
			same(c.name)
		}
	}

	refCases := []struct {
		name    string
		pa      PhysAddr
		inc     error
		dec     error
		count   uint32
		decLeft uint32
	}{
		{"free frame", pf, ErrFrameFree, ErrFrameFree, 0, 0},
		{"inside a free block", freeTail, ErrFrameFree, ErrFrameFree, 0, 0},
		{"inside an allocation", p3 + 2*FrameSize, ErrInsideBlock, ErrInsideBlock, 1, 0},
		{"reserved", 0x1000, ErrNotAllocated, ErrNotAllocated, 0, 0},
		{"out of range", end + 10*FrameSize, ErrOutOfRange, ErrOutOfRange, 0, 0},
		{"unaligned", p0 + 1, ErrMisaligned, ErrMisaligned, 0, 0},
		{"count dropped to zero", pdead, ErrRefDead, ErrRefUnderflow, 0, 0},
	}
	for _, c := range refCases {
		if err := a.IncRef(c.pa); err != c.inc {
			t.Errorf("%s: IncRef = %v, want %v", c.name, err, c.inc)
		}
		same(c.name)
		if n, err := a.DecRef(c.pa); err != c.dec || n != c.decLeft {
			t.Errorf("%s: DecRef = %d, %v, want %v", c.name, n, err, c.dec)
		}
		same(c.name)
		if n := a.RefCount(c.pa); n != c.count {
			t.Errorf("%s: RefCount = %d, want %d", c.name, n, c.count)
		}
	}

	// Overflow: poke the count to the maximum.
	a.rec(uint32(p0 / FrameSize)).ref = 1<<32 - 1
	if err := a.IncRef(p0); err != ErrRefOverflow {
		t.Errorf("IncRef at max = %v", err)
	}
	a.rec(uint32(p0 / FrameSize)).ref = 1
	same("overflow")

	// Every error names its problem and is distinct.
	all := []error{ErrBadOrder, ErrMisaligned, ErrOutOfRange, ErrNotAllocated, ErrDoubleFree,
		ErrWrongOrder, ErrInsideBlock, ErrShared, ErrFrameFree, ErrRefUnderflow, ErrRefOverflow,
		ErrRefDead, ErrTooManyRanges, ENOMEM}
	for i, e := range all {
		for _, f := range all[:i] {
			if e == f || e.Error() == f.Error() {
				t.Errorf("errors %q and %q not distinct", e, f)
			}
		}
	}
	var fe FrameError
	if !errors.As(error(ErrDoubleFree), &fe) {
		t.Error("errors.As FrameError")
	}

	// Alloc with a bad order.
	for _, o := range []int{-1, MaxOrder + 1, 1 << 30} {
		if _, err := a.Alloc(o); err != ErrBadOrder {
			t.Errorf("Alloc(%d) = %v", o, err)
		}
		if _, err := a.AllocZeroed(o); err != ErrBadOrder {
			t.Errorf("AllocZeroed(%d) = %v", o, err)
		}
	}
	same("bad-order alloc")

	// The legitimate paths still work afterwards.
	for _, p := range []live{{p0, 0}, {p3, 3}, {p9, 9}, {pdead, 0}} {
		if err := a.Free(p.pa, p.order); err != nil {
			t.Fatalf("Free(%#x, %d): %v", p.pa, p.order, err)
		}
	}
	if n, err := a.DecRef(pshared); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if err := a.Free(pshared, 0); err != nil {
		t.Fatal(err)
	}
	check(t, a)
}

// TestSplitAndRefs: a shared order-3 block split into frames keeps its
// count on every frame; the frames, freed one by one, merge back.
func TestSplitAndRefs(t *testing.T) {
	a, _, _ := initMap(t, oddMaps[0])
	initial := check(t, a)
	pa, err := a.Alloc(3)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.IncRef(pa); err != nil {
		t.Fatal(err)
	}
	for j := range 8 {
		if n := a.RefCount(pa + PhysAddr(j)*FrameSize); n != 2 {
			t.Fatalf("frame %d count %d before split", j, n)
		}
	}
	if err := a.Split(pa, 3); err != nil {
		t.Fatal(err)
	}
	check(t, a)
	if err := a.Split(pa, 3); err != ErrWrongOrder {
		t.Fatalf("second split = %v", err)
	}
	order := []int{5, 0, 7, 2, 3, 1, 6, 4}
	for k, j := range order {
		f := pa + PhysAddr(j)*FrameSize
		if n := a.RefCount(f); n != 2 {
			t.Fatalf("frame %d count %d after split", j, n)
		}
		if err := a.Free(f, 0); err != ErrShared {
			t.Fatalf("free of shared frame = %v", err)
		}
		if n, err := a.DecRef(f); n != 1 || err != nil {
			t.Fatal(n, err)
		}
		if err := a.Free(f, 0); err != nil {
			t.Fatal(err)
		}
		if k%2 == 1 {
			check(t, a)
		}
	}
	sameSnapshot(t, check(t, a), initial)
	if err := a.Split(pa, 0); err != ErrDoubleFree {
		t.Fatalf("split of freed = %v", err)
	}
	// Split of order 0 is a no-op.
	p, _ := a.Alloc(0)
	if err := a.Split(p, 0); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(p, 0); err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, check(t, a), initial)
}

// TestSparseAbove4G runs a 5 GiB span with 4 GiB of hole: 20 MiB of
// records, and allocations on both sides of the hole.
func TestSparseAbove4G(t *testing.T) {
	m := memMap{
		lo: 0, hi: 5*giB + 16*miB,
		usable: []PhysRange{
			{0, 0x9fc00}, {1 * miB, 48 * miB},
			{5 * giB, 5*giB + 16*miB}, {4*giB + 3*FrameSize, 4*giB + 4*FrameSize},
		},
		reserved: []PhysRange{{0, 1 * miB}, {1 * miB, 4 * miB}},
	}
	a, ar, model := initMap(t, m)
	check(t, a)
	if a.recPA != 4*miB {
		t.Fatalf("records at %#x", a.recPA)
	}
	st := a.Stats()
	if st.RecordFrames != (5*giB+16*miB)/FrameSize*16/FrameSize {
		t.Fatalf("record frames %d", st.RecordFrames)
	}
	blocks := allocAll(t, a, m, model, rand.New(rand.NewSource(1)))
	high := 0
	for _, b := range blocks {
		if b.pa >= 4*giB {
			high++
			ar.bytes(b.pa, 8)[0] = 1 // the memory is really there
		}
	}
	if high == 0 {
		t.Fatal("no allocation above 4 GiB")
	}
	for _, b := range blocks {
		if err := a.Free(b.pa, b.order); err != nil {
			t.Fatal(err)
		}
	}
	if a.Stats().FreeFrames != st.FreeFrames {
		t.Fatal("free count not restored")
	}
}

// TestNoAllocs: no path of the handler-context API touches the Go heap,
// error paths and Init included.
func TestNoAllocs(t *testing.T) {
	m := oddMaps[0]
	ar := newArena(t, m.lo, m.hi)
	a := new(FrameAllocator)
	if err := a.Init(ar.physOffset, m.usable, m.reserved); err != nil {
		t.Fatal(err)
	}
	p3, _ := a.Alloc(3)
	cases := map[string]func(){
		"Init": func() { _ = a.Init(ar.physOffset, m.usable, m.reserved); p3, _ = a.Alloc(3) },
		"Alloc+Free order 0": func() {
			p, _ := a.Alloc(0)
			_ = a.Free(p, 0)
		},
		"Alloc+Free order 9": func() {
			p, _ := a.Alloc(9)
			_ = a.Free(p, 9)
		},
		"AllocZeroed+Free": func() {
			p, _ := a.AllocZeroed(0)
			_ = a.Free(p, 0)
		},
		"Split+Free": func() {
			p, _ := a.Alloc(2)
			_ = a.Split(p, 2)
			for j := range 4 {
				_ = a.Free(p+PhysAddr(j)*FrameSize, 0)
			}
		},
		"refs": func() {
			_ = a.IncRef(p3)
			_, _ = a.DecRef(p3)
			_ = a.RefCount(p3 + FrameSize)
		},
		"Stats": func() { _ = a.Stats() },
		"errors": func() {
			_ = a.Free(p3, 0)
			_ = a.Free(p3+FrameSize, 0)
			_ = a.Free(0x1000, 0)
			_ = a.Free(1<<40, 0)
			_ = a.Free(p3+1, 0)
			_ = a.Free(p3, 99)
			_ = a.IncRef(0x1000)
			_, _ = a.DecRef(p3 + FrameSize)
			_ = a.Split(p3, 1)
			_, _ = a.Alloc(-1)
		},
		"exhaustion": func() {
			var z FrameAllocator
			_, _ = z.Alloc(0)
		},
	}
	for name, f := range cases {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per run", name, n)
		}
	}
	check(t, a)
}

// The fuzz target and benchmarks share one arena per process.
var (
	sharedOnce  sync.Once
	sharedArena *arena
	sharedErr   error
)

func shared(t testing.TB, lo, hi PhysAddr) *arena {
	sharedOnce.Do(func() { sharedArena, sharedErr = mapArena(0, 1*giB) })
	if sharedErr != nil {
		t.Skipf("cannot map the shared arena: %v", sharedErr)
	}
	if hi-lo > PhysAddr(len(sharedArena.mem)) {
		t.Fatalf("window %#x-%#x larger than the shared arena", lo, hi)
	}
	base := uintptr(unsafe.Pointer(&sharedArena.mem[0]))
	return &arena{lo: lo, hi: hi, mem: sharedArena.mem[:hi-lo], physOffset: base - uintptr(lo)}
}

// TestFrameZeroNeverHandedOut: physical address 0 means "no table" to
// paging, so even a map that calls it usable never gets it allocated.
func TestFrameZeroNeverHandedOut(t *testing.T) {
	ar := newArena(t, 0, 8*miB)
	var a FrameAllocator
	if err := a.Init(ar.physOffset, []PhysRange{{0, 8 * miB}}, nil); err != nil {
		t.Fatal(err)
	}
	st := a.Stats()
	if st.TotalFrames != 2048 || st.ReservedFrames != 1+st.RecordFrames {
		t.Fatalf("stats %+v", st)
	}
	for {
		pa, err := a.Alloc(0)
		if err == ENOMEM {
			break
		}
		if pa == 0 {
			t.Fatal("Alloc returned physical address 0")
		}
	}
	check(t, &a)
}

// dirtyFreeFrames writes into every free frame: takes them all, scribbles,
// gives them back.
func dirtyFreeFrames(t *testing.T, a *FrameAllocator) {
	t.Helper()
	var taken []PhysAddr
	for {
		pa, err := a.Alloc(0)
		if err != nil {
			break
		}
		copy(a.bytesAt(pa, FrameSize), "dirty")
		taken = append(taken, pa)
	}
	for _, pa := range taken {
		if err := a.Free(pa, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// TestZeroSomeInPieces: the idle CPU clears a block a piece at a time
// (interrupts wait for one piece, not 4 MiB); meanwhile the block stays
// free and counted, and an allocation that needs it takes it back rather
// than fail.
func TestZeroSomeInPieces(t *testing.T) {
	a, _, _ := initMap(t, memMap{usable: []PhysRange{{0, 4 * miB}}})
	dirtyFreeFrames(t, a)
	before := a.Stats()
	calls := 0
	for a.ZeroSome(9, 64<<10) {
		calls++
		if a.zeroing.held {
			check(t, a)
			if st := a.Stats(); st.FreeFrames != before.FreeFrames || st.FreeByOrder != before.FreeByOrder {
				t.Fatalf("while clearing: %+v, was %+v", st, before)
			}
		}
		if st := a.Stats(); st.ZeroByOrder[9] == 1 {
			break
		}
	}
	if calls != 2<<20/(64<<10)-1 { // the call that finished the block ended the loop
		t.Errorf("a 2 MiB block took %d calls of 64 KiB, want 32", calls+1)
	}
	// Half a block cleared, then every frame wanted: the held block comes
	// back rather than ENOMEM.
	a.ZeroSome(9, 64<<10)
	if !a.zeroing.held {
		t.Fatal("no block held after one piece")
	}
	n := uint64(0)
	var taken []PhysAddr
	for {
		pa, err := a.Alloc(0)
		if err != nil {
			break
		}
		taken = append(taken, pa)
		n++
	}
	if n != before.FreeFrames || a.zeroing.held {
		t.Fatalf("allocated %d frames of %d free (block still held: %v)", n, before.FreeFrames, a.zeroing.held)
	}
	for _, pa := range taken {
		if err := a.Free(pa, 0); err != nil {
			t.Fatal(err)
		}
	}
	check(t, a)
	// A frame inside the block being cleared is free: freeing it is a
	// double free.
	dirtyFreeFrames(t, a)
	a.ZeroSome(9, 64<<10)
	if err := a.Free(a.addr(a.zeroing.i+3), 0); err != ErrDoubleFree {
		t.Errorf("free of a frame inside the block being cleared: %v, want ErrDoubleFree", err)
	}
}

// TestZeroFreeBlock: blocks zeroed ahead of time stay free and counted,
// AllocZeroed takes them first (and they read zero), Alloc takes the
// others first, and freeing or splitting keeps the lists consistent.
func TestZeroFreeBlock(t *testing.T) {
	a, ar, _ := initMap(t, memMap{usable: []PhysRange{{0, 16 * miB}}})
	_ = ar
	dirtyFreeFrames(t, a)
	before := a.Stats()
	if !a.ZeroSome(9, 2<<20) || !a.ZeroSome(9, 2<<20) {
		t.Fatal("no block to zero")
	}
	st := a.Stats()
	if st.FreeFrames != before.FreeFrames || st.ZeroByOrder[9] != 2 || st.FreeByOrder != before.FreeByOrder {
		t.Fatalf("after zeroing two 2 MiB blocks: free %d (was %d), zero by order %v", st.FreeFrames, before.FreeFrames, st.ZeroByOrder)
	}
	check(t, a)
	// AllocZeroed of 4 KiB splits a zero block: the frame reads zero, the
	// halves left over are zero blocks.
	pa, err := a.AllocZeroed(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range a.bytesAt(pa, FrameSize) {
		if b != 0 {
			t.Fatal("AllocZeroed from a zero block is not zero")
		}
	}
	st = a.Stats()
	zeroFrames := uint64(0)
	for k, n := range st.ZeroByOrder {
		zeroFrames += n << k
	}
	if zeroFrames != 2*512-1 {
		t.Errorf("%d known-zero frames left, want %d", zeroFrames, 2*512-1)
	}
	check(t, a)
	// Alloc prefers blocks of unknown contents: the zero ones stay.
	q, err := a.Alloc(9)
	if err != nil {
		t.Fatal(err)
	}
	if a.Stats().ZeroByOrder[9] != 1 {
		t.Error("Alloc took a zero block while others were free")
	}
	if err := a.Free(q, 9); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(pa, 0); err != nil {
		t.Fatal(err)
	}
	check(t, a)
	if got := a.Stats(); got.FreeFrames != before.FreeFrames {
		t.Fatalf("free %d, want %d", got.FreeFrames, before.FreeFrames)
	}
}
