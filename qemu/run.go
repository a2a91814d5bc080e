package qemu

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config says how to boot an image.
type Config struct {
	Image   string        // multiboot image (qemu -kernel); "" boots from the disks in Extra (an ISO)
	Initrd  string        // initial ramdisk (qemu -initrd): a Linux kernel's, or hurdvm's archive (a multiboot module)
	Results string        // host file receiving the second serial port (COM2): the files the kernel exports (results.go)
	Cmdline string        // kernel command line: argv[0], flags and NAME=value environment
	Memory  string        // -m, e.g. "512M"
	CPUs    int           // -smp; 0 means 1
	Timeout time.Duration // 0 means no limit
	Accel   string        // -accel; "" means tcg
	QEMU    string        // the qemu-system-x86_64 to run; "" means the one on PATH (X2APICQEMU's, for x2APIC)
	Extra   []string      // more QEMU arguments
	Console io.Writer     // receives the serial console as it arrives (nil: discard)
}

// Result is how a boot ended.
type Result struct {
	Status     int           // the kernel's exit status (from its exit line); under RunLinux, the program's
	PoweredOff bool          // RunLinux: the program turned the machine off itself instead of exiting
	Output     []byte        // the whole console
	Duration   time.Duration // wall time from QEMU's start to its end
	CPUTime    time.Duration // QEMU's user and system time: the work, whatever else the host runs
}

// ErrTimeout is returned when the kernel did not finish within Config.Timeout.
var ErrTimeout = errors.New("timed out")

// cmdlineMax is the longest command line the kernel reads (the buffer
// in kernel/multiboot.go, less its NUL); the rest would be cut off
// silently.
const cmdlineMax = 2047

var exitLine = regexp.MustCompile(`(?m)^hurdvm: exit status (-?\d+)\r?$`)

// Args returns the QEMU command line for c.
func (c Config) Args() []string {
	accel := c.Accel
	if accel == "" {
		accel = "tcg"
	}
	mem := c.Memory
	if mem == "" {
		mem = "512M"
	}
	cpus := c.CPUs
	if cpus == 0 {
		cpus = 1
	}
	args := []string{
		"-accel", accel, "-m", mem, "-smp", strconv.Itoa(cpus),
		"-display", "none", "-serial", "stdio", "-monitor", "none",
		"-no-reboot", "-net", "none",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=4",
	}
	if c.Results != "" {
		// Each -serial is the next port: this second one is COM2 (0x2f8).
		args = append(args, "-serial", "file:"+c.Results)
	}
	if c.Image != "" {
		args = append(args, "-kernel", c.Image)
	}
	if c.Initrd != "" {
		args = append(args, "-initrd", c.Initrd)
	}
	if c.Cmdline != "" {
		args = append(args, "-append", c.Cmdline)
	}
	return append(args, c.Extra...)
}

// Run boots the image and waits for the kernel to exit. The error says why
// a boot did not end with an exit line: QEMU failing, a triple fault
// (QEMU exits without the kernel having said goodbye), or the timeout. It
// quotes the last console lines.
func Run(ctx context.Context, c Config) (Result, error) {
	// QEMU's multiboot loader reads -initrd as modules separated by
	// commas, each a file name and, after a space, its command line.
	if strings.ContainsAny(c.Initrd, ", ") {
		return Result{}, fmt.Errorf("initrd %q: QEMU's multiboot loader cannot take a path with a comma or a space", c.Initrd)
	}
	if c.Image != "" && c.Initrd != "" {
		if err := checkModuleFits(c); err != nil {
			return Result{}, err
		}
	}
	if n := len(c.Image) + 1 + len(c.Cmdline); c.Image != "" && n > cmdlineMax {
		return Result{}, fmt.Errorf("the kernel command line (the image's path, then the arguments and environment) is %d bytes; the kernel reads %d", n, cmdlineMax)
	}
	s, err := launch(ctx, c)
	if err != nil {
		return s.Result, err
	}
	m := exitLine.FindAllSubmatch(s.Output, -1)
	if len(m) == 0 {
		why := "QEMU exited without the kernel's exit line (a triple fault, or QEMU failed)"
		return s.Result, fmt.Errorf("%s: status %d, %v\n%s\nlast console lines:\n%s", why, s.code, s.waitErr, s.stderr, Tail(s.Output, 20))
	}
	status, _ := strconv.Atoi(string(m[len(m)-1][1]))
	s.Status = status
	// isa-debug-exit makes QEMU exit with (status << 1) | 1.
	if want := (status<<1 | 1) & 0xff; s.code != want {
		return s.Result, fmt.Errorf("kernel said exit status %d but QEMU exited with %d, not %d\n%s", status, s.code, want, s.stderr)
	}
	return s.Result, nil
}

