// Command benchreport is `make bench`: it runs cmd/vmbench on Linux and on
// hurdvm in the same QEMU machine, several times each, checks that the
// figures repeat, and writes one table of both with the ratios, and a chart
// of the ratios.
//
//	benchreport [-runs 3] [-spread 1] [-j 2] [-linux /boot/vmlinuz-...] [-o build/bench.md] [-svg build/bench.svg]
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
	timeout := flag.Duration("timeout", 5*time.Minute, "limit for one boot")
	flag.StringVar(&icount, "icount", icount, "QEMU -icount option")
	flag.StringVar(&cpuModel, "cpu", cpuModel, "QEMU -cpu model (the consoles go to build/bench, or build/bench-MODEL for another)")
	only := flag.String("only", "", "boot only this kernel (linux or hurdvm): for trying things; the report has gaps")
	from := flag.String("from", "", "boot nothing: report the consoles a former run left in this directory (build/bench)")
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

	root, err := qemu.RepoRoot(".")
	if err != nil {
		fatal(err)
	}
	var results map[string][]Run
	date := time.Now().UTC()
	if *from != "" {
		results, date, err = readLogs(*from, *runs)
	} else {
		results, err = bootAll(root, *linux, *runs, *jobs, *only, *timeout)
	}
	if err != nil {
		fatal(err)
	}

	rep := Report{
		Linux:   results["linux"],
		Hurdvm:  results["hurdvm"],
		Date:    date.Format("2006-01-02"),
		QEMU:    qemuVersion(),
		LinuxOS: results["linux"][0].Kernel,
		Machine: machineLine(),
		Icount:  icount,
		Spread:  *spread,
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
		fmt.Fprintf(os.Stderr, "\nbenchreport: FAILED: runs spread more than %.1f %%:\n  %s\n", *spread, strings.Join(bad, "\n  "))
		os.Exit(1)
	}
	if missing := rep.Missing(); len(missing) > 0 && *only == "" {
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

// bootAll builds vmbench both ways and boots each kernel runs times, jobs
// at once; each console goes to build/bench/KERNEL-N.log (logDirName).
func bootAll(root, linux string, runs, jobs int, only string, timeout time.Duration) (map[string][]Run, error) {
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

	type job struct {
		kernel string
		run    int
	}
	var jobsList []job
	// Linux's boots are the longest: start them first.
	for _, k := range []string{"linux", "hurdvm"} {
		if only != "" && k != only {
			continue
		}
		for i := 0; i < runs; i++ {
			jobsList = append(jobsList, job{k, i})
		}
	}
	results := map[string][]Run{"linux": make([]Run, runs), "hurdvm": make([]Run, runs)}
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
			var console []byte
			var err error
			switch j.kernel {
			case "linux":
				console, err = bootLinux(linux, linuxProgram, timeout)
			default:
				console, err = bootHurdvm(hurdvmImage, timeout)
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

// readLogs reads the consoles a former run left in dir, and their date.
func readLogs(dir string, runs int) (map[string][]Run, time.Time, error) {
	results := map[string][]Run{}
	var date time.Time
	for _, k := range []string{"linux", "hurdvm"} {
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

// build makes vmbench for Linux and the hurdvm image in dir.
func build(root, dir string) (linuxProgram, image string, err error) {
	goBuild := func(out string, args ...string) error {
		cmd := exec.Command("go", append([]string{"build", "-trimpath", "-buildvcs=false", "-o", out}, append(args, "./cmd/vmbench")...)...)
		cmd.Dir = root
		// The Go runtime's own address-space randomization off (Go 1.26
		// places its heap at a random base), as norandmaps turns off
		// Linux's: otherwise the runtime's memory straddles a different
		// number of page tables in every boot (208 to 216 kB), and fork,
		// which copies them, varies by 0.8 %.
		cmd.Env = append(append(os.Environ(), qemu.GoBuildEnv...), "GOEXPERIMENT=norandomizedheapbase64")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %v: %w\n%s", args, err, b)
		}
		return nil
	}
	linuxProgram = filepath.Join(dir, "vmbench-linux")
	if err := goBuild(linuxProgram); err != nil {
		return "", "", err
	}
	elf := filepath.Join(dir, "vmbench-hurdvm.elf")
	if err := goBuild(elf, "-tags", qemu.GoTags, "-ldflags", qemu.GoLDFlags); err != nil {
		return "", "", err
	}
	image = filepath.Join(dir, "vmbench-hurdvm.img")
	if err := qemu.BuildImage(root, elf, image); err != nil {
		return "", "", err
	}
	return linuxProgram, image, nil
}

// bootLinux boots the kernel with vmbench as /init and returns the
// console; vmbench powers the machine off when done.
func bootLinux(kernel, program string, timeout time.Duration) ([]byte, error) {
	res, err := qemu.RunLinux(context.Background(), machineConfig(timeout), linuxBoot(kernel, program))
	if err == nil && !res.PoweredOff {
		err = fmt.Errorf("vmbench exited with status %d instead of powering the machine off", res.Status)
	}
	return res.Output, err
}

// bootHurdvm boots the hurdvm image through the project's runner.
func bootHurdvm(image string, timeout time.Duration) ([]byte, error) {
	c := machineConfig(timeout)
	c.Image, c.Cmdline = image, goDebug
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
