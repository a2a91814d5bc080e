package main

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

const linuxConsole = `[    0.000000] Linux version 6.1.0
BENCH-START Linux-6.1.0-56-amd64 go1.26.8 GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1
BENCH syscall/alloc_free_1p 20000.0 ns/pair
BENCH syscall/first_touch 3300.0 ns/page
BENCH syscall/demand_64m 54000.0 us
BENCH syscall/map_now_64m 56000.0 us
BENCH syscall/fork_64m 2000.0 us
BENCH syscall/cow_fault 4500.0 ns/page
BENCH-END
`

const hurdvmConsole = `BENCH-START Linux-6.1.0-hurdvm go1.26.8 GOMAXPROCS=2 GODEBUG=asyncpreemptoff=1
BENCH syscall/alloc_free_1p 4000.0 ns/pair
BENCH syscall/first_touch 2000.0 ns/page
BENCH syscall/demand_64m 33000.0 us
BENCH kernel/alloc_free_1p 2700.0 ns/pair
BENCH kernel/first_touch 1900.0 ns/page
BENCH kernel/demand_64m 31000.0 us
BENCH kernel/map_now_64m 5600.0 us
BENCH kernel/fork_64m 15000.0 us
BENCH kernel/cow_fault 3600.0 ns/page
BENCH-END
hurdvm: exit status 0
`

func mustParse(t *testing.T, s string) Run {
	t.Helper()
	r, err := ParseRun([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseRun(t *testing.T) {
	r := mustParse(t, linuxConsole)
	if r.Kernel != "Linux-6.1.0-56-amd64" || r.Values["syscall/first_touch"] != 3300 || r.Units["syscall/fork_64m"] != "us" {
		t.Errorf("parsed %+v", r)
	}
	for _, bad := range []string{
		"BENCH syscall/x 1 ns\n",                             // never started
		"BENCH-START k\nBENCH syscall/x 1 ns\n",              // never ended
		"BENCH-START k\nBENCH syscall/x one ns\nBENCH-END\n", // not a number
		"BENCH-START k\nBENCH syscall/x 1\nBENCH-END\n",      // no unit
		"BENCH-START k\nBENCH a 1 ns\nBENCH a 2 ns\nBENCH-END\n",
	} {
		if _, err := ParseRun([]byte(bad)); err == nil {
			t.Errorf("ParseRun(%q) succeeded", bad)
		}
	}
}

// scaled is run with every figure times f.
func scaled(r Run, f float64) Run {
	s := Run{Kernel: r.Kernel, Values: map[string]float64{}, Units: r.Units}
	for k, v := range r.Values {
		s.Values[k] = v * f
	}
	return s
}

func testReport(t *testing.T, linuxSpread float64) *Report {
	l, h := mustParse(t, linuxConsole), mustParse(t, hurdvmConsole)
	return &Report{
		Linux:  []Run{l, scaled(l, 1+linuxSpread), scaled(l, 1-linuxSpread/2)},
		Hurdvm: []Run{h, h, scaled(h, 1.001)},
		Date:   "2026-01-02", QEMU: "QEMU emulator version 7.2", Machine: "qemu",
		Spread: 1,
	}
}

func TestSpread(t *testing.T) {
	if bad := testReport(t, 0.005).SpreadFailures(); len(bad) != 0 {
		t.Errorf("0.75 %% spread flagged: %v", bad)
	}
	bad := testReport(t, 0.02).SpreadFailures()
	if len(bad) != 6 || !strings.HasPrefix(bad[0], "linux ") {
		t.Errorf("3 %% spread of Linux's 6 figures: %v", bad)
	}
	rep := testReport(t, 0)
	rep.Hurdvm[1] = Run{Values: map[string]float64{}}
	if bad := rep.SpreadFailures(); len(bad) == 0 {
		t.Error("a run missing figures passed")
	}
}

func TestMarkdown(t *testing.T) {
	rep := testReport(t, 0.002)
	md := rep.Markdown()
	for _, want := range []string{
		"| allocate + deallocate, 1 page (no touch) | ns/pair | 20,000 | 4,000 | 2,700 | 0.20 ✓ | 0.14 ✓ | ≤ 0.5 |",
		"| fork, 64 MiB touched | µs | 2,000 | n/a (b) | 15,000 | | 7.50 ✗ | ≤ 1 |",
		"| 64 MiB map_now: allocate, touch every page | µs | 56,000 | n/a (a) | 5,600 | | 0.10 | |",
		"| map_now speedup: demand ÷ map_now, 64 MiB | × | 0.96 | n/a (a) | 5.54 ✗ |",
		"(c) no fork(2) through system calls",
		"Largest spread: Linux 0.30 %, hurdvm 0.10 %.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	// Rows the fixture leaves out are missing, not n/a.
	if m := rep.Missing(); len(m) == 0 || !strings.Contains(strings.Join(m, ","), "Linux free_64m") {
		t.Errorf("Missing() = %v", m)
	}
}

func TestSVGIsWellFormed(t *testing.T) {
	svg := testReport(t, 0).SVG()
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	rects := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	// Background, 2 legend swatches, and a bar per ratio: alloc_free_1p
	// (2), first_touch (2), demand_64m (2), map_now_64m, fork_64m,
	// cow_fault (1 each), and map_now over demand in-kernel.
	if rects != 3+10 {
		t.Errorf("%d rects, want 13", rects)
	}
	if !strings.Contains(string(svg), "map_now ÷ on demand") {
		t.Error("no map_now row")
	}
}
