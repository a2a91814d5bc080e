package main

import (
	"strings"
	"testing"
)

const linuxPagerConsole = `INFO zram: modules lz4 lz4_compress zram zsmalloc; zram0 lzo lzo-rle [lz4], 1G; lru_gen 0x0007
BENCH-START Linux-6.1.0-57-amd64 go1.26.8 GOMAXPROCS=1 pager 256 MiB
INFO pager: machine 256 MiB; MemFree: 170772 kB
BENCH syscall/pager_cal_touch_fill 5782.6 ns/page
BENCH syscall/pager_evict 37301.7 ns/page
BENCH syscall/pager_major_fault 11907.8 ns/page
BENCH syscall/pager_seq_time 12699.6 ms
BENCH syscall/pager_seq_major 131266.0 faults
BENCH syscall/pager_seq_evict 259376.0 pages
BENCH syscall/pager_skew_major 47598.0 faults
BENCH syscall/pager_skew_evict 47823.0 pages
BENCH syscall/pager_skew_time 2373.9 ms
BENCH syscall/pager_skew_eq_major 55817.0 faults
BENCH syscall/pager_skew_eq_evict 56203.0 pages
BENCH syscall/pager_skew_eq_time 2785.2 ms
INFO other lines stay out
BENCH-END
`

const hurdvmPagerConsole = `BENCH-START Linux-6.1.0-hurdvm go1.26.8 GOMAXPROCS=2 pager 256 MiB
INFO pager: machine 256 MiB; free 246 MiB
BENCH kernel/pager_evict 53413.5 ns/page
BENCH kernel/pager_major_fault 5797.0 ns/page
BENCH kernel/pager_seq_time 14581.2 ms
BENCH kernel/pager_seq_major 131072.0 faults
BENCH kernel/pager_seq_evict 230972.0 pages
BENCH kernel/pager_skew_major 15595.0 faults
BENCH kernel/pager_skew_evict 15571.0 pages
BENCH kernel/pager_skew_time 935.4 ms
BENCH kernel/pager_skew_eq_major 56323.0 faults
BENCH kernel/pager_skew_eq_evict 56333.0 pages
BENCH kernel/pager_skew_eq_time 3702.5 ms
BENCH-END
hurdvm: exit status 0
`

func pagerReport(t *testing.T) *Report {
	rep := testReport(t, 0)
	l, h := mustParse(t, linuxPagerConsole), mustParse(t, hurdvmPagerConsole)
	rep.LinuxPager = []Run{l, scaled(l, 1.01), l}
	rep.HurdvmPager = []Run{h, h, h}
	rep.PagerSpread, rep.PagerSkewSpread = 2, 10
	return rep
}

func TestPagerMarkdown(t *testing.T) {
	rep := pagerReport(t)
	if got := rep.LinuxPager[0].Info; len(got) != 2 || !strings.HasPrefix(got[0], "zram: modules") || !strings.HasPrefix(got[1], "pager: machine") {
		t.Errorf("Info lines %q", got)
	}
	md := rep.Markdown()
	for _, want := range []string{
		"## The pager: Linux with zram swap against hurdvm's compressed store (2026-01-02)",
		"-m 256M",
		"| major fault: bringing an evicted page back | ns/page | 11,908 | 5,797 | 0.49 ✓ | ≤ 0.5 |",
		"| eviction, per page evicted | ns/page | 37,302 | 53,414 | 1.43 ✗ | ≤ 0.5 |",
		"| sequential: major faults | faults | 131,266 | 131,072 | 1.00 |  |",
		"| skewed, 5/8 of the machine free on both (the rest pinned): major faults | faults | 55,817 | 56,323 | 1.01 ✗ | ≤ 1 (Linux with MGLRU) |",
		"`zram: modules lz4 lz4_compress zram zsmalloc",
		"| pager_evict | 1.00 % | 0.00 % |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "other lines stay out") {
		t.Error("an INFO line of another benchmark is in the report")
	}
	if m := rep.missing(pagerTable); len(m) != 0 {
		t.Errorf("missing(pagerTable) = %v", m)
	}
	delete(rep.HurdvmPager[1].Values, "kernel/pager_evict")
	if m := rep.missing(pagerTable); len(m) != 1 || m[0] != "hurdvm-pager pager_evict" {
		t.Errorf("with a run short of a figure, missing(pagerTable) = %v", m)
	}
}

func TestPagerSpread(t *testing.T) {
	rep := pagerReport(t)
	if bad := rep.SpreadFailures(); len(bad) != 0 {
		t.Errorf("1 %% spread on the pager's figures flagged with a 2 %% limit: %v", bad)
	}
	rep.PagerSpread = 0.5
	if bad := rep.SpreadFailures(); len(bad) != 6 || !strings.HasPrefix(bad[0], "linux-pager ") {
		t.Errorf("1 %% spread of Linux's 6 pager figures outside the skewed workload, limit 0.5 %%: %v", bad)
	}
	rep.PagerSkewSpread = 0.5
	if bad := rep.SpreadFailures(); len(bad) != 12 {
		t.Errorf("1 %% spread of Linux's 12 pager figures, limits 0.5 %%: %v", bad)
	}
}

// TestPagerOnly: -pager only reports the pager's table alone.
func TestPagerOnly(t *testing.T) {
	rep := pagerReport(t)
	rep.Linux, rep.Hurdvm = nil, nil
	md := rep.Markdown()
	if !strings.HasPrefix(md, "## The pager") || strings.Contains(md, "allocate + deallocate") {
		t.Errorf("report:\n%s", md)
	}
	rep.SVG() // no main rows: must not fail
}
