package handlercheck

import (
	"debug/dwarf"
	"debug/elf"
	"sort"
)

// inlining says, for the code of each function, which functions the
// compiler inlined where (DWARF's DW_TAG_inlined_subroutine), so that a
// call the inlined copy of mm.(*VM).check makes in copyOnWrite can be
// named as check's. Without DWARF (a binary linked with -w) it is empty:
// allowances that name an inlined function then match nothing, and the
// check fails rather than passes.
type inlining map[uint64][]inlinedRange // by the function's entry

type inlinedRange struct {
	lo, hi uint64
	depth  int // 1: inlined into the function itself, 2: into that, ...
	name   string
}

func readInlining(f *elf.File) inlining {
	d, err := f.DWARF()
	if err != nil {
		return nil
	}
	in := inlining{}
	names := map[dwarf.Offset]string{}
	nameOf := func(off dwarf.Offset) string {
		if n, ok := names[off]; ok {
			return n
		}
		r := d.Reader()
		r.Seek(off)
		e, err := r.Next()
		n := ""
		if err == nil && e != nil {
			n, _ = e.Val(dwarf.AttrName).(string)
		}
		names[off] = n
		return n
	}
	r := d.Reader()
	depth, fnDepth := 0, -1
	var entry uint64
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag == 0 {
			depth--
			if depth <= fnDepth {
				fnDepth = -1
			}
			continue
		}
		switch e.Tag {
		case dwarf.TagSubprogram:
			if lo, ok := e.Val(dwarf.AttrLowpc).(uint64); ok && fnDepth < 0 {
				entry, fnDepth = lo, depth
			}
		case dwarf.TagInlinedSubroutine:
			origin, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
			ranges, err := d.Ranges(e)
			if ok && err == nil && fnDepth >= 0 {
				for _, rg := range ranges {
					in[entry] = append(in[entry], inlinedRange{rg[0], rg[1], depth - fnDepth, nameOf(origin)})
				}
			}
		}
		if e.Children {
			depth++
		}
	}
	return in
}

// at returns the functions inlined at pc in the function entered at
// entry, outermost first.
func (in inlining) at(entry, pc uint64) []string {
	var hits []inlinedRange
	for _, r := range in[entry] {
		if pc >= r.lo && pc < r.hi {
			hits = append(hits, r)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].depth < hits[j].depth })
	names := make([]string, len(hits))
	for i, h := range hits {
		names[i] = h.name
	}
	return names
}
