package memmap

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from what Sanitize and What make of each map")

func sanitize(src []Entry) []Range {
	dst := make([]Range, 2*len(src))
	return dst[:Sanitize(dst, src)]
}

func showRanges(m []Range) string {
	var b strings.Builder
	for _, r := range m {
		fmt.Fprintf(&b, "[%#x-%#x %v] ", r.Start, r.End, r.Kind)
	}
	return b.String()
}

func showEntries(in []Entry) string {
	var b strings.Builder
	for _, e := range in {
		fmt.Fprintf(&b, "{%#x +%#x %v} ", e.Base, e.Length, e.Kind)
	}
	return b.String()
}

// checkShape checks what every sanitized map must be: sorted, disjoint,
// no empty range, no two touching ranges of the same kind, usable ranges
// in whole pages, everything below MaxAddr.
func checkShape(t *testing.T, m []Range) {
	t.Helper()
	for i, r := range m {
		if r.Start >= r.End || r.End > MaxAddr {
			t.Errorf("range %d %#x-%#x is empty or beyond MaxAddr", i, r.Start, r.End)
		}
		if r.Kind == Usable && (r.Start%PageSize != 0 || r.End%PageSize != 0) {
			t.Errorf("usable range %#x-%#x is not in whole pages", r.Start, r.End)
		}
		if i > 0 {
			p := m[i-1]
			if p.End > r.Start {
				t.Errorf("ranges %d and %d overlap or are unsorted: %#x-%#x, %#x-%#x", i-1, i, p.Start, p.End, r.Start, r.End)
			}
			if p.End == r.Start && p.Kind == r.Kind {
				t.Errorf("ranges %d and %d touch and are both %v: not merged", i-1, i, r.Kind)
			}
		}
	}
}

func TestSanitize(t *testing.T) {
	const (
		U = Usable
		R = Reserved
		A = ACPI
		N = NVS
	)
	for _, c := range []struct {
		name string
		in   []Entry
		want []Range
	}{
		{"empty", nil, []Range{}},
		{"unsorted", []Entry{{0x200000, 0x100000, U}, {0, 0x9f000, U}, {0x100000, 0x100000, R}},
			[]Range{{0, 0x9f000, U}, {0x100000, 0x200000, R}, {0x200000, 0x300000, U}}},
		{"same kind neighbours and overlaps merge", []Entry{{0x100000, 0x1000, U}, {0x101000, 0x1000, U}, {0x101800, 0x2000, U}},
			[]Range{{0x100000, 0x103000, U}}},
		{"reserved inside usable splits it", []Entry{{0x100000, 0x400000, U}, {0x200000, 0x1000, R}},
			[]Range{{0x100000, 0x200000, U}, {0x200000, 0x201000, R}, {0x201000, 0x500000, U}}},
		{"usable inside reserved stays reserved", []Entry{{0x100000, 0x400000, R}, {0x200000, 0x1000, U}},
			[]Range{{0x100000, 0x500000, R}}},
		{"partial overlap: the non-usable kind wins either way round", []Entry{{0x2000, 0x3000, R}, {0x1000, 0x2000, U}, {0x4000, 0x2000, U}},
			[]Range{{0x1000, 0x2000, U}, {0x2000, 0x5000, R}, {0x5000, 0x6000, U}}},
		{"reserved beats ACPI beats usable", []Entry{{0x1000, 0x8000, U}, {0x2000, 0x4000, A}, {0x3000, 0x1000, R}},
			[]Range{{0x1000, 0x2000, U}, {0x2000, 0x3000, A}, {0x3000, 0x4000, R}, {0x4000, 0x6000, A}, {0x6000, 0x9000, U}}},
		{"NVS beats ACPI", []Entry{{0x1000, 0x2000, A}, {0x2000, 0x2000, N}},
			[]Range{{0x1000, 0x2000, A}, {0x2000, 0x4000, N}}},
		{"bad beats reserved", []Entry{{0x1000, 0x2000, R}, {0x1000, 0x1000, Bad}},
			[]Range{{0x1000, 0x2000, Bad}, {0x2000, 0x3000, R}}},
		{"an unknown kind reads as reserved and keeps its number", []Entry{{0x1000, 0x3000, U}, {0x2000, 0x1000, 20}},
			[]Range{{0x1000, 0x2000, U}, {0x2000, 0x3000, 20}, {0x3000, 0x4000, U}}},
		{"zero-length entries cover nothing", []Entry{{0x1000, 0, R}, {0x1000, 0x1000, U}, {0x1800, 0, R}},
			[]Range{{0x1000, 0x2000, U}}},
		{"usable shrinks to whole pages", []Entry{{0, 0x9fc00, U}, {0x9fc00, 0x400, R}, {0x100800, 0x1800, U}},
			[]Range{{0, 0x9f000, U}, {0x9fc00, 0xa0000, R}, {0x101000, 0x102000, U}}},
		{"usable smaller than a page disappears", []Entry{{0x1100, 0xe00, U}},
			[]Range{}},
		{"two abutting usable pieces make the page between them", []Entry{{0x1000, 0x800, U}, {0x1800, 0x800, U}},
			[]Range{{0x1000, 0x2000, U}}},
		{"identical entries", []Entry{{0x1000, 0x1000, R}, {0x1000, 0x1000, R}},
			[]Range{{0x1000, 0x2000, R}}},
		{"nested three deep", []Entry{{0, 0x10000, U}, {0x2000, 0x8000, A}, {0x4000, 0x1000, R}},
			[]Range{{0, 0x2000, U}, {0x2000, 0x4000, A}, {0x4000, 0x5000, R}, {0x5000, 0xa000, A}, {0xa000, 0x10000, U}}},
		{"base+length wraps past 2^64: clipped to MaxAddr", []Entry{{0x100000, ^uint64(0), U}},
			[]Range{{0x100000, MaxAddr, U}}},
		{"wrapping reserved entry still splits usable RAM", []Entry{{0, 1 << 32, U}, {0x80000000, ^uint64(0) - 0x1000, R}},
			[]Range{{0, 0x80000000, U}, {0x80000000, MaxAddr, R}}},
		{"entries at or above MaxAddr are ignored", []Entry{{MaxAddr, 0x1000, U}, {^uint64(0) - 0xfff, 0x1000, R}, {0x1000, 0x1000, U}},
			[]Range{{0x1000, 0x2000, U}}},
		{"holes stay holes", []Entry{{0x1000, 0x1000, U}, {0x5000, 0x1000, U}},
			[]Range{{0x1000, 0x2000, U}, {0x5000, 0x6000, U}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := sanitize(c.in)
			checkShape(t, got)
			if showRanges(got) != showRanges(c.want) {
				t.Errorf("Sanitize(%s)\n got %s\nwant %s", showEntries(c.in), showRanges(got), showRanges(c.want))
			}
		})
	}
}

