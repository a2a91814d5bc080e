// Command parity is `make test-linux-parity`: it runs tests/syscalls, the
// table of the system calls hurdvm serves, on Linux and on hurdvm in the
// same QEMU machine, and prints the rows where the two kernels answer
// differently.
//
//	parity [-linux /boot/vmlinuz-...] [-killers] [-j 2] [-timeout 5m] [-o build/linux-parity]
//
// The table is built twice: as a static Linux test binary, which
// qemu.RunLinux boots as /init under Debian's Linux (its rows must all
// pass: that is what makes the table Linux's behaviour), and as a hurdvm
// kernel, booted as qemuexec would. Linux runs every row, the TestKill*
// ones too; hurdvm runs TestSyscalls, and with -killers each TestKill*
// test in a boot of its own, since they crashed it before its fixes.
// Every row prints one line on the console (syscalls.FormatRow); parity
// compares them and fails when a difference is not explained in
// tests/syscalls/differences.txt, when a row hurdvm should have answered
// is missing, or when Linux does not pass. Consoles and the table go to
// the -o directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"hurdvm/qemu"
	"hurdvm/tests/syscalls"
)

const pkg = "./tests/syscalls"

func main() {
	linux := flag.String("linux", "", "Linux kernel image (default: the newest /boot/vmlinuz-*)")
	killers := flag.Bool("killers", false, "also boot hurdvm once for each TestKill* test")
	jobs := flag.Int("j", 2, "QEMUs at once")
	timeout := flag.Duration("timeout", 5*time.Minute, "limit for the Linux boot and hurdvm's TestSyscalls boot")
	killerTimeout := flag.Duration("killer-timeout", time.Minute, "limit for a TestKill* boot of hurdvm (a hang is how some fail)")
	out := flag.String("o", "build/linux-parity", "directory for the test binaries, the consoles and the table")
	flag.Parse()
	if *jobs < 1 {
		fatal(errors.New("-j must be at least 1"))
	}
	root, err := qemu.RepoRoot(".")
	if err != nil {
		fatal(err)
	}
	if err := qemu.Available(); err != nil {
		fatal(err)
	}
	if *linux == "" {
		if *linux, err = qemu.NewestLinux(); err != nil {
			fatal(err)
		}
	}
	dir := *out
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatal(err)
	}
	explained, err := syscalls.Differences()
	if err != nil {
		fatal(err)
	}

	start := time.Now()
	logf("building %s for Linux and for hurdvm", pkg)
	linuxTest, hurdvmImage, err := build(root, dir)
	if err != nil {
		fatal(err)
	}
	boots := []*boot{
		{name: "linux", linux: *linux, program: linuxTest, args: []string{"-test.v", "-syscalls.killers"}, timeout: *timeout},
		{name: "hurdvm", image: hurdvmImage, args: []string{"-test.v"}, timeout: *timeout},
	}
	if *killers {
		names, err := killerTests(linuxTest)
		if err != nil {
			fatal(err)
		}
		for _, name := range names {
			boots = append(boots, &boot{name: "hurdvm-" + name, image: hurdvmImage, killer: name, timeout: *killerTimeout,
				args: []string{"-test.v", "-test.run=^" + name + "$", "-syscalls.killers"}})
		}
	}
	runAll(boots, dir, *jobs)
	logf("%d boots in %v", len(boots), time.Since(start).Round(time.Second))

	linuxBoot, hurdvmRows := boots[0], map[string]string{}
	for _, b := range boots[1:] {
		for name, answer := range b.rows {
			hurdvmRows[name] = answer
		}
	}
	c := Compare(linuxBoot.rows, hurdvmRows, explained)
	table := c.Table()
	fmt.Println()
	for _, b := range boots {
		fmt.Println(b.summary())
	}
	fmt.Println()
	fmt.Print(table)
	if err := os.WriteFile(filepath.Join(dir, "differences.md"), []byte(table), 0o644); err != nil {
		fatal(err)
	}

	var failures []string
	if !linuxBoot.passed() {
		failures = append(failures, "Linux does not pass the table: a row expects what Linux does not answer")
		for _, l := range failedRows(linuxBoot.res.Output) {
			fmt.Println("  Linux:", l)
		}
	}
	killerOf := rowTests(linuxBoot.res.Output)
	var skipped, lost []string
	for _, name := range c.Unanswered {
		if t := killerOf[name]; strings.HasPrefix(t, "TestKill") && !*killers {
			skipped = append(skipped, name)
		} else {
			lost = append(lost, name)
		}
	}
	if len(skipped) > 0 {
		fmt.Printf("\n%d rows of the TestKill* tests were not run on hurdvm (-killers, or make test-linux-parity KILLERS=1, runs them)\n", len(skipped))
	}
	if len(lost) > 0 {
		fmt.Printf("\n%d rows hurdvm did not answer (its boot ended first): %s\n", len(lost), strings.Join(lost, " "))
		failures = append(failures, fmt.Sprintf("%d rows unanswered on hurdvm", len(lost)))
	}
	if len(c.Stale) > 0 {
		fmt.Printf("\ndifferences.txt lists rows that answer as on Linux now, or are no row: %s\n", strings.Join(c.Stale, " "))
	}
	if n := c.Unexplained(); n > 0 {
		failures = append(failures, fmt.Sprintf("%d differences are not explained in tests/syscalls/differences.txt", n))
	}
	fmt.Printf("\nconsoles and the table in %s\n", dir)
	if len(failures) > 0 {
		fmt.Fprintf(os.Stderr, "parity: FAILED: %s\n", strings.Join(failures, "; "))
		os.Exit(1)
	}
	fmt.Println("parity: ok")
}

