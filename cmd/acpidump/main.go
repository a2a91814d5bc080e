// Command acpidump captures QEMU's ACPI tables into kernel/acpi's testdata:
// it boots Debian's own Linux kernel in QEMU (TCG) once per machine
// configuration, with an initramfs whose /init (cmd/acpidump/guest) prints
// Linux's kernel log, /sys/firmware/acpi/tables and the EFI system table on
// the serial console. Then, through QEMU's QMP (pmemsave), it reads every
// table at the address Linux's log gives (the RSDP, RSDT and XSDT
// included, which sysfs does not show), the RSDPs the EFI system table
// names with their root tables, and the first MiB of memory (the BIOS data
// area, the EBDA and the 0xE0000-0xFFFFF area the RSDP scan searches); it
// checks each table's bytes against sysfs's before writing them.
//
//	go run ./cmd/acpidump [-o kernel/acpi/testdata/qemu] [-only seabios-smp4,...] [-linux /boot/vmlinuz-...]
//
// Each configuration becomes a directory under -o holding manifest.txt
// (what was booted and where each piece was in guest physical memory),
// rsdp.bin (and rsdp-acpi1.bin, OVMF's ACPI 1.0 copy), bda.bin, ebda.bin,
// bios.bin.gz, one NAME.bin per table (the names of
// /sys/firmware/acpi/tables, plus RSDT and XSDT; a second table of a name
// gets its address added) and linux.txt (Linux's own lines about ACPI and
// the CPUs, which the tests compare with). -list lists the configurations.
//
// Why QEMU (QMP pmemsave) reads the memory, not /dev/mem in the
// guest: with Debian's CONFIG_STRICT_DEVMEM and CONFIG_IO_STRICT_DEVMEM,
// /dev/mem refuses (EFAULT) the reserved range below the top of RAM where
// SeaBIOS puts its tables, and shows a page of the first MiB that holds any
// RAM as zeros (under SeaBIOS the EBDA's page, 0x9f000, is RAM up to
// 0x9fc00). The guest still reads the BDA, the EBDA and 0xE0000-0xFFFFF
// through /dev/mem, and the tool says where that differs from QEMU's reading.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/u-root/u-root/pkg/cpio"

	"hurdvm/qemu"
)

// A configuration is one QEMU machine whose tables are captured.
type configuration struct {
	name  string
	about string
	args  []string // QEMU options that make this machine
	// cmdline is added to Linux's command line.
	cmdline string
	// x2apic boots QEMU 10 (qemu.X2APICQEMU, make qemu-x2apic-deps):
	// QEMU 7.2's TCG has no x2APIC.
	x2apic bool
}

var configurations = []configuration{
	{"seabios-smp1", "SeaBIOS, i440fx, 1 CPU", []string{"-smp", "1"}, "", false},
	{"seabios-smp4", "SeaBIOS, i440fx, 4 CPUs", []string{"-smp", "4"}, "", false},
	{"seabios-smp8", "SeaBIOS, i440fx, 8 CPUs", []string{"-smp", "8"}, "", false},
	{"seabios-smp4-maxcpus8", "SeaBIOS, i440fx, 4 CPUs present of 8 possible (hotplug)", []string{"-smp", "4,maxcpus=8"}, "", false},
	{"seabios-q35-smp4", "SeaBIOS, q35, 4 CPUs", []string{"-machine", "q35", "-smp", "4"}, "", false},
	{"seabios-cpumax-smp4", "SeaBIOS, i440fx, -cpu max, 4 CPUs", []string{"-cpu", "max", "-smp", "4"}, "", false},
	{"ovmf-smp4", "OVMF (UEFI), i440fx, 4 CPUs", []string{"-bios", "/usr/share/ovmf/OVMF.fd", "-smp", "4"}, "", false},
	// x2APIC entries: APIC IDs from 255 up, which QEMU 7.2 gives only
	// with KVM's irqchip (under TCG it refuses: "current -smp
	// configuration requires kernel irqchip and X2APIC API support"; this
	// machine's nested KVM does not get Linux past its decompressor).
	// QEMU 10's TCG has x2APIC: qemu/x2apic_test.go's machine, APIC IDs
	// 0, 1, 256 and 389 of 512 possible.
	{"seabios-q35-x2apic", "SeaBIOS, q35, QEMU 10, x2APIC, 4 CPUs with APIC IDs 0, 1, 256, 389 of 512 possible",
		[]string{"-nodefaults", "-machine", "q35", "-cpu", "qemu64,+x2apic", "-smp", "2,maxcpus=512,sockets=4,cores=128",
			"-device", "qemu64-x86_64-cpu,socket-id=2,core-id=0,thread-id=0",
			"-device", "qemu64-x86_64-cpu,socket-id=3,core-id=5,thread-id=0"}, "", true},
}

