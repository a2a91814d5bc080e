// The process table: vmbench's Linux build, one static program, run with
// -proc on Linux (as /init, as in the main table) and on hurdvm as a
// process in ring 3 (cmd/procinit starting it from hurdvm's archive, as
// `qemuexec -process` does), on the main table's machine. Both kernels
// serve the same system calls from the same user code: mmap, munmap,
// mprotect, the faults, fork and wait4 (cmd/vmbench/proc.go).

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hurdvm/qemu"
)

// procArg is vmbench's argument for the process table.
const procArg = "-proc"

// bootLinuxProc boots Linux with vmbench -proc as /init.
func bootLinuxProc(kernel, program string, timeout time.Duration, console *progress) ([]byte, error) {
	c := machineConfig(timeout)
	c.Console = console
	p := linuxBoot(kernel, program)
	p.Args = []string{procArg}
	res, err := qemu.RunLinux(context.Background(), c, p)
	if err == nil && !res.PoweredOff {
		err = fmt.Errorf("vmbench exited with status %d instead of powering the machine off", res.Status)
	}
	return res.Output, err
}

// procBoot is what hurdvm boots for the process table: cmd/procinit's
// image, and the archive that carries vmbench's Linux build at its own
// path.
type procBoot struct {
	image, archive, program string
}

// buildProcBoot builds cmd/procinit's image in dir and packs program
// (absolute) alone into an archive there, as qemuexec -process does with
// its -dir (qemu.PackDir, the program among Extra).
func buildProcBoot(root, dir, program string) (procBoot, error) {
	b := procBoot{program: program}
	elf := filepath.Join(dir, "procinit.elf")
	if err := goBuildKernel(root, elf, "./cmd/procinit"); err != nil {
		return b, err
	}
	b.image = filepath.Join(dir, "procinit.img")
	if err := qemu.BuildImage(root, elf, b.image); err != nil {
		return b, err
	}
	empty := filepath.Join(dir, "procroot")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		return b, err
	}
	b.archive = filepath.Join(dir, "procroot.cpio")
	f, err := os.Create(b.archive)
	if err != nil {
		return b, err
	}
	_, err = qemu.PackDir(f, empty, qemu.PackOptions{Extra: []string{program}})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return b, err
}

// bootHurdvmProc boots procinit, which runs vmbench -proc as a process
// and ends with its exit status.
func bootHurdvmProc(b procBoot, timeout time.Duration, console *progress) ([]byte, error) {
	c := machineConfig(timeout)
	c.Image, c.Initrd, c.Console = b.image, b.archive, console
	c.Cmdline = strings.Join([]string{b.program, procArg, goDebug}, " ")
	res, err := qemu.Run(context.Background(), c)
	if err == nil && res.Status != 0 {
		err = fmt.Errorf("exit status %d", res.Status)
	}
	return res.Output, err
}

// A row of the process table: the op vmbench -proc prints as proc/<op>.
type procRow struct {
	op, label, unit string
}

var procRows = []procRow{
	{"alloc_free_1p", "mmap + munmap, 1 page (no touch)", "ns/pair"},
	{"alloc_free_16p", "mmap + munmap, 16 pages (no touch)", "ns/pair"},
	{"first_touch", "first-touch fault, per page (fresh 64 MiB)", "ns/page"},
	{"demand_64m", "mmap 64 MiB, touch every page", "µs"},
	{"free_64m", "munmap 64 MiB touched", "µs"},
	{"protect_ro_64m", "mprotect 64 MiB touched to read-only", "µs"},
	{"protect_rw_64m", "mprotect it back to read-write", "µs"},
	{"fork_64m", "fork, 64 MiB touched: until it returns in the parent", "µs"},
	{"fork_wait_64m", "fork + wait4, 64 MiB touched, the child exits at once", "µs"},
	{"cow_fault", "copy-on-write fault, per page (a child writing the 64 MiB, less the above)", "ns/page"},
}

// The process table: its columns and ops.
var procTable = pairTable{
	linux:  column{"Linux", "linux-proc", "proc"},
	hurdvm: column{"hurdvm process", "hurdvm-proc", "proc"},
	ops: func() (ops []string) {
		for _, r := range procRows {
			ops = append(ops, r.op)
		}
		return ops
	}(),
}

// procMarkdown is the process table and its spread ("" when it was not
// booted).
func (rep *Report) procMarkdown() string {
	if len(rep.LinuxProc) == 0 && len(rep.HurdvmProc) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Through a process: the same program on both kernels (%s)\n\n", rep.Date)
	fmt.Fprintf(&b, "`%s`; vmbench's Linux build (static, linked at 0x400000), one binary, run with `%s`: "+
		"on Linux %s as /init, on hurdvm as a process in ring 3 (cmd/procinit, as `qemuexec -process`). "+
		"The program's own clock (clock_gettime: Linux's vDSO, a system call on hurdvm), so guest instructions under `-icount shift=0`; "+
		"median of %d boots of each kernel, each figure in a boot the median of its samples.\n\n",
		machineLine(), procArg, strings.TrimPrefix(rep.LinuxOS, "Linux-"), max(len(rep.LinuxProc), len(rep.HurdvmProc)))
	b.WriteString("| operation | unit | Linux | hurdvm process | hurdvm ÷ Linux |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: |\n")
	for _, r := range procRows {
		fmt.Fprintf(&b, "| %s | %s |", r.label, r.unit)
		rep.writeValues(&b, procTable, r.op)
		if x, ok := rep.pairRatio(procTable, r.op); ok {
			fmt.Fprintf(&b, " %s |\n", fmtRatio(x, 0, false))
		} else {
			b.WriteString(" |\n")
		}
	}
	fmt.Fprintf(&b, "\nSpread between the boots of each kernel, (max − min) ÷ median, limit %.1f %%:\n\n", rep.Spread)
	rep.writeSpread(&b, procTable, "operation")
	return b.String()
}
