// Command handlercheck proves, from a kernel ELF, that nothing reachable in
// handler context allocates, takes a Go lock, stores a Go pointer through a
// write barrier or panics (docs/DESIGN.md, "Handler context"). See package
// hurdvm/kernel/handlercheck for how, and for what it cannot see.
//
//	handlercheck [flags] build/kernel.elf [build/tests/vm.test ...]
//
// It exits 1 when a forbidden function is reachable (printing the shortest
// path from a root to each call, with the address of every call
// instruction), 2 when a binary cannot be read, and 0 with a one-line
// summary per binary otherwise. The binaries need their symbol table: go build keeps
// it; go test -c keeps it too (only go run and go test without -c link
// with -s -w).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"hurdvm/kernel/handlercheck"
)

func main() {
	cfg := handlercheck.KernelConfig()
	roots := flag.String("roots", strings.Join(cfg.Roots, ","), "comma-separated `functions` where handler context starts")
	ifaces := flag.String("ifaces", strings.Join(cfg.Interfaces, ","), "comma-separated `interfaces` whose itabs interface calls in handler context are followed to")
	forbid := flag.String("forbid", "", "comma-separated extra forbidden `functions` (a trailing * matches a prefix)")
	flag.BoolVar(&cfg.Strict, "strict", false, "fail on run-time check sites (bounds, divide, shift, nil) and on unattributed indirect calls too")
	flag.BoolVar(&cfg.ForbidStackGrowth, "morestack", false, "forbid the prologues' stack checks (runtime.morestack); the design allows them: the kernel g's stack bounds are the kernel stacks")
	verbose := flag.Bool("v", false, "also list the known findings, the unattributed indirect calls, the run-time check sites by function and package, and the allowed edges")
	why := flag.String("why", "", "comma-separated `functions`: print how handler context reaches each")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: handlercheck [flags] kernel.elf ...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	cfg.Roots = list(*roots)
	cfg.Interfaces = list(*ifaces)
	for _, f := range list(*forbid) {
		cfg.Forbidden = append(cfg.Forbidden, handlercheck.Rule{Pattern: handlercheck.Pattern(f), What: "forbidden by -forbid"})
	}

	status := 0
	for _, path := range flag.Args() {
		p, err := handlercheck.Load(path)
		if err == nil {
			var res *handlercheck.Result
			if res, err = handlercheck.Check(p, &cfg); err == nil {
				for _, name := range list(*why) {
					res.WriteWhy(os.Stdout, p, name)
				}
				res.Report(os.Stdout, p, &cfg, path, *verbose)
				if res.Failed(&cfg) {
					status = max(status, 1)
				}
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "handlercheck: %s: %v\n", path, err)
			status = 2
		}
	}
	os.Exit(status)
}

func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