// The markers of cmd/acpidump/guest.
const (
	beginRecord = "acpidump: begin "
	endRecord   = "acpidump: end"
	endAll      = "acpidump: done"
	failure     = "acpidump: error: "
)

const linuxCmdline = "console=ttyS0 quiet panic=-1"

func main() {
	out := flag.String("o", "kernel/acpi/testdata/qemu", "directory of the captured configurations (relative to the repository)")
	only := flag.String("only", "", "capture only these configurations (comma-separated names)")
	linux := flag.String("linux", "", "Linux kernel image (default: the newest /boot/vmlinuz-*)")
	work := flag.String("work", "build/acpidump", "scratch directory: initramfs, consoles, memory dumps (relative to the repository)")
	timeout := flag.Duration("timeout", 5*time.Minute, "limit for one boot")
	list := flag.Bool("list", false, "list the configurations and exit")
	flag.Parse()

	if *list {
		for _, c := range configurations {
			fmt.Printf("%-24s %s: qemu-system-x86_64 %s\n", c.name, c.about, strings.Join(c.args, " "))
		}
		return
	}
	root, err := qemu.RepoRoot(".")
	if err != nil {
		fatal(err)
	}
	if *linux == "" {
		if *linux, err = newestLinux(); err != nil {
			fatal(err)
		}
	}
	workDir := inRepo(root, *work)
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		fatal(err)
	}
	initrd, err := buildInitramfs(root, workDir)
	if err != nil {
		fatal(err)
	}
	chosen := configurations
	if *only != "" {
		chosen = nil
		for _, name := range strings.Split(*only, ",") {
			i := slices.IndexFunc(configurations, func(c configuration) bool { return c.name == name })
			if i < 0 {
				fatal(fmt.Errorf("no configuration %q (-list lists them)", name))
			}
			chosen = append(chosen, configurations[i])
		}
	}
	failed := false
	for _, c := range chosen {
		start := time.Now()
		if err := capture(c, *linux, initrd, workDir, filepath.Join(inRepo(root, *out), c.name), *timeout); err != nil {
			logf("%s: %v", c.name, err)
			failed = true
			continue
		}
		logf("%s: captured in %.1fs", c.name, time.Since(start).Seconds())
	}
	if failed {
		os.Exit(1)
	}
}

// capture boots one configuration and writes its directory.
func capture(c configuration, linux, initrd, workDir, dir string, timeout time.Duration) error {
	b, err := boot(c, linux, initrd, workDir, timeout)
	os.WriteFile(filepath.Join(workDir, c.name+".console"), b.console, 0o644)
	if err != nil {
		return err
	}
	return writeConfiguration(c, b, linux, dir)
}

// A booted configuration: what the guest printed and what QEMU read (QMP).
type booted struct {
	console     []byte
	args        []string          // QEMU's options that made the machine
	records     map[string][]byte // the guest's records by name
	tables      []tableLocation   // from the kernel log, with the bytes at each
	lowmem      []byte            // the first MiB
	qemuVersion string
}

// A tableLocation is a table the kernel log names, and its bytes as the
// QMP read them at that address.
type tableLocation struct {
	sig   string
	addr  uint64
	bytes []byte
	file  string // the testdata file name, once chosen
}

