package main

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Run is what one boot of vmbench printed.
type Run struct {
	Kernel string             // the BENCH-START line's uname
	Values map[string]float64 // "syscall/first_touch" -> 3312.5
	Units  map[string]string
	Info   []string // the pager's INFO lines (INFO pager..., INFO zram...): what the machine had
}

// ParseRun reads vmbench's lines from a console: BENCH-START, the BENCH
// lines, and BENCH-END, which says the run finished.
func ParseRun(console []byte) (Run, error) {
	r := Run{Values: map[string]float64{}, Units: map[string]string{}}
	started, ended := false, false
	for _, line := range scanLines(console) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "BENCH-START":
			started = true
			if len(f) > 1 {
				r.Kernel = f[1]
			}
		case "BENCH-END":
			ended = true
		case "INFO":
			if len(f) > 1 && (strings.HasPrefix(f[1], "pager") || strings.HasPrefix(f[1], "zram")) {
				r.Info = append(r.Info, strings.Join(f[1:], " "))
			}
		case "BENCH":
			if len(f) != 4 {
				return r, fmt.Errorf("malformed line %q", line)
			}
			v, err := strconv.ParseFloat(f[2], 64)
			if err != nil {
				return r, fmt.Errorf("line %q: %w", line, err)
			}
			if _, dup := r.Values[f[1]]; dup {
				return r, fmt.Errorf("figure %s printed twice", f[1])
			}
			r.Values[f[1]] = v
			r.Units[f[1]] = f[3]
		}
	}
	switch {
	case !started:
		return r, errors.New("vmbench never started (no BENCH-START line)")
	case !ended:
		return r, errors.New("vmbench did not finish (no BENCH-END line)")
	}
	return r, nil
}

// A row of the table: one operation, measured by vmbench as
// PATH/<op> on each path that has it.
type row struct {
	op, label, unit string
	target          float64 // the most hurdvm may cost, as a ratio to Linux (0: none)
}

var rows = []row{
	{"alloc_free_1p", "allocate + deallocate, 1 page (no touch)", "ns/pair", 0.5},
	{"alloc_free_4p", "allocate + deallocate, 4 pages", "ns/pair", 0.5},
	{"alloc_free_16p", "allocate + deallocate, 16 pages", "ns/pair", 0.5},
	{"first_touch", "first-touch fault, per page (fresh 64 MiB)", "ns/page", 0.5},
	{"demand_64m", "64 MiB on demand: allocate, touch every page", "µs", 0},
	{"map_now_64m", "64 MiB map_now: allocate, touch every page", "µs", 0},
	{"demand_64m_idle", "64 MiB on demand, after 200 ms idle", "µs", 0},
	{"map_now_64m_idle", "64 MiB map_now, after 200 ms idle", "µs", 0},
	{"fork_64m", "fork, 64 MiB touched", "µs", 1.0},
	{"cow_fault", "copy-on-write fault, per page (child writes 64 MiB)", "ns/page", 0.5},
	{"free_64m", "deallocate 64 MiB touched", "µs", 0},
}

// The columns: which kernel ran it, through which path.
type column struct {
	name, kernel, path string
}

var columns = []column{
	{"Linux", "linux", "syscall"},
	{"hurdvm syscalls", "hurdvm", "syscall"},
	{"hurdvm in-kernel", "hurdvm", "kernel"},
}

const mapNowNotAvailable = "hurdvm's mmap ignores MAP_POPULATE (the Go runtime never asks for it), so map_now exists only in-kernel"

// notAvailable says why a column has no figure for an operation.
var notAvailable = map[string]string{
	"hurdvm/syscall/map_now_64m":      mapNowNotAvailable,
	"hurdvm/syscall/map_now_64m_idle": mapNowNotAvailable,
	"hurdvm/syscall/fork_64m":         "this column is the kernel's own program, which has no fork(2); forking is Task.Fork, in-kernel (a process's fork(2) is in the process table)",
	"hurdvm/syscall/cow_fault":        "no fork(2) through system calls (above)",
}

// Report is the table of several runs of each kernel.
type Report struct {
	Linux, Hurdvm []Run
	// LinuxPager and HurdvmPager are the pager machine's boots
	// (pager.go); none when it was not booted.
	LinuxPager, HurdvmPager []Run
	// LinuxProc and HurdvmProc are the process table's boots (proc.go);
	// none when it was not booted.
	LinuxProc, HurdvmProc []Run
	Date, QEMU            string
	LinuxOS               string
	Machine               string
	Icount                string  // QEMU's -icount option
	Spread                float64 // percent allowed
	// PagerSpread is the percent allowed on the pager's figures, and
	// PagerSkewSpread on its skewed workload's (pager.go, skewed).
	PagerSpread, PagerSkewSpread float64
}

