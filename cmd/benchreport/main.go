// Command benchreport is `make bench`: it runs cmd/vmbench on Linux and on
// hurdvm in the same QEMU machine, several times each, checks that the
// figures repeat, and writes one table of both with the ratios, and a chart
// of the ratios.
//
//	benchreport [-runs 3] [-spread 1] [-j 2] [-pager on|off|only] [-proc on|off|only] [-linux /boot/vmlinuz-...] [-o build/bench.md] [-svg build/bench.svg]
//
// Linux is Debian's linux-image-amd64 kernel (the newest /boot/vmlinuz-*)
// with an initramfs, made by qemu.RunLinux with u-root's pkg/cpio, that
// holds vmbench built for Linux as /init (and /dev/console). hurdvm is
// vmbench built as a kernel (-tags hurdvm) and wrapped as a multiboot
// image. Both boot with
//
//	qemu-system-x86_64 -accel tcg -cpu qemu64 -smp 1 -m 1G -icount shift=0,sleep=off -no-reboot ...
//
// With -icount shift=0 the guest's clock advances one nanosecond per guest
// instruction, so the figures count guest instructions (as "ns") and do
// not depend on how busy the host is (sleep=off: nor do the guest's idle
// moments); runs of one kernel must agree within
// -spread percent on every figure, or benchreport fails after printing
// what it has.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"hurdvm/qemu"
)

// The machine both kernels run on (machineConfig), and how Linux boots.
var (
	// sleep=off: when the guest idles, its clock jumps to the next timer
	// instead of following the host's, so that the idle moments of boot
	// do not last as long as the host takes. Before this and the heap-base
	// setting in build, 5 of 18 Linux boots ran mmap+munmap 4 % and
	// first-touch faults 1.4 % dearer from start to end; with one of the
	// two, 0 of 6; with both, the runs agree within 0.1 %.
	icount = "shift=0,sleep=off"
	// cpuModel is QEMU's -cpu: qemu64 for the main table (SSE2 only, as
	// the figures have always been taken), max for the second (AVX2:
	// hurdvm's XSAVE lets the Go runtime's memclr and memmove use it).
	cpuModel = "qemu64"
	// Linux's parameters besides qemu.RunLinux's own (console=ttyS0
	// panic=-1): quiet keeps the boot log off the slow serial line.
	linuxParams = []string{"norandmaps", "transparent_hugepage=never", "quiet"}
	// The program's environment, on both kernels.
	goDebug = "GODEBUG=asyncpreemptoff=1"
)

// machineConfig is the QEMU machine of every boot.
func machineConfig(timeout time.Duration) qemu.Config {
	return qemu.Config{Accel: "tcg", CPUs: 1, Memory: "1G", Extra: []string{"-cpu", cpuModel, "-icount", icount}, Timeout: timeout}
}

// machineLine describes machineConfig for the report.
func machineLine() string {
	c := machineConfig(0)
	return fmt.Sprintf("qemu-system-x86_64 -accel %s -smp %d -m %s %s", c.Accel, c.CPUs, c.Memory, strings.Join(c.Extra, " "))
}

// linuxBoot is vmbench as /init under the kernel.
func linuxBoot(kernel, program string) qemu.LinuxProgram {
	return qemu.LinuxProgram{Kernel: kernel, Program: program, Env: []string{goDebug}, Params: linuxParams}
}

