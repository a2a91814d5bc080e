package acpi

// The captured QEMU machines of testdata/qemu (cmd/acpidump writes them):
// each directory's manifest.txt says where each file was in the guest's
// physical memory, and captureMemory serves those bytes as the kernel's
// Memory function would, nil outside them.

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

type region struct {
	pa uint64
	b  []byte
}

type capture struct {
	name    string
	about   string
	args    string
	systab  string
	regions []region
	tables  map[string]uint64 // signature (RSDP, XSDT, APIC...) to address
	files   map[string][]byte // by signature
	linux   string            // Linux's lines (linux.txt)
}

func loadCaptures(t testing.TB) []*capture {
	t.Helper()
	dirs, err := filepath.Glob("testdata/qemu/*/manifest.txt")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no captured configurations in testdata/qemu (go run ./cmd/acpidump): %v", err)
	}
	var cs []*capture
	for _, m := range dirs {
		cs = append(cs, loadCapture(t, filepath.Dir(m)))
	}
	return cs
}

func loadCapture(t testing.TB, dir string) *capture {
	t.Helper()
	c := &capture{name: filepath.Base(dir), tables: map[string]uint64{}, files: map[string][]byte{}}
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest.txt"))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s/%s: %v", dir, name, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s/%s: %v", dir, name, err)
			}
		}
		return b
	}
	addr := func(s string) uint64 {
		v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
		if err != nil {
			t.Fatalf("%s/manifest.txt: address %q: %v", dir, s, err)
		}
		return v
	}
	for _, line := range strings.Split(string(manifest), "\n") {
		key, rest, _ := strings.Cut(line, " ")
		f := strings.Fields(rest)
		switch key {
		case "about":
			c.about = rest
		case "args":
			c.args = rest
		case "systab":
			c.systab = rest
		case "memory":
			c.regions = append(c.regions, region{addr(f[0]), read(f[1])})
		case "table":
			b := read(f[2])
			c.tables[f[0]] = addr(f[1])
			c.files[f[0]] = b
			c.regions = append(c.regions, region{addr(f[1]), b})
		}
	}
	if l, err := os.ReadFile(filepath.Join(dir, "linux.txt")); err == nil {
		c.linux = string(l)
	}
	return c
}

// memory serves the captured regions: the n bytes at pa when one region
// holds them all, else what one region holds from pa on (short), else nil.
func (c *capture) memory() Memory {
	return regionMemory(c.regions)
}

func regionMemory(regions []region) Memory {
	return func(pa uint64, n int) []byte {
		var short []byte
		for _, r := range regions {
			if pa < r.pa || pa >= r.pa+uint64(len(r.b)) {
				continue
			}
			b := r.b[pa-r.pa:]
			if len(b) >= n {
				return b[:n]
			}
			if len(b) > len(short) {
				short = b
			}
		}
		return short
	}
}

// rsdpBytes is the RSDP as the capture holds it: what a boot loader's
// multiboot2 tag would carry.
func (c *capture) rsdpBytes(t testing.TB) []byte {
	b := c.files["RSDP"]
	if b == nil {
		t.Fatalf("%s: no RSDP in the capture", c.name)
	}
	return b
}
