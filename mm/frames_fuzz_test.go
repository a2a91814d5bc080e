package mm

import (
	"slices"
	"testing"
)

// FuzzFrames decodes the fuzz input into a memory map and a sequence of
// operations, runs them on the allocator and on a reference model (a slice
// of frame owners), and checks that they agree on every result, every
// error, every count and every free list, and that the free lists come
// back to their initial state once everything is freed.
//
// Input layout: byte 0 picks the physical window (at 0, straddling 4 GiB,
// or at 1 TiB) in its low 7 bits, and with its top bit turns on the per-CPU
// caches of four simulated CPUs, each operation then running on CPU
// (opcode/10)%4; then a memory map of 1-4 usable and 0-4 reserved ranges
// (bytes for count, then 2+2 bytes per range, in 128-byte and 4 KiB units
// so that edges land unaligned and ranges overlap); the rest is operations,
// 3 bytes each: opcode, and two argument bytes.
func FuzzFrames(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runFrames(t, data)
	})
}

// fuzzWindow is the size of the simulated physical window.
const fuzzWindow = 8 * miB

var fuzzWindows = [...]PhysAddr{0, 4*giB - 4*miB, 1 << 40}

type fuzzReader struct {
	data []byte
}

func (r *fuzzReader) u8() int {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return int(b)
}

func (r *fuzzReader) u16() int { return r.u8()<<8 | r.u8() }

// modelAlloc is a live allocation in the model.
type modelAlloc struct {
	pa    PhysAddr
	order int
	ref   uint32
}

// frameModel is the reference model: for every frame of the window, whether
// it is available at all and which live allocation (if any) owns it.
type frameModel struct {
	lo         PhysAddr
	avail      []bool // usable, not reserved, not the records
	owner      []int  // 1 + index into allocs, 0 if free
	allocs     []*modelAlloc
	free       uint64
	base, end  PhysAddr // the records' span
	allocCount uint64
	freeCount  uint64
}

func (m *frameModel) frame(pa PhysAddr) int { return int((pa - m.lo) / FrameSize) }

func (m *frameModel) inWindow(pa PhysAddr) bool {
	return pa >= m.lo && pa < m.lo+PhysAddr(len(m.avail))*FrameSize
}

// liveAt returns the live allocation holding the frame at pa, or nil.
func (m *frameModel) liveAt(pa PhysAddr) *modelAlloc {
	if !m.inWindow(pa) {
		return nil
	}
	if o := m.owner[m.frame(pa)]; o != 0 {
		return m.allocs[o-1]
	}
	return nil
}

func (m *frameModel) add(pa PhysAddr, order int, ref uint32) {
	m.allocs = append(m.allocs, &modelAlloc{pa, order, ref})
	for j := range 1 << order {
		m.owner[m.frame(pa)+j] = len(m.allocs)
	}
}

func (m *frameModel) drop(x *modelAlloc) {
	idx := m.owner[m.frame(x.pa)] - 1
	last := len(m.allocs) - 1
	if idx != last {
		moved := m.allocs[last]
		m.allocs[idx] = moved
		for j := range 1 << moved.order {
			m.owner[m.frame(moved.pa)+j] = idx + 1
		}
	}
	m.allocs = m.allocs[:last]
	for j := range 1 << x.order {
		m.owner[m.frame(x.pa)+j] = 0
	}
}

// expectLive is the error Free or Split(pa, order) must return, from the
// model alone.
func (m *frameModel) expectLive(pa PhysAddr, order int) error {
	switch {
	case order < 0 || order > MaxOrder:
		return ErrBadOrder
	case pa%(FrameSize<<order) != 0:
		return ErrMisaligned
	}
	return m.expectFrame(pa, func(x *modelAlloc) error {
		if x.order != order {
			return ErrWrongOrder
		}
		return nil
	}, ErrDoubleFree)
}

// expectFrame classifies the frame-aligned address pa: out of range, never
// allocatable, free (whenFree), inside a block, or the head of a live
// block (head decides).
func (m *frameModel) expectFrame(pa PhysAddr, head func(*modelAlloc) error, whenFree error) error {
	if pa%FrameSize != 0 {
		return ErrMisaligned
	}
	if pa < m.base || pa >= m.end {
		return ErrOutOfRange
	}
	if !m.avail[m.frame(pa)] {
		return ErrNotAllocated
	}
	x := m.liveAt(pa)
	if x == nil {
		return whenFree
	}
	if x.pa != pa {
		return ErrInsideBlock
	}
	return head(x)
}

