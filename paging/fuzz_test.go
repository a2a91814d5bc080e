package paging

import (
	"encoding/binary"
	"fmt"
	"sort"
	"testing"
)

// The reference model of an address space: sorted, non-overlapping extents
// [va, last] -> pa + (x - va), flags. It says what every 4 KiB page maps to,
// like a map from page number to (pa, flags) would, but in space
// proportional to the number of operations, not pages: the fuzzer maps and
// checks whole gigabytes at a time (1 GiB pages are the point), which a
// per-page map would make too slow to fuzz.
type extent struct {
	va, last uintptr
	pa       uint64
	flags    Flags
}

type model struct{ ext []extent }

func (m *model) overlaps(va, last uintptr) bool {
	for _, e := range m.ext {
		if e.va <= last && va <= e.last {
			return true
		}
	}
	return false
}

// cut removes [va, last] from the model and returns the pieces it removed.
func (m *model) cut(va, last uintptr) []extent {
	var keep, gone []extent
	for _, e := range m.ext {
		if e.last < va || e.va > last {
			keep = append(keep, e)
			continue
		}
		if e.va < va {
			keep = append(keep, extent{e.va, va - 1, e.pa, e.flags})
		}
		if e.last > last {
			keep = append(keep, extent{last + 1, e.last, e.pa + uint64(last+1-e.va), e.flags})
		}
		lo, hi := max(e.va, va), min(e.last, last)
		gone = append(gone, extent{lo, hi, e.pa + uint64(lo-e.va), e.flags})
	}
	m.ext = keep
	return gone
}

func (m *model) add(es ...extent) {
	m.ext = append(m.ext, es...)
	sort.Slice(m.ext, func(i, j int) bool { return m.ext[i].va < m.ext[j].va })
}

func (m *model) protect(va, last uintptr, flags Flags) {
	gone := m.cut(va, last)
	for i := range gone {
		gone[i].flags = flags
	}
	m.add(gone...)
}

// check compares the page tables with the model over [from, last]: every
// leaf Translate reports must be covered, without gaps, by model extents
// that map each of its pages to the same physical address with the same
// flags, and every hole Translate reports must be a hole in the model. The
// walk steps a leaf or a hole at a time, so a 1 GiB page costs one step but
// still vouches for each of its 262144 pages; Translate is also asked about
// the last page of every leaf.
func (m *model) check(t *testing.T, pt *PageTable, from, last uintptr) {
	t.Helper()
	i := sort.Search(len(m.ext), func(i int) bool { return m.ext[i].last >= from })
	for a := from; ; {
		pa, flags, size, ok := pt.Translate(a)
		if size == 0 {
			t.Fatalf("Translate(%#x): size 0", a)
		}
		base := a &^ (size - 1)
		end := base + size - 1
		for i < len(m.ext) && m.ext[i].last < base {
			i++
		}
		if !ok {
			if i < len(m.ext) && m.ext[i].va <= end {
				e := m.ext[i]
				t.Fatalf("%#x not mapped (hole %#x..%#x), model maps %#x..%#x to %#x", a, base, end, e.va, e.last, e.pa)
			}
		} else {
			pa -= uint64(a - base)
			for x, j := base, i; ; {
				if j >= len(m.ext) || m.ext[j].va > x {
					t.Fatalf("leaf %#x..%#x (pa %#x): model has nothing at %#x", base, end, pa, x)
				}
				e := m.ext[j]
				if e.flags != flags || e.pa+uint64(x-e.va) != pa+uint64(x-base) {
					t.Fatalf("leaf %#x..%#x -> %#x flags %#x; model at %#x: %#x flags %#x",
						base, end, pa, uint64(flags), x, e.pa+uint64(x-e.va), uint64(e.flags))
				}
				if e.last >= end {
					break
				}
				x, j = e.last+1, j+1
			}
			if lpa, lflags, lsize, lok := pt.Translate(end &^ (PageSize - 1)); size > PageSize && (!lok || lsize != size || lflags != flags ||
				lpa != pa+uint64(size-PageSize)) {
				t.Fatalf("last page of leaf %#x..%#x: %#x %#x %#x %v", base, end, lpa, uint64(lflags), lsize, lok)
			}
		}
		if end >= last || end+1 == 0 {
			return
		}
		a = end + 1
	}
}

