package handlercheck

import (
	"bytes"
	"strings"
	"testing"
)

// program builds a Program from a call-graph description: each function's
// sites by the name of what they reach.
type program struct {
	p     *Program
	addrs map[string]uint64
}

func newProgram(names ...string) *program {
	g := &program{p: &Program{}, addrs: map[string]uint64{}}
	for i, name := range names {
		addr := uint64(0x1000 * (i + 1))
		g.addrs[name] = addr
		g.p.Funcs = append(g.p.Funcs, &Func{Name: name, Addr: addr, End: addr + 0x1000})
	}
	return g
}

// site adds a site to from; to is the target's name for SiteCall,
// SiteTail and SiteAddr.
func (g *program) site(from string, kind SiteKind, to string) *Site {
	fn := g.p.Func(from)
	fn.Sites = append(fn.Sites, Site{PC: fn.Addr + uint64(len(fn.Sites)+1)*4, Kind: kind, Target: g.addrs[to]})
	return &fn.Sites[len(fn.Sites)-1]
}

// calls adds a direct call from from to each of tos, in order.
func (g *program) calls(from string, tos ...string) {
	for _, to := range tos {
		g.site(from, SiteCall, to)
	}
}

func (g *program) check(t *testing.T, cfg Config) (*Result, string) {
	t.Helper()
	g.p.index()
	res, err := Check(g.p, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res.Report(&out, g.p, &cfg, "synthetic", true)
	return res, out.String()
}

func baseConfig(roots ...string) Config {
	return Config{Roots: roots, Forbidden: ForbiddenRules(), Checks: RuntimeChecks, StackGrowth: StackGrowth}
}

// The path reported is a shortest one, though the search meets a longer
// one first; each violating call is reported once.
func TestShortestPath(t *testing.T) {
	g := newProgram("root", "x", "y", "a", "b", "runtime.gcWriteBarrier1")
	g.calls("root", "x", "a")
	g.calls("x", "y")
	g.calls("y", "b")
	g.calls("a", "b")
	g.calls("b", "runtime.gcWriteBarrier1", "runtime.gcWriteBarrier1")
	res, out := g.check(t, baseConfig("root"))
	if len(res.Violations) != 1 {
		t.Fatalf("%d violations:\n%s", len(res.Violations), out)
	}
	if got := pathNames(res.Violations[0].Path); got != "root → a → b → runtime.gcWriteBarrier1" {
		t.Errorf("path %s\n%s", got, out)
	}
	if !strings.Contains(out, "write barrier: b calls runtime.gcWriteBarrier1\n  root → a → b → runtime.gcWriteBarrier1\n    0x1008  root: call a\n") {
		t.Errorf("report:\n%s", out)
	}
}

// A function whose address is taken is reached from the one taking it;
// a clean graph passes with its counts.
func TestFuncValueAndClean(t *testing.T) {
	g := newProgram("root", "apply", "closure", "helper", "runtime.panicBounds", "runtime.morestack_noctxt.abi0")
	g.site("root", SiteAddr, "closure")
	g.calls("root", "apply")
	g.site("apply", SiteFuncValue, "")
	g.calls("apply", "runtime.morestack_noctxt.abi0")
	g.site("closure", SiteTail, "helper")
	g.calls("helper", "runtime.panicBounds")
	g.site("helper", SiteNilCheck, "")
	res, out := g.check(t, baseConfig("root"))
	if res.Failed(&Config{}) || len(res.Reached) != 4 || res.Edges != 3 || res.Resolved != 1 ||
		res.CheckSiteCount() != 2 || res.StackChecks != 1 {
		t.Fatalf("reached %d, edges %d, resolved %d, checks %d, stack %d:\n%s",
			len(res.Reached), res.Edges, res.Resolved, res.CheckSiteCount(), res.StackChecks, out)
	}
	if p, _ := res.Path(g.p.Func("helper")); pathNames(p) != "root → closure → helper" || p[0].How != "func value" {
		t.Errorf("path to helper %s (%s)", pathNames(p), p[0].How)
	}
	cfg := baseConfig("root")
	cfg.ForbidStackGrowth = true
	if res, out := g.check(t, cfg); len(res.Violations) != 1 || res.Violations[0].Rule.What != "stack growth" {
		t.Errorf("-morestack does not forbid morestack:\n%s", out)
	}
}

// Interface calls go to the slot their line names, in the checked
// interfaces' itabs only; other interfaces and unknown lines are warned.
func TestInterfaceCalls(t *testing.T) {
	g := newProgram("root", "T.Alloc", "T.Free", "U.Alloc", "U.Free", "E.Error", "runtime.mallocgc")
	g.p.Itabs = []Itab{
		{Concrete: "T", Iface: "Frames", Methods: []string{"Alloc", "Free"}, Funcs: []uint64{g.addrs["T.Alloc"], g.addrs["T.Free"]}},
		{Concrete: "U", Iface: "Frames", Methods: []string{"Alloc", "Free"}, Funcs: []uint64{g.addrs["U.Alloc"], g.addrs["U.Free"]}},
		{Concrete: "E", Iface: "error", Methods: []string{"Error"}, Funcs: []uint64{g.addrs["E.Error"]}},
	}
	g.calls("U.Free", "runtime.mallocgc")
	g.calls("E.Error", "runtime.mallocgc")
	s := g.site("root", SiteInterface, "")
	s.Method, s.Names = 0, []string{"Alloc"}
	cfg := baseConfig("root")
	cfg.Interfaces = []string{"Frames"}
	res, out := g.check(t, cfg)
	if len(res.Violations) != 0 || len(res.Reached) != 3 || res.Resolved != 1 {
		t.Fatalf("slot 0 named Alloc should reach T.Alloc and U.Alloc only:\n%s", out)
	}

	s.Method, s.Names = 1, []string{"Free"}
	res, out = g.check(t, cfg)
	if len(res.Violations) != 1 || pathNames(res.Violations[0].Path) != "root → U.Free → runtime.mallocgc" ||
		res.Violations[0].Path[0].How != "interface call (Frames.Free)" {
		t.Fatalf("slot 1 should reach U.Free's allocation:\n%s", out)
	}

	s.Method, s.Names = 0, []string{"Error"}
	res, out = g.check(t, cfg)
	if len(res.Violations) != 0 || len(res.Unattributed) != 1 || !strings.Contains(res.Unattributed[0].Why, "error.Error") {
		t.Fatalf("err.Error() should be a warning, not followed:\n%s", out)
	}

	s.Method, s.Names = 1, nil // no source: every checked itab's slot 1
	res, out = g.check(t, cfg)
	if len(res.Violations) != 1 || len(res.Unattributed) != 1 || len(res.Reached) != 3 {
		t.Fatalf("an unknown line should follow slot 1 of Frames and warn:\n%s", out)
	}

	g.p.Func("root").Sites[0] = Site{PC: s.PC, Kind: SiteIndirect}
	res, out = g.check(t, cfg)
	if len(res.Unattributed) != 1 || len(res.Reached) != 5 {
		t.Fatalf("an unattributed call should follow every method of Frames:\n%s", out)
	}
	cfg.Strict = true
	if res, _ := g.check(t, cfg); !res.Failed(&cfg) {
		t.Error("-strict passes an unattributed call")
	}
}

// Allowances: by caller (or a function inlined at the call), by root, and
// known findings; the runtime's own panics are not followed.
func TestAllowances(t *testing.T) {
	g := newProgram("boot", "trap", "bind", "check", "runtime.gcWriteBarrier1", "runtime.gopanic",
		"runtime.ifaceeq", "runtime.concatstring2", "release")
	g.calls("boot", "bind")
	g.calls("trap", "bind", "release", "runtime.ifaceeq")
	g.calls("bind", "runtime.gcWriteBarrier1")
	panicSite := g.site("release", SiteCall, "runtime.gopanic") // check's panic, inlined into release
	g.calls("runtime.ifaceeq", "runtime.gopanic", "runtime.concatstring2")
	g.p.Inlined = func(pc uint64) []string {
		if pc == panicSite.PC {
			return []string{"check"}
		}
		return nil
	}

	cfg := baseConfig("boot", "trap")
	cfg.Allow = append(RuntimeAllowances(),
		Allowance{Root: "boot", To: "runtime.gcWriteBarrier*", Reason: "before the runtime"},
		Allowance{From: "check", To: "runtime.gopanic", Reason: "cannot happen", Finding: true})
	res, out := g.check(t, cfg)
	if len(res.Violations) != 1 || pathNames(res.Violations[0].Path) != "trap → bind → runtime.gcWriteBarrier1" {
		t.Fatalf("the barrier allowed from boot only must fail from trap:\n%s", out)
	}
	if len(res.Known) != 1 || !strings.Contains(out, "known finding, allowed until fixed: check calls runtime.gopanic (callers: 1): cannot happen\n  trap → release → runtime.gopanic\n") ||
		!strings.Contains(out, "(in the inlined code of check)") {
		t.Errorf("the known finding is not reported:\n%s", out)
	}

	cfg.Allow = nil
	res, out = g.check(t, cfg)
	var whats []string
	for _, v := range res.Violations {
		whats = append(whats, ShortName(v.Path[len(v.Path)-1].From.Name)+"→"+ShortName(v.Callee))
	}
	if got := strings.Join(whats, " "); got != "bind→runtime.gcWriteBarrier1 release→runtime.gopanic runtime.ifaceeq→runtime.concatstring2" {
		t.Errorf("without allowances: %s (runtime.ifaceeq's own gopanic must not count)\n%s", got, out)
	}
}

func TestMissingRootOrInterface(t *testing.T) {
	g := newProgram("root")
	g.p.index()
	if _, err := Check(g.p, &Config{Roots: []string{"nope"}}); err == nil {
		t.Error("a missing root is not an error")
	}
	if _, err := Check(g.p, &Config{Roots: []string{"root"}, Interfaces: []string{"I"}}); err == nil {
		t.Error("an interface without itabs is not an error")
	}
}
