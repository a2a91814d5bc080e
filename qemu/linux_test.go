package qemu

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
