package mm

import (
	"testing"
	"unsafe"
)

// benchAlloc is a 256 MiB machine: low memory reserved as on a PC, the rest
// free.
func benchAlloc(b *testing.B) (*FrameAllocator, *arena) {
	b.Helper()
	ar := shared(b, 0, 256*miB)
	a := new(FrameAllocator)
	err := a.Init(ar.physOffset, []PhysRange{{0, 0x9fc00}, {1 * miB, 256 * miB}},
		[]PhysRange{{0, 4 * miB}})
	if err != nil {
		b.Fatal(err)
	}
	return a, ar
}

// fragment allocates 'frames' order-0 frames and frees every other one, so
// that the order-0 list is long and a freed frame's buddy is allocated: the
// steady state of a busy machine, where an order-0 pair neither splits nor
// merges. The other half stay allocated for the rest of the benchmark.
func fragment(b *testing.B, a *FrameAllocator, frames int) {
	b.Helper()
	ps := make([]PhysAddr, frames)
	for i := range ps {
		p, err := a.Alloc(0)
		if err != nil {
			b.Fatal(err)
		}
		ps[i] = p
	}
	for i := 1; i < len(ps); i += 2 {
		if err := a.Free(ps[i], 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllocFree0 is the order-0 Alloc+Free pair. "fresh" is the
// worst case: memory is all in order-10 blocks, so each Alloc splits ten
// times and each Free merges ten times. "fragmented" is the common case.
func BenchmarkAllocFree0(b *testing.B) {
	b.Run("fresh", func(b *testing.B) {
		a, _ := benchAlloc(b)
		for b.Loop() {
			p, _ := a.Alloc(0)
			a.Free(p, 0)
		}
	})
	b.Run("fragmented", func(b *testing.B) {
		a, _ := benchAlloc(b)
		fragment(b, a, 4096)
		for b.Loop() {
			p, _ := a.Alloc(0)
			a.Free(p, 0)
		}
	})
}

// BenchmarkAllocFree9 is the order-9 (2 MiB) pair.
func BenchmarkAllocFree9(b *testing.B) {
	a, _ := benchAlloc(b)
	for b.Loop() {
		p, _ := a.Alloc(9)
		a.Free(p, 9)
	}
}

// BenchmarkAllocZeroed0 is the zeroed order-0 pair. "hot" reuses one frame
// (it stays in L1/L2) on a fragmented allocator, so it is the clear plus
// the fragmented Alloc+Free pair; "cold" walks 128 MiB of frames round
// robin, more than the last-level cache holds, so every clear writes to
// memory as the first touch of a page by a faulting thread does.
func BenchmarkAllocZeroed0(b *testing.B) {
	b.Run("hot", func(b *testing.B) {
		a, _ := benchAlloc(b)
		fragment(b, a, 4096)
		for b.Loop() {
			p, _ := a.AllocZeroed(0)
			a.Free(p, 0)
		}
	})
	b.Run("cold", func(b *testing.B) {
		a, ar := benchAlloc(b)
		benchCold(b, a, func(p PhysAddr) {}, func(p PhysAddr) {
			clear(ar.bytes(p, FrameSize))
		}, func(PhysAddr) {})
	})
	// The same walk without the clear: the allocator's share of "cold".
	b.Run("cold-nozero", func(b *testing.B) {
		a, _ := benchAlloc(b)
		benchCold(b, a, func(PhysAddr) {}, func(PhysAddr) {}, func(PhysAddr) {})
	})
}

// BenchmarkZeroPolicy measures where zeroing belongs, on the life of a
// page: a fault takes a zeroed frame and the thread then writes it; the
// oldest page of a 128 MiB working set (more than the cache) is released.
// All frames start zeroed, so each policy keeps handing out zeroed frames.
//
// Policies:
//   - alloc: AllocZeroed clears the frame at the fault (what mm does).
//   - free:  the frame is cleared when released, Alloc hands it out as is.
//   - ideal: nobody clears; the lower bound that frames known to be zero
//     (a background zeroer, or frames that come back zeroed) could reach.
//
// Writers: "page" fills the whole frame (anonymous memory, a copy), "line"
// writes one cache line (a page table gaining an entry).
func BenchmarkZeroPolicy(b *testing.B) {
	src := make([]byte, FrameSize)
	for i := range src {
		src[i] = byte(i)
	}
	for _, writer := range []struct {
		name string
		n    int
	}{{"page", FrameSize}, {"line", 64}} {
		for _, pol := range []struct {
			name            string
			atAlloc, atFree bool
		}{{"alloc", true, false}, {"free", false, true}, {"ideal", false, false}} {
			b.Run(writer.name+"/"+pol.name, func(b *testing.B) {
				a, ar := benchAlloc(b)
				benchCold(b, a,
					func(p PhysAddr) { clear(ar.bytes(p, FrameSize)) },
					func(p PhysAddr) {
						if pol.atAlloc {
							clear(ar.bytes(p, FrameSize))
						}
						copy(ar.bytes(p, writer.n), src)
					},
					func(p PhysAddr) {
						if pol.atFree {
							clear(ar.bytes(p, FrameSize))
						}
					})
			})
		}
	}
}

// benchCold runs a FIFO of 128 MiB of order-0 frames, much more than the
// cache holds: each iteration allocates a frame and calls use on it, then
// calls release on the oldest frame and frees it. LIFO reuse means the frame
// allocated is the one released an iteration earlier, last touched a whole
// window ago: cold. prime runs once on every frame first.
func benchCold(b *testing.B, a *FrameAllocator, prime, use, release func(PhysAddr)) {
	const window = 128 * miB / FrameSize
	ring := make([]PhysAddr, window)
	for i := range ring {
		p, err := a.Alloc(0)
		if err != nil {
			b.Fatal(err)
		}
		prime(p)
		ring[i] = p
	}
	i := 0
	for b.Loop() {
		p, _ := a.Alloc(0)
		use(p)
		release(ring[i])
		a.Free(ring[i], 0)
		ring[i] = p
		i++
		if i == window {
			i = 0
		}
	}
	for _, p := range ring {
		a.Free(p, 0)
	}
}

// BenchmarkAllocZeroed9 is the zeroed 2 MiB pair (a huge page fault).
func BenchmarkAllocZeroed9(b *testing.B) {
	a, _ := benchAlloc(b)
	b.SetBytes(FrameSize << 9)
	for b.Loop() {
		p, _ := a.AllocZeroed(9)
		a.Free(p, 9)
	}
}

// BenchmarkZeroFrame compares ways to clear one hot 4 KiB frame: clear()
// on an unsafe.Slice (runtime memclr, what AllocZeroed does) against a
// plain loop of 8-byte stores, as code that avoids the runtime would write.
func BenchmarkZeroFrame(b *testing.B) {
	ar := shared(b, 0, 1*miB)
	b.Run("memclr", func(b *testing.B) {
		b.SetBytes(FrameSize)
		for b.Loop() {
			clear(ar.mem[:FrameSize])
		}
	})
	b.Run("loop64", func(b *testing.B) {
		b.SetBytes(FrameSize)
		w := (*[FrameSize / 8]uint64)(unsafe.Pointer(&ar.mem[0]))
		for b.Loop() {
			for i := 0; i < len(w); i++ {
				w[i] = 0
			}
		}
	})
}