// hasFreeRun reports whether the model has a free, aligned block of
// 2^order available frames: then a buddy allocator that merges eagerly
// must be able to allocate it.
func (m *frameModel) hasFreeRun(order int) bool {
	n := 1 << order
	first := int((m.lo / FrameSize) % PhysAddr(n)) // frames before alignment
	if first != 0 {
		first = n - first
	}
	for s := first; s+n <= len(m.avail); s += n {
		ok := true
		for j := s; j < s+n; j++ {
			if !m.avail[j] || m.owner[j] != 0 {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func runFrames(t *testing.T, data []byte) {
	in := &fuzzReader{data}
	b0 := in.u8()
	lo := fuzzWindows[(b0&0x7f)%len(fuzzWindows)]
	hi := lo + fuzzWindow
	ar := shared(t, lo, hi)

	var usable, reserved []PhysRange
	nu := 1 + in.u8()%4
	for range nu {
		s := lo + PhysAddr(in.u16())*128
		e := s + PhysAddr(in.u16())*128
		usable = append(usable, PhysRange{s, min(e, hi)})
	}
	nr := in.u8() % 5
	for range nr {
		s := lo + PhysAddr(in.u16())*128
		e := s + PhysAddr(in.u16()%512)*FrameSize + PhysAddr(in.u8())
		reserved = append(reserved, PhysRange{s, e})
	}

	var a FrameAllocator
	am := newAvailModel(lo, hi, usable, reserved)
	recPA, recFrames, recOK := am.recordPlace()
	err := a.Init(ar.physOffset, usable, reserved)
	if !recOK {
		if err != ENOMEM {
			t.Fatalf("Init = %v, but no room for %d record frames", err, recFrames)
		}
		return
	}
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	cpu := 0
	if b0&0x80 != 0 {
		a.EnableCaches(4, func() int { return cpu })
	}
	if am.nUsable > 0 && (a.recPA != recPA || a.recordFrames != uint64(recFrames)) {
		t.Fatalf("records at %#x (%d frames), model %#x (%d)", a.recPA, a.recordFrames, recPA, recFrames)
	}
	m := &frameModel{lo: lo, avail: am.avail, owner: make([]int, len(am.avail))}
	m.base, m.end = am.span()
	for f := range recFrames {
		m.avail[m.frame(recPA)+f] = false
	}
	for _, ok := range m.avail {
		if ok {
			m.free++
		}
	}
	initial := check(t, &a)
	st0 := a.Stats()
	if st0.FreeFrames != m.free {
		t.Fatalf("FreeFrames %d, model %d", st0.FreeFrames, m.free)
	}

	agree := func(op string, got, want error) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: got %v, want %v", op, got, want)
		}
	}
	// pick chooses a live allocation, or nil.
	pick := func(b int) *modelAlloc {
		if len(m.allocs) == 0 {
			return nil
		}
		return m.allocs[b%len(m.allocs)]
	}
	// anyAddr makes an arbitrary address near the window: mostly frame
	// aligned, sometimes not, sometimes outside.
	anyAddr := func(b1, b2 int) PhysAddr {
		pa := lo - 16*FrameSize + PhysAddr(b1<<8|b2)*FrameSize/8
		if b2&7 != 0 {
			pa &^= FrameSize - 1
		}
		return pa
	}

	for step := 0; len(in.data) > 0; step++ {
		op, x, y := in.u8(), in.u8(), in.u8()
		cpu = op / 10 % 4
		switch op % 10 {
		case 0, 1: // Alloc / AllocZeroed
			order := x % 12 // 11 is a bad order
			if x&0x80 == 0 && order > 3 {
				order %= 4 // mostly small orders
			}
			zeroed := op%10 == 1
			var pa PhysAddr
			var err error
			if zeroed {
				pa, err = a.AllocZeroed(order)
			} else {
				pa, err = a.Alloc(order)
			}
			if order > MaxOrder {
				agree("Alloc bad order", err, ErrBadOrder)
				break
			}
			if err == ENOMEM {
				if m.hasFreeRun(order) {
					t.Fatalf("step %d: Alloc(%d) = ENOMEM, but the model has a free aligned block", step, order)
				}
				break
			}
			agree("Alloc", err, nil)
			if pa%(FrameSize<<order) != 0 || !m.inWindow(pa) {
				t.Fatalf("Alloc(%d) = %#x: misaligned or outside the window", order, pa)
			}
			for j := range 1 << order {
				f := m.frame(pa) + j
				if f >= len(m.avail) || !m.avail[f] || m.owner[f] != 0 {
					t.Fatalf("Alloc(%d) = %#x: frame %d unavailable or owned", order, pa, j)
				}
			}
			m.add(pa, order, 1)
			m.free -= 1 << order
			m.allocCount += 1 << order
			// Check and dirty the edges of every frame: enough to catch a
			// clear of the wrong size or place without touching megabytes.
			for j := range 1 << order {
				fb := ar.bytes(pa+PhysAddr(j)*FrameSize, FrameSize)
				if zeroed {
					for _, c := range [...]byte{fb[0], fb[1], fb[FrameSize/2], fb[FrameSize-1]} {
						if c != 0 {
							t.Fatalf("AllocZeroed(%d) = %#x: frame %d not zero", order, pa, j)
						}
					}
				}
				fb[0], fb[FrameSize/2], fb[FrameSize-1] = 0xa5, 0x5a, 0xff
			}
		case 2, 3: // Free a live block, or Free something arbitrary
			var pa PhysAddr
			order := y % 12
			if l := pick(x); l != nil && op%10 == 2 {
				pa, order = l.pa, l.order
				if y&0xc0 == 0xc0 { // wrong order or an inner frame
					if y&1 == 0 {
						order = (order + 1 + y%3) % (MaxOrder + 1)
					} else {
						pa += PhysAddr((y>>1)%(1<<l.order)) * FrameSize
					}
				}
			} else {
				pa = anyAddr(x, y)
				order = int(y % 3)
			}
			want := m.expectLive(pa, order)
			if want == nil && m.liveAt(pa).ref > 1 {
				want = ErrShared
			}
			agree("Free", a.Free(pa, order), want)
			if want == nil {
				m.drop(m.liveAt(pa))
				m.free += 1 << order
				m.freeCount += 1 << order
			}
		case 4: // Split
			var pa PhysAddr
			var order int
			if l := pick(x); l != nil && y&0x80 == 0 {
				pa, order = l.pa, l.order
			} else {
				pa, order = anyAddr(x, y), int(y%4)
			}
			want := m.expectLive(pa, order)
			agree("Split", a.Split(pa, order), want)
			if want == nil {
				l := m.liveAt(pa)
				ref := l.ref
				m.drop(l)
				for j := range 1 << order {
					m.add(pa+PhysAddr(j)*FrameSize, 0, ref)
				}
			}
		case 5, 6, 7: // IncRef, DecRef, RefCount
			var pa PhysAddr
			if l := pick(x); l != nil && y&0x80 == 0 {
				pa = l.pa
				if y&0x40 != 0 { // an inner frame
					pa += PhysAddr(int(y)%(1<<l.order)) * FrameSize
				}
			} else {
				pa = anyAddr(x, y)
			}
			switch op % 10 {
			case 5:
				want := m.expectFrame(pa, func(l *modelAlloc) error {
					if l.ref == 0 {
						return ErrRefDead
					}
					return nil
				}, ErrFrameFree)
				agree("IncRef", a.IncRef(pa), want)
				if want == nil {
					m.liveAt(pa).ref++
				}
			case 6:
				want := m.expectFrame(pa, func(l *modelAlloc) error {
					if l.ref == 0 {
						return ErrRefUnderflow
					}
					return nil
				}, ErrFrameFree)
				n, err := a.DecRef(pa)
				agree("DecRef", err, want)
				if want == nil {
					l := m.liveAt(pa)
					l.ref--
					if n != l.ref {
						t.Fatalf("DecRef = %d, model %d", n, l.ref)
					}
				}
			case 7:
				want := uint32(0)
				if l := m.liveAt(pa); l != nil && pa%FrameSize == 0 {
					want = l.ref
				}
				if got := a.RefCount(pa); got != want {
					t.Fatalf("RefCount(%#x) = %d, model %d", pa, got, want)
				}
			}
		case 8: // Free the oldest live blocks, dropping references first
			for range x % 8 {
				if len(m.allocs) == 0 {
					break
				}
				l := m.allocs[0]
				for l.ref > 1 {
					if _, err := a.DecRef(l.pa); err != nil {
						t.Fatal(err)
					}
					l.ref--
				}
				agree("Free", a.Free(l.pa, l.order), nil)
				m.free += 1 << l.order
				m.freeCount += 1 << l.order
				m.drop(l)
			}
		case 9: // Clear free memory as the idle CPU does (a block may stay
			// held half cleared), then check everything now.
			if x&1 != 0 {
				a.ZeroSome(int(x>>1)%(MaxOrder+1), uintptr(y)*FrameSize)
			}
			check(t, &a)
		}
		st := a.Stats()
		if st.FreeFrames != m.free || st.Allocs != m.allocCount || st.Frees != m.freeCount {
			t.Fatalf("step %d: stats %+v, model free %d allocs %d frees %d", step, st, m.free, m.allocCount, m.freeCount)
		}
	}

	// Free everything; the lists must be exactly as Init left them.
	check(t, &a)
	for len(m.allocs) > 0 {
		l := m.allocs[len(m.allocs)-1]
		for ; l.ref > 1; l.ref-- {
			if _, err := a.DecRef(l.pa); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Free(l.pa, l.order); err != nil {
			t.Fatalf("final Free(%#x, %d): %v", l.pa, l.order, err)
		}
		m.drop(l)
	}
	a.unhold() // a block the idle CPU was clearing goes back, as an allocation would take it
	a.Drain()  // and the caches' frames, merged
	sameSnapshot(t, check(t, &a), initial)
	if st := a.Stats(); st.FreeFrames != st0.FreeFrames || st.FreeByOrder != st0.FreeByOrder {
		t.Fatalf("final stats %+v, initial %+v", st, st0)
	}
}

// fuzzSeeds are hand-made starting points; testdata/fuzz/FuzzFrames holds
// more, kept from fuzzing runs. All of them run in every "go test".
func fuzzSeeds() [][]byte {
	// Window at 0; three usable ranges (one unaligned); two reserved
	// ranges, one unaligned and overlapping the first usable range.
	pc := []byte{
		0, 2,
		0x00, 0x08, 0x10, 0x40,
		0x10, 0x00, 0x20, 0x00,
		0x30, 0x01, 0x10, 0x00,
		2,
		0x00, 0x10, 0x00, 0x10, 0x00,
		0x0c, 0x00, 0x01, 0x00, 0x33,
	}
	// A mix of allocations, frees, misuse, splits and reference counts.
	ops := []byte{
		0, 0, 0, 1, 3, 0, 0, 9, 0x80, 5, 0, 0, 4, 1, 0,
		2, 0, 0, 6, 0, 0, 2, 0, 0, 7, 1, 0x40, 3, 0x12, 0x34,
		2, 1, 0xc1, 2, 1, 0xc0, 8, 7, 0, 9, 0, 0,
	}
	// Window straddling 4 GiB, one usable range over all of it.
	high := []byte{1, 0, 0x00, 0x00, 0xff, 0xff, 0}
	// Window at 1 TiB: holes, overlapping reserved ranges.
	tera := []byte{
		2, 3,
		0x00, 0x01, 0x00, 0x10, 0x00, 0x11, 0x00, 0x01,
		0x00, 0x30, 0x00, 0x20, 0x00, 0x40, 0x01, 0x00,
		4,
		0x00, 0x01, 0x00, 0x01, 0x01,
		0x00, 0x01, 0x00, 0x02, 0x00,
		0x02, 0x00, 0x00, 0x10, 0x00,
		0x03, 0x00, 0x01, 0x00, 0x00,
	}
	bigOps := append(slices.Clone(ops), 0, 0x8a, 0, 1, 0x89, 0, 4, 0, 0, 8, 3, 0)
	cached := func(seed []byte) []byte {
		c := slices.Clone(seed)
		c[0] |= 0x80
		// Every operation again on each of the other CPUs.
		for cpu := byte(1); cpu < 4; cpu++ {
			for i := len(seed) - len(ops); i+3 <= len(seed); i += 3 {
				c = append(c, seed[i]%10+10*cpu, seed[i+1], seed[i+2])
			}
		}
		return c
	}
	return [][]byte{
		cached(append(slices.Clone(pc), ops...)),
		cached(append(slices.Clone(tera), ops...)),
		append(pc, ops...),
		append(high, bigOps...),
		append(tera, ops...),
		{0, 0, 0, 0, 0x00, 0x08, 0}, // one frame: the records take it
	}
}
