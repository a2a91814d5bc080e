// The pager's rows (issue 16): vmbench -pager on a small machine, where
// the program uses more memory than there is. Linux boots with zram swap
// (cmd/zraminit as /init: the zram and lz4 modules of the kernel's own
// package, found on the host by qemu.LinuxModules and loaded in the guest
// with u-root's pkg/kmodule; lz4; swapon; the multi-generational LRU on)
// and runs vmbench; hurdvm boots vmbench with its store's capacity set to
// zram's disksize. The machine is the main table's but for its memory,
// the same for both kernels (-pager-mem).

package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"hurdvm/qemu"
)

var (
	// pagerMem is the pager machine's memory in MiB (QEMU's -m for both
	// kernels). Debian's Linux 6.1 keeps about 50 MiB of it out of its
	// MemTotal: at tests/pager's 128 MiB it starts the program with
	// 47 MiB available, less than the 2× pass's compressed pages take,
	// and panics ("System is deadlocked on memory": the program is init,
	// which the OOM killer spares); at 256 MiB it has 167 MiB free,
	// hurdvm 246 MiB.
	pagerMem = 256
	// pagerStore is zram's disksize and hurdvm's store capacity
	// (hurdvm.store=): uncompressed bytes, room for the 2× memory pass.
	pagerStore = "1G"
)

// pagerLinuxParams are Linux's parameters on the pager machine besides
// the main table's: nokaslr, so that every boot lays the kernel out alike
// (its reclaim under memory pressure moves with it).
var pagerLinuxParams = []string{"nokaslr"}

// pagerTimeout: a pager machine's boot may last this many times
// -timeout (about 20 billion instructions: 2 minutes on an idle host).
const pagerTimeout = 3

// pagerConfig is the pager machine: machineConfig with pagerMem.
func pagerConfig(timeout time.Duration) qemu.Config {
	c := machineConfig(timeout)
	c.Memory = fmt.Sprintf("%dM", pagerMem)
	return c
}

// pagerMachineLine describes pagerConfig for the report.
func pagerMachineLine() string {
	c := pagerConfig(0)
	return fmt.Sprintf("qemu-system-x86_64 -accel %s -smp %d -m %s %s", c.Accel, c.CPUs, c.Memory, strings.Join(c.Extra, " "))
}

// zraminitArgs are cmd/zraminit's arguments: zram0 as large as hurdvm's
// store, LZ4, MGLRU on, then vmbench -pager.
func zraminitArgs() []string {
	return []string{"-size", pagerStore, "-comp", "lz4", "-mglru", "/vmbench", "-pager", strconv.Itoa(pagerMem)}
}

// bootLinuxPager boots Linux with cmd/zraminit as /init, vmbench and the
// modules beside it.
func bootLinuxPager(kernel, zraminit, program string, timeout time.Duration, console *progress) ([]byte, error) {
	mods, err := qemu.LinuxModules(kernel, "zram", "lz4")
	if err != nil {
		return nil, err
	}
	p := linuxBoot(kernel, zraminit)
	p.Params = append(append([]string(nil), p.Params...), pagerLinuxParams...)
	p.Files = append(mods, qemu.InitramfsFile{Path: "vmbench", Host: program, Mode: 0o755})
	p.Args = zraminitArgs()
	c := pagerConfig(timeout)
	c.Console = console
	res, err := qemu.RunLinux(context.Background(), c, p)
	if i := bytes.Index(res.Output, []byte("zraminit: FAILED")); i >= 0 {
		line, _, _ := bytes.Cut(res.Output[i:], []byte("\n"))
		return res.Output, fmt.Errorf("%s", bytes.TrimSpace(line))
	}
	if err == nil && !res.PoweredOff {
		err = fmt.Errorf("vmbench exited with status %d instead of powering the machine off", res.Status)
	}
	return res.Output, err
}

// bootHurdvmPager boots the hurdvm image with vmbench -pager.
func bootHurdvmPager(image string, timeout time.Duration, console *progress) ([]byte, error) {
	c := pagerConfig(timeout)
	c.Image, c.Console = image, console
	c.Cmdline = fmt.Sprintf("%s hurdvm.store=%s -pager %d", goDebug, pagerStore, pagerMem)
	res, err := qemu.Run(context.Background(), c)
	if err == nil && res.Status != 0 {
		err = fmt.Errorf("exit status %d", res.Status)
	}
	return res.Output, err
}

// A pager row: the op vmbench prints, Linux's through mmap ("syscall"),
// hurdvm's in a task ("kernel").
type pagerRow struct {
	op, label, unit string
	target          float64 // the most hurdvm may have, as a ratio to Linux (0: none)
	targetText      string
	short           string // the chart's label (rows with a target)
}

// skewed says whether a pager figure is one of the skewed workload's,
// whose Linux figures move by a few percent between boots (MGLRU's aging
// and kswapd do not land at the same moments of the program twice, even
// under -icount and without KASLR: 2.4 to 5.8 % over 3 boots in the runs
// of 2026-12-01): they get Report.PagerSkewSpread.
func skewed(name string) bool { return strings.Contains(name, "pager_skew") }