// boot runs QEMU until the guest prints its end marker, then reads the
// first MiB of guest memory and every table the kernel log names through
// QMP, and quits.
func boot(c configuration, linux, initrd, workDir string, timeout time.Duration) (b booted, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	sock := filepath.Join(workDir, c.name+".qmp")
	os.Remove(sock)
	defer os.Remove(sock)
	b.args = append([]string{"-m", "512M"}, c.args...)
	if !slices.Contains(c.args, "-accel") {
		b.args = append([]string{"-accel", "tcg"}, b.args...)
	}
	cmdline := linuxCmdline
	if c.cmdline != "" {
		cmdline += " " + c.cmdline
	}
	full := append(append([]string{}, b.args...),
		"-display", "none", "-serial", "stdio", "-no-reboot", "-net", "none",
		"-qmp", "unix:"+sock+",server=on,wait=off",
		"-kernel", linux, "-initrd", initrd, "-append", cmdline)
	binary := "qemu-system-x86_64"
	if c.x2apic {
		root, err := qemu.RepoRoot(".")
		if err != nil {
			return b, err
		}
		var args []string
		if binary, args, err = qemu.X2APICQEMU(root); err != nil {
			return b, err
		}
		full = append(args, full...)
	}
	cmd := exec.CommandContext(ctx, binary, full...)
	cmd.WaitDelay = 2 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return b, err
	}
	if err := cmd.Start(); err != nil {
		return b, err
	}
	var out bytes.Buffer
	done := false
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		out.WriteString(line + "\n")
		if line == endAll {
			done = true
			break
		}
	}
	b.console = out.Bytes()
	if done {
		err = b.readMemory(sock, workDir, c.name)
	} else {
		err = errors.New("the guest ended without its end marker")
	}
	if err != nil {
		cmd.Process.Kill()
	}
	werr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return b, fmt.Errorf("timed out after %v", timeout)
	case err != nil:
		return b, fmt.Errorf("%w %s", err, strings.TrimSpace(stderr.String()))
	case werr != nil:
		return b, fmt.Errorf("qemu: %w: %s", werr, strings.TrimSpace(stderr.String()))
	}
	return b, nil
}

// readMemory decodes the guest's records and reads, through QMP, the first
// MiB, each table at the address the kernel log gives, the RSDPs the EFI
// system table names and any root table an RSDP names that the log does
// not (OVMF's ACPI 1.0 RSDP and its RSDT); then it quits QEMU.
func (b *booted) readMemory(sock, workDir, name string) error {
	q, err := dialQMP(sock, filepath.Join(workDir, name+".pmem"))
	if err != nil {
		return err
	}
	defer q.quit()
	b.qemuVersion = q.version
	if b.records, err = parseRecords(b.console); err != nil {
		return err
	}
	if b.lowmem, err = q.read(0, 1<<20); err != nil {
		return err
	}
	add := func(sig string, addr, n uint64) error {
		if n == 0 || slices.ContainsFunc(b.tables, func(t tableLocation) bool { return t.addr == addr }) {
			return nil
		}
		mem, err := q.read(addr, n)
		if err != nil {
			return err
		}
		b.tables = append(b.tables, tableLocation{sig: sig, addr: addr, bytes: mem})
		return nil
	}
	for _, m := range tableLine.FindAllStringSubmatch(string(b.records["log"]), -1) {
		addr, _ := strconv.ParseUint(m[2], 16, 64)
		n, _ := strconv.ParseUint(m[3], 16, 32)
		if err := add(m[1], addr, n); err != nil {
			return err
		}
	}
	if len(b.tables) == 0 {
		return errors.New("no table lines in the kernel log")
	}
	// The EFI system table's RSDPs: ACPI20= (revision 2, the one Linux
	// uses) and ACPI= (an ACPI 1.0 copy, 20 bytes).
	for _, m := range systabRSDP.FindAllStringSubmatch(string(b.records["systab"]), -1) {
		addr, _ := strconv.ParseUint(m[2], 0, 64)
		n := uint64(36)
		if m[1] == "ACPI" {
			n = 20
		}
		if err := add("RSDP", addr, n); err != nil {
			return err
		}
	}
	// Root tables the RSDPs name that Linux did not list: the header
	// first, for the length.
	for i := 0; i < len(b.tables); i++ {
		t := b.tables[i]
		if t.sig != "RSDP" && t.sig != "RSD " || len(t.bytes) < 20 {
			continue
		}
		roots := []uint64{uint64(binary.LittleEndian.Uint32(t.bytes[16:]))}
		if t.bytes[15] >= 2 && len(t.bytes) >= 32 {
			roots = append(roots, binary.LittleEndian.Uint64(t.bytes[24:]))
		}
		for _, pa := range roots {
			if pa == 0 || slices.ContainsFunc(b.tables, func(t tableLocation) bool { return t.addr == pa }) {
				continue
			}
			h, err := q.read(pa, 36)
			if err != nil {
				return err
			}
			sig := string(h[:4])
			if sig != "RSDT" && sig != "XSDT" {
				logf("%s: the RSDP at %#x names a root table at %#x whose signature is %q", name, t.addr, pa, sig)
				continue
			}
			if err := add(sig, pa, uint64(binary.LittleEndian.Uint32(h[4:]))); err != nil {
				return err
			}
		}
	}
	return nil
}

