package paging

import "testing"

// BenchmarkMapUnmap maps and unmaps one page of each size. "warm" keeps a
// neighbouring page mapped so the tables above the page stay (the fault
// handler's usual case); "cold" allocates and frees every table each time.
// The simulated Frames and TLB are a few nanoseconds each.
func BenchmarkMapUnmap(b *testing.B) {
	const va = uintptr(5 << 39)
	for _, c := range []struct {
		name      string
		size      uintptr
		neighbour uintptr // offset of a page kept mapped; 0: none
		pages     bool    // MapPages
	}{
		{"4K/warm", PageSize, 16 * PageSize, false},
		{"4K/cold", PageSize, 0, false},
		{"2M/warm", HugePageSize, 4 * HugePageSize, false},
		{"2M/cold", HugePageSize, 0, false},
		{"1G/warm", GiantPageSize, 2 * GiantPageSize, false},
		{"1G/cold", GiantPageSize, 0, false},
		{"2M-as-4K/warm", HugePageSize, 4 * HugePageSize, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := newSim(b, true)
			pt := newPT(b, s)
			if c.neighbour != 0 {
				must1(b, pt.MapPages(va+c.neighbour, 0, PageSize, 0))
			}
			mapf := pt.Map
			if c.pages {
				mapf = pt.MapPages
			}
			release := func(uint64, uintptr) {}
			b.ReportAllocs()
			for b.Loop() {
				if err := mapf(va, 1<<32, c.size, Writable|NoExecute); err != nil {
					b.Fatal(err)
				}
				if err := pt.Unmap(va, c.size, release); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkProtect4K(b *testing.B) {
	s := newSim(b, true)
	pt := newPT(b, s)
	must1(b, pt.MapPages(0x4000_0000, 0, HugePageSize, Writable))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := pt.Protect(0x4000_0000+uintptr(i%512)*PageSize, PageSize, Flags(i&1)*Writable); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTranslate(b *testing.B) {
	s := newSim(b, true)
	pt := newPT(b, s)
	must1(b, pt.MapPages(1<<39, 0, PageSize, 0))
	must1(b, pt.Map(2<<39, 0, HugePageSize, 0))
	must1(b, pt.Map(3<<39, 0, GiantPageSize, 0))
	for _, c := range []struct {
		name string
		va   uintptr
	}{{"4K", 1<<39 + 0x123}, {"2M", 2<<39 + 0x12345}, {"1G", 3<<39 + 0x1234567}, {"hole", 4 << 39}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pt.Translate(c.va)
			}
		})
	}
}

func must1(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