var pagerRows = []pagerRow{
	{"pager_major_fault", "major fault: bringing an evicted page back", "ns/page", 0.5, "≤ 0.5", "pager: major fault, per page"},
	{"pager_evict", "eviction, per page evicted", "ns/page", 0.5, "≤ 0.5", "pager: eviction, per page"},
	{"pager_seq_time", "sequential: 2× memory written, then read back: time", "ms", 0, "", ""},
	{"pager_seq_major", "sequential: major faults", "faults", 0, "", ""},
	{"pager_seq_evict", "sequential: pages evicted", "pages", 0, "", ""},
	{"pager_skew_major", "skewed (80 % of reads in 20 % of 1.5× memory): major faults", "faults", 1, "≤ 1 (Linux with MGLRU)", "pager: skewed, major faults (same machine)"},
	{"pager_skew_evict", "skewed: pages evicted", "pages", 0, "", ""},
	{"pager_skew_time", "skewed: time of the reads", "ms", 0, "", ""},
	{"pager_skew_eq_major", "skewed, 5/8 of the machine free on both (the rest pinned): major faults", "faults", 1, "≤ 1 (Linux with MGLRU)", "pager: skewed, major faults (same free memory)"},
	{"pager_skew_eq_evict", "skewed, 5/8 free: pages evicted", "pages", 0, "", ""},
	{"pager_skew_eq_time", "skewed, 5/8 free: time of the reads", "ms", 0, "", ""},
}

// The pager table: its columns and ops.
var pagerTable = pairTable{
	linux:  column{"Linux", "linux-pager", "syscall"},
	hurdvm: column{"hurdvm", "hurdvm-pager", "kernel"},
	ops: func() (ops []string) {
		for _, r := range pagerRows {
			ops = append(ops, r.op)
		}
		return ops
	}(),
}

// pagerMarkdown is the pager's table, what each kernel had, and the spread.
func (rep *Report) pagerMarkdown() string {
	if len(rep.LinuxPager) == 0 && len(rep.HurdvmPager) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## The pager: Linux with zram swap against hurdvm's compressed store (%s)\n\n", rep.Date)
	fmt.Fprintf(&b, "`%s`, both kernels; the program uses more memory than the machine has (cmd/vmbench, pager.go). "+
		"Linux %s swaps to zram (the zram, zsmalloc, lz4 and lz4_compress modules of its own package, loaded in the initramfs by cmd/zraminit with u-root's pkg/kmodule; "+
		"`zraminit %s`: zram0 of %s, LZ4, swapon, MGLRU on: `/sys/kernel/mm/lru_gen/enabled`); "+
		"hurdvm evicts task pages to its LZ4 store (`hurdvm.store=%s`), its memory `mm.VMAllocate`'s in a task. "+
		"Pages hold data derived from their address, about 3.4:1 under LZ4. "+
		"Per-page costs are guest instructions (`-icount shift=0`), counts from /proc/vmstat (pswpout, pgmajfault) and `mm.ReadStats` (Evictions, MajorFaults); "+
		"median of %d boots of each kernel.\n\n",
		pagerMachineLine(), strings.TrimPrefix(rep.LinuxOS, "Linux-"), strings.Join(zraminitArgs(), " "), pagerStore, pagerStore, max(len(rep.LinuxPager), len(rep.HurdvmPager)))
	b.WriteString("| figure | unit | Linux (zram, MGLRU) | hurdvm | hurdvm ÷ Linux | target |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | --- |\n")
	for _, r := range pagerRows {
		fmt.Fprintf(&b, "| %s | %s |", r.label, r.unit)
		rep.writeValues(&b, pagerTable, r.op)
		if x, ok := rep.pairRatio(pagerTable, r.op); ok {
			fmt.Fprintf(&b, " %s |", fmtRatio(x, r.target, false))
		} else {
			b.WriteString(" |")
		}
		fmt.Fprintf(&b, " %s |\n", r.targetText)
	}
	b.WriteString("\nHow each is measured (cmd/vmbench/pager.go). **major fault**: a region of ¼ memory, evicted by writing a region of the machine's size after it, " +
		"read one word a page once the large region is deallocated; the pass's instructions less a read of resident pages, over the major faults. " +
		"**eviction**: the large region's writing pass, less the same pass without eviction (first touch and writing, on a region that fits), over the pages evicted; " +
		"it carries all the kernel does to evict (choosing victims, Linux's kswapd and direct reclaim, unmapping and the TLB, compressing, the store). " +
		"**sequential**: a region of 2× memory written page by page, then read back and checked. " +
		"**skewed**: a region of 1.5× memory written, then read one word at a time at pseudo-random pages, 80 % of the reads among every fifth page; " +
		"after half as many reads as pages, the figures of as many reads as pages. " +
		"**5/8 of the machine free**: the same, after the program pinned memory (Linux: mlock; hurdvm: the kernel task's heap) until 5/8 of the machine was free on each kernel, " +
		"so that both have the same room and the figure compares the replacement policies and the stores' footprints, not the kernels' own sizes.\n\n")
	for _, k := range []struct {
		name string
		runs []Run
	}{{"Linux", rep.LinuxPager}, {"hurdvm", rep.HurdvmPager}} {
		if len(k.runs) == 0 || len(k.runs[0].Values) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s, first boot:  \n", k.name)
		for _, l := range k.runs[0].Info {
			fmt.Fprintf(&b, "`%s`  \n", l)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Spread between the boots of each kernel, (max − min) ÷ median, limit %.1f %%, %.1f %% for the skewed workload's "+
		"(Linux's reclaim does not repeat exactly from boot to boot under -icount: its skewed figures move by a few percent; the table has the medians):\n\n", rep.PagerSpread, rep.PagerSkewSpread)
	rep.writeSpread(&b, pagerTable, "figure")
	return b.String()
}
