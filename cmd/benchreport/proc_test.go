package main

import (
	"slices"
	"strings"
	"testing"
)

const linuxProcConsole = `BENCH-START Linux-6.1.0-57-amd64 go1.26.8 GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 proc
BENCH proc/fork_64m 2200.0 us
BENCH proc/fork_wait_64m 2500.0 us
BENCH proc/cow_fault 4600.0 ns/page
BENCH proc/alloc_free_1p 19500.0 ns/pair
BENCH proc/alloc_free_16p 19600.0 ns/pair
BENCH proc/first_touch 3300.0 ns/page
BENCH proc/demand_64m 54000.0 us
BENCH proc/free_64m 21000.0 us
BENCH proc/protect_ro_64m 900.0 us
BENCH proc/protect_rw_64m 950.0 us
BENCH-END
`

const hurdvmProcConsole = `hurdvm: unimplemented system call 63 (uname)
BENCH-START unknown go1.26.8 GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 proc
BENCH proc/fork_64m 1100.0 us
BENCH proc/fork_wait_64m 8900.0 us
BENCH proc/cow_fault 2085.0 ns/page
BENCH proc/alloc_free_1p 3063.0 ns/pair
BENCH proc/alloc_free_16p 3903.0 ns/pair
BENCH proc/first_touch 1550.0 ns/page
BENCH proc/demand_64m 25403.0 us
BENCH proc/free_64m 6434.0 us
BENCH proc/protect_ro_64m 1137.0 us
BENCH proc/protect_rw_64m 1138.0 us
BENCH-END
hurdvm: exit status 0
`

func procReport(t *testing.T) *Report {
	rep := testReport(t, 0)
	l, h := mustParse(t, linuxProcConsole), mustParse(t, hurdvmProcConsole)
	rep.LinuxProc = []Run{l, scaled(l, 1.005), l}
	rep.HurdvmProc = []Run{h, scaled(h, 1), scaled(h, 1)}
	return rep
}

func TestProcMarkdown(t *testing.T) {
	rep := procReport(t)
	md := rep.Markdown()
	for _, want := range []string{
		"## Through a process: the same program on both kernels (2026-01-02)",
		"| mmap + munmap, 1 page (no touch) | ns/pair | 19,500 | 3,063 | 0.16 |",
		"| fork + wait4, 64 MiB touched, the child exits at once | µs | 2,500 | 8,900 | 3.56 |",
		"| mprotect 64 MiB touched to read-only | µs | 900 | 1,137 | 1.26 |",
		"| cow_fault | 0.50 % | 0.00 % |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if m := rep.missing(procTable); len(m) != 0 {
		t.Errorf("missing(procTable) = %v", m)
	}
	delete(rep.HurdvmProc[2].Values, "proc/first_touch")
	if m := rep.missing(procTable); len(m) != 1 || m[0] != "hurdvm-proc first_touch" {
		t.Errorf("with a run short of a figure, missing(procTable) = %v", m)
	}
	if bad := rep.SpreadFailures(); len(bad) != 1 || !strings.HasPrefix(bad[0], "hurdvm-proc proc/first_touch: missing") {
		t.Errorf("SpreadFailures() = %v", bad)
	}
	rep.HurdvmProc[2] = rep.HurdvmProc[0]
	rep.Spread = 0.4
	if bad := rep.SpreadFailures(); len(bad) != len(procRows) || !strings.HasPrefix(bad[0], "linux-proc ") {
		t.Errorf("0.5 %% spread of Linux's %d process figures, limit 0.4 %%: %v", len(procRows), bad)
	}
}

// TestProcOnly: -proc only reports the process table alone.
func TestProcOnly(t *testing.T) {
	rep := procReport(t)
	rep.Linux, rep.Hurdvm = nil, nil
	md := rep.Markdown()
	if !strings.HasPrefix(md, "## Through a process") || strings.Contains(md, "allocate + deallocate") {
		t.Errorf("report:\n%s", md)
	}
}

func TestBootKinds(t *testing.T) {
	for _, c := range []struct {
		pager, proc string
		want        []string
	}{
		{"on", "on", []string{"linux-pager", "hurdvm-pager", "linux", "hurdvm", "linux-proc", "hurdvm-proc"}},
		{"off", "on", []string{"linux", "hurdvm", "linux-proc", "hurdvm-proc"}},
		{"off", "off", []string{"linux", "hurdvm"}},
		{"only", "on", []string{"linux-pager", "hurdvm-pager"}},
		{"on", "only", []string{"linux-proc", "hurdvm-proc"}},
		{"off", "only", []string{"linux-proc", "hurdvm-proc"}},
		{"only", "only", []string{"linux-pager", "hurdvm-pager", "linux-proc", "hurdvm-proc"}},
	} {
		if got := bootKinds(c.pager, c.proc); !slices.Equal(got, c.want) {
			t.Errorf("bootKinds(%q, %q) = %v, want %v", c.pager, c.proc, got, c.want)
		}
	}
}
