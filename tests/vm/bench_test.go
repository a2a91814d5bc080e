//go:build hurdvm

package vm

import (
	"testing"

	"hurdvm/mm"
)

// Benchmarks of the VM through its own calls. Under QEMU with -icount
// shift=0 (HURDVM_QEMU_ARGS) the figures are guest instructions.

func BenchmarkAllocateDeallocate1Page(b *testing.B) {
	for i := 0; i < b.N; i++ {
		a := uintptr(0)
		if err := mm.VMAllocate(&a, page, 0, false); err != nil {
			b.Fatal(err)
		}
		if err := mm.VMDeallocate(a, page); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstTouch is the demand fault: per page of a fresh region.
func BenchmarkFirstTouch(b *testing.B) {
	const chunk = 16 << 20
	var a uintptr
	left := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if left == 0 {
			b.StopTimer()
			if a != 0 {
				mm.VMDeallocate(a, chunk)
			}
			a = 0
			if err := mm.VMAllocate(&a, chunk, 0, false); err != nil {
				b.Fatal(err)
			}
			left = chunk / page
			b.StartTimer()
		}
		left--
		mm.Bytes(a+uintptr(left)*page, 1)[0] = 1
	}
	b.StopTimer()
	mm.VMDeallocate(a, chunk)
}

// BenchmarkMapNow16MiB maps 16 MiB with huge pages, per operation.
func BenchmarkMapNow16MiB(b *testing.B) {
	for i := 0; i < b.N; i++ {
		a := uintptr(0)
		if err := mm.VMAllocate(&a, 16<<20, 0, true); err != nil {
			b.Fatal(err)
		}
		mm.VMDeallocate(a, 16<<20)
	}
}