func (rep *Report) runs(kernel string) []Run {
	switch kernel {
	case "linux":
		return rep.Linux
	case "linux-pager":
		return rep.LinuxPager
	case "hurdvm-pager":
		return rep.HurdvmPager
	case "linux-proc":
		return rep.LinuxProc
	case "hurdvm-proc":
		return rep.HurdvmProc
	}
	return rep.Hurdvm
}

// values is every run's figure for name on kernel (nil if any run lacks it).
func (rep *Report) values(kernel, name string) []float64 {
	var vs []float64
	for _, r := range rep.runs(kernel) {
		v, ok := r.Values[name]
		if !ok {
			return nil
		}
		vs = append(vs, v)
	}
	return vs
}

// Value is the median over runs of a column's figure for op.
func (rep *Report) Value(c column, op string) (float64, bool) {
	vs := rep.values(c.kernel, c.path+"/"+op)
	if len(vs) == 0 {
		return 0, false
	}
	return medianOf(vs), true
}

// SpreadOf is (max-min)/median of a column's figure over runs, in percent.
func (rep *Report) SpreadOf(c column, op string) (float64, bool) {
	vs := rep.values(c.kernel, c.path+"/"+op)
	if len(vs) == 0 {
		return 0, false
	}
	lo, hi := vs[0], vs[0]
	for _, v := range vs {
		lo, hi = min(lo, v), max(hi, v)
	}
	m := medianOf(vs)
	if m == 0 {
		return 0, true
	}
	return (hi - lo) / m * 100, true
}

// SpreadFailures lists the figures whose runs spread more than allowed.
func (rep *Report) SpreadFailures() []string {
	var bad []string
	for _, kernel := range []string{"linux", "hurdvm", "linux-pager", "hurdvm-pager", "linux-proc", "hurdvm-proc"} {
		limit := rep.Spread
		if strings.HasSuffix(kernel, "-pager") {
			limit = rep.PagerSpread
		}
		names := map[string]bool{}
		for _, r := range rep.runs(kernel) {
			for n := range r.Values {
				names[n] = true
			}
		}
		for _, n := range sortedKeys(names) {
			vs := rep.values(kernel, n)
			if len(vs) == 0 {
				bad = append(bad, fmt.Sprintf("%s %s: missing in some runs", kernel, n))
				continue
			}
			path, op, _ := strings.Cut(n, "/")
			s, _ := rep.SpreadOf(column{"", kernel, path}, op)
			lim := limit
			if strings.HasSuffix(kernel, "-pager") && skewed(op) {
				lim = rep.PagerSkewSpread
			}
			if s > lim {
				bad = append(bad, fmt.Sprintf("%s %s: %.2f %% (runs: %s)", kernel, n, s, fmtList(vs)))
			}
		}
	}
	return bad
}

// Missing lists the cells that have neither a figure nor a reason.
func (rep *Report) Missing() []string {
	var m []string
	for _, r := range rows {
		for _, c := range columns {
			if _, ok := rep.Value(c, r.op); !ok && notAvailable[c.kernel+"/"+c.path+"/"+r.op] == "" {
				m = append(m, c.name+" "+r.op)
			}
		}
	}
	return m
}

// ratio is hurdvm's figure over Linux's for op through path.
func (rep *Report) ratio(path, op string) (float64, bool) {
	return rep.pairRatio(pairTable{linux: columns[0], hurdvm: column{"", "hurdvm", path}}, op)
}

// speedup is demand_64m over map_now_64m in a column (suffix "_idle": the
// figures after idle time).
func (rep *Report) speedup(c column, suffix string) (float64, bool) {
	d, ok1 := rep.Value(c, "demand_64m"+suffix)
	n, ok2 := rep.Value(c, "map_now_64m"+suffix)
	if !ok1 || !ok2 || n == 0 {
		return 0, false
	}
	return d / n, true
}

