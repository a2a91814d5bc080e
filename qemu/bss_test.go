package qemu

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildELF builds the program in testdata/name for the kernel, with the
// kernel's flags and the go build flags in extra, and returns the ELF.
func buildELF(t *testing.T, name string, extra ...string) string {
	t.Helper()
	elfPath := filepath.Join(t.TempDir(), name+".elf")
	args := append([]string{"build", "-tags", GoTestTags, "-ldflags", GoLDFlags, "-o", elfPath}, extra...)
	cmd := exec.Command("go", append(args, "./testdata/"+name)...)
	cmd.Env = append(os.Environ(), GoBuildEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return elfPath
}

// TestLazyBSSOfAKernel reads a real kernel: the 64 MiB array of
// testdata/bigbss is demand-zero, whole pages of it and nothing else, and
// no variable of the kernel, the VM or the Go runtime is in a lazy range.
func TestLazyBSSOfAKernel(t *testing.T) {
	f, err := elf.Open(buildELF(t, "bigbss"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lazy, err := LazyBSS(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkLazyInBSS(f, lazy); err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	inLazy := func(lo, hi uint64) bool {
		for _, r := range lazy {
			if lo < r.End && r.Start < hi {
				return true
			}
		}
		return false
	}
	found := false
	for _, s := range syms {
		if s.Size == 0 || !inLazy(s.Value, s.Value+s.Size) {
			continue
		}
		if s.Name == "main.big" {
			found = true
			lo, hi := (s.Value+pageSize-1)&^(pageSize-1), (s.Value+s.Size)&^(pageSize-1)
			for pa := lo; pa < hi; pa += pageSize {
				if !inLazy(pa, pa+1) {
					t.Errorf("page %#x of main.big is backed", pa)
					break
				}
			}
		}
		if s.Size < LazyMinSize || eagerPackage(s.Name) {
			t.Errorf("%s (%d bytes at %#x) is in a lazy range %x", s.Name, s.Size, s.Value, lazy)
		}
	}
	if !found {
		t.Errorf("main.big is not in the lazy ranges %x", lazy)
	}
	for i, r := range lazy {
		if r.Start%pageSize != 0 || r.End%pageSize != 0 || r.Start >= r.End || i > 0 && lazy[i-1].End > r.Start {
			t.Errorf("lazy ranges %x: not sorted whole pages", lazy)
		}
	}
	// The image's backed part ends where the lazy tail starts.
	if end := eagerEnd(f, lazy); end > lazy[len(lazy)-1].Start {
		t.Errorf("the backed image ends at %#x, past the lazy tail at %#x", end, lazy[len(lazy)-1].Start)
	}
}

// TestCoverageCountersAreBacked: go build -cover puts its counters,
// with no symbols of their own, right after the large arrays at the end
// of .noptrbss. The kernel's instrumented code writes them before it can
// serve a fault (and in handler context), so no lazy range may take their
// page: once it did, and the kernel panicked or hung at boot.
func TestCoverageCountersAreBacked(t *testing.T) {
	elfPath := buildELF(t, "exit3", "-cover", "-coverpkg=hurdvm/mm/...,hurdvm/paging/...,hurdvm/kernel/...")
	f, err := elf.Open(elfPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	counters, ok := coverageCounters(syms)
	if !ok {
		t.Fatal("no runtime.covctrs..runtime.ecovctrs in a kernel built with -cover")
	}
	lazy, err := LazyBSS(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range lazy {
		if counters.Value < r.End && r.Start < counters.Value+counters.Size {
			t.Errorf("the counters [%#x, %#x) are in the lazy range %x", counters.Value, counters.Value+counters.Size, r)
		}
	}
	if testing.Short() {
		return
	}
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	image := filepath.Join(t.TempDir(), "exit3")
	if err := BuildImage(root, elfPath, image); err != nil {
		t.Fatal(err)
	}
	res, err := boot(t, image)
	if err != nil || res.Status != 3 {
		t.Errorf("the instrumented kernel: status %d, %v\n%s", res.Status, err, Tail(res.Output, 20))
	}
}

func TestLazyBSSNeedsSymbols(t *testing.T) {
	elfPath := buildELF(t, "exit3")
	stripped := elfPath + ".stripped"
	if out, err := exec.Command("objcopy", "--strip-all", elfPath, stripped).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, out)
	}
	err := BuildImage(".", stripped, filepath.Join(t.TempDir(), "image"))
	if err == nil || !strings.Contains(err.Error(), "no symbol table") || !strings.Contains(err.Error(), "-s=false") {
		t.Errorf("BuildImage of a stripped kernel: %v, want the error saying to link with -s=false", err)
	}
}

func TestSymbolPackage(t *testing.T) {
	for name, want := range map[string]string{
		"main.big":                                   "main",
		"runtime.mheap_":                             "runtime",
		"internal/runtime/atomic.x":                  "internal/runtime/atomic",
		"hurdvm/kernel.threads":                      "hurdvm/kernel",
		"hurdvm/kernel/memmap.x":                     "hurdvm/kernel/memmap",
		"golang.org/x/arch/x86/x86asm.decoder":       "golang.org/x/arch/x86/x86asm",
		"crypto/internal/fips140/drbg.memory":        "crypto/internal/fips140/drbg",
		"github.com/usbarmory/tamago/bits.x":         "github.com/usbarmory/tamago/bits",
		"gopkg.in/yaml%2ev3.x":                       "gopkg.in/yaml%2ev3", // the linker escapes a dot in the last element
		"hurdvm/tests/frames.untouched":              "hurdvm/tests/frames",
		"runtime.(*mheap).alloc":                     "runtime",
		"hurdvm/paging.(*PageTable).Map":             "hurdvm/paging",
		"vendor/golang.org/x/crypto/cryptobyte.x":    "vendor/golang.org/x/crypto/cryptobyte",
		"hurdvm/mm.(*FrameAllocator).Alloc":          "hurdvm/mm",
		"internal/runtime/syscall/linux.Syscall6":    "internal/runtime/syscall/linux",
		"crypto/internal/fips140/drbg.memory.stkobj": "crypto/internal/fips140/drbg",
	} {
		if got := symbolPackage(name); got != want {
			t.Errorf("symbolPackage(%q) = %q, want %q", name, got, want)
		}
	}
	for name, want := range map[string]bool{
		"hurdvm/kernel.threads": true, "hurdvm/kernel/font.data": true, "hurdvm/mm.x": true,
		"hurdvm/paging.x": true, "runtime.mheap_": true, "internal/runtime/atomic.x": true,
		"hurdvm/kernelx.y": false, "hurdvm/tests/frames.untouched": false, "runtime/pprof.x": true,
		"main.big": false, "crypto/internal/fips140/drbg.memory": false,
	} {
		if got := eagerPackage(name); got != want {
			t.Errorf("eagerPackage(%q) = %v, want %v", name, got, want)
		}
	}
}
