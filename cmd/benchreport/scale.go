// The scaling table (benchreport -scale): vmbench -scale N on each kernel
// at -smp 1, 2 and 4, under QEMU's multi-threaded TCG (one host thread a
// guest CPU) without -icount, so that the guests' CPUs really run at once
// and the figures are wall time: page faults per second on disjoint
// regions, with N threads of one address space and with N address
// spaces, each the median of vmbench's samples, and its ratio to the same
// kernel's figure on one CPU in the same invocation. These figures depend
// on the host: how many cores it has (printed with the table) and what
// else runs there.

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"hurdvm/qemu"
)

// scaleCPUs are the machines' CPU counts.
var scaleCPUs = []int{1, 2, 4}

var scaleFigures = []struct{ name, label string }{
	{"scale/threads_faults_per_s", "one space, N threads"},
	{"scale/tasks_faults_per_s", "N spaces, a thread each"},
}

// scaleConfig is the machine of a scaling boot.
func scaleConfig(cpus int, timeout time.Duration) qemu.Config {
	return qemu.Config{Accel: "tcg,thread=multi", CPUs: cpus, Memory: "1G", Extra: []string{"-cpu", cpuModel}, Timeout: timeout}
}

// runScale boots each kernel (only: one of them) at every CPU count, one
// boot at a time, and writes the table to out.
func runScale(root, linux, only, out string, timeout time.Duration) error {
	if err := qemu.Available(); err != nil {
		return err
	}
	var err error
	if linux == "" && only != "hurdvm" {
		if linux, err = qemu.NewestLinux(); err != nil {
			return err
		}
	}
	dir := filepath.Join(root, "build", "bench-scale")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	logf("building vmbench for Linux and for hurdvm")
	linuxProgram, hurdvmImage, err := build(root, dir)
	if err != nil {
		return err
	}
	results := map[string]map[int]Run{}
	for _, k := range []string{"hurdvm", "linux"} {
		if only != "" && k != only {
			continue
		}
		results[k] = map[int]Run{}
		for _, n := range scaleCPUs {
			t0 := time.Now()
			c := scaleConfig(n, timeout)
			arg := fmt.Sprint(n)
			var console []byte
			switch k {
			case "linux":
				p := linuxBoot(linux, linuxProgram)
				p.Args = []string{"-scale", arg}
				var res qemu.Result
				res, err = qemu.RunLinux(context.Background(), c, p)
				console = res.Output
			default:
				c.Image, c.Cmdline = hurdvmImage, "vmbench -scale "+arg+" "+goDebug
				var res qemu.Result
				res, err = qemu.Run(context.Background(), c)
				if err == nil && res.Status != 0 {
					err = fmt.Errorf("exit status %d", res.Status)
				}
				console = res.Output
			}
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-smp%d.log", k, n)), console, 0o644)
			var r Run
			if err == nil {
				r, err = ParseRun(console)
			}
			if err != nil {
				return fmt.Errorf("%s -smp %d: %w\nlast console lines:\n%s", k, n, err, qemu.Tail(console, 15))
			}
			results[k][n] = r
			logf("%s -smp %d: done in %v", k, n, time.Since(t0).Round(time.Second))
		}
	}
	md := scaleMarkdown(results)
	fmt.Print(md)
	return os.WriteFile(abs(root, out), []byte(md), 0o644)
}

// scaleMarkdown is the table: faults/s and the ratio to one CPU.
func scaleMarkdown(results map[string]map[int]Run) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Page faults per second on disjoint regions (64 MiB a thread), wall time, median of 9 samples; "+
		"qemu-system-x86_64 -accel tcg,thread=multi -cpu %s -m 1G -smp N, on a host with %d cores (%s). "+
		"In parentheses: the ratio to 1 CPU.\n\n", cpuModel, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"))
	b.WriteString("| kernel | arrangement |")
	for _, n := range scaleCPUs {
		fmt.Fprintf(&b, " %d CPU |", n)
	}
	b.WriteString("\n| --- | --- |")
	for range scaleCPUs {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")
	for _, k := range []string{"hurdvm", "linux"} {
		runs, ok := results[k]
		if !ok {
			continue
		}
		for _, f := range scaleFigures {
			fmt.Fprintf(&b, "| %s | %s |", k, f.label)
			one := runs[1].Values[f.name]
			for _, n := range scaleCPUs {
				v, ok := runs[n].Values[f.name]
				switch {
				case !ok:
					b.WriteString(" - |")
				case one > 0:
					fmt.Fprintf(&b, " %.0f (%.2f×) |", v, v/one)
				default:
					fmt.Fprintf(&b, " %.0f |", v)
				}
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
