package handlercheck

import (
	"fmt"
	"slices"
	"strings"
)

// Step is one edge of a path from a root: at PC, From reaches To by How.
type Step struct {
	From, To *Func
	PC       uint64
	How      string // "call", "tail call", "func value", "interface call (paging.Frames.AllocTable)"
}

// Violation is a reachable call to a forbidden function.
type Violation struct {
	Rule   Rule
	Callee string // the forbidden function
	// Path leads from a root to the call: its last step is the call.
	Path []Step
}

// Known is a violation an allowance accepts as a known finding.
type Known struct {
	Allowance *Allowance
	Path      []Step
}

// Unattributed is a reachable indirect call the check could not tie to a
// func value or to one of Config.Interfaces.
type Unattributed struct {
	Site   Site
	Why    string
	Path   []Step // from a root to the calling function
	Caller *Func
}

// CheckSites counts one function's run-time checks.
type CheckSites struct {
	Func      *Func
	Calls     map[string]int // by check function (runtime.panicBounds...)
	NilChecks int
	root      string // the search that counts them
}

// Total is the function's check sites of both kinds.
func (c *CheckSites) Total() int {
	n := c.NilChecks
	for _, k := range c.Calls {
		n += k
	}
	return n
}

// Result is what Check found.
type Result struct {
	Roots        []*Func
	Reached      []*Func // in the order the search reached them
	Edges        int     // distinct caller-callee pairs followed
	Violations   []Violation
	Known        []Known // violations accepted until fixed, each path once
	Unattributed []Unattributed
	// Resolved counts the indirect calls attributed: to func values (whose
	// targets are the reachable functions whose address is taken) and to
	// the checked interfaces' itabs.
	Resolved int
	Checks   []*CheckSites // functions with run-time checks, in reach order
	// StackChecks counts the calls to morestack that were skipped.
	StackChecks int
	Allowed     map[*Allowance]map[uint64]bool // the call sites not followed, by allowance
	// DecodeErrors counts the bytes of reached functions the decoder
	// skipped: a call hidden there is not seen.
	DecodeErrors int

	searches []*checker
}

// Path returns a shortest path from the first root that reaches fn to
// fn, and whether any does.
func (r *Result) Path(fn *Func) ([]Step, bool) {
	for _, c := range r.searches {
		if _, ok := c.parent[fn]; ok {
			return c.path(fn), true
		}
	}
	return nil, false
}

// CheckSiteCount is the number of run-time check sites reached.
func (r *Result) CheckSiteCount() int {
	n := 0
	for _, c := range r.Checks {
		n += c.Total()
	}
	return n
}

// Failed reports whether the result fails the check under cfg.
func (r *Result) Failed(cfg *Config) bool {
	if len(r.Violations) > 0 {
		return true
	}
	return cfg.Strict && (len(r.Unattributed) > 0 || r.CheckSiteCount() > 0)
}

// Check walks the call graph of p from each of cfg.Roots in turn (an
// allowance may hold for one root only): breadth first, so the path
// recorded to each function is a shortest one.
func Check(p *Program, cfg *Config) (*Result, error) {
	for _, name := range cfg.Interfaces {
		if !slices.ContainsFunc(p.Itabs, func(it Itab) bool { return it.Iface == name }) {
			return nil, fmt.Errorf("interface %s has no itab in the binary", name)
		}
	}
	res := &Result{Allowed: map[*Allowance]map[uint64]bool{}}
	all := &findings{reached: map[*Func]bool{}, edges: map[[2]*Func]bool{}, checks: map[*Func]*CheckSites{},
		violations: map[[2]string]bool{}, known: map[[2]string]bool{}, unattributed: map[uint64]bool{}}
	for _, name := range cfg.Roots {
		root := p.Func(name)
		if root == nil {
			return nil, fmt.Errorf("root %s is not in the binary", name)
		}
		res.Roots = append(res.Roots, root)
		c := &checker{p: p, cfg: cfg, root: root.Name, res: res, all: all, parent: map[*Func]Step{}}
		res.searches = append(res.searches, c)
		c.reach(root, Step{To: root})
		for i := 0; i < len(c.order); i++ {
			c.visit(c.order[i])
		}
	}
	return res, nil
}

// findings are what the searches from all roots share: each function,
// edge, violation and indirect call is counted once.
type findings struct {
	reached      map[*Func]bool
	edges        map[[2]*Func]bool
	checks       map[*Func]*CheckSites
	violations   map[[2]string]bool // caller, callee
	known        map[[2]string]bool // caller, callee
	unattributed map[uint64]bool
}

// checker is the search from one root.
type checker struct {
	p      *Program
	cfg    *Config
	root   string
	res    *Result
	all    *findings
	parent map[*Func]Step // how this search first reached each function
	order  []*Func        // the functions this search reached, in order
}

func (c *checker) reach(fn *Func, how Step) {
	if _, seen := c.parent[fn]; seen {
		return
	}
	c.parent[fn] = how
	c.order = append(c.order, fn)
	if !c.all.reached[fn] {
		c.all.reached[fn] = true
		c.res.Reached = append(c.res.Reached, fn)
		c.res.DecodeErrors += fn.DecodeErrors
	}
}

// path returns the steps from the root to fn.
func (c *checker) path(fn *Func) []Step {
	var steps []Step
	for {
		s := c.parent[fn]
		if s.From == nil {
			break
		}
		steps = append(steps, s)
		fn = s.From
	}
	slices.Reverse(steps)
	return steps
}