// systabRSDP matches the RSDP lines of /sys/firmware/efi/systab.
var systabRSDP = regexp.MustCompile(`(?m)^(ACPI20|ACPI)=(0x[0-9a-f]+)$`)

// A qmpSession talks to QEMU's machine protocol (QMP) on a unix socket.
type qmpSession struct {
	conn    net.Conn
	dec     *json.Decoder
	enc     *json.Encoder
	file    string // where pmemsave writes
	version string // QEMU's, from its greeting
}

func dialQMP(sock, file string) (*qmpSession, error) {
	var conn net.Conn
	var err error
	for try := 0; try < 50; try++ {
		if conn, err = net.Dial("unix", sock); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("qmp: %w", err)
	}
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	q := &qmpSession{conn: conn, dec: json.NewDecoder(conn), enc: json.NewEncoder(conn), file: file}
	var greeting struct {
		QMP struct {
			Version struct {
				QEMU    struct{ Major, Minor, Micro int }
				Package string
			}
		}
	}
	if err := q.dec.Decode(&greeting); err != nil {
		conn.Close()
		return nil, fmt.Errorf("qmp greeting: %w", err)
	}
	v := greeting.QMP.Version
	q.version = strings.TrimSpace(fmt.Sprintf("%d.%d.%d %s", v.QEMU.Major, v.QEMU.Minor, v.QEMU.Micro, v.Package))
	if err := q.run("qmp_capabilities", nil); err != nil {
		conn.Close()
		return nil, err
	}
	return q, nil
}

// run executes one command and waits for its answer (events that come
// first are passed over), so a pmemsave has written its file on return.
func (q *qmpSession) run(command string, args map[string]any) error {
	c := struct {
		Execute   string         `json:"execute"`
		Arguments map[string]any `json:"arguments,omitempty"`
	}{command, args}
	if err := q.enc.Encode(c); err != nil {
		return fmt.Errorf("qmp %s: %w", command, err)
	}
	for {
		var answer struct {
			Return json.RawMessage `json:"return"`
			Error  *struct {
				Desc string `json:"desc"`
			} `json:"error"`
		}
		if err := q.dec.Decode(&answer); err != nil {
			return fmt.Errorf("qmp %s: %w", command, err)
		}
		if answer.Error != nil {
			return fmt.Errorf("qmp %s: %s", command, answer.Error.Desc)
		}
		if answer.Return != nil {
			return nil
		}
	}
}

// read returns n bytes of guest physical memory at pa.
func (q *qmpSession) read(pa, n uint64) ([]byte, error) {
	os.Remove(q.file)
	if err := q.run("pmemsave", map[string]any{"val": pa, "size": n, "filename": q.file}); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(q.file)
	os.Remove(q.file)
	if err == nil && uint64(len(b)) != n {
		err = fmt.Errorf("pmemsave at %#x gave %d bytes, not %d", pa, len(b), n)
	}
	return b, err
}

// quit ends QEMU (which may close the socket before it answers).
func (q *qmpSession) quit() {
	q.run("quit", nil)
	q.conn.Close()
}

