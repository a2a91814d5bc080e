package main

import (
	"fmt"
	"strings"
)

// A table of two kernels (the pager's, the process one): Linux's column,
// hurdvm's, and the ops of its rows, in order.
type pairTable struct {
	linux, hurdvm column
	ops           []string
}

// pairRatio is hurdvm's figure for op over Linux's.
func (rep *Report) pairRatio(t pairTable, op string) (float64, bool) {
	l, ok1 := rep.Value(t.linux, op)
	h, ok2 := rep.Value(t.hurdvm, op)
	if !ok1 || !ok2 || l == 0 {
		return 0, false
	}
	return h / l, true
}

// missing lists the table's cells without a figure.
func (rep *Report) missing(t pairTable) []string {
	var m []string
	for _, op := range t.ops {
		for _, c := range []column{t.linux, t.hurdvm} {
			if _, ok := rep.Value(c, op); !ok {
				m = append(m, c.kernel+" "+op)
			}
		}
	}
	return m
}

// writeValues writes op's two figures as table cells ("—" for none).
func (rep *Report) writeValues(b *strings.Builder, t pairTable, op string) {
	for _, c := range []column{t.linux, t.hurdvm} {
		if v, ok := rep.Value(c, op); ok {
			fmt.Fprintf(b, " %s |", fmtValue(v))
		} else {
			b.WriteString(" — |")
		}
	}
}

// writeSpread writes the table of each op's spread between the boots of
// each kernel, its first column headed first.
func (rep *Report) writeSpread(b *strings.Builder, t pairTable, first string) {
	fmt.Fprintf(b, "| %s | %s | %s |\n| --- | ---: | ---: |\n", first, t.linux.name, t.hurdvm.name)
	for _, op := range t.ops {
		fmt.Fprintf(b, "| %s |", op)
		for _, c := range []column{t.linux, t.hurdvm} {
			if s, ok := rep.SpreadOf(c, op); ok {
				fmt.Fprintf(b, " %.2f %% |", s)
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
}
