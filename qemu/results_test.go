package qemu

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func stream(files ...ResultFile) []byte {
	var b bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&b, "hurdvm-file %d %s\n", len(f.Data), f.Path)
		b.Write(f.Data)
	}
	return b.Bytes()
}

func TestReadResults(t *testing.T) {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	want := []ResultFile{
		{"/tmp/hurdvm-export/gocoverdir/covmeta.1", []byte("meta")},
		{"/tmp/hurdvm-export/with space", every}, // newlines and "hurdvm-file" inside data are data
		{"/tmp/hurdvm-export/empty", []byte{}},
		{"/tmp/hurdvm-export/x", []byte("hurdvm-file 3 /y\nabc")},
	}
	got, err := ReadResults(bytes.NewReader(stream(want...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d files, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Path != want[i].Path || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("file %d: %q %q, want %q %q", i, got[i].Path, got[i].Data, want[i].Path, want[i].Data)
		}
	}
}

func TestReadResultsDamaged(t *testing.T) {
	whole := stream(ResultFile{"/tmp/hurdvm-export/a", []byte("aaaa")})
	for _, c := range []struct {
		name, tail, err string
	}{
		{"cut inside a file", "hurdvm-file 10 /tmp/hurdvm-export/b\nbbb", "/tmp/hurdvm-export/b is cut short: 3 of 10 bytes"},
		{"cut inside a header", "hurdvm-file 10 /tm", "is not a header"},
		{"noise", "garbage\n", `"garbage\n" is not a header`},
		{"relative path", "hurdvm-file 1 tmp/x\nx", "bad header"},
		{"negative size", "hurdvm-file -1 /x\n", "bad header"},
		{"huge size", "hurdvm-file 99999999999 /x\n", "bad header"},
	} {
		got, err := ReadResults(bytes.NewReader(append(append([]byte{}, whole...), c.tail...)))
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.err)
		}
		if len(got) != 1 || got[0].Path != "/tmp/hurdvm-export/a" {
			t.Errorf("%s: the whole file before the damage is lost: %v", c.name, got)
		}
	}
}

func TestOutputsDeliver(t *testing.T) {
	host := t.TempDir()
	var o Outputs
	o.File(ExportDir+"/coverprofile", filepath.Join(host, "c.out"))
	o.Dir(GuestCoverDir, filepath.Join(host, "cov"))
	if err := os.MkdirAll(filepath.Join(host, "cov"), 0o777); err != nil {
		t.Fatal(err)
	}
	// A counter file of another test binary, named as this one's will be.
	counters := "covcounters.abc.1.42"
	if err := os.WriteFile(filepath.Join(host, "cov", counters), []byte("another binary's"), 0o666); err != nil {
		t.Fatal(err)
	}
	written, unclaimed, err := o.Deliver([]ResultFile{
		{ExportDir + "/coverprofile", []byte("first")},
		{GuestCoverDir + "/covmeta.abc", []byte("meta")},
		{GuestCoverDir + "/" + counters, []byte("partial")},
		{ExportDir + "/coverprofile", []byte("second")}, // the later copy is the file
		{GuestCoverDir + "/" + counters, []byte("this binary's")},
		{GuestCoverDir + "/sub/x", []byte("not directly in the directory")},
		{"/tmp/elsewhere", []byte("?")},
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(rel, want string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(host, rel))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", rel, b, err, want)
		}
	}
	check("c.out", "second")
	check("cov/covmeta.abc", "meta")
	check("cov/"+counters, "another binary's")
	check("cov/covcounters.abc.1.43", "this binary's")
	if len(written) != 3 {
		t.Errorf("written %q, want 3 files", written)
	}
	if strings.Join(unclaimed, " ") != GuestCoverDir+"/sub/x /tmp/elsewhere" {
		t.Errorf("unclaimed %q", unclaimed)
	}
	if m := o.Missing(written); len(m) != 0 {
		t.Errorf("missing %q", m)
	}
	if m := o.Missing(nil); len(m) != 1 || m[0] != filepath.Join(host, "c.out") {
		t.Errorf("with nothing delivered, missing %q", m)
	}
}

// TestResultsChannel boots a program that leaves files in the export
// directory (testdata/export): the kernel sends each on COM2, which
// Config.Results must make a host file, every byte intact, and Deliver
// must leave the last copy of each where the Outputs say.
func TestResultsChannel(t *testing.T) {
	t.Parallel()
	image := buildKernel(t, "export")
	results := filepath.Join(t.TempDir(), "results")
	res, err := Run(t.Context(), Config{Image: image, Results: results, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 0 || !strings.Contains(string(res.Output), "export: done") {
		t.Fatalf("status %d\n%s", res.Status, Tail(res.Output, 10))
	}
	f, err := os.Open(results)
	if err != nil {
		t.Fatal(err)
	}
	files, err := ReadResults(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	host := t.TempDir()
	var o Outputs
	o.Dir(GuestCoverDir, filepath.Join(host, "cov"))
	o.File(ExportDir+"/coverprofile", filepath.Join(host, "c.out"))
	o.File(ExportDir+"/every byte", filepath.Join(host, "every"))
	if _, unclaimed, err := o.Deliver(files); err != nil || len(unclaimed) != 0 {
		t.Fatalf("deliver: %v; unclaimed %q", err, unclaimed)
	}
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	for rel, want := range map[string]string{
		"cov/covcounters.abc.1.42": "counters\n",
		"c.out":                    "mode: set\nsecond copy\n",
		"every":                    string(every),
	} {
		if b, err := os.ReadFile(filepath.Join(host, rel)); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", rel, b, err, want)
		}
	}
}
