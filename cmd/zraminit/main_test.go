package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"1G": 1 << 30, "768M": 768 << 20, "64K": 64 << 10, "4096": 4096} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "G", "0", "1X", "-1M", "1.5G"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded", bad)
		}
	}
}

// TestMkswap: the page mkswap writes is a version-1 swap header for the
// device's size (what swapon(2) reads: include/linux/swap.h), and the
// rest of the device is left alone.
func TestMkswap(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "dev")
	if err := os.WriteFile(dev, make([]byte, 3*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := mkswap(dev, 1<<20); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(dev)
	if len(b) != 3*4096 {
		t.Fatalf("the device grew to %d bytes", len(b))
	}
	le := binary.LittleEndian
	if v, last, bad := le.Uint32(b[1024:]), le.Uint32(b[1028:]), le.Uint32(b[1032:]); v != 1 || last != 255 || bad != 0 {
		t.Errorf("version %d, last_page %d, nr_badpages %d; want 1, 255, 0", v, last, bad)
	}
	if sig := string(b[4096-10 : 4096]); sig != "SWAPSPACE2" {
		t.Errorf("signature %q", sig)
	}
	if err := mkswap(dev, 8*4096); err == nil {
		t.Error("a swap of 8 pages was made")
	}
}