// build makes the Linux test binary and the hurdvm image in dir.
func build(root, dir string) (linuxTest, hurdvmImage string, err error) {
	goTest := func(out string, args ...string) error {
		cmd := exec.Command("go", append(append([]string{"test", "-c", "-o", out}, args...), pkg)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), qemu.GoBuildEnv...)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go test -c %v: %w\n%s", args, err, b)
		}
		return nil
	}
	linuxTest = filepath.Join(dir, "syscalls-linux.test")
	elf := filepath.Join(dir, "syscalls-hurdvm.elf")
	var wg sync.WaitGroup
	var errLinux, errHurdvm error
	wg.Add(2)
	go func() { defer wg.Done(); errLinux = goTest(linuxTest) }()
	go func() { defer wg.Done(); errHurdvm = goTest(elf, "-tags", qemu.GoTags, "-ldflags", qemu.GoLDFlags) }()
	wg.Wait()
	if err := errors.Join(errLinux, errHurdvm); err != nil {
		return "", "", err
	}
	// The image's name is the program's os.Args[0] (qemuexec does the same).
	hurdvmImage = filepath.Join(dir, "syscalls.test")
	return linuxTest, hurdvmImage, qemu.BuildImage(root, elf, hurdvmImage)
}

// killerTests lists the TestKill* tests, from the Linux test binary run
// on this (Linux) host: listing runs nothing.
func killerTests(linuxTest string) ([]string, error) {
	b, err := exec.Command(linuxTest, "-test.list", "^TestKill").Output()
	if err != nil {
		return nil, fmt.Errorf("%s -test.list: %w", linuxTest, err)
	}
	return strings.Fields(string(b)), nil
}

// boot is one run of the table.
type boot struct {
	name    string
	linux   string // the Linux kernel, for the Linux boot
	program string // the Linux test binary
	image   string // the hurdvm image
	killer  string // the TestKill* test a hurdvm boot runs alone
	args    []string
	timeout time.Duration

	log  string
	res  qemu.Result
	err  error
	rows map[string]string
}

// machine is the QEMU machine of every boot.
func machine(timeout time.Duration) qemu.Config {
	return qemu.Config{Accel: "tcg", CPUs: 1, Memory: "1G", Extra: []string{"-cpu", "qemu64"}, Timeout: timeout}
}

func (b *boot) run(dir string) {
	c := machine(b.timeout)
	if b.linux != "" {
		b.res, b.err = qemu.RunLinux(context.Background(), c, qemu.LinuxProgram{
			Kernel: b.linux, Program: b.program, Args: b.args, Params: []string{"quiet"},
		})
	} else {
		c.Image, c.Cmdline = b.image, strings.Join(b.args, " ")
		b.res, b.err = qemu.Run(context.Background(), c)
	}
	b.log = filepath.Join(dir, b.name+".log")
	os.WriteFile(b.log, b.res.Output, 0o644)
	b.rows = syscalls.ParseRows(b.res.Output)
}

func runAll(boots []*boot, dir string, jobs int) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, jobs)
	for _, b := range boots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t0 := time.Now()
			b.run(dir)
			logf("%s: %d rows in %v", b.name, len(b.rows), time.Since(t0).Round(time.Second))
		}()
	}
	wg.Wait()
}

func (b *boot) passed() bool { return b.err == nil && b.res.Status == 0 && !b.res.PoweredOff }

// summary says how the boot ended.
func (b *boot) summary() string {
	var how string
	switch {
	case b.err != nil:
		first, _, _ := strings.Cut(b.err.Error(), "\n")
		how = "did not finish: " + first
	case b.res.Status == 0:
		how = "PASS"
	case b.res.Status == 125 && b.linux == "":
		how = "kernel panic (exit status 125)"
	case b.res.Status > 128:
		how = fmt.Sprintf("killed by signal %d (exit status %d)", b.res.Status-128, b.res.Status)
	default:
		how = fmt.Sprintf("FAIL (exit status %d)", b.res.Status)
	}
	what := "hurdvm, TestSyscalls"
	switch {
	case b.linux != "":
		what = "Linux (" + filepath.Base(b.linux) + "), every test"
	case b.killer != "":
		what = "hurdvm, " + b.killer + " alone"
	}
	return fmt.Sprintf("%-38s %3d rows  %s  (%s)", what+":", len(b.rows), how, b.log)
}

// runLine is go test's line for a subtest starting: TestX/row.
var runLine = regexp.MustCompile(`^=== RUN\s+(Test\w+)/(\S+)`)

// rowTests maps each row to the test function that ran it.
func rowTests(console []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(console), "\n") {
		if s := runLine.FindStringSubmatch(line); s != nil {
			m[s[2]] = s[1]
		}
	}
	return m
}

// failedRows are the rows' own failure messages on a console.
func failedRows(console []byte) []string {
	var lines []string
	for _, line := range strings.Split(string(console), "\n") {
		if strings.Contains(line, "syscalls_test.go") && strings.Contains(line, ": got ") {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	return lines
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "parity: "+format+"\n", args...)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "parity:", err)
	os.Exit(1)
}
