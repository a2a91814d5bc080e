package qemu

import (
	"strings"
	"testing"
)

func TestRewriteTestFlags(t *testing.T) {
	const cwd = "/src/pkg"
	for _, c := range []struct {
		args  string
		guest string
		files map[string]string // guest -> host
	}{
		{
			// go test -cover
			args:  "-test.paniconexit0 -test.gocoverdir=/tmp/go-build1/b001/gocoverdir -test.timeout=10m0s",
			guest: "-test.paniconexit0 -test.gocoverdir=" + GuestCoverDir + " -test.timeout=10m0s",
			files: map[string]string{GuestCoverDir + "/covmeta.1": "/tmp/go-build1/b001/gocoverdir/covmeta.1"},
		},
		{
			// go test -coverprofile=c.out -cpuprofile=cpu.out: the profile
			// named relative to -test.outputdir, which comes after it here.
			args: "-test.cpuprofile=cpu.out -test.gocoverdir=/w/gocoverdir -test.outputdir=/src/pkg/out " +
				"-test.coverprofile=/w/_cover_.out",
			guest: "-test.cpuprofile=" + ExportDir + "/cpuprofile -test.gocoverdir=" + GuestCoverDir +
				" -test.outputdir=" + ExportDir + " -test.coverprofile=" + ExportDir + "/coverprofile",
			files: map[string]string{
				ExportDir + "/cpuprofile":   "/src/pkg/out/cpu.out",
				ExportDir + "/coverprofile": "/w/_cover_.out",
			},
		},
		{
			// Two-word and double-dash forms; the test log is relative to
			// the working directory, not the output directory.
			args:  "--test.memprofile mem.out -test.testlogfile log.txt -test.v",
			guest: "--test.memprofile " + ExportDir + "/memprofile -test.testlogfile " + ExportDir + "/testlogfile -test.v",
			files: map[string]string{
				ExportDir + "/memprofile":  "/src/pkg/mem.out",
				ExportDir + "/testlogfile": "/src/pkg/log.txt",
			},
		},
		{
			// The program's own flags are passed through; testing stops
			// at the first positional argument, and so does the rewriting.
			args:  "-syscalls.killers -test.gocoverdir=cov arg -test.coverprofile=/x",
			guest: "-syscalls.killers -test.gocoverdir=" + GuestCoverDir + " arg -test.coverprofile=/x",
			files: map[string]string{GuestCoverDir + "/f": "/src/pkg/cov/f"},
		},
		{
			// A later flag wins, as in the flag package.
			args:  "-test.gocoverdir=/a -test.gocoverdir=/b",
			guest: "-test.gocoverdir=" + GuestCoverDir + " -test.gocoverdir=" + GuestCoverDir,
			files: map[string]string{GuestCoverDir + "/f": "/b/f"},
		},
		{
			args:  "-test.run=X -test.v=true",
			guest: "-test.run=X -test.v=true",
		},
	} {
		got, outputs := RewriteTestFlags(strings.Fields(c.args), cwd)
		if strings.Join(got, " ") != c.guest {
			t.Errorf("%s\n got %s\nwant %s", c.args, strings.Join(got, " "), c.guest)
		}
		for guest, host := range c.files {
			if h, ok := outputs.HostPath(guest); !ok || h != host {
				t.Errorf("%s: %s goes to %q (%v), want %q", c.args, guest, h, ok, host)
			}
		}
		if len(c.files) == 0 && !outputs.Empty() {
			t.Errorf("%s: outputs where none are expected", c.args)
		}
	}
}
