package handlercheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"hurdvm/qemu"
)

// The tests over real binaries build them once per run: testdata/handlers
// (one root per case) and the kernel itself.
var (
	binDir string
	builds sync.Map // package → *build
)

type build struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "handlercheck")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary builds pkg (relative to this package) as a static linux/amd64
// program with extra go build arguments, once.
func built(t *testing.T, pkg string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool to build test binaries")
	}
	v, _ := builds.LoadOrStore(pkg, &build{})
	b := v.(*build)
	b.once.Do(func() {
		b.path = filepath.Join(binDir, strings.ReplaceAll(strings.Trim(pkg, "./"), "/", "_"))
		cmd := exec.Command("go", append(append([]string{"build", "-o", b.path}, args...), pkg)...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		b.out, b.err = cmd.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, b.err, b.out)
	}
	return b.path
}

var handlers struct {
	once sync.Once
	p    *Program
	err  error
}

// loadHandlers loads testdata/handlers once; the checks only read it.
func loadHandlers(t *testing.T) *Program {
	t.Helper()
	path := built(t, "./testdata/handlers")
	handlers.once.Do(func() { handlers.p, handlers.err = Load(path) })
	if handlers.err != nil {
		t.Fatal(handlers.err)
	}
	return handlers.p
}

// checkRoot checks testdata/handlers from one root, with main.Sink as the
// checked interface.
func checkRoot(t *testing.T, p *Program, root string, strict bool) (*Result, *Config, string) {
	t.Helper()
	cfg := Config{Roots: []string{"main." + root}, Interfaces: []string{"main.Sink"}, Forbidden: ForbiddenRules(),
		Checks: RuntimeChecks, StackGrowth: StackGrowth, Allow: RuntimeAllowances(), Strict: strict}
	res, err := Check(p, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res.Report(&out, p, &cfg, "handlers", true)
	return res, &cfg, out.String()
}

// pathNames is a path as the report's one-line form has it.
func pathNames(path []Step) string {
	names := []string{ShortName(path[0].From.Name)}
	for _, s := range path {
		names = append(names, ShortName(s.To.Name))
	}
	return strings.Join(names, " → ")
}

func TestHandlersViolations(t *testing.T) {
	p := loadHandlers(t)
	for _, c := range []struct {
		root, what, path string
	}{
		{"rootWriteBarrier", "write barrier", "main.rootWriteBarrier → main.link → runtime.gcWriteBarrier"},
		{"rootAlloc", "allocation", "main.rootAlloc → main.newNode → runtime.newobject"},
		// A closure without captures is a static func value (LEAQ of
		// rootClosure.func1·f); one with captures is built on the stack
		// (LEAQ of rootCapture.func1's code). apply calls either through
		// MOVQ (DX), R; CALL R.
		{"rootClosure", "write barrier", "main.rootClosure → main.rootClosure.func1 → runtime.gcWriteBarrier"},
		{"rootCapture", "write barrier", "main.rootCapture → main.rootCapture.func1 → runtime.gcWriteBarrier"},
		// The bug handlercheck was written for (mm's remove and ForkInto):
		// an error stored into a captured variable.
		{"rootCapturedError", "write barrier", "main.rootCapturedError → main.rootCapturedError.func1 → runtime.gcWriteBarrier"},
		// put calls s.Put through the itab of store for Sink.
		{"rootInterface", "write barrier", "main.rootInterface → main.put → main.(*store).Put → runtime.gcWriteBarrier"},
		{"rootPanic", "panic", "main.rootPanic → runtime.gopanic"},
		{"rootAssert", "type assertion panic", "main.rootAssert → runtime.panicdottypeE"},
		{"rootLock", "lock", "main.rootLock → sync.(*Mutex).lockSlow"},
	} {
		t.Run(c.root, func(t *testing.T) {
			res, cfg, out := checkRoot(t, p, c.root, false)
			if !res.Failed(cfg) || len(res.Violations) == 0 {
				t.Fatalf("passes:\n%s", out)
			}
			v := res.Violations[0]
			if v.Rule.What != c.what || !strings.HasPrefix(pathNames(v.Path), c.path) {
				t.Errorf("violation %s: %s, want %s: %s...\n%s", v.Rule.What, pathNames(v.Path), c.what, c.path, out)
			}
			if !strings.Contains(out, c.what+": ") || !strings.Contains(out, "FAIL") {
				t.Errorf("report does not say it:\n%s", out)
			}
			// Every step names the call instruction: inside its caller.
			for _, s := range v.Path {
				if s.PC < s.From.Addr || s.PC >= s.From.End {
					t.Errorf("step %s → %s at %#x, outside %s", s.From.Name, s.To.Name, s.PC, s.From.Name)
				}
			}
		})
	}
}

func TestHandlersClean(t *testing.T) {
	p := loadHandlers(t)
	res, cfg, out := checkRoot(t, p, "rootClean", true)
	if res.Failed(cfg) {
		t.Fatalf("a root that only adds fails:\n%s", out)
	}
	if len(res.Reached) != 2 || res.Reached[1].Name != "main.add" {
		t.Errorf("reached %d functions, want main.rootClean and main.add", len(res.Reached))
	}
	if !strings.Contains(out, "handlercheck: handlers: ok: 2 functions reached from main.rootClean, 1 call edges") {
		t.Errorf("summary:\n%s", out)
	}
	// The fixed closure: reached through its func value, and clean.
	res, cfg, out = checkRoot(t, p, "rootCapturedBool", false)
	if res.Failed(cfg) || !slices.ContainsFunc(res.Reached, func(fn *Func) bool { return fn.Name == "main.rootCapturedBool.func1" }) {
		t.Fatalf("a closure storing a bool fails or is not followed:\n%s", out)
	}
}

// An interface the check is not told about is a warning, followed nowhere;
// -strict makes it a failure.
func TestHandlersUncheckedInterface(t *testing.T) {
	p := loadHandlers(t)
	res, cfg, out := checkRoot(t, p, "rootOther", false)
	if res.Failed(cfg) || len(res.Unattributed) != 1 || !strings.Contains(res.Unattributed[0].Why, "main.Other.Take") {
		t.Fatalf("want one warning naming main.Other.Take, not a failure:\n%s", out)
	}
	if res, cfg, out := checkRoot(t, p, "rootOther", true); !res.Failed(cfg) {
		t.Errorf("-strict passes an unattributed call:\n%s", out)
	}
}

// A bounds check is counted, and fails only under -strict.
func TestHandlersRunTimeChecks(t *testing.T) {
	p := loadHandlers(t)
	res, cfg, out := checkRoot(t, p, "rootIndex", false)
	if res.Failed(cfg) || res.CheckSiteCount() != 1 || res.Checks[0].Calls["runtime.panicBounds"] != 1 {
		t.Fatalf("want 1 panicBounds site and a pass:\n%s", out)
	}
	if !strings.Contains(out, "run-time checks:    1 in main.rootIndex: panicBounds 1") {
		t.Errorf("-v does not list it:\n%s", out)
	}
	if res, cfg, out := checkRoot(t, p, "rootIndex", true); !res.Failed(cfg) || !strings.Contains(out, "FAIL (-strict)") {
		t.Errorf("-strict passes a bounds check:\n%s", out)
	}
}

// The itab the interface case goes through, read from the data.
func TestHandlersItab(t *testing.T) {
	p := loadHandlers(t)
	for _, it := range p.Itabs {
		if it.Iface != "main.Sink" {
			continue
		}
		if it.Concrete != "main.store" || len(it.Methods) != 1 || it.Methods[0] != "Put" {
			t.Fatalf("itab %+v, want main.store's for main.Sink with Put", it)
		}
		if fn := p.at(it.Funcs[0]); fn == nil || !strings.HasSuffix(fn.Name, "store).Put") {
			t.Fatalf("Sink.Put slot holds %#x, not main.(*store).Put", it.Funcs[0])
		}
		return
	}
	t.Fatal("no itab for main.Sink")
}

// The kernel's itabs for the handler-context interfaces: Go 1.26's
// layout, read from hurdvm's own binary.
func TestKernelItabs(t *testing.T) {
	path := built(t, "../../cmd/hurdvm", "-tags", qemu.GoTags, "-ldflags", qemu.GoLDFlags)
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"hurdvm/kernel.tableFrames,hurdvm/paging.Frames": {"AllocTable", "FreeTable"},
		"hurdvm/kernel.machineTLB,hurdvm/paging.TLB":     {"FlushAll", "Invalidate", "InvalidateLocal", "InvalidateTables", "Sync"},
	}
	for _, it := range p.Itabs {
		methods, ok := want[it.Concrete+","+it.Iface]
		if !ok {
			continue
		}
		delete(want, it.Concrete+","+it.Iface)
		if strings.Join(it.Methods, " ") != strings.Join(methods, " ") {
			t.Errorf("%s for %s: methods %v, want %v", it.Concrete, it.Iface, it.Methods, methods)
		}
		for k, code := range it.Funcs {
			if fn := p.at(code); fn == nil || !strings.HasSuffix(fn.Name, "."+methods[k]) {
				t.Errorf("%s for %s: slot %d holds %#x, not %s's code", it.Concrete, it.Iface, k, code, methods[k])
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("itabs missing: %v", want)
	}
	cfg := KernelConfig()
	for _, root := range cfg.Roots {
		if p.Func(root) == nil {
			t.Errorf("root %s is not in the kernel", root)
		}
	}
}