// checkModuleFits makes sure c.Initrd fits in the machine's memory where
// QEMU's multiboot loader puts it: after the image's last segment
// (linker.ld's .modules_gap: above the RAM the kernel needs) and a page
// of boot information. QEMU drops what lies past the RAM without a word,
// and the kernel would find no archive.
func checkModuleFits(c Config) error {
	mem, ok := memoryBytes(c.Memory)
	if !ok {
		return nil // a form of -m not worth parsing: QEMU's to judge
	}
	fi, err := os.Stat(c.Initrd)
	if err != nil {
		return err
	}
	end, err := imageEnd(c.Image)
	if err != nil {
		return err
	}
	// Below 4 GiB, QEMU's PC has at most 3.5 GiB of RAM (the rest is for
	// devices): 3 GiB is safe to count on.
	low := min(mem, 3<<30)
	need := end + pageSize + (uint64(fi.Size())+pageSize-1)&^(pageSize-1)
	if need > low {
		return fmt.Errorf("the boot module %s (%s) does not fit: QEMU puts it at %d MiB, after what the kernel needs, "+
			"and the machine has %d MiB: give it at least %d MiB (-m)", c.Initrd, sizeString(fi.Size()), end>>20, mem>>20, (need+1<<20-1)>>20)
	}
	return nil
}

// memoryBytes reads QEMU's -m size: a number of MiB, or one with a K, M,
// G or T suffix; "" is Config's default.
func memoryBytes(m string) (uint64, bool) {
	if m == "" {
		m = "512M"
	}
	shift := 20
	switch m[len(m)-1] {
	case 'K', 'k':
		shift = 10
	case 'M', 'm':
	case 'G', 'g':
		shift = 30
	case 'T', 't':
		shift = 40
	default:
		m += "M"
	}
	n, err := strconv.ParseUint(m[:len(m)-1], 10, 64)
	return n << shift, err == nil
}

// imageEnd is where a multiboot image's last segment ends in memory,
// rounded up to a page: where QEMU's loader starts putting modules.
func imageEnd(image string) (uint64, error) {
	f, err := elf.Open(image)
	if err != nil {
		return 0, fmt.Errorf("multiboot image: %w", err)
	}
	defer f.Close()
	var end uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			end = max(end, p.Paddr+p.Memsz)
		}
	}
	return (end + pageSize - 1) &^ (pageSize - 1), nil
}

// session is one QEMU run as launch saw it end.
type session struct {
	Result
	code    int    // QEMU's exit code, -1 when it was killed
	waitErr error  // how exec saw QEMU end
	stderr  string // what QEMU said
}

// launch runs QEMU with c's command line until it exits, the context ends
// or c.Timeout passes, collecting the console (without carriage returns)
// and streaming it to c.Console. The error is for QEMU not starting and
// for the timeout; how the guest ended is for the caller to read.
func launch(ctx context.Context, c Config) (session, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	binary := c.QEMU
	if binary == "" {
		binary = "qemu-system-x86_64"
	}
	cmd := exec.CommandContext(ctx, binary, c.Args()...)
	cmd.WaitDelay = 2 * time.Second
	var out bytes.Buffer
	var stderr bytes.Buffer
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = &stderr
	cmd.Stdin = nil
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return session{}, fmt.Errorf("starting %s: %w", binary, err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		r := bufio.NewReader(pr)
		for {
			line, err := r.ReadBytes('\n')
			line = bytes.ReplaceAll(line, []byte("\r"), nil)
			out.Write(line)
			if c.Console != nil && len(line) > 0 {
				c.Console.Write(line)
			}
			if err != nil {
				io.Copy(io.Discard, pr)
				return
			}
		}
	}()
	waitErr := cmd.Wait()
	pw.Close()
	<-copied
	s := session{Result: Result{Output: out.Bytes(), Duration: time.Since(start)}, code: -1, waitErr: waitErr,
		stderr: strings.TrimSpace(stderr.String())}
	if ps := cmd.ProcessState; ps != nil {
		s.CPUTime = ps.UserTime() + ps.SystemTime()
		s.code = ps.ExitCode()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return s, fmt.Errorf("%w after %v; last console lines:\n%s", ErrTimeout, c.Timeout, Tail(s.Output, 20))
	}
	return s, nil
}

// Tail returns the last n lines of console output.
func Tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Available reports whether qemu-system-x86_64 can be run.
func Available() error {
	_, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return fmt.Errorf("qemu-system-x86_64 not found (apt-get install qemu-system-x86): %w", err)
	}
	return nil
}
