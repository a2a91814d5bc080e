// Command zraminit is the /init of the Linux machine in make bench's
// pager rows (cmd/benchreport, pager.go): it makes the machine a Linux
// with zram swap, as Fedora's zram-generator does, then runs the program
// it is given in its place (execve: the program is process 1 then, and
// powers the machine off itself, as cmd/vmbench does).
//
//	zraminit [-size 1G] [-comp lz4] [-mglru] /PROGRAM [ARG...]
//
// (Words before the first flag or absolute path are skipped: Linux passes
// init the kernel parameters it did not take, nokaslr for one.)
//
// Step by step:
//
//  1. mounts proc, sysfs and devtmpfs (for /dev/zram0);
//  2. loads the zram and lz4 modules and what they need (zsmalloc,
//     lz4_compress) with u-root's pkg/kmodule, which reads
//     /lib/modules/$(uname -r)/modules.dep as modprobe does: the
//     initramfs carries the modules of the kernel's own package
//     (benchreport packs them from the host's /lib/modules);
//  3. sets zram0's compressor and size (/sys/block/zram0/comp_algorithm,
//     disksize), writes a swap signature on it (mkswap's page: version
//     1, the last page, "SWAPSPACE2") and swapon(2)s it;
//  4. with -mglru, turns the multi-generational LRU on
//     (/sys/kernel/mm/lru_gen/enabled; Debian's 6.1 builds it, off);
//  5. prints what it set up (INFO lines the report keeps) and execs.
//
// Any failure prints the reason and powers the machine off with a
// "zraminit: FAILED" line, which benchreport turns into an error.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/u-root/u-root/pkg/kmodule"
	"golang.org/x/sys/unix"
)

func main() {
	size := flag.String("size", "1G", "zram0's disksize: the swap's uncompressed capacity (K, M, G suffixes)")
	comp := flag.String("comp", "lz4", "zram0's compressor")
	mglru := flag.Bool("mglru", false, "turn the multi-generational LRU on")
	// Linux hands init the command-line words it does not know itself
	// before the ones after "--": parameters of the boot stage such as
	// nokaslr arrive first. Neither a flag nor the program's absolute
	// path: skip them.
	args := os.Args[1:]
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") && !strings.HasPrefix(args[0], "/") {
		fmt.Printf("zraminit: a kernel parameter, not mine: %s\n", args[0])
		args = args[1:]
	}
	flag.CommandLine.Parse(args)
	if flag.NArg() < 1 {
		fail("usage: zraminit [-size 1G] [-comp lz4] [-mglru] /PROGRAM [ARG...]")
	}
	bytesize, err := parseSize(*size)
	if err != nil {
		fail("-size: %v", err)
	}
	for _, m := range []struct{ src, dir, fs string }{{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"}} {
		os.MkdirAll(m.dir, 0o755)
		if err := unix.Mount(m.src, m.dir, m.fs, 0, ""); err != nil && err != unix.EBUSY {
			fail("mount %s on %s: %v", m.fs, m.dir, err)
		}
	}
	for _, mod := range []string{"zram", "lz4"} {
		if err := kmodule.Probe(mod, ""); err != nil {
			fail("loading %s: %v", mod, err)
		}
	}
	write("/sys/block/zram0/comp_algorithm", *comp)
	write("/sys/block/zram0/disksize", strconv.FormatUint(bytesize, 10))
	if err := mkswap("/dev/zram0", bytesize); err != nil {
		fail("mkswap /dev/zram0: %v", err)
	}
	if err := swapon("/dev/zram0"); err != nil {
		fail("swapon /dev/zram0: %v", err)
	}
	if *mglru {
		write("/sys/kernel/mm/lru_gen/enabled", "y")
	}
	mods, _ := os.ReadFile("/proc/modules")
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(mods)), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	fmt.Printf("INFO zram: modules %s; zram0 %s, %s; swaps: %s; lru_gen %s; %s\n",
		strings.Join(names, " "), read("/sys/block/zram0/comp_algorithm"), *size,
		strings.Join(strings.Fields(lastLine(read("/proc/swaps"))), " "),
		read("/sys/kernel/mm/lru_gen/enabled"), meminfo())
	prog := flag.Arg(0)
	err = syscall.Exec(prog, flag.Args(), os.Environ())
	fail("exec %s: %v", prog, err)
}

// mkswap writes the first page of a Linux swap area (version 1, as
// util-linux's mkswap: include/linux/swap.h's union swap_header) on dev,
// which holds size bytes.
func mkswap(dev string, size uint64) error {
	const page = 4096
	pages := size / page
	if pages < 10 {
		return fmt.Errorf("%d bytes is too small for swap", size)
	}
	var hdr [page]byte
	// After 1024 bytes of boot bits: version, last_page, nr_badpages,
	// then the uuid and label, which swapon does not need.
	binary.LittleEndian.PutUint32(hdr[1024:], 1)
	binary.LittleEndian.PutUint32(hdr[1028:], uint32(pages-1))
	binary.LittleEndian.PutUint32(hdr[1032:], 0)
	copy(hdr[page-10:], "SWAPSPACE2")
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(hdr[:], 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// swapon is swapon(2) with no flags (golang.org/x/sys/unix has no
// wrapper).
func swapon(path string) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	if _, _, e := unix.Syscall(unix.SYS_SWAPON, uintptr(unsafe.Pointer(p)), 0, 0); e != 0 {
		return e
	}
	return nil
}

// parseSize reads a byte count with an optional K, M or G suffix (powers
// of 1024).
func parseSize(s string) (uint64, error) {
	mul := uint64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mul, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mul, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mul, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	return n * mul, nil
}

func write(path, value string) {
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		fail("writing %q to %s: %v", value, path, err)
	}
}

func read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return strings.TrimSpace(string(b))
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// meminfo is MemTotal and MemAvailable, the memory the program starts
// with.
func meminfo() string {
	b, _ := os.ReadFile("/proc/meminfo")
	var out []string
	for _, l := range bytes.Split(b, []byte("\n")) {
		f := strings.Fields(string(l))
		if len(f) >= 2 && (f[0] == "MemTotal:" || f[0] == "MemAvailable:" || f[0] == "MemFree:") {
			out = append(out, f[0]+f[1]+"kB")
		}
	}
	return strings.Join(out, " ")
}

// fail reports why and powers the machine off (init may not exit).
func fail(format string, args ...any) {
	fmt.Printf("zraminit: FAILED: "+format+"\n", args...)
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
