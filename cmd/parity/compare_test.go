package main

import (
	"strings"
	"testing"

	"hurdvm/tests/syscalls"
)

func TestCompare(t *testing.T) {
	linux := map[string]string{"a": "0", "b": "EFAULT", "c": "ok", "d": "EINVAL", "e": "1", "f": "2"}
	hurdvm := map[string]string{"a": "0", "b": "EINVAL", "c": "EINVAL", "d": "0", "f": "2"}
	explained := map[string]syscalls.Difference{
		"c":    {Answer: "EINVAL", Reason: "no processes"},
		"d":    {Answer: "ENOSYS", Reason: "says another answer than hurdvm gives"},
		"f":    {Answer: "3", Reason: "hurdvm now answers as Linux"},
		"gone": {Answer: "0", Reason: "no such row"},
	}
	c := Compare(linux, hurdvm, explained)
	if c.Compared != 5 {
		t.Errorf("compared %d rows, want 5", c.Compared)
	}
	var got []string
	for _, d := range c.Differences {
		got = append(got, d.Row+":"+d.Linux+">"+d.Hurdvm+":"+d.Reason)
	}
	if want := "b:EFAULT>EINVAL:,c:ok>EINVAL:no processes,d:EINVAL>0:"; strings.Join(got, ",") != want {
		t.Errorf("differences %s, want %s", strings.Join(got, ","), want)
	}
	if c.Unexplained() != 2 {
		t.Errorf("%d unexplained, want 2 (b, and d whose listed answer is not hurdvm's)", c.Unexplained())
	}
	if strings.Join(c.Unanswered, ",") != "e" || strings.Join(c.Stale, ",") != "f,gone" {
		t.Errorf("unanswered %v, stale %v", c.Unanswered, c.Stale)
	}
	table := c.Table()
	for _, want := range []string{"5 rows compared, 3 answered differently (1 explained", "| c | ok | EINVAL | no processes |", "| b | EFAULT | EINVAL | no |"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestParseRows(t *testing.T) {
	console := []byte("=== RUN   TestSyscalls/read/eventfd\n" +
		syscalls.FormatRow("read/eventfd", "8,value=3") + "\n" +
		"garbage without newline" + syscalls.FormatRow("write/console/lapic", "EFAULT") + "\n" +
		"hurdvm: unimplemented system call 61\n")
	rows := syscalls.ParseRows(console)
	if len(rows) != 2 || rows["read/eventfd"] != "8,value=3" || rows["write/console/lapic"] != "EFAULT" {
		t.Errorf("rows %v", rows)
	}
}

func TestDifferencesFileParses(t *testing.T) {
	d, err := syscalls.Differences()
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range d {
		if e.Answer == "" || e.Reason == "" {
			t.Errorf("%s: %+v", name, e)
		}
	}
}
