// Command qemuexec boots a Go program built for hurdvm in QEMU, as if it
// were run: it is the -exec program of `go test` for the in-kernel tests
// (go test -exec qemuexec ...), and what `make qemu` runs.
//
//	qemuexec [-m 512M] [-smp 1] [-timeout 5m] [-accel tcg] PROGRAM [ARG...]
//
// PROGRAM is a Go executable linked for the kernel (it imports
// hurdvm/kernel); qemuexec wraps it in a multiboot image, boots it with
// ARGs as the kernel command line (the loader puts the image path, named
// like PROGRAM, first: that is os.Args[0]), streams the console
// to standard output and exits with the program's exit status. A triple
// fault, a QEMU failure or a hang is reported on standard error with the
// last console lines, and the exit status is 1 (a kernel panic is 125).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"hurdvm/qemu"
)

func main() {
	mem := flag.String("m", envOr("HURDVM_MEM", "512M"), "guest memory (QEMU -m); default from $HURDVM_MEM")
	smp := flag.Int("smp", 1, "guest CPUs (QEMU -smp)")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long, 0 for never (a -test.timeout argument raises it)")
	accel := flag.String("accel", envOr("HURDVM_ACCEL", "tcg"), "QEMU accelerator: tcg, or kvm where available")
	extra := flag.String("qemu", os.Getenv("HURDVM_QEMU_ARGS"), "more QEMU arguments, space-separated (e.g. \"-icount shift=0\"); default from $HURDVM_QEMU_ARGS")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: qemuexec [flags] PROGRAM [ARG...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	prog, args := flag.Arg(0), flag.Args()[1:]
	for _, a := range args {
		if strings.ContainsAny(a, " \t\n") {
			fatal(fmt.Errorf("argument %q: the kernel command line cannot carry spaces", a))
		}
		if t, ok := strings.CutPrefix(a, "-test.timeout="); ok {
			if d, err := time.ParseDuration(t); err == nil && d > 0 && *timeout != 0 && d+30*time.Second > *timeout {
				*timeout = d + 30*time.Second
			}
		}
	}
	if err := qemu.Available(); err != nil {
		fatal(err)
	}
	root, err := qemu.RepoRoot(".")
	if err != nil {
		if exe, e := os.Executable(); e == nil {
			root, err = qemu.RepoRoot(filepath.Dir(exe))
		}
	}
	if err != nil {
		fatal(err)
	}
	// The loader puts the image's path first on the command line, so the
	// image is named like the program: that word becomes os.Args[0].
	dir, err := os.MkdirTemp("", "qemuexec-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	image := filepath.Join(dir, filepath.Base(prog))
	if err := qemu.BuildImage(root, prog, image); err != nil {
		fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := qemu.Run(ctx, qemu.Config{
		Image:   image,
		Cmdline: strings.Join(args, " "),
		Memory:  *mem,
		CPUs:    *smp,
		Timeout: *timeout,
		Accel:   *accel,
		Extra:   strings.Fields(*extra),
		Console: os.Stdout,
	})
	os.RemoveAll(dir)
	if err != nil {
		fatal(err)
	}
	os.Exit(res.Status)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "qemuexec:", err)
	os.Exit(1)
}
