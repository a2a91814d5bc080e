package qemu

// Booting a static Linux program under a real Linux kernel, in the same
// QEMU machines as hurdvm: the peer that `make bench` measures against and
// `make test-linux-parity` checks the system-call table against.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/u-root/u-root/pkg/cpio"
	"github.com/u-root/u-root/pkg/kmodule"
)

// LinuxProgram is a static linux/amd64 program booted as /init, the only
// file of an initramfs besides /dev/console, under a Linux kernel.
type LinuxProgram struct {
	Kernel  string   // the kernel image (bzImage), e.g. from NewestLinux
	Program string   // the program; it becomes /init
	Args    []string // its arguments
	Env     []string // its environment: NAME=value, with no '.' in NAME
	Params  []string // kernel parameters besides console=ttyS0, no_timer_check and panic=-1
	// Files are more files of the initramfs (its directories are made
	// for them): kernel modules, a second program /init runs.
	Files []InitramfsFile
}

// InitramfsFile is a host file copied into an initramfs.
type InitramfsFile struct {
	Path string      // in the archive, without the leading slash: "lib/modules/6.1.0-57-amd64/modules.dep"
	Host string      // the host file; "" when Data is the contents
	Data []byte      // the contents, when Host is ""
	Mode os.FileMode // permission bits; 0 means 0o644
}

// Cmdline is the kernel command line that gives the program its arguments
// and environment. Linux hands init the words it does not know itself
// (init/main.c, unknown_bootoption): NAME=value ones as the environment,
// others as arguments, except that a word with a '.' before any '=' is
// taken for a module's parameter and dropped, so "-test.v" would never
// arrive. Every word after "--" goes to init's argv as it is
// (set_init_arg): the arguments go there.
//
// no_timer_check: under TCG on a busy host, Linux's boot-time check that
// the PIT's interrupt reaches the IO-APIC can miss its window and panic
// ("IO-APIC + timer doesn't work!"); the check is about broken chipsets,
// and QEMU's is not.
func (p LinuxProgram) Cmdline() string {
	words := append(append([]string{"console=ttyS0", "no_timer_check"}, p.Params...), "panic=-1")
	words = append(words, p.Env...)
	if len(p.Args) > 0 {
		words = append(append(words, "--"), p.Args...)
	}
	return strings.Join(words, " ")
}

// initExit is the line Linux panics with when init ends: the exit code is
// a wait status (the exit status in bits 8-15, or the killing signal in
// bits 0-6).
var initExit = regexp.MustCompile(`Kernel panic - not syncing: Attempted to kill init! exitcode=0x([0-9a-f]+)`)

// linuxPanic is any other panic of the kernel.
var linuxPanic = regexp.MustCompile(`Kernel panic - not syncing: .*`)