// TestSanitizeAgainstByteModel compares Sanitize with a byte-by-byte
// model on random maps over 64 KiB (in granules of 16 bytes, which stand
// for their bytes): each byte takes the highest-ranked
// kind of the entries covering it, and a usable byte stays usable only
// if its whole page is.
func TestSanitizeAgainstByteModel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		compareWithModel(t, randomEntries(rng))
		if t.Failed() {
			return
		}
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add([]byte{0, 0, 10, 1, 4, 2, 3, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var in []Entry
		for ; len(b) >= 4; b = b[4:] {
			// Bases and lengths in 256-byte steps with odd offsets, so
			// that page boundaries and partial pages both occur.
			base := uint64(b[0])<<8 | uint64(b[1]&0xf)<<4
			length := uint64(b[2]) << 8
			in = append(in, Entry{base, length, Kind(b[3]%6 + 1)})
		}
		compareWithModel(t, in)
	})
}

const modelSpace = 64 << 10

func randomEntries(rng *rand.Rand) []Entry {
	in := make([]Entry, rng.Intn(8))
	for j := range in {
		base := uint64(rng.Intn(modelSpace)) &^ (granule - 1)
		if rng.Intn(2) == 0 {
			base &^= PageSize - 1
		}
		length := uint64(rng.Intn(modelSpace/2)) &^ (granule - 1)
		if rng.Intn(4) == 0 {
			length = 0
		}
		kinds := []Kind{Usable, Usable, Usable, Reserved, ACPI, NVS, Bad, 20}
		in[j] = Entry{base, length, kinds[rng.Intn(len(kinds))]}
	}
	return in
}

// granule is the model's unit: every entry's base and length are
// multiples of it, so a granule stands for each of its bytes.
const granule = 16

func compareWithModel(t *testing.T, in []Entry) {
	t.Helper()
	const cells = modelSpace * 2 / granule
	var model [cells]Kind // 0: no entry
	for _, e := range in {
		for a := e.Base / granule; a < (e.Base+e.Length)/granule && a < cells; a++ {
			if model[a] == 0 || e.Kind.rank() > model[a].rank() || e.Kind.rank() == model[a].rank() && e.Kind > model[a] {
				model[a] = e.Kind
			}
		}
	}
	got := sanitize(in)
	checkShape(t, got)
	j := 0
	for c := uint64(0); c < cells; c++ {
		a := c * granule
		for j < len(got) && got[j].End <= a {
			j++
		}
		var have Kind
		if j < len(got) && got[j].Start <= a {
			have = got[j].Kind
		}
		want := model[c]
		if want == Usable {
			page := (a &^ (PageSize - 1)) / granule
			for p := page; p < page+PageSize/granule; p++ {
				if model[p] != Usable {
					want = 0
				}
			}
		}
		if have != want {
			t.Fatalf("Sanitize(%s) = %s: byte %#x is %v, the model says %v", showEntries(in), showRanges(got), a, have, want)
		}
	}
}

