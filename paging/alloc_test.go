package paging

import "testing"

// TestNoAllocs proves the handler-context operations allocate nothing on the
// Go heap, on their success paths, their error paths, and with huge-page
// splits and table allocation and freeing in between.
func TestNoAllocs(t *testing.T) {
	const G, M, K = GiantPageSize, HugePageSize, PageSize
	s := newSim(t, true)
	pt := newPT(t, s)
	must(t, pt.Map(4*G, 4*G, G, Writable)) // stays, for Translate and ErrMapped

	var released uintptr
	var task PageTable // Create and Destroy in handler context
	task.Bind(&s.env)
	cases := []struct {
		name string
		f    func()
	}{
		{"Map+Unmap 4K with release", func() {
			pt.Map(1<<39, 0x1000, K, Writable)
			// A fresh closure each run, capturing a local: it must not
			// escape through Unmap.
			n := uintptr(0)
			pt.Unmap(1<<39, K, func(pa uint64, size uintptr) { n += size })
			released += n
		}},
		{"MapPages+Unmap 3M", func() {
			pt.MapPages(1<<39, 0, 3*M, Writable)
			pt.Unmap(1<<39, 3*M, func(uint64, uintptr) { released++ })
		}},
		{"Map+Unmap 2M", func() {
			pt.Map(1<<39, 0, M, Writable)
			pt.Unmap(1<<39, M, nil)
		}},
		{"Map+Unmap 1G", func() {
			pt.Map(1<<39, 0, G, Writable)
			pt.Unmap(1<<39, G, nil)
		}},
		{"split 1G by Unmap and Protect", func() {
			pt.Map(1<<39, 0, G, Writable)
			pt.Unmap(1<<39+M+K, K, nil)
			pt.Protect(1<<39+5*M+K, 3*K, NoExecute)
			pt.Unmap(1<<39, G, nil)
		}},
		{"Protect", func() {
			pt.Protect(4*G, G, Writable|NoExecute)
			pt.Protect(4*G, G, Writable)
		}},
		{"Translate", func() {
			pt.Translate(4*G + 0x1234)
			pt.Translate(1 << 39)
			pt.Leaf(4 * G)
		}},
		{"errors", func() {
			if pt.Map(4*G, 0, K, 0) != ErrMapped ||
				pt.Map(1, 0, K, 0) != ErrMisaligned ||
				pt.Unmap(0x8000_0000_0000, K, nil) != ErrNonCanonical ||
				pt.Protect(0, K, Dirty) != ErrFlags ||
				pt.Map(0, MaxPhysAddr, K, 0) != ErrPhysAddr {
				panic("wrong error")
			}
		}},
		{"Create, Map, Destroy", func() {
			if task.Create() != nil || task.Map(1<<39, 0, 3*M+K, Writable) != nil {
				panic("Create or Map failed")
			}
			n := uintptr(0)
			task.Destroy(func(pa uint64, size uintptr) { n += size })
			released += n
		}},
		{"ErrNoMemory", func() {
			s.frames.budget = 1
			if pt.Map(1<<39, 0, K, 0) != ErrNoMemory {
				panic("no ErrNoMemory from Map")
			}
			s.frames.budget = 0
			if pt.Unmap(4*G+K, K, nil) != ErrNoMemory {
				panic("no ErrNoMemory from Unmap")
			}
			s.frames.budget = -1
		}},
	}
	for _, c := range cases {
		if n := testing.AllocsPerRun(100, c.f); n != 0 {
			t.Errorf("%s: %v allocations per run", c.name, n)
		}
	}
	if released == 0 {
		t.Errorf("release never called")
	}
	if s.frames.nlive != 1+1 { // root and the PDPT of the 1 GiB page at 4G
		t.Errorf("%d tables live", s.frames.nlive)
	}
}
