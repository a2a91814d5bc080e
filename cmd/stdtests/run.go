package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"hurdvm/qemu"
)

// outcome is how one package's run went.
type outcome struct {
	pkg     string
	ok      bool
	elapsed time.Duration
	log     string // the go test output, in a file
	tail    string // its last lines, for a failure
	counts  counts
}

// counts are the tests and Examples that passed and were skipped, from
// go test -v's lines.
type counts struct{ passed, skipped int }

func countTests(out []byte) counts {
	var c counts
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "--- PASS: "):
			c.passed++
		case strings.HasPrefix(line, "--- SKIP: "):
			c.skipped++
		}
	}
	return c
}

// runner runs go test on throwaway packages, or test binaries as
// processes (proc.go), a few at a time.
type runner struct {
	name     string // what it calls itself in its lines: stdtests, stdprocs
	root     string // the repository, where go test runs
	tree     *tree
	proc     *procMode // the process mode; nil: throwaway packages
	qemuexec string    // "" runs the tests on the host, as plain Linux programs
	timeout  time.Duration
	jobs     int
	progress time.Duration // how often to say what is running
}

// goTest is the go test command for one throwaway package.
func (r *runner) goTest(pkg string) *exec.Cmd {
	rel, _ := filepath.Rel(r.root, r.tree.pkgDir(pkg))
	args := []string{"test", "-v", "-short", "-count=1", "-vet=off", "-timeout", r.timeout.String()}
	if r.qemuexec != "" {
		args = append(args, "-tags", qemu.GoTags, "-ldflags", qemu.GoLDFlags, "-exec", r.qemuexec)
	}
	cmd := exec.Command("go", append(args, "./"+filepath.ToSlash(rel))...)
	cmd.Dir = r.root
	cmd.Env = append(os.Environ(), qemu.GoBuildEnv...)
	return cmd
}

// run runs every package and reports each as it ends, and every
// r.progress what is still running.
func (r *runner) run(pkgs []string) []outcome {
	var (
		mu      sync.Mutex
		started = map[string]time.Time{}
		results []outcome
		wg      sync.WaitGroup
	)
	queue := make(chan string)
	start := time.Now()
	for i := 0; i < r.jobs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pkg := range queue {
				mu.Lock()
				started[pkg] = time.Now()
				mu.Unlock()
				o := r.one(pkg)
				mu.Lock()
				delete(started, pkg)
				results = append(results, o)
				report(o, len(results), len(pkgs))
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(r.progress)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				mu.Lock()
				var running []string
				for p, t := range started {
					running = append(running, fmt.Sprintf("%s %.0fs", p, time.Since(t).Seconds()))
				}
				sort.Strings(running)
				fmt.Printf("%s: %s: %d of %d done; running %s\n",
					r.name, time.Since(start).Round(time.Second), len(results), len(pkgs), strings.Join(running, ", "))
				mu.Unlock()
			}
		}
	}()
	for _, p := range pkgs {
		queue <- p
	}
	close(queue)
	wg.Wait()
	close(done)
	return results
}

// one runs go test on one package, or builds its test binary and runs
// it as a process, its output going to a log file beside the package's
// directory or binary (not in the directory: that is what the guest
// gets).
func (r *runner) one(pkg string) outcome {
	var (
		o   = outcome{pkg: pkg}
		cmd *exec.Cmd
		out bytes.Buffer
		err error
	)
	t := time.Now()
	if r.proc == nil {
		o.log = r.tree.pkgDir(pkg) + ".log"
		cmd = r.goTest(pkg)
	} else {
		o.log = strings.TrimSuffix(r.proc.binary(pkg), ".test") + ".log"
		if r.qemuexec == "" {
			o.log = strings.TrimSuffix(o.log, ".log") + ".host.log" // beside hurdvm's, to compare
		}
		if err = r.proc.build(r.root, pkg); err != nil {
			out.WriteString(err.Error())
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout+2*time.Minute)
		defer cancel()
		cmd = r.proc.command(ctx, r.qemuexec, pkg, r.timeout)
	}
	if err == nil {
		cmd.Stdout, cmd.Stderr = &out, &out
		err = cmd.Run()
	}
	o.elapsed = time.Since(t)
	o.ok = err == nil
	o.counts = countTests(out.Bytes())
	if o.ok && o.counts.passed == 0 {
		// An Example without an output comment is compiled, not run: a
		// package of only those tests nothing.
		o.ok, o.tail = false, "no test or Example ran"
	}
	if werr := os.WriteFile(o.log, out.Bytes(), 0o666); werr != nil {
		o.log = ""
	}
	if !o.ok && o.tail == "" {
		o.tail = qemu.Tail(out.Bytes(), 30)
	}
	return o
}

func report(o outcome, n, total int) {
	status := "ok  "
	if !o.ok {
		status = "FAIL"
	}
	fmt.Printf("%s %-28s %6.1fs %4d passed %3d skipped  (%d/%d)\n", status, o.pkg, o.elapsed.Seconds(),
		o.counts.passed, o.counts.skipped, n, total)
	if !o.ok {
		fmt.Printf("    %s\n    (the whole output: %s)\n", strings.ReplaceAll(o.tail, "\n", "\n    "), o.log)
	}
}
