// Command qemuexec boots a Go program built for hurdvm in QEMU, as if it
// were run: it is the -exec program of `go test` for the in-kernel tests
// (go test -exec qemuexec ...), and what `make qemu` runs.
//
//	qemuexec [-m 512M] [-smp 1] [-timeout 5m] [-accel tcg] [-dir .] PROGRAM [ARG...]
//	qemuexec -process [flags] PROGRAM [ARG...]
//
// PROGRAM is a Go executable linked for the kernel (it imports
// hurdvm/kernel); qemuexec wraps it in a multiboot image, boots it with
// ARGs as the kernel command line (the loader puts the image path, named
// like PROGRAM, first: that is os.Args[0]), streams the console
// to standard output and exits with the program's exit status. A triple
// fault, a QEMU failure or a hang is reported on standard error with the
// last console lines, and the exit status is 1 (a kernel panic is 125).
//
// As `go test -exec` runs it in the test's package directory, qemuexec
// packs that directory (-dir) into a cpio archive the kernel serves
// read-only at the same path, as the working directory (PWD), and gives
// the program TMPDIR=/tmp, the kernel's tmpfs. The files go test expects
// back (-test.gocoverdir, -test.coverprofile, profiles) are written in
// the guest's /tmp/hurdvm-export, which the kernel sends over the second
// serial port, and copied to where go test looks when the machine stops.
//
// With -process, PROGRAM is a static Linux x86-64 program to run as a
// process in ring 3 (issue 17; for now linked in hurdvm's task window,
// see docs/DESIGN.md "Processes"): qemuexec boots the kernel program
// cmd/procinit (built from the repository, or -init), packs PROGRAM at
// its own path beside -dir, and procinit starts it with ARGs, prints its
// output and ends with its exit status (128+N for signal N).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"hurdvm/qemu"
)

func main() { os.Exit(run()) }

// run boots the program and returns its exit status; a failure of its own
// is reported and is 1.
func run() int {
	mem := flag.String("m", envOr("HURDVM_MEM", "512M"), "guest memory (QEMU -m); default from $HURDVM_MEM")
	smp := flag.Int("smp", 1, "guest CPUs (QEMU -smp); default from $HURDVM_SMP")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long, 0 for never (a -test.timeout argument raises it)")
	accel := flag.String("accel", envOr("HURDVM_ACCEL", "tcg"), "QEMU accelerator: tcg, or kvm where available")
	extra := flag.String("qemu", os.Getenv("HURDVM_QEMU_ARGS"), "more QEMU arguments, space-separated (e.g. \"-icount shift=0\"); default from $HURDVM_QEMU_ARGS")
	dirFlag := flag.String("dir", ".", "the directory the program finds read-only at its own path, as its working directory; \"\" for none")
	dirLimit := sizeFlag("dir-limit", qemu.DefaultMaxTotal, "the largest archive -dir may pack into (the archive stays in guest memory)")
	fileLimit := sizeFlag("file-limit", qemu.DefaultMaxFile, "a larger file of -dir is left out, with a note")
	var trees []string
	flag.Func("tree", "a further directory packed at its own path, by -dir's rules (a test's inputs outside its directory: ../testdata); repeatable", func(d string) error {
		abs, err := filepath.Abs(d)
		trees = append(trees, abs)
		return err
	})
	process := flag.Bool("process", false, "PROGRAM is a static Linux program to run as a process in ring 3 (under cmd/procinit), not a kernel program")
	initProg := flag.String("init", "", "with -process: the kernel program to boot (default: cmd/procinit, built from the repository)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: qemuexec [flags] PROGRAM [ARG...]\n       qemuexec -process [flags] PROGRAM [ARG...]\n")
		flag.PrintDefaults()
	}
	if v := os.Getenv("HURDVM_SMP"); v != "" {
		// The environment sets the default; a -smp flag still wins.
		if err := flag.Set("smp", v); err != nil {
			return fail(fmt.Errorf("HURDVM_SMP=%q: want a number of CPUs", v))
		}
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		return 2
	}
	prog, args := flag.Arg(0), flag.Args()[1:]
	for _, a := range args {
		if t, ok := strings.CutPrefix(a, "-test.timeout="); ok {
			if d, err := time.ParseDuration(t); err == nil && d > 0 && *timeout != 0 && d+30*time.Second > *timeout {
				*timeout = d + 30*time.Second
			}
		}
	}
	if err := qemu.Available(); err != nil {
		return fail(err)
	}
	root, err := qemu.RepoRoot(".")
	if err != nil {
		if exe, e := os.Executable(); e == nil {
			root, err = qemu.RepoRoot(filepath.Dir(exe))
		}
	}
	if err != nil {
		return fail(err)
	}
	// The loader puts the image's path first on the command line, so the
	// image is named like the program: that word becomes os.Args[0].
	dir, err := os.MkdirTemp("", "qemuexec-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	var packExtra []string
	if *process {
		// The program at its own absolute path in the archive, named
		// so to procinit, which the machine boots instead.
		abs, err := filepath.Abs(prog)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			return fail(err)
		}
		if *dirFlag == "" {
			return fail(errors.New("-process needs an archive to carry the program: -dir cannot be empty"))
		}
		packExtra = append(packExtra, abs)
		args = append([]string{abs}, args...)
		if prog = *initProg; prog == "" {
			if prog, err = buildProcinit(root, dir); err != nil {
				return fail(err)
			}
		}
	}
	image := filepath.Join(dir, filepath.Base(prog))
	if err := qemu.BuildImage(root, prog, image); err != nil {
		return fail(err)
	}
	c := qemu.Config{
		Image:   image,
		Memory:  *mem,
		CPUs:    *smp,
		Timeout: *timeout,
		Accel:   *accel,
		Extra:   strings.Fields(*extra),
		Console: os.Stdout,
		Results: filepath.Join(dir, ".hurdvm-results"),
	}
	cwd, err := filepath.Abs(".")
	if err != nil {
		return fail(err)
	}
	var env []string
	if *dirFlag != "" {
		if cwd, err = filepath.Abs(*dirFlag); err != nil {
			return fail(err)
		}
		c.Initrd = filepath.Join(dir, ".hurdvm-dir.cpio")
		if err := packDir(c.Initrd, cwd, qemu.PackOptions{MaxTotal: *dirLimit, MaxFile: *fileLimit,
			Exclude: []string{filepath.Join(root, "build")}, Extra: packExtra, Trees: trees}); err != nil {
			return fail(err)
		}
		env = append(env, "PWD="+cwd)
	}
	args, outputs := qemu.RewriteTestFlags(args, cwd)
	args = append(append(args, env...), "TMPDIR=/tmp")
	for _, a := range args {
		if strings.ContainsAny(a, " \t\n") {
			return fail(fmt.Errorf("argument %q: the kernel command line cannot carry spaces", a))
		}
	}
	c.Cmdline = strings.Join(args, " ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := qemu.Run(ctx, c)
	deliver(c.Results, outputs, err == nil && res.Status == 0)
	if err != nil {
		return fail(err)
	}
	return res.Status
}