// Markdown is the report: the table, what n/a means, the spread.
func (rep *Report) Markdown() string {
	if len(rep.Linux) == 0 && len(rep.Hurdvm) == 0 { // benchreport -pager only, -proc only
		p, q := rep.pagerMarkdown(), rep.procMarkdown()
		if p != "" && q != "" {
			p += "\n"
		}
		return p + q
	}
	var b strings.Builder
	notes := []string{}
	noteMark := func(key string) string {
		why := notAvailable[key]
		if why == "" {
			return "—"
		}
		for i, n := range notes {
			if n == why {
				return fmt.Sprintf("n/a (%c)", 'a'+i)
			}
		}
		notes = append(notes, why)
		return fmt.Sprintf("n/a (%c)", 'a'+len(notes)-1)
	}
	fmt.Fprintf(&b, "## hurdvm against Linux, same QEMU machine (%s)\n\n", rep.Date)
	fmt.Fprintf(&b, "%s; `%s`; Linux %s (Debian linux-image-amd64, initramfs, `%s`); "+
		"median of %d boots of each kernel, each figure in a boot the median of its samples. "+
		"Times are guest instructions: under `-icount shift=0` the guest clock advances 1 ns per instruction.\n\n",
		rep.QEMU, rep.Machine, strings.TrimPrefix(rep.LinuxOS, "Linux-"), linuxBoot("", "").Cmdline(), len(rep.Linux))
	b.WriteString("| operation | unit | Linux | hurdvm syscalls | hurdvm in-kernel | syscalls ÷ Linux | in-kernel ÷ Linux | target |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |", r.label, r.unit)
		for _, c := range columns {
			if v, ok := rep.Value(c, r.op); ok {
				fmt.Fprintf(&b, " %s |", fmtValue(v))
			} else {
				fmt.Fprintf(&b, " %s |", noteMark(c.kernel+"/"+c.path+"/"+r.op))
			}
		}
		for _, path := range []string{"syscall", "kernel"} {
			if x, ok := rep.ratio(path, r.op); ok {
				fmt.Fprintf(&b, " %s |", fmtRatio(x, r.target, false))
			} else {
				b.WriteString(" |")
			}
		}
		if r.target > 0 {
			fmt.Fprintf(&b, " ≤ %g |\n", r.target)
		} else {
			b.WriteString(" |\n")
		}
	}
	for _, sp := range []struct{ suffix, label string }{{"", "map_now speedup: demand ÷ map_now, 64 MiB"},
		{"_idle", "map_now speedup after 200 ms idle"}} {
		fmt.Fprintf(&b, "| %s | × |", sp.label)
		for _, c := range columns {
			target := 0.0
			if c.path == "kernel" {
				target = 20
			}
			if x, ok := rep.speedup(c, sp.suffix); ok {
				fmt.Fprintf(&b, " %s |", fmtRatio(x, target, true))
			} else {
				fmt.Fprintf(&b, " %s |", noteMark(c.kernel+"/"+c.path+"/map_now_64m"))
			}
		}
		b.WriteString(" | | ≥ 20 (in-kernel, huge pages) |\n")
	}
	b.WriteString("\n")
	b.WriteString("Ratios below 1: hurdvm is cheaper. ✓/✗: the target met or missed. " +
		"Linux runs with `transparent_hugepage=never`, so its MAP_POPULATE maps 4 KiB pages; hurdvm's map_now maps 2 MiB pages.\n\n")
	for i, n := range notes {
		fmt.Fprintf(&b, "(%c) %s.  \n", 'a'+i, n)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
	}

	fmt.Fprintf(&b, "Spread between the %d boots of each kernel, (max − min) ÷ median, limit %.1f %%:\n\n", len(rep.Linux), rep.Spread)
	b.WriteString("| operation | Linux | hurdvm syscalls | hurdvm in-kernel |\n| --- | ---: | ---: | ---: |\n")
	worst := map[string]float64{}
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s |", r.op)
		for _, c := range columns {
			if s, ok := rep.SpreadOf(c, r.op); ok {
				fmt.Fprintf(&b, " %.2f %% |", s)
				worst[c.kernel] = max(worst[c.kernel], s)
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nLargest spread: Linux %.2f %%, hurdvm %.2f %%.\n", worst["linux"], worst["hurdvm"])
	if p := rep.pagerMarkdown(); p != "" {
		b.WriteString("\n" + p)
	}
	if p := rep.procMarkdown(); p != "" {
		b.WriteString("\n" + p)
	}
	return b.String()
}

func fmtValue(v float64) string {
	switch {
	case v >= 1000:
		return thousands(int64(math.Round(v)))
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}

// fmtRatio prints a ratio, with ✓ or ✗ against target: at most target
// (a cost ratio), or at least it when atLeast.
func fmtRatio(x, target float64, atLeast bool) string {
	s := strconv.FormatFloat(x, 'f', 2, 64)
	if x >= 10 {
		s = strconv.FormatFloat(x, 'f', 1, 64)
	}
	if target == 0 {
		return s
	}
	met := x <= target
	if atLeast {
		met = x >= target
	}
	if met {
		return s + " ✓"
	}
	return s + " ✗"
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtList(vs []float64) string {
	var s []string
	for _, v := range vs {
		s = append(s, strconv.FormatFloat(v, 'f', 1, 64))
	}
	return strings.Join(s, ", ")
}

func medianOf(vs []float64) float64 {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func sortedKeys(m map[string]bool) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// SVG draws hurdvm's cost as a ratio to Linux's, per operation and path,
// as bars from 1 (parity) on a log scale: left of the line hurdvm is
// cheaper. A dashed tick marks each target.
func (rep *Report) SVG() []byte {
	type bar struct {
		row   row
		ratio [2]float64 // syscall, kernel; 0: none
	}
	var bars []bar
	lo, hi := 1.0, 1.0
	for _, r := range rows {
		var br bar
		br.row = r
		for i, path := range []string{"syscall", "kernel"} {
			if x, ok := rep.ratio(path, r.op); ok && x > 0 {
				br.ratio[i] = x
				lo, hi = min(lo, x), max(hi, x)
			}
		}
		if br.ratio[0] == 0 && br.ratio[1] == 0 {
			continue
		}
		if r.target > 0 {
			lo, hi = min(lo, r.target), max(hi, r.target)
		}
		bars = append(bars, br)
	}
	// The map_now target is within hurdvm: map_now's cost over demand
	// paging's, at most 1/20.
	if x, ok := rep.speedup(columns[2], ""); ok && x > 0 {
		br := bar{row: row{label: "map_now ÷ on demand, 64 MiB (within hurdvm)", target: 1.0 / 20}}
		br.ratio[1] = 1 / x
		lo, hi = min(lo, 1/x, br.row.target), max(hi, 1/x)
		bars = append(bars, br)
	}
	// The pager's rows with a target (pager.go): hurdvm in a task.
	for _, r := range pagerRows {
		if r.target == 0 {
			continue
		}
		if x, ok := rep.pairRatio(pagerTable, r.op); ok && x > 0 {
			br := bar{row: row{label: r.short, target: r.target}}
			br.ratio[1] = x
			lo, hi = min(lo, x, r.target), max(hi, x, r.target)
			bars = append(bars, br)
		}
	}
	// Powers of two around the data, with room right of parity.
	hi = max(hi, 2)
	lg := func(x float64) float64 { return math.Log2(x) }
	minE, maxE := math.Floor(lg(lo)), math.Ceil(lg(hi))
	if maxE-minE < 2 {
		maxE = minE + 2
	}
	const (
		left, right = 330.0, 40.0
		top         = 60.0
		plotW       = 460.0
		rowH        = 34.0
		barH        = 12.0
	)
	width := left + plotW + right
	height := top + rowH*float64(len(bars)) + 60
	x := func(r float64) float64 { return left + (lg(r)-minE)/(maxE-minE)*plotW }
	colors := [2]string{"#4c78a8", "#f58518"}

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="22" font-size="15" font-weight="bold">hurdvm's cost as a ratio to Linux's (log scale; left of 1: hurdvm cheaper)</text>`+"\n", 10.0)
	fmt.Fprintf(&b, `<text x="%.0f" y="40" fill="#555">%s; %s; guest instructions (-icount %s)</text>`+"\n", 10.0, html.EscapeString(rep.Date), html.EscapeString(rep.QEMU), html.EscapeString(rep.Icount))
	// Grid and axis labels.
	axisY := top + rowH*float64(len(bars))
	for e := minE; e <= maxE; e++ {
		r := math.Pow(2, e)
		gx := x(r)
		stroke, w := "#ddd", 1.0
		if e == 0 {
			stroke, w = "#000", 1.5
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"/>`+"\n", gx, top-6, gx, axisY, stroke, w)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", gx, axisY+16, fmtAxis(r))
	}
	for i, br := range bars {
		y := top + rowH*float64(i)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, y+rowH/2+4, html.EscapeString(br.row.label))
		for j, r := range br.ratio {
			if r == 0 {
				continue
			}
			by := y + 4 + float64(j)*(barH+2)
			x0, x1 := x(1), x(r)
			if x1 < x0 {
				x0, x1 = x1, x0
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x0, by, max(x1-x0, 1), barH, colors[j])
			lx, anchor := x(r)+4, "start"
			if r < 1 {
				lx, anchor = x(r)-4, "end"
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s" font-size="10">%.2f</text>`+"\n", lx, by+barH-2, anchor, r)
		}
		if br.row.target > 0 {
			tx := x(br.row.target)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c00" stroke-width="2" stroke-dasharray="3,2"/>`+"\n", tx, y+2, tx, y+rowH-4)
		}
	}
	ly := axisY + 38
	for j, name := range []string{"hurdvm through the Linux system calls", "hurdvm in-kernel (mm.VMAllocate, Task.Fork)"} {
		lx := left - 300 + float64(j)*300
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="12" height="12" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`+"\n", lx, ly-10, colors[j], lx+16, ly, name)
	}
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#c00" stroke-width="2" stroke-dasharray="3,2"/><text x="%.0f" y="%.0f">target</text>`+"\n", left+320, ly-10, left+320, ly+2, left+326, ly)
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func fmtAxis(r float64) string {
	if r >= 1 {
		return strconv.FormatFloat(r, 'f', 0, 64) + "×"
	}
	return "1/" + strconv.FormatFloat(1/r, 'f', 0, 64)
}