// oldLeaves lists the leaves (base, size, flags) that map anything in
// [va, last] now: what the TLB may hold for that range.
func oldLeaves(pt *PageTable, va, last uintptr) []extent {
	var out []extent
	for a := va; ; {
		pa, flags, size, ok := pt.Translate(a)
		base := a &^ (size - 1)
		if ok {
			out = append(out, extent{base, base + size - 1, pa - uint64(a-base), flags})
		}
		if base+size-1 >= last || base+size == 0 {
			return out
		}
		a = base + size
	}
}

// The fuzzer's address space: four windows of 8 GiB at the edges of the
// canonical halves, in four PML4 slots.
var windows = [4]uintptr{
	1 << 39,                           // an ordinary low slot
	1<<47 - 8<<30,                     // the top of the low half
	0xffff_8000_0000_0000,             // the bottom of the higher half
	0xffff_ffff_ffff_ffff - 8<<30 + 1, // the top of the address space
}

const windowSize = 8 << 30

type fuzzOp struct {
	kind   int // 0 Map, 1 MapPages, 2 Unmap, 3 Protect
	va     uintptr
	size   uintptr
	pa     uint64
	flags  Flags
	budget int // frames the op may take; -1 no limit
	win    uintptr
}

// around is [va, last] widened by 1 GiB on each side, within window win.
func around(win, va, last uintptr) (uintptr, uintptr) {
	lo, hi := va&^(GiantPageSize-1), last|(GiantPageSize-1)
	if lo-win >= GiantPageSize {
		lo -= GiantPageSize
	} else {
		lo = win
	}
	if winLast := win + windowSize - 1; winLast-hi >= GiantPageSize {
		hi += GiantPageSize
	} else {
		hi = winLast
	}
	return lo, hi
}

func (o fuzzOp) String() string {
	return fmt.Sprintf("%s(%#x, size %#x, pa %#x, flags %#x, budget %d)",
		[]string{"Map", "MapPages", "Unmap", "Protect"}[o.kind], o.va, o.size, o.pa, uint64(o.flags), o.budget)
}

var alignClass = [4]uintptr{PageSize, PageSize, HugePageSize, GiantPageSize}

// decodeOp turns 8 bytes into an operation. Alignments of 2 MiB and 1 GiB
// come up often so huge pages happen, and sizes are often a huge-page
// multiple give or take a few pages so splits happen.
func decodeOp(b []byte) fuzzOp {
	var o fuzzOp
	o.kind = int(b[0] & 3)
	win := windows[b[0]>>2&3]
	o.win = win
	align := alignClass[b[0]>>4&3]
	idx := uintptr(binary.LittleEndian.Uint16(b[1:]))
	o.va = win + idx*align%windowSize
	n := uintptr(b[3])
	switch b[0] >> 6 {
	case 0:
		o.size = (n%64 + 1) * PageSize
	case 1:
		o.size = (n%8 + 1) * HugePageSize
	case 2:
		o.size = (n%3 + 1) * GiantPageSize
	case 3:
		o.size = (n%4+1)*HugePageSize + (n>>2%5)*PageSize - 2*PageSize
	}
	if rest := win + windowSize - o.va; o.size > rest {
		o.size = rest
	}
	paAlign := alignClass[b[7]&3]
	if b[7]&3 == 0 {
		paAlign = align // mostly as aligned as va, so huge pages fit
	}
	o.pa = uint64(binary.LittleEndian.Uint16(b[4:])) * uint64(paAlign) % (1 << 46)
	if (o.kind == 1 || (uint64(o.va)|o.pa)%HugePageSize != 0) && o.size > 4<<20 {
		// 4 KiB pages: keep the number of leaves, and so the time per
		// check, small. Two PTs' worth still crosses table boundaries.
		o.size = 4 << 20
	}
	var flagBits = [...]Flags{Writable, User, WriteThrough, CacheDisable, Global, NoExecute}
	for i, f := range flagBits {
		if b[6]&(1<<i) != 0 {
			o.flags |= f
		}
	}
	o.budget = -1
	if b[7]>>2 >= 56 {
		o.budget = int(b[7] >> 2 & 3) // starve the frame source now and then
	}
	return o
}

// maxOps bounds the operations per input: longer inputs add little that
// a sequence of shorter ones does not, and slow down each execution and,
// above all, the fuzzer's minimisation of every new interesting input.
const maxOps = 32

// fuzzSim is shared by the fuzz iterations of one process (they run one at
// a time): a fresh 64 MiB arena per input would dominate the run time.
var fuzzSim *sim

func FuzzPaging(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8*maxOps {
			data = data[:8*maxOps]
		}
		runPaging(t, data)
	})
}

