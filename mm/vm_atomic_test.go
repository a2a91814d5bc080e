package mm

import (
	"testing"

	"hurdvm/paging"
)

// A call that fails changes nothing: vm.h does not say so in words, but a
// caller told ENOMEM must be able to go on as if it had not called. These
// tests fail each operation at every point where it can run out of
// frames, and compare the whole address space before and after.

// holdFrames allocates free frames until exactly keep are left and returns
// a function that frees them again.
func holdFrames(t testing.TB, fa *FrameAllocator, keep uint64) (release func()) {
	t.Helper()
	var held []PhysAddr
	for fa.FreeFrames() > keep {
		p, err := fa.Alloc(0)
		if err != nil {
			t.Fatalf("cannot hold frames down to %d: %v", keep, err)
		}
		held = append(held, p)
	}
	return func() {
		for _, p := range held {
			if err := fa.Free(p, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// spaceImage is what an address space shows a program: its regions and,
// for every page of [lo, hi), whether it is mapped and what its first byte
// holds.
type spaceImage struct {
	regions []Region
	pages   map[uintptr]int // page -> first byte, -1 when unmapped
}

func imageOf(m *testMachine, as *AddressSpace, lo, hi uintptr) spaceImage {
	img := spaceImage{pages: map[uintptr]int{}}
	for r, ok := as.Regions.Next(0); ok; r, ok = as.Regions.Next(r.End) {
		img.regions = append(img.regions, r)
	}
	for va := lo; va < hi; va += PageSize {
		pa, _, _, ok := as.PT.Translate(va)
		if !ok {
			img.pages[va] = -1
			continue
		}
		img.pages[va] = int(m.ar.bytes(PhysAddr(pa), 1)[0])
	}
	return img
}

func sameImage(t testing.TB, what string, got, want spaceImage) {
	t.Helper()
	if len(got.regions) != len(want.regions) {
		t.Fatalf("%s: %d regions, want %d", what, len(got.regions), len(want.regions))
	}
	for i := range got.regions {
		if got.regions[i] != want.regions[i] {
			t.Fatalf("%s: region %d is %+v, want %+v", what, i, got.regions[i], want.regions[i])
		}
	}
	for va, w := range want.pages {
		if g := got.pages[va]; g != w {
			t.Fatalf("%s: page %#x holds %d (-1: unmapped), want %d", what, va, g, w)
		}
	}
}

// A deallocation that cuts a hole in a map_now region across two 2 MiB
// pages needs a region-map entry (the region splits in two) and two page
// tables (each huge page splits). Whatever the frames run out on, a failed
// call leaves the region and every page as they were, and a VM_HERE
// allocation of the hole is refused rather than handed pages that still
// hold the old bytes. The region map is filled with a comb of small
// regions so that the split needs the map to grow, whatever its node or
// array size: the comb's length runs over a range around it.
func TestDeallocateENOMEMChangesNothing(t *testing.T) {
	for comb := 160; comb <= 180; comb++ {
		for keep := uint64(0); keep <= 5; keep++ {
			m := newTestMachine(t, 64<<20)
			as := m.space()
			big := mustAllocate(t, as, 0, 4<<20, 0, true)
			if big%paging.HugePageSize != 0 {
				t.Fatalf("map_now region at %#x is not 2 MiB aligned", big)
			}
			for va := big; va < big+4<<20; va += PageSize {
				m.write(as, va, byte(va>>12)|1)
			}
			combAt := big + 8<<20
			for i := 0; i < comb; i++ {
				mustAllocate(t, as, combAt+uintptr(2*i)*PageSize, PageSize, VM_HERE, false)
			}
			lo, hi := big, big+4<<20
			before := imageOf(m, as, lo, hi)

			hole, holeEnd := big+1<<20, big+3<<20
			release := holdFrames(t, &m.fa, keep)
			err := as.Deallocate(hole, holeEnd-hole)
			release()
			switch err {
			case ENOMEM:
				sameImage(t, "after a failed deallocation", imageOf(m, as, lo, hi), before)
				a := hole
				if e := as.Allocate(&a, holeEnd-hole, VM_HERE|VM_ZEROFILL, false); e != EEXIST {
					t.Fatalf("comb %d, %d frames: VM_HERE over the region a failed deallocation kept: %v, want EEXIST", comb, keep, e)
				}
			case nil:
				for va := hole; va < holeEnd; va += PageSize {
					if _, _, _, ok := as.PT.Translate(va); ok {
						t.Fatalf("comb %d, %d frames: %#x still mapped after the deallocation succeeded", comb, keep, va)
					}
				}
				a := hole
				mustAllocate(t, as, a, holeEnd-hole, VM_HERE|VM_ZEROFILL, false)
				for va := hole; va < holeEnd; va += PageSize {
					if b := m.read(as, va); b != 0 {
						t.Fatalf("comb %d, %d frames: zero-fill page %#x reads %d", comb, keep, va, b)
					}
				}
			default:
				t.Fatalf("comb %d, %d frames: Deallocate: %v", comb, keep, err)
			}
			for va := lo; va < hi; va += PageSize {
				if va >= hole && va < holeEnd {
					continue
				}
				if b := m.read(as, va); b != byte(va>>12)|1 {
					t.Fatalf("comb %d, %d frames: page %#x outside the hole reads %d", comb, keep, va, b)
				}
			}
			as.Destroy()
		}
	}
}