func main() {
	runs := flag.Int("runs", 3, "boots of each kernel")
	spread := flag.Float64("spread", 1, "largest spread allowed between runs of a kernel, percent of the median")
	jobs := flag.Int("j", 2, "QEMUs at once (icount makes the figures independent of host load)")
	linux := flag.String("linux", "", "Linux kernel image (default: the newest /boot/vmlinuz-*)")
	out := flag.String("o", "build/bench.md", "the report (Markdown)")
	svg := flag.String("svg", "build/bench.svg", "the chart of the ratios (SVG)")
	timeout := flag.Duration("timeout", 5*time.Minute, "limit for one boot (a pager machine's: 3 times it)")
	flag.StringVar(&icount, "icount", icount, "QEMU -icount option")
	flag.StringVar(&cpuModel, "cpu", cpuModel, "QEMU -cpu model (the consoles go to build/bench, or build/bench-MODEL for another)")
	only := flag.String("only", "", "boot only this kernel (linux or hurdvm): for trying things; the report has gaps")
	from := flag.String("from", "", "boot nothing: report the consoles a former run left in this directory (build/bench)")
	pager := flag.String("pager", "on", "the pager's rows (pager.go): on, off, or only (boot only the pager machines)")
	proc := flag.String("proc", "on", "the process table (proc.go: vmbench's Linux build as a hurdvm process): on, off, or only (boot only its machines; with -pager only, those too)")
	flag.IntVar(&pagerMem, "pager-mem", pagerMem, "the pager machine's memory in MiB, both kernels")
	flag.StringVar(&pagerStore, "store", pagerStore, "zram's disksize and hurdvm's store capacity on the pager machine")
	pagerSpread := flag.Float64("pager-spread", 1, "largest spread allowed between runs of a kernel on the pager's figures, percent")
	pagerSkewSpread := flag.Float64("pager-skew-spread", 10, "the same for the pager's skewed workload, whose Linux figures move by up to 6 % between boots")
	scale := flag.Bool("scale", false, "the scaling table instead (scale.go): -smp 1, 2, 4 under multi-threaded TCG, wall time; -o defaults to build/bench-scale.md")
	flag.Parse()
	if *scale {
		root, err := qemu.RepoRoot(".")
		if err != nil {
			fatal(err)
		}
		o := *out
		if o == "build/bench.md" {
			o = "build/bench-scale.md"
		}
		if err := runScale(root, *linux, *only, o, *timeout); err != nil {
			fatal(err)
		}
		return
	}
	if *runs < 1 || *jobs < 1 {
		fatal(errors.New("-runs and -j must be at least 1"))
	}
	for _, f := range []struct{ name, v string }{{"pager", *pager}, {"proc", *proc}} {
		if f.v != "on" && f.v != "off" && f.v != "only" {
			fatal(fmt.Errorf("-%s %q: on, off or only", f.name, f.v))
		}
	}
	kinds := bootKinds(*pager, *proc)

	root, err := qemu.RepoRoot(".")
	if err != nil {
		fatal(err)
	}
	var results map[string][]Run
	date := time.Now().UTC()
	if *from != "" {
		results, date, err = readLogs(*from, *runs, kinds)
	} else {
		results, err = bootAll(root, *linux, *runs, *jobs, *only, kinds, *timeout)
	}
	if err != nil {
		fatal(err)
	}

	rep := Report{
		Linux:           results["linux"],
		Hurdvm:          results["hurdvm"],
		LinuxPager:      results["linux-pager"],
		HurdvmPager:     results["hurdvm-pager"],
		LinuxProc:       results["linux-proc"],
		HurdvmProc:      results["hurdvm-proc"],
		Date:            date.Format("2006-01-02"),
		QEMU:            qemuVersion(),
		Machine:         machineLine(),
		Icount:          icount,
		Spread:          *spread,
		PagerSpread:     *pagerSpread,
		PagerSkewSpread: *pagerSkewSpread,
	}
	for _, k := range []string{"linux", "linux-pager", "linux-proc"} {
		if rs := results[k]; len(rs) > 0 && rs[0].Kernel != "" && rep.LinuxOS == "" {
			rep.LinuxOS = rs[0].Kernel
		}
	}
	md := rep.Markdown()
	fmt.Print(md)
	if err := os.WriteFile(abs(root, *out), []byte(md), 0o644); err != nil {
		fatal(err)
	}
	if err := os.WriteFile(abs(root, *svg), rep.SVG(), 0o644); err != nil {
		fatal(err)
	}
	logf("wrote %s and %s", *out, *svg)
	if bad := rep.SpreadFailures(); len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "\nbenchreport: FAILED: runs spread more than %.1f %% (the pager's figures: %.1f %%, its skewed workload's %.1f %%):\n  %s\n", *spread, *pagerSpread, *pagerSkewSpread, strings.Join(bad, "\n  "))
		os.Exit(1)
	}
	var missing []string
	if slices.Contains(kinds, "linux") {
		missing = rep.Missing()
	}
	if slices.Contains(kinds, "linux-pager") {
		missing = append(missing, rep.missing(pagerTable)...)
	}
	if slices.Contains(kinds, "linux-proc") {
		missing = append(missing, rep.missing(procTable)...)
	}
	if len(missing) > 0 && *only == "" {
		fmt.Fprintf(os.Stderr, "\nbenchreport: FAILED: figures missing: %s\n", strings.Join(missing, ", "))
		os.Exit(1)
	}
}

// logDirName is where the consoles go under build/: bench, or bench-MODEL
// for a CPU model other than qemu64.
func logDirName() string {
	if cpuModel == "qemu64" {
		return "bench"
	}
	return "bench-" + cpuModel
}

