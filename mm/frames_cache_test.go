package mm

import "testing"

// TestCachesAcrossCPUs: frames allocated on one CPU and freed on another
// sit in the second CPU's cache; the counts stay exact, every frame can
// still be had (an allocation that finds the lists empty drains every
// cache first), and draining merges everything back as Init left it.
func TestCachesAcrossCPUs(t *testing.T) {
	a, _, _ := initMap(t, pcMap(64*miB, 0))
	cpu := 0
	a.EnableCaches(4, func() int { return cpu })
	initial := check(t, a)
	st0 := a.Stats()

	var pas []PhysAddr
	for {
		pa, err := a.Alloc(0)
		if err == ENOMEM {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pas = append(pas, pa)
	}
	if uint64(len(pas)) != st0.FreeFrames {
		t.Fatalf("allocated %d order-0 frames of %d free", len(pas), st0.FreeFrames)
	}
	if got := a.TakenHere(); got != uint64(len(pas)) {
		t.Fatalf("TakenHere on CPU 0 = %d, want %d", got, len(pas))
	}
	// Free them on CPUs 1 to 3: each keeps a cache full, the rest goes
	// back to the lists.
	for i, pa := range pas {
		cpu = 1 + i%3
		if err := a.Free(pa, 0); err != nil {
			t.Fatal(err)
		}
	}
	check(t, a)
	if st := a.Stats(); st.FreeFrames != st0.FreeFrames || st.Allocs != st.Frees {
		t.Fatalf("after freeing on other CPUs: %+v, initially %+v", st, st0)
	}
	if a.FreeFrames() != st0.FreeFrames {
		t.Fatalf("FreeFrames %d, want %d", a.FreeFrames(), st0.FreeFrames)
	}
	cached := uint64(0)
	for k := 1; k < 4; k++ {
		c := &a.caches[k]
		cached += uint64(c.n + c.zn)
		if c.n+c.zn == 0 || c.n+c.zn > cacheSize {
			t.Fatalf("cache %d holds %d frames", k, c.n+c.zn)
		}
	}
	// Every large block there is, on CPU 0, whose cache is empty: the
	// last ones need the frames the other caches hold, merged.
	cpu = 0
	var big []PhysAddr
	for {
		pa, err := a.Alloc(MaxOrder)
		if err != nil {
			break
		}
		big = append(big, pa)
	}
	if uint64(len(big)) != st0.FreeByOrder[MaxOrder] {
		t.Fatalf("%d blocks of order %d, Init had %d (caches held %d frames)", len(big), MaxOrder, st0.FreeByOrder[MaxOrder], cached)
	}
	for _, pa := range big {
		if err := a.Free(pa, MaxOrder); err != nil {
			t.Fatal(err)
		}
	}
	// A double free of a cached frame is refused, on any CPU.
	pa, _ := a.Alloc(0)
	a.Free(pa, 0)
	cpu = 2
	if err := a.Free(pa, 0); err != ErrDoubleFree {
		t.Fatalf("second Free of a cached frame: %v", err)
	}
	if err := a.IncRef(pa); err == nil {
		t.Fatalf("IncRef of a cached frame succeeded")
	}
	a.Drain()
	sameSnapshot(t, check(t, a), initial)
}

// TestCachedZeroFrames: frames the idle CPU cleared reach a cache as zero
// frames, and AllocZeroed takes them first.
func TestCachedZeroFrames(t *testing.T) {
	a, ar, _ := initMap(t, pcMap(16*miB, 0))
	a.EnableCaches(1, nil)
	for a.ZeroSome(MaxOrder, 1<<20) {
	}
	pa, err := a.AllocZeroed(0)
	if err != nil {
		t.Fatal(err)
	}
	c := &a.caches[0]
	if c.zn == 0 {
		t.Fatalf("no zero frames cached after AllocZeroed (%d unknown)", c.n)
	}
	if b := ar.bytes(pa, FrameSize); b[0] != 0 || b[FrameSize-1] != 0 {
		t.Fatal("zero frame not zero")
	}
	check(t, a)
}
