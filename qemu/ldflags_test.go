package qemu

import (
	"strconv"
	"strings"
	"testing"

	"hurdvm/kernel/memmap"
)

// TestLinkAddress: GoLDFlags' -T (the text's address, as the Go linker
// takes it: a signed number) is one page above memmap.KernelBase, where
// the boot stage, the kernel and BuildImage expect the image.
func TestLinkAddress(t *testing.T) {
	f := strings.Fields(GoLDFlags)
	for i, w := range f {
		if w != "-T" || i+1 == len(f) {
			continue
		}
		v, err := strconv.ParseInt(f[i+1], 0, 64)
		if err != nil {
			t.Fatalf("GoLDFlags %q: -T %s: %v", GoLDFlags, f[i+1], err)
		}
		if got, want := uint64(v), uint64(memmap.KernelBase+pageSize); got != want {
			t.Fatalf("GoLDFlags links the text at %#x, want %#x (memmap.KernelBase and a page)", got, want)
		}
		return
	}
	t.Fatalf("GoLDFlags %q has no -T", GoLDFlags)
}
