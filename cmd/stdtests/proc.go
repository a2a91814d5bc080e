package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"hurdvm/qemu"
)

// The process mode (-proc, make test-std-proc; issue 17): the standard
// library's own tests as Linux programs in ring 3. For each package P the
// test binary is built exactly as for Linux,
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go test -c -o build/_stdproc/P.test P
//
// internal and external tests alike, importing nothing of hurdvm's, and
// run with -test.short (and -test.v, to count what passed) as a process:
//
//	qemuexec -process -dir $GOROOT/src/P build/_stdproc/P.test -test.short ...
//
// in P's own source directory, which the guest has read-only at its own
// path (testdata, and the sources some tests parse), with the testdata
// directories above it and GOROOT's lib/time (-tree) and /tmp a tmpfs.
// qemuexec packs the binary at its own path beside the directory
// (qemu.PackOptions.Extra: its rules leave ELF files and build/ out), so
// a test that runs os.Args[0] again finds it. -host runs the same binary
// in the same directory on Linux, with the same environment (PWD, and
// TMPDIR=/tmp: no PATH, so no go command, as in the guest).

// procMemory is the guest's memory for a test binary: encoding/gob's
// TestLargeSlice holds a few hundred MiB at once (at qemuexec's default of
// 512 MiB its process ends with SIGBUS, hurdvm's answer where Linux's
// would be its OOM killer's SIGKILL). QEMU backs only what the guest
// touches.
const procMemory = "2G"

// procMode is how the runner builds and runs a package's test binary.
type procMode struct {
	binDir string              // where the binaries and logs go (build/_stdproc)
	srcDir map[string]string   // each package's source directory
	trees  map[string][]string // the testdata directories above it
}

// binary is where P's test binary goes: P's path under binDir, so that
// text/template and html/template do not meet.
func (m *procMode) binary(pkg string) string {
	return filepath.Join(m.binDir, filepath.FromSlash(pkg)+".test")
}

// build makes P's test binary, as go test -c makes it for Linux.
func (m *procMode) build(root, pkg string) error {
	bin := m.binary(pkg)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	cmd := exec.Command("go", "test", "-c", "-o", bin, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), qemu.GoBuildEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go test -c %s: %v\n%s", pkg, err, out)
	}
	return nil
}

// command is the command that runs P's binary: through qemuexec as a
// process, or on the host when qemuexec is "". The timeout is the test
// binary's own (-test.timeout, which panics with every goroutine's
// stack), qemuexec's a little later, and on the host the command's.
func (m *procMode) command(ctx context.Context, qemuexec, pkg string, timeout time.Duration) *exec.Cmd {
	dir := m.srcDir[pkg]
	flags := []string{"-test.short", "-test.v", "-test.timeout=" + timeout.String()}
	var cmd *exec.Cmd
	if qemuexec == "" {
		cmd = exec.CommandContext(ctx, m.binary(pkg), flags...)
		cmd.Env = []string{"PWD=" + dir, "TMPDIR=/tmp"}
	} else {
		args := []string{"-process", "-m", procMemory, "-timeout", (timeout + time.Minute).String(), "-dir", dir}
		for _, t := range m.trees[pkg] {
			args = append(args, "-tree", t)
		}
		args = append(append(args, m.binary(pkg)), flags...)
		cmd = exec.CommandContext(ctx, qemuexec, args...)
	}
	cmd.Dir = dir
	return cmd
}

// withTests lists the standard library's packages with test files of
// either kind: what -proc -all tries.
func withTests() ([]string, error) {
	return stdPackages(func(p goPackage) bool { return len(p.TestGoFiles)+len(p.XTestGoFiles) > 0 })
}

// newProcMode finds each package's source directory.
func newProcMode(root string, pkgs []string) (*procMode, error) {
	m := &procMode{binDir: filepath.Join(root, "build", "_stdproc"), srcDir: map[string]string{}, trees: map[string][]string{}}
	infos, err := goList(pkgs...)
	if err != nil {
		return nil, err
	}
	for _, p := range infos {
		m.srcDir[p.ImportPath] = p.Dir
		// And GOROOT's time zone database, which time falls back to
		// where the system has none (the guest has no /usr/share/zoneinfo):
		// time's tests load America/Los_Angeles.
		m.trees[p.ImportPath] = append(testdataAbove(p.Dir, filepath.Join(p.Root, "src")), filepath.Join(p.Root, "lib", "time"))
	}
	return m, nil
}

// testdataAbove lists the testdata directories of dir's ancestors up to
// top: std's tests read shared inputs there (compress/flate's
// ../../testdata, image/png's ../testdata), which the guest then has too.
func testdataAbove(dir, top string) []string {
	var out []string
	for a := filepath.Dir(dir); strings.HasPrefix(a, top); a = filepath.Dir(a) {
		if fi, err := os.Stat(filepath.Join(a, "testdata")); err == nil && fi.IsDir() {
			out = append(out, filepath.Join(a, "testdata"))
		}
		if a == top {
			break
		}
	}
	return out
}