func runPaging(t *testing.T, data []byte) {
	if fuzzSim == nil {
		fuzzSim = newSim(t, true)
	}
	s := fuzzSim
	s.reset() // a failed input leaves frames behind
	// One stray byte after the last operation turns 1 GiB pages off.
	s.env.GiantPages = len(data)%8 != 1
	pt := newPT(t, s)
	var m model

	for step := 0; len(data) >= 8; {
		o := decodeOp(data[:8])
		data = data[8:]
		last := o.va + o.size - 1
		var before []extent
		if o.kind >= 2 {
			before = oldLeaves(pt, o.va, last)
		}
		tables := s.frames.nlive
		s.tlb.reset()
		s.tlb.watch(pt)
		s.frames.budget = o.budget
		var err error
		var freed []extent
		switch o.kind {
		case 0:
			err = pt.Map(o.va, o.pa, o.size, o.flags)
		case 1:
			err = pt.MapPages(o.va, o.pa, o.size, o.flags)
		case 2:
			err = pt.Unmap(o.va, o.size, func(pa uint64, size uintptr) {
				// Released after the operation's shootdown, which
				// covers every invalidation so far.
				if s.tlb.unsynced != 0 || s.tlb.syncs == 0 {
					s.frames.unsyncedFrees++
				}
				freed = append(freed, extent{pa: pa, last: size})
			})
		case 3:
			err = pt.Protect(o.va, o.size, o.flags)
		}
		s.frames.budget = -1

		// The expected result, and the model's new state.
		switch {
		case o.kind <= 1 && m.overlaps(o.va, last):
			if err != ErrMapped {
				t.Fatalf("%v over a mapping: %v", o, err)
			}
		case err == ErrNoMemory && o.budget >= 0:
			// Nothing may have changed: checked against the model below.
		case err != nil:
			t.Fatalf("%v: %v", o, err)
		case o.kind <= 1:
			m.add(extent{o.va, last, o.pa, o.flags})
		case o.kind == 2:
			gone := m.cut(o.va, last)
			var want uintptr
			for _, g := range gone {
				want += g.last - g.va + 1
			}
			var got uintptr
			for _, f := range freed {
				got += f.last
			}
			if got != want {
				t.Fatalf("%v: released %#x bytes, model unmapped %#x", o, got, want)
			}
		case o.kind == 3:
			m.protect(o.va, last, o.flags)
		}
		if err != nil && s.frames.nlive != tables {
			t.Fatalf("%v failed with %v but tables went from %d to %d", o, err, tables, s.frames.nlive)
		}

		// Huge pages wherever alignment allows.
		if o.kind == 0 && err == nil {
			for _, l := range oldLeaves(pt, o.va, last) {
				want := pt.largest(l.va, l.pa, last-l.va)
				if l.last-l.va+1 != want.Size() {
					t.Fatalf("%v: leaf %#x..%#x -> %#x, want a %v leaf", o, l.va, l.last, l.pa, want)
				}
			}
		}

		// Every page that changed was dropped from the TLB, on every
		// CPU (Sync) before the operation returned.
		if s.tlb.unsynced != 0 || s.frames.unsyncedFrees != 0 {
			t.Fatalf("%v: %d invalidations not shot down at the end, %d frames freed before their shootdown", o, s.tlb.unsynced, s.frames.unsyncedFrees)
		}
		// One shootdown an operation, whatever it split, unmapped
		// and freed (issue 15: one IPI to each CPU).
		if s.tlb.shootdowns > 1 {
			t.Fatalf("%v: %d shootdowns, want at most one", o, s.tlb.shootdowns)
		}
		if err == nil && o.kind >= 2 {
			for _, l := range before {
				changed := o.kind == 2 || l.flags != o.flags
				if changed && !s.tlb.covers(l.va, l.last-l.va+1) {
					t.Fatalf("%v: leaf %#x..%#x changed without invalidation (%#x, %d flushes)", o, l.va, l.last, s.tlb.inval, s.tlb.flushes)
				}
			}
		}

		// The pages around the operation after every step (a split
		// or a freed table reaches at most the neighbouring 1 GiB),
		// every window every few steps and at the end: checking all of
		// them each time would make each input, and so minimisation,
		// several times slower.
		if step++; step%8 == 0 || len(data) < 8 {
			for _, w := range windows {
				m.check(t, pt, w, w+windowSize-1)
			}
		} else {
			lo, hi := around(o.win, o.va, last)
			m.check(t, pt, lo, hi)
		}
		if n := checkTables(t, s, pt); n != s.frames.nlive {
			t.Fatalf("%v: %d tables reachable, %d live", o, n, s.frames.nlive)
		}
		if s.frames.dirtyFrees+s.frames.doubleFrees+s.frames.foreign != 0 {
			t.Fatalf("%v: bad frees: dirty %d double %d foreign %d", o, s.frames.dirtyFrees, s.frames.doubleFrees, s.frames.foreign)
		}
	}

	// Unmapping everything gives every table back.
	for _, w := range windows {
		if err := pt.Unmap(w, windowSize, nil); err != nil {
			t.Fatalf("final Unmap(%#x): %v", w, err)
		}
	}
	if n := checkTables(t, s, pt); n != 1 || s.frames.nlive != 1 {
		t.Fatalf("after unmapping everything: %d tables reachable, %d live", n, s.frames.nlive)
	}
	s.tlb.unwatch()
	pt.Destroy(nil)
	if s.frames.nlive != 0 || s.frames.dirtyFrees+s.frames.doubleFrees+s.frames.foreign != 0 {
		t.Fatalf("after Destroy: %d live, bad frees %d/%d/%d", s.frames.nlive, s.frames.dirtyFrees, s.frames.doubleFrees, s.frames.foreign)
	}
}

