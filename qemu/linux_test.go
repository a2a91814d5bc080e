package qemu

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"
)

// TestRunLinux boots a static program as /init under Linux: its flags
// (with dots, which Linux would take for module parameters before "--")
// and its environment arrive, and its exit status comes back.
func TestRunLinux(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; -short skips it")
	}
	kernel, err := NewestLinux()
	if err != nil {
		t.Skip(err)
	}
	prog := filepath.Join(t.TempDir(), "linuxinit")
	cmd := exec.Command("go", "build", "-o", prog, "./testdata/linuxinit")
	cmd.Env = append(os.Environ(), GoBuildEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	res, err := RunLinux(context.Background(), Config{Timeout: 2 * time.Minute}, LinuxProgram{
		Kernel:  kernel,
		Program: prog,
		Args:    []string{"-test.v", "-test.run=^TestX$", "a=b"},
		Env:     []string{"HURDVM_WORD=hello"},
		Params:  []string{"quiet"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.Output)
	for _, want := range []string{"args: -test.v -test.run=^TestX$ a=b\n", "env: HURDVM_WORD=hello\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q:\n%s", want, Tail(res.Output, 20))
		}
	}
	if res.Status != 3 || res.PoweredOff {
		t.Errorf("status %d (powered off: %v), want 3", res.Status, res.PoweredOff)
	}
}

func TestLinuxCmdline(t *testing.T) {
	p := LinuxProgram{Params: []string{"quiet"}, Env: []string{"GODEBUG=x=1"}, Args: []string{"-test.v"}}
	if got, want := p.Cmdline(), "console=ttyS0 no_timer_check quiet panic=-1 GODEBUG=x=1 -- -test.v"; got != want {
		t.Errorf("Cmdline() = %q, want %q", got, want)
	}
	p.Args = nil
	if got, want := p.Cmdline(), "console=ttyS0 no_timer_check quiet panic=-1 GODEBUG=x=1"; got != want {
		t.Errorf("without arguments, Cmdline() = %q, want %q", got, want)
	}
}

func TestVersionLess(t *testing.T) {
	if !versionLess("/boot/vmlinuz-6.1.0-9-amd64", "/boot/vmlinuz-6.1.0-56-amd64") {
		t.Error("6.1.0-9 should sort before 6.1.0-56")
	}
	if versionLess("/boot/vmlinuz-6.10.0-1-amd64", "/boot/vmlinuz-6.9.0-1-amd64") {
		t.Error("6.10 should sort after 6.9")
	}
}

// TestInitramfsFiles: WriteInitramfs puts the files beside /init, each
// directory above them once and before them, with their modes and
// contents, and the same inputs give the same bytes.
func TestInitramfsFiles(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog")
	mod := filepath.Join(dir, "m.ko")
	os.WriteFile(prog, []byte("init"), 0o755)
	os.WriteFile(mod, []byte("module"), 0o644)
	files := []InitramfsFile{
		{Path: "vmbench", Host: prog, Mode: 0o755},
		{Path: "lib/modules/6.1.0-1-amd64/kernel/mm/m.ko", Host: mod},
		{Path: "lib/modules/6.1.0-1-amd64/modules.dep", Data: []byte("kernel/mm/m.ko:\n")},
	}
	out := filepath.Join(dir, "a.cpio")
	if err := WriteInitramfs(out, prog, files...); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(f))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		line := fmt.Sprintf("%s %o", r.Name, r.Mode)
		if r.Mode&cpio.S_IFMT == cpio.S_IFREG {
			b, _ := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
			line += " " + string(b)
		}
		got = append(got, line)
	}
	want := []string{
		"dev 40755", "dev/console 20600", "init 100755 init", "vmbench 100755 init",
		"lib 40755", "lib/modules 40755", "lib/modules/6.1.0-1-amd64 40755", "lib/modules/6.1.0-1-amd64/kernel 40755",
		"lib/modules/6.1.0-1-amd64/kernel/mm 40755", "lib/modules/6.1.0-1-amd64/kernel/mm/m.ko 100644 module",
		"lib/modules/6.1.0-1-amd64/modules.dep 100644 kernel/mm/m.ko:\n",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	again := filepath.Join(dir, "b.cpio")
	if err := WriteInitramfs(again, prog, files...); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("the same inputs gave different archives")
	}
}

// TestLinuxModules: the files for zram and lz4 are the four modules of
// the newest kernel's package that modprobe would load, and a
// modules.dep of their lines.
func TestLinuxModules(t *testing.T) {
	kernel, err := NewestLinux()
	if err != nil {
		t.Skip(err)
	}
	rel, err := LinuxRelease(kernel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("/lib/modules", rel, "modules.dep")); err != nil {
		t.Skip(err)
	}
	files, err := LinuxModules(kernel, "zram", "lz4")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var dep string
	for _, f := range files {
		names = append(names, filepath.Base(f.Path))
		if strings.HasSuffix(f.Path, "modules.dep") {
			dep = string(f.Data)
		} else if f.Host != "/"+f.Path {
			t.Errorf("%s comes from %s", f.Path, f.Host)
		}
	}
	if got, want := strings.Join(names, " "), "lz4.ko zram.ko lz4_compress.ko zsmalloc.ko modules.dep"; got != want {
		t.Errorf("files %s, want %s", got, want)
	}
	if !strings.Contains(dep, "kernel/drivers/block/zram/zram.ko: kernel/mm/zsmalloc.ko\n") || strings.Count(dep, "\n") != 4 {
		t.Errorf("modules.dep:\n%s", dep)
	}
	if _, err := LinuxModules(kernel, "no-such-module"); err == nil {
		t.Error("a module that does not exist was found")
	}
}
