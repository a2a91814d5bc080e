package handlercheck

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Report writes r for the binary named binary: every violation with its
// shortest path from a root and the address of each call on it, then one
// summary line. verbose (and cfg.Strict, for what it makes failures) adds
// the known findings with their paths, the unattributed indirect calls,
// the run-time check sites by function and by package, and the
// allowances that cut edges.
func (r *Result) Report(w io.Writer, p *Program, cfg *Config, binary string, verbose bool) {
	for _, v := range r.Violations {
		last := v.Path[len(v.Path)-1]
		fmt.Fprintf(w, "%s: %s calls %s\n", v.Rule.What, ShortName(last.From.Name), ShortName(v.Callee))
		writePath(w, p, v.Path, true)
	}
	if r.DecodeErrors > 0 {
		fmt.Fprintf(w, "warning: %d bytes of reached functions did not decode as instructions: calls there are not seen\n", r.DecodeErrors)
	}
	if verbose {
		r.writeKnown(w, p)
	}
	if verbose || cfg.Strict {
		for _, u := range r.Unattributed {
			fmt.Fprintf(w, "unattributed indirect call at %#x in %s%s: %s\n",
				u.Site.PC, ShortName(u.Caller.Name), position(p, u.Site.PC), u.Why)
			writePath(w, p, u.Path, verbose)
		}
		r.writeChecks(w, cfg.Strict)
	}
	if verbose {
		r.writeAllowed(w, cfg)
	}
	fmt.Fprintln(w, r.summary(cfg, binary))
}

// writeKnown lists the known findings by allowance, with the path to
// each caller.
func (r *Result) writeKnown(w io.Writer, p *Program) {
	var known []*Allowance
	for _, k := range r.Known {
		if !slices.Contains(known, k.Allowance) {
			known = append(known, k.Allowance)
		}
	}
	for _, a := range known {
		var paths [][]Step
		for _, k := range r.Known {
			if k.Allowance == a {
				paths = append(paths, k.Path)
			}
		}
		from := ShortName(a.From)
		if from == "" {
			from = "handler context"
		}
		fmt.Fprintf(w, "known finding, allowed until fixed: %s calls %s (callers: %d): %s\n",
			from, ShortName(string(a.To)), len(paths), a.Reason)
		for _, path := range paths {
			writePath(w, p, path, true)
		}
	}
}

func (r *Result) summary(cfg *Config, binary string) string {
	var roots []string
	for _, fn := range r.Roots {
		roots = append(roots, ShortName(fn.Name))
	}
	nilChecks := 0
	for _, c := range r.Checks {
		nilChecks += c.NilChecks
	}
	verdict := "ok"
	switch {
	case len(r.Violations) > 0:
		verdict = fmt.Sprintf("FAIL (%d forbidden calls)", len(r.Violations))
	case r.Failed(cfg):
		verdict = "FAIL (-strict)"
	}
	known := map[*Allowance]bool{}
	for _, k := range r.Known {
		known[k.Allowance] = true
	}
	return fmt.Sprintf("handlercheck: %s: %s: %d functions reached from %s, %d call edges; "+
		"indirect calls %d resolved, %d unattributed; run-time checks %d (%d calls, %d nil checks); "+
		"%d stack checks skipped; %d known findings allowed (-v lists them all)",
		binary, verdict, len(r.Reached), strings.Join(roots, ", "), r.Edges, r.Resolved, len(r.Unattributed),
		r.CheckSiteCount(), r.CheckSiteCount()-nilChecks, nilChecks, r.StackChecks, len(known))
}

// WriteWhy prints how handler context reaches the function named name.
func (r *Result) WriteWhy(w io.Writer, p *Program, name string) {
	fn := p.Func(name)
	if fn == nil {
		fmt.Fprintf(w, "why %s: not in the binary\n", name)
		return
	}
	path, ok := r.Path(fn)
	if !ok {
		fmt.Fprintf(w, "why %s: not reached\n", ShortName(name))
		return
	}
	fmt.Fprintf(w, "why %s:\n", ShortName(name))
	if len(path) == 0 {
		fmt.Fprintf(w, "  a root\n")
	}
	writePath(w, p, path, true)
}