func (c *checker) visit(fn *Func) {
	for _, s := range fn.Sites {
		switch s.Kind {
		case SiteCall:
			c.edge(Step{From: fn, PC: s.PC, How: "call"}, s.Target)
		case SiteTail:
			c.edge(Step{From: fn, PC: s.PC, How: "tail call"}, s.Target)
		case SiteAddr:
			c.edge(Step{From: fn, PC: s.PC, How: "func value"}, s.Target)
		case SiteFuncValue:
			c.res.Resolved++ // its targets: every function whose address a reached one takes
		case SiteInterface:
			c.interfaceCall(fn, s)
		case SiteIndirect:
			c.unattributed(fn, s, "indirect call through a register loaded from an unknown place: every checked interface's methods followed",
				func(Itab, int) bool { return true })
		case SiteNilCheck:
			if cs := c.checkSites(fn); cs != nil {
				cs.NilChecks++
			}
		}
	}
}

// interfaceCall follows an interface call to slot s.Method of the itabs
// of the checked interfaces whose method there the source line calls.
func (c *checker) interfaceCall(fn *Func, s Site) {
	named := func(it Itab, k int) bool { return k == s.Method && slices.Contains(s.Names, it.Methods[k]) }
	var others []string
	for _, it := range c.p.Itabs {
		if s.Method < len(it.Methods) && named(it, s.Method) && !slices.Contains(c.cfg.Interfaces, it.Iface) {
			if m := ShortName(it.Iface) + "." + it.Methods[s.Method]; !slices.Contains(others, m) {
				others = append(others, m)
			}
		}
	}
	if c.follow(fn, s, named) > 0 {
		if len(others) == 0 {
			c.res.Resolved++
			return
		}
		// The line names a method of a checked interface and of another one:
		// the call may be either.
		c.unattributed(fn, s, fmt.Sprintf("interface call that may also be %s, not a checked interface (-ifaces), not followed",
			strings.Join(others, " or ")), nil)
		return
	}
	if len(others) > 0 {
		c.unattributed(fn, s, fmt.Sprintf("interface call %s: not a checked interface (-ifaces), not followed",
			strings.Join(others, " or ")), nil)
		return
	}
	c.unattributed(fn, s, fmt.Sprintf("interface call through itab slot %d, source line unknown: slot %d of every checked interface followed",
		s.Method, s.Method), func(_ Itab, k int) bool { return k == s.Method })
}

// unattributed reports an indirect call site and follows it to the
// checked interfaces' methods that want picks (nil: none).
func (c *checker) unattributed(fn *Func, s Site, why string, want func(Itab, int) bool) {
	if !c.all.unattributed[s.PC] {
		c.all.unattributed[s.PC] = true
		c.res.Unattributed = append(c.res.Unattributed, Unattributed{Site: s, Why: why, Path: c.path(fn), Caller: fn})
	}
	if want != nil {
		c.follow(fn, s, want)
	}
}

// follow takes the edges from an indirect call site to the methods of the
// checked interfaces' itabs that want picks; it returns how many.
func (c *checker) follow(fn *Func, s Site, want func(it Itab, k int) bool) int {
	n := 0
	for _, it := range c.p.Itabs {
		if !slices.Contains(c.cfg.Interfaces, it.Iface) {
			continue
		}
		for k, code := range it.Funcs {
			if code != 0 && want(it, k) {
				c.edge(Step{From: fn, PC: s.PC, How: "interface call (" + ShortName(it.Iface) + "." + it.Methods[k] + ")"}, code)
				n++
			}
		}
	}
	return n
}

// edge handles fn reaching the function at target by step.
func (c *checker) edge(step Step, target uint64) {
	callee := c.p.at(target)
	if callee == nil {
		return
	}
	step.To = callee
	caller, name := step.From.Name, callee.Name
	if a := c.cfg.allowance(c.root, append([]string{caller}, c.p.inlined(step.PC)...), name); a != nil {
		if c.res.Allowed[a] == nil {
			c.res.Allowed[a] = map[uint64]bool{}
		}
		c.res.Allowed[a][step.PC] = true
		if key := [2]string{caller, name}; a.Finding && !c.all.known[key] {
			c.all.known[key] = true
			c.res.Known = append(c.res.Known, Known{Allowance: a, Path: append(c.path(step.From), step)})
		}
		return
	}
	if r, inRuntime := c.cfg.forbidden(caller, name); r != nil {
		if !inRuntime {
			c.violation(*r, step)
		}
		return
	}
	if matchAny(c.cfg.Checks, name) {
		if cs := c.checkSites(step.From); cs != nil && step.How != "func value" {
			cs.Calls[canonical(name)]++
		}
		return
	}
	if matchAny(c.cfg.StackGrowth, name) {
		if c.cfg.ForbidStackGrowth {
			c.violation(Rule{Pattern: Pattern(canonical(name)), What: "stack growth"}, step)
		} else {
			c.res.StackChecks++
		}
		return
	}
	if key := [2]*Func{step.From, callee}; !c.all.edges[key] {
		c.all.edges[key] = true
		c.res.Edges++
	}
	c.reach(callee, step)
}

func (c *checker) violation(r Rule, last Step) {
	key := [2]string{last.From.Name, last.To.Name}
	if c.all.violations[key] {
		return
	}
	c.all.violations[key] = true
	c.res.Violations = append(c.res.Violations, Violation{Rule: r, Callee: last.To.Name,
		Path: append(c.path(last.From), last)})
}

// checkSites returns the counters of fn's run-time checks, nil when an
// earlier root's search has counted them already.
func (c *checker) checkSites(fn *Func) *CheckSites {
	cs, seen := c.all.checks[fn]
	if !seen {
		cs = &CheckSites{Func: fn, Calls: map[string]int{}, root: c.root}
		c.all.checks[fn] = cs
		c.res.Checks = append(c.res.Checks, cs)
	}
	if cs.root != c.root {
		return nil
	}
	return cs
}