// parseRecords decodes the guest's records (name to bytes), in order.
func parseRecords(console []byte) (map[string][]byte, error) {
	recs := map[string][]byte{}
	var name string
	var want int
	var b64 strings.Builder
	in := false
	for _, line := range strings.Split(string(console), "\n") {
		// OVMF leaves terminal escapes at the start of the first line.
		if i := strings.Index(line, "acpidump: "); i > 0 {
			line = line[i:]
		}
		switch {
		case strings.HasPrefix(line, failure):
			return nil, errors.New("guest: " + strings.TrimPrefix(line, failure))
		case strings.HasPrefix(line, beginRecord):
			f := strings.Fields(strings.TrimPrefix(line, beginRecord))
			if len(f) != 2 {
				return nil, fmt.Errorf("bad record line %q", line)
			}
			name = f[0]
			want, _ = strconv.Atoi(f[1])
			b64.Reset()
			in = true
		case in && line == endRecord:
			b, err := base64.StdEncoding.DecodeString(b64.String())
			if err != nil {
				return nil, fmt.Errorf("record %s: %w", name, err)
			}
			if len(b) != want {
				return nil, fmt.Errorf("record %s: %d bytes, the guest said %d", name, len(b), want)
			}
			recs[name] = b
			in = false
		case in:
			b64.WriteString(line)
		}
	}
	if in {
		return nil, fmt.Errorf("record %s has no end", name)
	}
	if recs["log"] == nil {
		return nil, errors.New("no kernel log from the guest")
	}
	return recs, nil
}

// tableLine is Linux's line for each table it found, e.g.
// "ACPI: XSDT 0x000000007FFE1A2D 00003C (v01 BOCHS  BXPC ...)".
var tableLine = regexp.MustCompile(`ACPI: ([A-Z0-9 _!]{4}) 0x([0-9A-F]{16}) ([0-9A-F]{6})`)

// linuxLines are the log lines kept in linux.txt: what Linux made of the
// tables (table list, MADT entries, CPU counts).
var linuxLines = regexp.MustCompile(`ACPI|APIC|smpboot|CPU|x2apic|efi:`)

func writeConfiguration(c configuration, b booted, linux, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, b []byte) error { return os.WriteFile(filepath.Join(dir, name), b, 0o644) }
	recs, lowmem := b.records, b.lowmem

	var sysfsNames []string
	for n := range recs {
		if s, ok := strings.CutPrefix(n, "sysfs/"); ok {
			sysfsNames = append(sysfsNames, s)
		}
	}
	sort.Strings(sysfsNames)

	// Every table is named as sysfs names it (the bytes must be the same),
	// or by its signature for the RSDP, RSDT and XSDT, which sysfs does
	// not show.
	var rsdpAddr uint64
	used := map[string]bool{}
	for i := range b.tables {
		t := &b.tables[i]
		switch t.sig {
		case "RSD ", "RSDP":
			// The first is the one Linux used; OVMF's EFI system
			// table also names an ACPI 1.0 copy.
			t.sig, t.file = "RSDP", "rsdp.bin"
			if rsdpAddr == 0 {
				rsdpAddr = t.addr
			} else {
				t.sig, t.file = "RSDP1", "rsdp-acpi1.bin"
			}
		case "RSDT", "XSDT":
			t.file = t.sig + ".bin"
		default:
			for _, n := range sysfsNames {
				if !used[n] && strings.HasPrefix(n, t.sig) && bytes.Equal(recs["sysfs/"+n], t.bytes) {
					t.file = n + ".bin"
					used[n] = true
					break
				}
			}
			if t.file == "" && t.sig == "FACS" {
				// The FACS is the firmware's and the OS's shared
				// memory (waking vector, global lock): it may change.
				t.file = "FACS.bin"
				used["FACS"] = true
			}
			if t.file == "" {
				return fmt.Errorf("%s at %#x: the bytes there match no table in /sys/firmware/acpi/tables", t.sig, t.addr)
			}
		}
		if slices.ContainsFunc(b.tables[:i], func(u tableLocation) bool { return u.file == t.file }) {
			// A second table of one name (OVMF's two RSDTs, one for
			// each RSDP): its address tells it apart.
			t.file = fmt.Sprintf("%s-%x.bin", strings.TrimSuffix(t.file, ".bin"), t.addr)
		}
		if err := write(t.file, t.bytes); err != nil {
			return err
		}
	}
	for _, n := range sysfsNames {
		if !used[n] {
			return fmt.Errorf("sysfs table %s is not in the log's table list", n)
		}
	}
	if rsdpAddr == 0 {
		return errors.New("no RSDP line in the kernel log")
	}

	// Low memory, as QEMU read it.
	ebda := uint64(binary.LittleEndian.Uint16(lowmem[0x40e:])) << 4
	if err := write("bda.bin", lowmem[0x400:0x500]); err != nil {
		return err
	}
	if ebda != 0 && ebda+1024 <= 0xa0000 {
		if err := write("ebda.bin", lowmem[ebda:ebda+1024]); err != nil {
			return err
		}
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(lowmem[0xe0000:0x100000])
	zw.Close()
	if err := write("bios.bin.gz", gz.Bytes()); err != nil {
		return err
	}
	for _, cmp := range []struct {
		addr uint64
		n    int
	}{{0x400, 0x100}, {ebda, 1024}, {0xe0000, 0x20000}} {
		if cmp.addr == 0 {
			continue
		}
		dm, ok := recs[fmt.Sprintf("mem/%#x", cmp.addr)]
		if !ok {
			logf("%s: /dev/mem at %#x: %s", c.name, cmp.addr, recs[fmt.Sprintf("mem-error/%#x", cmp.addr)])
		} else if !bytes.Equal(dm, lowmem[cmp.addr:cmp.addr+uint64(cmp.n)]) {
			logf("%s: /dev/mem at %#x+%#x differs from QEMU's reading (%d of its bytes are zero)",
				c.name, cmp.addr, cmp.n, bytes.Count(dm, []byte{0}))
		}
	}

	var ls []string
	for _, l := range strings.Split(string(recs["log"]), "\n") {
		if linuxLines.MatchString(l) {
			ls = append(ls, l)
		}
	}
	if err := write("linux.txt", []byte(strings.Join(ls, "\n")+"\n")); err != nil {
		return err
	}

	var m strings.Builder
	fmt.Fprintf(&m, "# QEMU's ACPI tables, captured by cmd/acpidump (go run ./cmd/acpidump -only %s).\n", c.name)
	fmt.Fprintf(&m, "# Addresses are guest physical addresses.\n")
	fmt.Fprintf(&m, "config %s\n", c.name)
	fmt.Fprintf(&m, "about %s\n", c.about)
	fmt.Fprintf(&m, "qemu %s\n", b.qemuVersion)
	fmt.Fprintf(&m, "args %s\n", strings.Join(b.args, " "))
	fmt.Fprintf(&m, "linux %s\n", filepath.Base(linux))
	if st, ok := recs["systab"]; ok {
		fmt.Fprintf(&m, "systab %s\n", strings.Join(strings.Fields(string(st)), " "))
	}
	fmt.Fprintf(&m, "memory 0x400 bda.bin\n")
	if ebda != 0 && ebda+1024 <= 0xa0000 {
		fmt.Fprintf(&m, "memory %#x ebda.bin\n", ebda)
	}
	fmt.Fprintf(&m, "memory 0xe0000 bios.bin.gz\n")
	for _, t := range b.tables {
		fmt.Fprintf(&m, "table %s %#x %s\n", t.sig, t.addr, t.file)
	}
	return write("manifest.txt", []byte(m.String()))
}