// bootKinds are the boots -pager and -proc ask for, each booted -runs
// times: the main table's (linux, hurdvm) unless either says only, the
// pager machine's (linux-pager, hurdvm-pager) and the process table's
// (linux-proc, hurdvm-proc) when on and the other is not only, or when
// only. The longest first: the pager's, then Linux's.
func bootKinds(pager, proc string) []string {
	var kinds []string
	if pager == "only" || pager == "on" && proc != "only" {
		kinds = append(kinds, "linux-pager", "hurdvm-pager")
	}
	if pager != "only" && proc != "only" {
		kinds = append(kinds, "linux", "hurdvm")
	}
	if proc != "off" && (pager != "only" || proc == "only") {
		kinds = append(kinds, "linux-proc", "hurdvm-proc")
	}
	return kinds
}

// bootAll builds vmbench both ways and boots each kernel runs times, jobs
// at once, in each of kinds (bootKinds); each console goes to
// build/bench/KIND-N.log (logDirName). Every 10 s it says which boots
// run, for how long, and the last figure each printed.
func bootAll(root, linux string, runs, jobs int, only string, kinds []string, timeout time.Duration) (map[string][]Run, error) {
	if err := qemu.Available(); err != nil {
		return nil, err
	}
	var err error
	if linux == "" {
		if linux, err = qemu.NewestLinux(); err != nil {
			return nil, err
		}
	}
	dir := filepath.Join(root, "build", logDirName())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf("building vmbench for Linux and for hurdvm")
	linuxProgram, hurdvmImage, err := build(root, dir)
	if err != nil {
		return nil, err
	}
	var zraminit string
	if slices.Contains(kinds, "linux-pager") && only != "hurdvm" {
		if zraminit, err = buildZraminit(root, dir); err != nil {
			return nil, err
		}
	}
	var proc procBoot
	if slices.Contains(kinds, "hurdvm-proc") && only != "linux" {
		if proc, err = buildProcBoot(root, dir, linuxProgram); err != nil {
			return nil, err
		}
	}

	type job struct {
		kernel string
		run    int
	}
	var jobsList []job
	for _, k := range kinds {
		if kernel, _, _ := strings.Cut(k, "-"); only != "" && kernel != only {
			continue
		}
		for i := 0; i < runs; i++ {
			jobsList = append(jobsList, job{k, i})
		}
	}
	results := map[string][]Run{}
	for _, k := range kinds {
		results[k] = make([]Run, runs)
	}
	var running sync.Map // job -> *progress
	stopTicker := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopTicker:
				return
			case <-t.C:
			}
			var parts []string
			running.Range(func(k, v any) bool {
				j, p := k.(job), v.(*progress)
				parts = append(parts, fmt.Sprintf("%s run %d %v (%s)", j.kernel, j.run+1, time.Since(p.start).Round(time.Second), p.last()))
				return true
			})
			sort.Strings(parts)
			if len(parts) > 0 {
				logf("running: %s", strings.Join(parts, "; "))
			}
		}
	}()
	defer close(stopTicker)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, jobs)
	)
	start := time.Now()
	for _, j := range jobsList {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t0 := time.Now()
			p := &progress{start: t0}
			running.Store(j, p)
			defer running.Delete(j)
			var console []byte
			var err error
			switch j.kernel {
			case "linux":
				console, err = bootLinux(linux, linuxProgram, timeout, p)
			case "linux-pager":
				console, err = bootLinuxPager(linux, zraminit, linuxProgram, pagerTimeout*timeout, p)
			case "hurdvm-pager":
				console, err = bootHurdvmPager(hurdvmImage, pagerTimeout*timeout, p)
			case "linux-proc":
				console, err = bootLinuxProc(linux, linuxProgram, timeout, p)
			case "hurdvm-proc":
				console, err = bootHurdvmProc(proc, timeout, p)
			default:
				console, err = bootHurdvm(hurdvmImage, timeout, p)
			}
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.log", j.kernel, j.run+1)), console, 0o644)
			var r Run
			if err == nil {
				r, err = ParseRun(console)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s run %d: %w\nlast console lines:\n%s", j.kernel, j.run+1, err, qemu.Tail(console, 15)))
				return
			}
			results[j.kernel][j.run] = r
			logf("%s run %d: %d figures in %v", j.kernel, j.run+1, len(r.Values), time.Since(t0).Round(time.Second))
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	logf("%d boots in %v", len(jobsList), time.Since(start).Round(time.Second))
	return results, nil

}