// op encodes an operation for the seed corpus (the inverse of decodeOp for
// the fields given).
func op(kind, win, alignC, sizeC int, idx uint16, n byte, paIdx uint16, flags byte, b7 byte) []byte {
	b := make([]byte, 8)
	b[0] = byte(kind) | byte(win)<<2 | byte(alignC)<<4 | byte(sizeC)<<6
	binary.LittleEndian.PutUint16(b[1:], idx)
	b[3] = n
	binary.LittleEndian.PutUint16(b[4:], paIdx)
	b[6] = flags
	b[7] = b7
	return b
}

func cat(ops ...[]byte) []byte {
	var out []byte
	for _, o := range ops {
		out = append(out, o...)
	}
	return out
}

// fuzzSeeds are the scenarios the unit tests cover, as fuzz inputs; they
// are also checked in under testdata/fuzz/FuzzPaging.
func fuzzSeeds() [][]byte {
	const mapOp, mapPages, unmap, protect = 0, 1, 2, 3
	const a4k, a2m, a1g = 0, 2, 3
	const s4k, s2m, s1g, sOdd = 0, 1, 2, 3
	return [][]byte{
		// Giant page, a hole punched in the middle, reprotect across its end.
		cat(op(mapOp, 0, a1g, s1g, 1, 0, 1, 1, 0),
			op(unmap, 0, a2m, s4k, 512+3, 0, 0, 0, 0),
			op(protect, 0, a2m, sOdd, 1023, 9, 0, 0x20, 0)),
		// 2 MiB pages in every window, a 4 KiB MapPages run, unmap across.
		cat(op(mapOp, 0, a2m, s2m, 3, 5, 7, 3, 0),
			op(mapOp, 1, a2m, s2m, 4090, 7, 9, 1, 0),
			op(mapOp, 2, a2m, s2m, 0, 3, 2, 0x11, 0),
			op(mapOp, 3, a2m, s2m, 4092, 7, 4, 0x3, 0),
			op(mapPages, 0, a4k, s4k, 9000, 63, 8000, 2, 0),
			op(unmap, 0, a4k, sOdd, 1530, 15, 0, 0, 0),
			op(unmap, 3, a2m, s2m, 4093, 7, 0, 0, 0)),
		// Starved frame source: splits and maps that must change nothing.
		cat(op(mapOp, 2, a1g, s1g, 0, 1, 3, 0x3, 0),
			op(unmap, 2, a4k, s4k, 5000, 1, 0, 0, 0xe0),
			op(protect, 2, a4k, sOdd, 4000, 17, 0, 0x20, 0xe4),
			op(mapOp, 0, a4k, sOdd, 77, 30, 55, 1, 0xe8),
			op(mapPages, 1, a4k, s4k, 65535, 63, 1, 0, 0xec)),
		// Without giant pages: mapping over mappings at the top of memory.
		cat(op(mapOp, 3, a1g, s1g, 7, 2, 1, 7, 0),
			op(mapOp, 3, a2m, s2m, 4095, 7, 1, 7, 0),
			op(mapPages, 3, a4k, s4k, 0, 63, 1, 0, 1),
			op(protect, 3, a4k, sOdd, 2000000&0xffff, 200, 0, 0x3f, 0),
			op(unmap, 3, a1g, s1g, 7, 2, 0, 0, 0),
			[]byte{0}), // one byte past the last op: no giant pages
	}
}
