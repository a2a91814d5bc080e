// Command stdtests runs the external tests of standard-library packages
// on hurdvm: Go's own tests as a client of the kernel (make test-std).
//
//	stdtests [-list cmd/stdtests/packages.txt] [-host] [-all] [-j N] [PACKAGE...]
//
// For each package P of the list (or each PACKAGE named), it makes a
// throwaway test package in build/_std (generate.go: P's external test
// files, Examples included, and its testdata; a file importing
// hurdvm/kernel under the hurdvm tag), then runs
//
//	go test -tags hurdvm -exec build/qemuexec -short ./build/_std/P
//
// for each, a few at a time, reporting each package with its time as it
// ends and every 10 seconds what is still running. It fails if a package
// fails. -host runs the same packages as plain Linux programs, which is
// how a package earns its place on the list: it must pass there first.
// -all tries every standard-library package with external tests and
// prints why each unusable one is, to revisit the list.
//
// -proc (make test-std-proc) is the other way in, through processes:
// each package's own test binary, built as for Linux by go test -c, run
// as a process in ring 3 (proc.go), the list being
// cmd/stdtests/procpackages.txt and the last line "stdprocs: N passed,
// M failed". -proc -host runs the same binaries on Linux.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"hurdvm/qemu"
)

func main() {
	list := flag.String("list", "", "the packages to run, and those left out with why (default cmd/stdtests/packages.txt, with -proc procpackages.txt)")
	proc := flag.Bool("proc", false, "build each package's test binary as for Linux (go test -c) and run it as a process, not its external tests as a kernel program")
	host := flag.Bool("host", false, "run the tests on the host, as Linux programs, not on hurdvm")
	all := flag.Bool("all", false, "try every standard-library package with external tests, not the list")
	jobs := flag.Int("j", runtime.NumCPU(), "packages run at once")
	timeout := flag.Duration("timeout", 4*time.Minute, "go test's -timeout for one package")
	qemuexec := flag.String("exec", "build/qemuexec", "the -exec program that boots a test binary on hurdvm")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: stdtests [flags] [PACKAGE...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	name, defaultList := "stdtests", "cmd/stdtests/packages.txt"
	if *proc {
		name, defaultList = "stdprocs", "cmd/stdtests/procpackages.txt"
	}
	if *list == "" {
		*list = defaultList
	}
	root, err := qemu.RepoRoot(".")
	if err != nil {
		fatal(err)
	}
	l, err := readList(filepath.Join(root, *list))
	if err != nil {
		fatal(err)
	}
	pkgs := l.packages
	switch {
	case flag.NArg() > 0:
		pkgs = flag.Args()
	case *all:
		every := withExternalTests
		if *proc {
			every = withTests
		}
		if pkgs, err = every(); err != nil {
			fatal(err)
		}
		var unlisted []string
		for _, p := range pkgs {
			if _, out := l.leftOut[p]; !out && !slices.Contains(l.packages, p) {
				unlisted = append(unlisted, p)
			}
		}
		if len(unlisted) > 0 {
			fmt.Printf("%s: neither listed nor left out in %s: %s\n", name, *list, strings.Join(unlisted, " "))
		}
	}
	r := &runner{name: name, root: root, timeout: *timeout, jobs: max(*jobs, 1), progress: 10 * time.Second,
		tree: &tree{dir: filepath.Join(root, "build", "_std"), importPath: "hurdvm/build/_std", copied: map[string]error{}}}
	if !*host {
		if r.qemuexec, err = filepath.Abs(*qemuexec); err != nil {
			fatal(err)
		}
		if _, err := os.Stat(r.qemuexec); err != nil {
			fatal(fmt.Errorf("%w (make tools builds it)", err))
		}
	}
	usable, unusable := pkgs, map[string]string{}
	if *proc {
		// The binaries need no throwaway package: each is its package's own.
		if r.proc, err = newProcMode(root, pkgs); err != nil {
			fatal(err)
		}
	} else if usable, unusable, err = generateAll(r.tree, pkgs); err != nil {
		fatal(err)
	}
	for _, p := range pkgs {
		if why, ok := unusable[p]; ok {
			fmt.Printf("unusable %s: %s\n", p, why)
		}
	}
	where := "hurdvm"
	if *host {
		where = "the host"
	}
	fmt.Printf("%s: %d packages on %s, %d at a time\n", name, len(usable), where, r.jobs)
	start := time.Now()
	outcomes := r.run(usable)
	failed := summarize(name, outcomes, time.Since(start))
	if len(failed) > 0 || (len(unusable) > 0 && !*all) {
		os.Exit(1)
	}
}

// withExternalTests lists the standard library's packages with external
// test files: what -all tries.
func withExternalTests() ([]string, error) {
	return stdPackages(func(p goPackage) bool { return len(p.XTestGoFiles) > 0 })
}

// stdPackages lists the standard library's packages that keep keeps,
// commands and vendored packages left aside.
func stdPackages(keep func(goPackage) bool) ([]string, error) {
	pkgs, err := goList("std")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range pkgs {
		if keep(p) && !strings.HasPrefix(p.ImportPath, "cmd/") && !strings.HasPrefix(p.ImportPath, "vendor/") {
			out = append(out, p.ImportPath)
		}
	}
	return out, nil
}

// generateAll makes the throwaway packages: those made, and why each
// other one could not be.
func generateAll(t *tree, paths []string) ([]string, map[string]string, error) {
	if err := t.reset(); err != nil {
		return nil, nil, err
	}
	infos, err := goList(paths...)
	if err != nil {
		return nil, nil, err
	}
	var usable []string
	unusable := map[string]string{}
	for _, p := range infos {
		err := t.generate(p)
		if u, ok := err.(*unusableError); ok {
			unusable[p.ImportPath] = u.reason
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p.ImportPath, err)
		}
		usable = append(usable, p.ImportPath)
	}
	return usable, unusable, nil
}

// summarize prints the outcomes' times, slowest first, the failed
// packages, and last the plain line "NAME: N passed, M failed"; it
// returns the failed packages.
func summarize(name string, outcomes []outcome, wall time.Duration) []string {
	sort.Slice(outcomes, func(i, j int) bool { return outcomes[i].elapsed > outcomes[j].elapsed })
	var failed []string
	var sum time.Duration
	for _, o := range outcomes {
		sum += o.elapsed
		if !o.ok {
			failed = append(failed, o.pkg)
		}
	}
	fmt.Printf("%s: %s (%s of package time); slowest:", name, wall.Round(time.Second), sum.Round(time.Second))
	for i := 0; i < 5 && i < len(outcomes); i++ {
		fmt.Printf(" %s %.1fs", outcomes[i].pkg, outcomes[i].elapsed.Seconds())
	}
	fmt.Println()
	if len(failed) > 0 {
		sort.Strings(failed)
		fmt.Printf("%s: FAIL: %s\n", name, strings.Join(failed, " "))
	}
	fmt.Printf("%s: %d passed, %d failed\n", name, len(outcomes)-len(failed), len(failed))
	return failed
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "stdtests:", err)
	os.Exit(1)
}
