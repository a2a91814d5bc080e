package qemu

import (
	"path/filepath"
	"strings"
)

// go test names host paths in the flags it gives a test binary: where
// coverage counters go (-test.gocoverdir, which must exist), where
// profiles and the cache's log go. The guest cannot write there, so
// RewriteTestFlags points them into ExportDir and says where each file
// comes back to.

// fileFlags are the testing flags naming a file the binary writes, and
// whether a relative name is taken from -test.outputdir (testing's
// toOutputDir) rather than from the working directory.
var fileFlags = map[string]bool{
	"coverprofile": true,
	"cpuprofile":   true,
	"memprofile":   true,
	"blockprofile": true,
	"mutexprofile": true,
	"trace":        true,
	"testlogfile":  false,
}

// dirFlags are the testing flags naming a directory the binary writes
// files in.
var dirFlags = map[string]bool{"gocoverdir": true}

// GuestCoverDir is where -test.gocoverdir points in the guest; the kernel
// creates it at boot.
const GuestCoverDir = ExportDir + "/gocoverdir"

// RewriteTestFlags returns args with each output flag of testing pointing
// into ExportDir (-test.gocoverdir to GuestCoverDir, a file flag such as
// -test.coverprofile to ExportDir/coverprofile, -test.outputdir to
// ExportDir) and the Outputs saying where their files go on the host. cwd
// is the host directory relative names are taken from (the test's
// directory). Arguments after a bare "--" or "-args"-style positional
// arguments are the test's own and are left alone, as testing's flag
// parsing stops at the first of them.
func RewriteTestFlags(args []string, cwd string) ([]string, *Outputs) {
	out := make([]string, len(args))
	copy(out, args)
	outputs := &Outputs{}
	outputDir := cwd
	// -test.outputdir is read first: a relative profile name before it on
	// the command line is still taken from it.
	for i := 0; i < len(out); i++ {
		name, value, two, ok := testFlag(out, i)
		if !ok {
			break
		}
		if name == "outputdir" {
			outputDir = hostPath(cwd, value)
		}
		if two {
			i++
		}
	}
	for i := 0; i < len(out); i++ {
		name, value, two, ok := testFlag(out, i)
		if !ok {
			break
		}
		guest := ""
		if fromOutputDir, file := fileFlags[name]; file && value != "" {
			base := cwd
			if fromOutputDir {
				base = outputDir
			}
			guest = ExportDir + "/" + name
			outputs.File(guest, hostPath(base, value))
		} else if dirFlags[name] && value != "" {
			guest = GuestCoverDir
			outputs.Dir(guest, hostPath(cwd, value))
		} else if name == "outputdir" {
			guest = ExportDir
		}
		if guest != "" {
			if two {
				out[i+1] = guest
			} else {
				dashes := out[i][:strings.Index(out[i], "test.")]
				out[i] = dashes + "test." + name + "=" + guest
			}
		}
		if two {
			i++
		}
	}
	return out, outputs
}

// testFlag reads args[i] as a testing flag: -test.NAME=VALUE, or
// -test.NAME VALUE (two words: two is true) for the flags that take a
// path. ok is false at the first argument that ends the flags (a
// positional argument or "--"); any other flag is returned with its name
// and ok, so that the scan goes on.
func testFlag(args []string, i int) (name, value string, two, ok bool) {
	a := args[i]
	if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
		return "", "", false, false
	}
	body := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	flag, hasValue := strings.CutPrefix(body, "test.")
	if !hasValue {
		return body, "", false, true // not testing's: the program's own flag
	}
	name, value, eq := strings.Cut(flag, "=")
	if !eq {
		_, file := fileFlags[name]
		if (file || dirFlags[name] || name == "outputdir") && i+1 < len(args) {
			return name, args[i+1], true, true
		}
	}
	return name, value, false, true
}

// hostPath makes p absolute against base.
func hostPath(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}