// buildInitramfs builds the guest program and the initramfs around it.
func buildInitramfs(root, workDir string) (string, error) {
	prog := filepath.Join(workDir, "init")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", prog, "./cmd/acpidump/guest")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), qemu.GoBuildEnv...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/acpidump/guest: %w\n%s", err, b)
	}
	b, err := os.ReadFile(prog)
	if err != nil {
		return "", err
	}
	recs := []cpio.Record{
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.CharDev("dev/mem", 0o600, 1, 1),
		cpio.Directory("sys", 0o555),
		cpio.StaticRecord(b, cpio.Info{Name: "init", Mode: cpio.S_IFREG | 0o755}),
	}
	for i := range recs {
		recs[i].Ino = uint64(i + 1)
		recs[i].NLink = 1
	}
	cpio.MakeAllReproducible(recs)
	out := filepath.Join(workDir, "initramfs.cpio")
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	w := cpio.Newc.Writer(f)
	err = cpio.WriteRecords(w, recs)
	if err == nil {
		err = cpio.WriteTrailer(w)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return out, err
}

// newestLinux is the newest /boot/vmlinuz-* (Debian's linux-image-amd64).
func newestLinux() (string, error) {
	ks, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(ks) == 0 {
		return "", errors.New("no /boot/vmlinuz-*: install linux-image-amd64, or give -linux")
	}
	sort.Strings(ks)
	return ks[len(ks)-1], nil
}

func inRepo(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "acpidump: "+format+"\n", args...)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "acpidump:", err)
	os.Exit(1)
}