// buildProcinit builds cmd/procinit, the kernel program -process boots,
// into dir, as make builds kernel programs.
func buildProcinit(root, dir string) (string, error) {
	out := filepath.Join(dir, "procinit")
	cmd := exec.Command("go", "build", "-tags", qemu.GoTags, "-ldflags", qemu.GoLDFlags, "-o", out, "./cmd/procinit")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), qemu.GoBuildEnv...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building cmd/procinit: %v\n%s", err, b)
	}
	return out, nil
}

// packDir writes the archive of the program's directory, saying what a
// test might miss in it.
func packDir(archive, dir string, opt qemu.PackOptions) error {
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	sum, err := qemu.PackDir(f, dir, opt)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, qemu.ErrPackTooLarge) {
		return fmt.Errorf("%w\n(-dir-limit raises the limit, -file-limit leaves large files out)", err)
	}
	if err != nil {
		return fmt.Errorf("packing the program's directory (-dir): %w", err)
	}
	for _, s := range sum.Skipped {
		fmt.Fprintf(os.Stderr, "qemuexec: %s is not in the guest: %s\n", s.Path, s.Reason)
	}
	if dir == "/tmp" || strings.HasPrefix(dir, "/tmp/") {
		fmt.Fprintf(os.Stderr, "qemuexec: %s is under /tmp, where the guest has its tmpfs: the program cannot see it\n", dir)
	}
	return nil
}

// deliver copies the files the kernel sent back to where go test expects
// them. What went wrong is said on standard error; the exit status stays
// the program's, as go test fails by itself on a file it lacks.
func deliver(results string, outputs *qemu.Outputs, ranToEnd bool) {
	f, err := os.Open(results)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qemuexec: results:", err)
		return
	}
	files, err := qemu.ReadResults(f)
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "qemuexec:", err)
	}
	written, unclaimed, err := outputs.Deliver(files)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qemuexec: results:", err)
	}
	for _, u := range unclaimed {
		fmt.Fprintf(os.Stderr, "qemuexec: %s came back but no flag named a host file for it: dropped\n", u)
	}
	if ranToEnd {
		for _, m := range outputs.Missing(written) {
			fmt.Fprintf(os.Stderr, "qemuexec: the program ended without leaving %s (nothing came back from the guest's %s)\n", m, qemu.ExportDir)
		}
	}
}

// sizeFlag defines a flag taking a size in bytes, with an optional K, M
// or G suffix (powers of 1024).
func sizeFlag(name string, def int64, usage string) *int64 {
	v := def
	flag.Func(name, fmt.Sprintf("%s (default %dM)", usage, def>>20), func(s string) error {
		n, err := parseSize(s)
		v = n
		return err
	})
	return &v
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"):
		mult = 1 << 20
	case strings.HasSuffix(s, "G"):
		mult = 1 << 30
	}
	n, err := strconv.ParseInt(strings.TrimRight(s, "KMG"), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want a number of bytes, with K, M or G after it", s)
	}
	return n * mult, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "qemuexec:", err)
	return 1
}
