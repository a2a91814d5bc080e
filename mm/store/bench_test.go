package store

import (
	"os"
	"testing"
)

// benchPages are the page sets the benchmarks store: the tests' kinds, and
// the test binary itself (machine code and data as real memory holds them).
func benchPages(b *testing.B) []struct {
	name  string
	pages [][PageSize]byte
} {
	const n = 1024
	sets := []struct {
		name  string
		pages [][PageSize]byte
	}{{name: "compressible"}, {name: "random"}, {name: "zero"}, {name: "same"}, {name: "binary"}}
	for k := range numKinds {
		sets[k].pages = make([][PageSize]byte, n)
		for i := range sets[k].pages {
			fillKind(&sets[k].pages[i], k, uint64(i))
		}
	}
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i+PageSize <= len(data) && len(sets[4].pages) < n; i += PageSize {
		sets[4].pages = append(sets[4].pages, [PageSize]byte(data[i:i+PageSize]))
	}
	return sets
}

// putFree stores the pages of set and frees them, 1024 at a time, until b.N
// pages have gone through: with timePut the Puts are timed, else the Frees.
// It returns the store's stats before the last batch was freed.
func putFree(b *testing.B, pages [][PageSize]byte, timePut bool) Stats {
	m := newSimFrames(4096)
	m.noPoison = true
	s := New(m, 1<<30)
	slots := make([]Slot, len(pages))
	var st Stats
	b.ResetTimer()
	for i := 0; i < b.N; {
		batch := min(len(pages), b.N-i)
		if !timePut {
			b.StopTimer()
		}
		for j := range batch {
			sl, err := s.Put(&pages[j])
			if err != nil {
				b.Fatal(err)
			}
			slots[j] = sl
		}
		b.StopTimer()
		st = s.Stats()
		if !timePut {
			b.StartTimer()
		}
		for j := range batch {
			s.Free(slots[j])
		}
		i += batch
		b.StartTimer()
	}
	return st
}

// BenchmarkPut stores the pages of each set and reports the compression
// achieved: ratio is uncompressed over compressed bytes, mem-ratio
// uncompressed bytes over the frames the store holds for them.
func BenchmarkPut(b *testing.B) {
	for _, set := range benchPages(b) {
		b.Run(set.name, func(b *testing.B) {
			st := putFree(b, set.pages, true)
			if st.CompressedBytes > 0 {
				b.ReportMetric(float64(st.UncompressedBytes)/float64(st.CompressedBytes), "ratio")
				b.ReportMetric(float64(st.UncompressedBytes)/float64(st.Frames()*PageSize), "mem-ratio")
			}
		})
	}
}

// BenchmarkGet reads back the pages of each set, stored once.
func BenchmarkGet(b *testing.B) {
	for _, set := range benchPages(b) {
		b.Run(set.name, func(b *testing.B) {
			_, s := newTestStore(4096, 1<<30)
			slots := make([]Slot, len(set.pages))
			for j := range set.pages {
				slots[j], _ = s.Put(&set.pages[j])
			}
			var dst [PageSize]byte
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Get(slots[i%len(slots)], &dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFree releases compressible pages.
func BenchmarkFree(b *testing.B) {
	putFree(b, benchPages(b)[kindCompressible].pages, false)
}