// readLogs reads the consoles a former run left in dir for kinds
// (bootKinds), and their date.
func readLogs(dir string, runs int, kinds []string) (map[string][]Run, time.Time, error) {
	results := map[string][]Run{}
	var date time.Time
	for _, k := range kinds {
		for i := 1; i <= runs; i++ {
			name := filepath.Join(dir, fmt.Sprintf("%s-%d.log", k, i))
			b, err := os.ReadFile(name)
			if err != nil {
				return nil, date, err
			}
			if st, err := os.Stat(name); err == nil && st.ModTime().After(date) {
				date = st.ModTime().UTC()
			}
			r, err := ParseRun(b)
			if err != nil {
				return nil, date, fmt.Errorf("%s: %w", name, err)
			}
			results[k] = append(results[k], r)
		}
	}
	return results, date, nil
}

func abs(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

// goBuild builds pkg into out with args, as every program of the bench
// is built.
func goBuild(root, out, pkg string, args ...string) error {
	cmd := exec.Command("go", append([]string{"build", "-trimpath", "-buildvcs=false", "-o", out}, append(args, pkg)...)...)
	cmd.Dir = root
	// The Go runtime's own address-space randomization off (Go 1.26
	// places its heap at a random base), as norandmaps turns off
	// Linux's: otherwise the runtime's memory straddles a different
	// number of page tables in every boot (208 to 216 kB), and fork,
	// which copies them, varies by 0.8 %.
	cmd.Env = append(append(os.Environ(), qemu.GoBuildEnv...), "GOEXPERIMENT=norandomizedheapbase64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v %s: %w\n%s", args, pkg, err, b)
	}
	return nil
}

// goBuildKernel builds pkg as a hurdvm kernel program.
func goBuildKernel(root, out, pkg string) error {
	return goBuild(root, out, pkg, "-tags", qemu.GoTags, "-ldflags", qemu.GoLDFlags)
}

// build makes vmbench for Linux and the hurdvm image in dir.
func build(root, dir string) (linuxProgram, image string, err error) {
	linuxProgram = filepath.Join(dir, "vmbench-linux")
	if err := goBuild(root, linuxProgram, "./cmd/vmbench"); err != nil {
		return "", "", err
	}
	elf := filepath.Join(dir, "vmbench-hurdvm.elf")
	if err := goBuildKernel(root, elf, "./cmd/vmbench"); err != nil {
		return "", "", err
	}
	image = filepath.Join(dir, "vmbench-hurdvm.img")
	if err := qemu.BuildImage(root, elf, image); err != nil {
		return "", "", err
	}
	return linuxProgram, image, nil
}

// buildZraminit builds cmd/zraminit for Linux, the pager machine's /init.
func buildZraminit(root, dir string) (string, error) {
	out := filepath.Join(dir, "zraminit")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", out, "./cmd/zraminit")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), qemu.GoBuildEnv...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/zraminit: %w\n%s", err, b)
	}
	return out, nil
}

// progress receives a boot's console as it arrives and keeps its last
// BENCH or INFO line, for bootAll's progress lines.
type progress struct {
	start   time.Time
	mu      sync.Mutex
	partial []byte
	line    string
}

func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		l := strings.TrimSpace(string(p.partial[:i]))
		if strings.HasPrefix(l, "BENCH") || strings.HasPrefix(l, "INFO") {
			p.line = l
		}
		p.partial = p.partial[i+1:]
	}
	return len(b), nil
}

func (p *progress) last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.line == "" {
		return "booting"
	}
	if len(p.line) > 100 {
		return p.line[:100] + "..."
	}
	return p.line
}

// bootLinux boots the kernel with vmbench as /init and returns the
// console; vmbench powers the machine off when done.
func bootLinux(kernel, program string, timeout time.Duration, console *progress) ([]byte, error) {
	c := machineConfig(timeout)
	c.Console = console
	res, err := qemu.RunLinux(context.Background(), c, linuxBoot(kernel, program))
	if err == nil && !res.PoweredOff {
		err = fmt.Errorf("vmbench exited with status %d instead of powering the machine off", res.Status)
	}
	return res.Output, err
}

// bootHurdvm boots the hurdvm image through the project's runner.
func bootHurdvm(image string, timeout time.Duration, console *progress) ([]byte, error) {
	c := machineConfig(timeout)
	c.Image, c.Cmdline, c.Console = image, goDebug, console
	res, err := qemu.Run(context.Background(), c)
	if err == nil && res.Status != 0 {
		err = fmt.Errorf("exit status %d", res.Status)
	}
	return res.Output, err
}

func qemuVersion() string {
	b, err := exec.Command("qemu-system-x86_64", "--version").Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchreport: "+format+"\n", args...)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchreport:", err)
	os.Exit(1)
}

// scanLines splits console output into lines.
func scanLines(b []byte) []string {
	var lines []string
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	return lines
}
