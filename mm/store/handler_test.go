package store

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hurdvm/kernel/handlercheck"
)

// TestHandlerContext builds testdata/handlerprog (the store as the kernel
// will use it: called through Backend, over a physmap-like Frames) and runs
// the kernel's handler-context checker over its machine code: nothing
// reachable from main.handler (Put, Get, Dup, Free, Refs, Stats, the slot
// encoding, the command-line option) may allocate, lock, hit a write barrier
// or panic. main.allocates (store.New) must fail the same check, which shows
// the check sees through the store.
func TestHandlerContext(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	bin := filepath.Join(t.TempDir(), "handlerprog")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/handlerprog")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p, err := handlercheck.Load(bin)
	if err != nil {
		t.Fatal(err)
	}
	check := func(root string) (*handlercheck.Result, *handlercheck.Config, string) {
		cfg := handlercheck.KernelConfig()
		cfg.Roots = []string{root}
		cfg.Interfaces = []string{"hurdvm/mm/store.Backend", "hurdvm/mm/store.Frames"}
		res, err := handlercheck.Check(p, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		res.Report(&b, p, &cfg, "handlerprog", false)
		return res, &cfg, b.String()
	}

	res, cfg, report := check("main.handler")
	t.Logf("from main.handler:\n%s", report)
	if res.Failed(cfg) {
		t.Fatal("handler context reaches what it must not")
	}
	for _, want := range []string{"(*Compressed).Put", "(*Compressed).Get", "(*Compressed).Free", "(*Compressed).Dup",
		"lz4block.(*Compressor).CompressBlock", "lz4block.decodeBlock", "(*physFrames).Alloc", "(*physFrames).Page"} {
		found := false
		for _, f := range res.Reached {
			found = found || strings.HasSuffix(strings.TrimSuffix(f.Name, ".abi0"), want)
		}
		if !found {
			t.Errorf("the check did not reach %s: it does not see the store's calls", want)
		}
	}

	res, cfg, report = check("main.allocates")
	if !res.Failed(cfg) || !strings.Contains(report, "newobject") {
		t.Fatalf("store.New passes the check:\n%s", report)
	}
}
