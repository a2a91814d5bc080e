package main

import (
	"fmt"
	"sort"
	"strings"

	"hurdvm/tests/syscalls"
)

// Comparison is the system-call table as the two kernels answered it.
type Comparison struct {
	Compared    int          // rows both kernels answered
	Differences []Difference // rows they answered differently, by name
	Unanswered  []string     // rows Linux answered and hurdvm did not
	Stale       []string     // differences.txt rows that answer as Linux now, or are no row
}

// Difference is a row where the kernels answer differently.
type Difference struct {
	Row, Linux, Hurdvm string
	Reason             string // differences.txt's, when it explains the row
}

// Explained reports whether differences.txt lists the row with hurdvm's
// answer.
func (d Difference) Explained() bool { return d.Reason != "" }

// Compare matches the rows of both kernels, and the differences against
// the explained ones.
func Compare(linux, hurdvm map[string]string, explained map[string]syscalls.Difference) Comparison {
	var c Comparison
	for _, name := range sortedKeys(linux) {
		h, ok := hurdvm[name]
		if !ok {
			c.Unanswered = append(c.Unanswered, name)
			continue
		}
		c.Compared++
		l := linux[name]
		e, listed := explained[name]
		if h == l {
			if listed {
				c.Stale = append(c.Stale, name)
			}
			continue
		}
		d := Difference{Row: name, Linux: l, Hurdvm: h}
		if listed && e.Answer == h {
			d.Reason = e.Reason
		}
		c.Differences = append(c.Differences, d)
	}
	for _, name := range sortedKeys(explained) {
		if _, ok := linux[name]; !ok {
			c.Stale = append(c.Stale, name)
		}
	}
	return c
}

// Unexplained counts the differences differences.txt does not explain.
func (c Comparison) Unexplained() int {
	n := 0
	for _, d := range c.Differences {
		if !d.Explained() {
			n++
		}
	}
	return n
}

// Table is the differences as a Markdown table.
func (c Comparison) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows compared, %d answered differently (%d explained in tests/syscalls/differences.txt)\n\n",
		c.Compared, len(c.Differences), len(c.Differences)-c.Unexplained())
	if len(c.Differences) == 0 {
		return b.String()
	}
	b.WriteString("| row | Linux 6.1 | hurdvm | explained |\n| --- | --- | --- | --- |\n")
	for _, d := range c.Differences {
		why := "no"
		if d.Explained() {
			why = d.Reason
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", d.Row, d.Linux, d.Hurdvm, why)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