func TestKeepLargest(t *testing.T) {
	m := []Range{{0, 0x9f000, Usable}, {0x100000, 0x200000, Usable}, {0x200000, 0x201000, Reserved}, {0x300000, 0x302000, Usable}}
	KeepLargest(m, 2)
	if m[0].Kind != Usable || m[1].Kind != Usable || m[3].Kind != Unused || m[2].Kind != Reserved {
		t.Errorf("KeepLargest(2) left %v, want the 8 KiB range unused", m)
	}
	KeepLargest(m, 0)
	for _, r := range m {
		if r.Kind == Usable {
			t.Errorf("KeepLargest(0) left %v usable", r)
		}
	}
}

func TestAllUsable(t *testing.T) {
	m := sanitize([]Entry{{0x100000, 0xf00000, Usable}, {0x1000000, 0x1000000, Usable}, {0x3000000, 0x100000, Usable}, {0x1800000, 0x1000, Reserved}})
	for _, c := range []struct {
		lo, hi uint64
		want   bool
	}{
		{0x100000, 0x1000000, true},
		{0x100000, 0x1800000, true},   // across two entries the firmware gave separately
		{0x1000000, 0x1801000, false}, // into the reserved page
		{0x1801000, 0x2000000, true},
		{0x1801000, 0x3000001, false}, // across a hole
		{0, 0x1000, false},
	} {
		if got := AllUsable(m, c.lo, c.hi); got != c.want {
			t.Errorf("AllUsable(%#x, %#x) = %v, want %v (map %s)", c.lo, c.hi, got, c.want, showRanges(m))
		}
	}
}

// The maps QEMU's firmware gives (captured from the kernel's console at
// boot: SeaBIOS through QEMU's -kernel, OVMF through GRUB from the ISO),
// sanitized and put into words; testdata/NAME.golden is the result, which
// -update rewrites.
func TestRealMaps(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata maps: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			in := readMap(t, file)
			m := sanitize(in)
			checkShape(t, m)
			var b bytes.Buffer
			ramEnd := RAMEnd(m)
			var total [3]uint64
			for _, r := range m {
				what := r.What(ramEnd)
				if !r.Kind.Known() {
					what += fmt.Sprintf(" (type %d)", r.Kind)
				}
				fmt.Fprintf(&b, "%#016x-%#016x %-16s %s\n", r.Start, r.End, r.Kind, what)
				total[r.Class(ramEnd)] += r.Len()
			}
			fmt.Fprintf(&b, "kernel RAM %d KiB, kept %d KiB, not RAM %d KiB\n", total[KernelRAM]>>10, total[Kept]>>10, total[NotRAM]>>10)
			golden := strings.TrimSuffix(file, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("%s changed (go test -update rewrites it):\n%s", golden, b.String())
			}
			// Whatever the words, these hold on every PC-like map: the
			// kernel's place at 16 MiB is RAM, and nothing reserved is
			// called RAM the kernel uses.
			if !AllUsable(m, 16<<20, 32<<20) {
				t.Errorf("16-32 MiB is not usable")
			}
			for _, r := range m {
				if r.Class(ramEnd) == KernelRAM && r.Kind != Usable {
					t.Errorf("%v range %#x-%#x classed as the kernel's RAM", r.Kind, r.Start, r.End)
				}
			}
		})
	}
}

// readMap reads a captured map: lines "BASE LENGTH TYPE" (hex, hex,
// decimal) as the kernel printed them; '#' starts a comment.
func readMap(t *testing.T, file string) []Entry {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in []Entry
	s := bufio.NewScanner(f)
	for s.Scan() {
		line, _, _ := strings.Cut(s.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			t.Fatalf("%s: %q: want BASE LENGTH TYPE", file, s.Text())
		}
		base, err1 := strconv.ParseUint(fields[0], 0, 64)
		length, err2 := strconv.ParseUint(fields[1], 0, 64)
		kind, err3 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("%s: %q: %v %v %v", file, s.Text(), err1, err2, err3)
		}
		in = append(in, Entry{base, length, Kind(kind)})
	}
	return in
}
