package qemu

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The machine's memory at boot: the boot stage refuses a machine without
// RAM where the kernel loads, the kernel refuses one whose RAM is too
// small for the Go runtime, both with a message saying how much would do
// and exit status 1; and on the machine that message names, the kernel
// runs. (README "Boot and memory".)

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

// TestTooLittleMemoryForTheRuntime: the boot stage finds the kernel's
// place, but a boot module (QEMU's -initrd) takes most of the rest: the
// kernel says the Go runtime has too little and how much would do, and
// with that much it runs.
func TestTooLittleMemoryForTheRuntime(t *testing.T) {
	image := buildKernel(t, "exit3")
	module := filepath.Join(t.TempDir(), "module")
	if err := os.WriteFile(module, make([]byte, 11<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	res := bootWith(t, image, "22M", "-initrd", module)
	if res.Status != 1 || !regexp.MustCompile(`hurdvm: after the kernel's image and tables and the boot modules, \d+ MiB of RAM is free, and the Go runtime needs \d+ MiB\n`).Match(res.Output) {
		t.Fatalf("status %d; console:\n%s", res.Status, Tail(res.Output, 10))
	}
	n := advisedMiB(t, res)
	if res := bootWith(t, image, strconv.Itoa(n)+"M", "-initrd", module); res.Status != 3 {
		t.Errorf("-m %dM, as advised: status %d\n%s", n, res.Status, Tail(res.Output, 10))
	}
}
