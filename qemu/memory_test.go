package qemu

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The machine's memory at boot: the boot stage refuses a machine without
// RAM where the kernel loads, with a message saying how much would do and
// exit status 1; and on the machine that message names, the kernel runs.
// (README "Boot and memory".) Boot modules go above the kernel.

func bootWith(t *testing.T, image, memory string, extra ...string) Result {
	t.Helper()
	res, err := Run(context.Background(), Config{Image: image, Memory: memory, Timeout: time.Minute, Extra: extra})
	if err != nil {
		t.Fatalf("-m %s: %v", memory, err)
	}
	return res
}

var advice = regexp.MustCompile(`give it at least (\d+) MiB\n`)

// advisedMiB is the machine size the console's message asks for.
func advisedMiB(t *testing.T, res Result) int {
	t.Helper()
	m := advice.FindSubmatch(res.Output)
	if m == nil {
		t.Fatalf("no \"give it at least N MiB\" on the console:\n%s", Tail(res.Output, 10))
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestMachineWithoutRAMAtTheKernel: at -m 16M the RAM ends below 16 MiB,
// where the kernel loads. The boot stage says so instead of copying the
// kernel into nothing (which hung with an empty console).
func TestMachineWithoutRAMAtTheKernel(t *testing.T) {
	res := bootWith(t, buildKernel(t, "exit3"), "16M")
	out := string(res.Output)
	if res.Status != 1 {
		t.Errorf("status %d, want 1", res.Status)
	}
	re := regexp.MustCompile(`hurdvm: the kernel needs RAM from 16 MiB to \d+ MiB \(its image and first page tables\); ` +
		`this machine's memory map has usable RAM only up to 15 MiB: give it at least \d+ MiB\n`)
	if !re.MatchString(out) || strings.Contains(out, "entering the Go runtime") {
		t.Errorf("console:\n%s", Tail(res.Output, 10))
	}
}

// TestMinimumMemory: a kernel with a 64 MiB array in its BSS boots on the
// machine the boot stage's message names (the array is demand-zero: it
// costs nothing), and not on one a MiB smaller, where the message comes
// again: the advice is exact.
func TestMinimumMemory(t *testing.T) {
	image := buildKernel(t, "bigbss")
	n := advisedMiB(t, bootWith(t, image, "16M"))
	if n >= 16+64 {
		t.Errorf("the boot stage asks for %d MiB: the 64 MiB array is counted", n)
	}
	res := bootWith(t, image, strconv.Itoa(n)+"M")
	if res.Status != 0 || !strings.Contains(string(res.Output), "bigbss: a page of a 64 MiB array read 0, then 42\n") {
		t.Errorf("-m %dM: status %d\n%s", n, res.Status, Tail(res.Output, 10))
	}
	res = bootWith(t, image, strconv.Itoa(n-1)+"M")
	if res.Status != 1 || advisedMiB(t, res) != n {
		t.Errorf("-m %dM: status %d, want 1 and the same advice\n%s", n-1, res.Status, Tail(res.Output, 10))
	}
	t.Logf("the smallest machine for a kernel carrying a 64 MiB array: %d MiB", n)
}

// TestLargeArchiveArrives: QEMU's loader puts a boot module right after
// the image it loads, and the boot stage then copies the Go kernel to
// 16 MiB: an archive of the test's directory larger than the room left
// below 16 MiB was overwritten (the kernel found no archive). The image's
// .modules_gap (linker.ld) puts modules above the RAM the kernel needs;
// a machine too small for the archive there is refused by Run, as QEMU
// would drop its end without a word.
func TestLargeArchiveArrives(t *testing.T) {
	image := buildKernel(t, "readfile")
	dir := testTree(t)
	data := make([]byte, 20<<20)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(dir, "testdata", "large"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "dir.cpio")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PackDir(f, dir, PackOptions{}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c := Config{Image: image, Initrd: archive, Timeout: time.Minute, Cmdline: "testdata/large PWD=" + dir}
	res, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("readfile: %d bytes, sha256 %x\n", len(data), sha256.Sum256(data))
	if res.Status != 0 || !strings.Contains(string(res.Output), want) {
		t.Errorf("status %d, want the line %q; console:\n%s", res.Status, want, Tail(res.Output, 10))
	}
	c.Memory = "40M"
	if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("an archive past the end of a 40 MiB machine: %v, want Run to refuse it", err)
	}
}

func TestMemoryBytes(t *testing.T) {
	for in, want := range map[string]uint64{"": 512 << 20, "512M": 512 << 20, "128": 128 << 20, "1G": 1 << 30, "5g": 5 << 30, "64k": 64 << 10} {
		if got, ok := memoryBytes(in); !ok || got != want {
			t.Errorf("memoryBytes(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	if _, ok := memoryBytes("size=1G,slots=2"); ok {
		t.Error("a -m with options read as a size")
	}
}