// writePath prints a path on one line, then, in detail, step by step with
// the address of each call instruction. The hop from a Go declaration to
// its assembly body (f to f.abi0) is left out.
func writePath(w io.Writer, p *Program, path []Step, detail bool) {
	if len(path) == 0 {
		return
	}
	names := []string{ShortName(path[0].From.Name)}
	for _, s := range path {
		if n := ShortName(s.To.Name); n != names[len(names)-1] {
			names = append(names, n)
		}
	}
	fmt.Fprintf(w, "  %s\n", strings.Join(names, " → "))
	if !detail {
		return
	}
	for _, s := range path {
		if ShortName(s.From.Name) == ShortName(s.To.Name) {
			continue
		}
		fmt.Fprintf(w, "    %#x  %s: %s %s%s\n", s.PC, ShortName(s.From.Name), s.How, ShortName(s.To.Name), position(p, s.PC))
		if in := p.inlined(s.PC); len(in) > 0 {
			for i := range in {
				in[i] = ShortName(in[i])
			}
			fmt.Fprintf(w, "              (in the inlined code of %s)\n", strings.Join(in, " → "))
		}
	}
}

// position is " (file:line)" of pc, the file relative to the working
// directory when it is below it.
func position(p *Program, pc uint64) string {
	file, line := p.pos(pc)
	if file == "" {
		return ""
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, file); err == nil && !strings.HasPrefix(rel, "..") {
			file = rel
		}
	}
	return fmt.Sprintf(" (%s:%d)", file, line)
}

// writeChecks lists the run-time check sites by function, then by package.
func (r *Result) writeChecks(w io.Writer, failing bool) {
	label := "run-time checks"
	if failing {
		label = "run-time checks (failures under -strict)"
	}
	byPkg := map[string][2]int{}
	for _, c := range r.Checks {
		var kinds []string
		calls := 0
		for name, n := range c.Calls {
			kinds = append(kinds, fmt.Sprintf("%s %d", strings.TrimPrefix(name, "runtime."), n))
			calls += n
		}
		sort.Strings(kinds)
		if c.NilChecks > 0 {
			kinds = append(kinds, fmt.Sprintf("nil checks %d", c.NilChecks))
		}
		fmt.Fprintf(w, "%s: %4d in %s: %s\n", label, c.Total(), ShortName(c.Func.Name), strings.Join(kinds, ", "))
		pkg := pkgPath(c.Func.Name)
		t := byPkg[pkg]
		byPkg[pkg] = [2]int{t[0] + calls, t[1] + c.NilChecks}
	}
	var pkgs []string
	for pkg := range byPkg {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		t := byPkg[pkg]
		fmt.Fprintf(w, "run-time checks by package: %-30s %5d (%d calls, %d nil checks)\n", pkg, t[0]+t[1], t[0], t[1])
	}
}

// writeAllowed lists the allowances that cut edges, then those that cut
// none: a known finding fixed since, or a cut point the code lost.
func (r *Result) writeAllowed(w io.Writer, cfg *Config) {
	for i := range cfg.Allow {
		a := &cfg.Allow[i]
		from := ShortName(a.From)
		if from == "" {
			from = "any caller"
		}
		if a.Root != "" {
			from += " (from " + ShortName(a.Root) + ")"
		}
		if n := len(r.Allowed[a]); n > 0 {
			fmt.Fprintf(w, "allowed, %d call sites: %s → %s: %s\n", n, from, ShortName(string(a.To)), a.Reason)
		} else {
			fmt.Fprintf(w, "allowance unused: %s → %s\n", from, ShortName(string(a.To)))
		}
	}
}