// RunLinux boots p with QEMU's machine as c says (c.Image, c.Initrd and
// c.Cmdline are RunLinux's own) and waits for QEMU to exit. When the
// program exits, Linux panics (init may not end) and panic=-1 with QEMU's
// -no-reboot ends the machine: Result.Status is then the program's exit
// status, or 128 plus the signal that killed it. A program may instead
// power the machine off itself, as cmd/vmbench does: then PoweredOff is
// set and the status is its own to report. The error says why a boot
// ended otherwise: QEMU failing, the timeout, a kernel panic for another
// reason.
func RunLinux(ctx context.Context, c Config, p LinuxProgram) (Result, error) {
	if err := Available(); err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp("", "linux-initramfs-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	c.Image, c.Initrd, c.Cmdline = p.Kernel, filepath.Join(dir, "initramfs.cpio"), p.Cmdline()
	if err := WriteInitramfs(c.Initrd, p.Program, p.Files...); err != nil {
		return Result{}, err
	}
	s, err := launch(ctx, c)
	if err != nil {
		return s.Result, err
	}
	if m := initExit.FindSubmatch(s.Output); m != nil {
		ws, _ := strconv.ParseUint(string(m[1]), 16, 32)
		s.Status = int(ws >> 8 & 0xff)
		if sig := ws & 0x7f; sig != 0 {
			s.Status = 128 + int(sig)
		}
		return s.Result, nil
	}
	if m := linuxPanic.Find(s.Output); m != nil {
		return s.Result, fmt.Errorf("Linux panicked: %s\nlast console lines:\n%s", m, Tail(s.Output, 20))
	}
	if s.code != 0 {
		return s.Result, fmt.Errorf("qemu: exit status %d, %v: %s\nlast console lines:\n%s", s.code, s.waitErr, s.stderr, Tail(s.Output, 20))
	}
	s.PoweredOff = true
	return s.Result, nil
}

// WriteInitramfs writes a newc cpio archive holding prog as /init, the
// console device Linux opens for it, and files (with the directories
// above them); the same inputs give the same bytes.
func WriteInitramfs(out, prog string, files ...InitramfsFile) error {
	b, err := os.ReadFile(prog)
	if err != nil {
		return err
	}
	recs := []cpio.Record{
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.StaticRecord(b, cpio.Info{Name: "init", Mode: cpio.S_IFREG | 0o755}),
	}
	dirs := map[string]bool{"dev": true}
	for _, f := range files {
		data := f.Data
		if f.Host != "" {
			if data, err = os.ReadFile(f.Host); err != nil {
				return err
			}
		}
		var parents []string
		for d := path.Dir(f.Path); d != "." && d != "/" && !dirs[d]; d = path.Dir(d) {
			parents = append(parents, d)
			dirs[d] = true
		}
		for i := len(parents) - 1; i >= 0; i-- {
			recs = append(recs, cpio.Directory(parents[i], 0o755))
		}
		mode := uint64(f.Mode.Perm())
		if mode == 0 {
			mode = 0o644
		}
		recs = append(recs, cpio.StaticRecord(data, cpio.Info{Name: f.Path, Mode: cpio.S_IFREG | mode}))
	}
	for i := range recs {
		recs[i].Ino = uint64(i + 1)
		recs[i].NLink = 1
	}
	cpio.MakeAllReproducible(recs)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := cpio.Newc.Writer(f)
	if err := cpio.WriteRecords(w, recs); err != nil {
		f.Close()
		return err
	}
	if err := cpio.WriteTrailer(w); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LinuxRelease is the release (uname -r) of a /boot/vmlinuz-RELEASE image.
func LinuxRelease(kernel string) (string, error) {
	base := filepath.Base(kernel)
	if !strings.HasPrefix(base, "vmlinuz-") {
		return "", fmt.Errorf("%s: not a vmlinuz-RELEASE file, so its modules cannot be found", kernel)
	}
	return strings.TrimPrefix(base, "vmlinuz-"), nil
}

// LinuxModules are the initramfs files that let a Linux kernel load the
// named modules and what they depend on as modprobe would (u-root's
// pkg/kmodule, in the guest): each module's file from the host's
// /lib/modules/RELEASE, the one of the kernel's own package, and a
// modules.dep of their lines, sorted by path. The modules are found by
// the same kmodule run dry on the host (its DryRunCB names each module it
// would load).
func LinuxModules(kernel string, names ...string) ([]InitramfsFile, error) {
	rel, err := LinuxRelease(kernel)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join("/lib/modules", rel)
	var mods []string
	seen := map[string]bool{}
	var mu sync.Mutex
	opts := kmodule.ProbeOpts{KVer: rel, IgnoreProcMods: true, DryRunCB: func(p string) {
		mu.Lock()
		defer mu.Unlock()
		if !seen[p] {
			seen[p] = true
			mods = append(mods, p)
		}
	}}
	for _, n := range names {
		if err := kmodule.ProbeOptions(n, "", opts); err != nil {
			return nil, fmt.Errorf("module %s of %s (is linux-image's package for it installed?): %w", n, rel, err)
		}
	}
	deps, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	var files []InitramfsFile
	var dep strings.Builder
	for _, line := range strings.Split(string(deps), "\n") {
		name, _, _ := strings.Cut(line, ":")
		if name != "" && seen[filepath.Join(dir, name)] {
			dep.WriteString(line + "\n")
		}
	}
	sort.Strings(mods)
	for _, m := range mods {
		files = append(files, InitramfsFile{Path: strings.TrimPrefix(m, "/"), Host: m})
	}
	files = append(files, InitramfsFile{Path: strings.TrimPrefix(filepath.Join(dir, "modules.dep"), "/"), Data: []byte(dep.String())})
	return files, nil
}

// NewestLinux is the /boot/vmlinuz-* of the highest version.
func NewestLinux() (string, error) {
	m, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(m) == 0 {
		return "", errors.New("no /boot/vmlinuz-*: apt-get install linux-image-amd64 (make bench does)")
	}
	sort.Slice(m, func(i, j int) bool { return versionLess(m[i], m[j]) })
	return m[len(m)-1], nil
}

// versionLess compares strings by their runs of digits as numbers.
func versionLess(a, b string) bool {
	split := func(s string) []string {
		var parts []string
		for s != "" {
			i := strings.IndexFunc(s, func(r rune) bool { return (r >= '0' && r <= '9') != (s[0] >= '0' && s[0] <= '9') })
			if i < 0 {
				i = len(s)
			}
			parts = append(parts, s[:i])
			s = s[i:]
		}
		return parts
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] == pb[i] {
			continue
		}
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		if ea == nil && eb == nil {
			return na < nb
		}
		return pa[i] < pb[i]
	}
	return len(pa) < len(pb)
}
