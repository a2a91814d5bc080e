package mm

import "testing"

// BenchmarkForkInto64MiB: fork of a space with 64 MiB touched (4 KiB pages).
func BenchmarkForkInto64MiB(b *testing.B) {
	m := newTestMachine(b, 512<<20)
	parent := m.space()
	a := mustAllocate(b, parent, 0, 64<<20, 0, false)
	for off := uintptr(0); off < 64<<20; off += PageSize {
		parent.Fault(a+off, AccessWrite)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		child := m.space()
		if err := parent.ForkInto(child); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		child.Destroy()
		b.StartTimer()
	}
}
