package loader

import (
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLoadGoPrograms loads real static Go programs, one from go build and
// one from go test -c, and checks the plan against the files read back
// with debug/elf (and readelf -lW when the host has it), then applies it
// to a simulated memory and checks every byte.
func TestLoadGoPrograms(t *testing.T) {
	progs := map[string]string{
		"go build":   auxdump(t),
		"go test -c": goBuild(t, "errors.test", "test", "-c", "errors"),
	}
	for name, path := range progs {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			plan, file := loadFile(t, path, nil)
			f, err := elf.NewFile(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstELF(t, plan, f)
			if out, err := exec.Command("readelf", "-lW", path).Output(); err == nil {
				checkAgainstReadelf(t, plan, string(out))
			} else {
				t.Logf("readelf: %v (not compared)", err)
			}
			mem := newSimMemory()
			if err := plan.Apply(bytes.NewReader(file), mem); err != nil {
				t.Fatal(err)
			}
			checkApplied(t, plan, file, mem)
			for _, s := range plan.Segments {
				t.Logf("LOAD %#x-%#x %s file %#x+%#x (copied %#x from %#x)", s.Start, s.End, s.Prot, s.Offset, s.Filesz, s.CopySize, s.FileStart)
			}
			t.Logf("entry %#x phdr %#x phnum %d brk %#x execstack %v tls %+v", plan.Entry, plan.Phdr, plan.Phnum, plan.Brk, plan.ExecStack, plan.TLS)
		})
	}
}

func checkAgainstELF(t *testing.T, plan *Plan, f *elf.File) {
	t.Helper()
	if plan.Type != f.Type || plan.Type != elf.ET_EXEC || plan.Bias != 0 {
		t.Errorf("type %v bias %#x, file says %v", plan.Type, plan.Bias, f.Type)
	}
	if plan.Entry != f.Entry {
		t.Errorf("entry %#x, file says %#x", plan.Entry, f.Entry)
	}
	if plan.Phnum != uint64(len(f.Progs)) {
		t.Errorf("phnum %d, file has %d", plan.Phnum, len(f.Progs))
	}
	if len(plan.Warnings) != 0 {
		t.Errorf("warnings: %q", plan.Warnings)
	}
	var maxEnd uint64
	n := 0
	stack := false
	for i, p := range f.Progs {
		switch p.Type {
		case elf.PT_PHDR:
			if plan.Phdr != p.Vaddr {
				t.Errorf("AT_PHDR %#x, PT_PHDR says %#x", plan.Phdr, p.Vaddr)
			}
		case elf.PT_GNU_STACK:
			stack = true
			if plan.ExecStack != (p.Flags&elf.PF_X != 0) {
				t.Errorf("ExecStack %v, PT_GNU_STACK flags %v", plan.ExecStack, p.Flags)
			}
		case elf.PT_TLS:
			if plan.TLS == nil || *plan.TLS != (TLS{p.Vaddr, p.Filesz, p.Memsz, p.Align}) {
				t.Errorf("TLS %+v, PT_TLS %+v", plan.TLS, p.ProgHeader)
			}
		case elf.PT_LOAD:
			if p.Memsz == 0 {
				continue
			}
			n++
			var s *Segment
			for j := range plan.Segments {
				if plan.Segments[j].Index == i {
					s = &plan.Segments[j]
				}
			}
			if s == nil {
				t.Errorf("PT_LOAD %d is not planned", i)
				continue
			}
			want := Segment{
				Vaddr: p.Vaddr, Memsz: p.Memsz, Offset: p.Off, Filesz: p.Filesz, Align: p.Align,
				Prot:  protOf(p.Flags),
				Start: p.Vaddr &^ 0xfff, End: (p.Vaddr + p.Memsz + 0xfff) &^ 0xfff,
				FileStart: p.Off &^ 0xfff, Index: i,
			}
			if p.Memsz > p.Filesz {
				want.CopySize = p.Vaddr + p.Filesz - want.Start
			} else {
				want.CopySize = (p.Vaddr+p.Filesz+0xfff)&^0xfff - want.Start
			}
			if *s != want {
				t.Errorf("PT_LOAD %d planned %+v, want %+v", i, *s, want)
			}
			maxEnd = max(maxEnd, p.Vaddr+p.Memsz)
		}
	}
	if !stack {
		t.Errorf("Go programs have PT_GNU_STACK")
	}
	if n != len(plan.Segments) || n < 2 {
		t.Errorf("%d segments planned, %d PT_LOADs", len(plan.Segments), n)
	}
	if want := (maxEnd + 0xfff) &^ 0xfff; plan.Brk != want {
		t.Errorf("brk %#x, want %#x", plan.Brk, want)
	}
	for i := 1; i < len(plan.Segments); i++ {
		if plan.Segments[i-1].End > plan.Segments[i].Start {
			t.Errorf("segments %d and %d overlap", i-1, i)
		}
	}
}

// checkAgainstReadelf compares the LOAD lines of readelf -lW.
func checkAgainstReadelf(t *testing.T, plan *Plan, out string) {
	t.Helper()
	var loads []Segment
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || f[0] != "LOAD" {
			continue
		}
		num := func(s string) uint64 {
			v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
			if err != nil {
				t.Fatalf("readelf line %q: %v", line, err)
			}
			return v
		}
		flags := strings.Join(f[6:len(f)-1], "")
		var prot Prot
		for _, c := range flags {
			prot |= map[rune]Prot{'R': ProtRead, 'W': ProtWrite, 'E': ProtExec}[c]
		}
		if num(f[5]) == 0 {
			continue
		}
		loads = append(loads, Segment{Offset: num(f[1]), Vaddr: num(f[2]), Filesz: num(f[4]), Memsz: num(f[5]), Prot: prot, Align: num(f[len(f)-1])})
	}
	if len(loads) != len(plan.Segments) {
		t.Fatalf("readelf lists %d LOADs, the plan %d:\n%s", len(loads), len(plan.Segments), out)
	}
	for i, l := range loads {
		s := plan.Segments[i]
		if l.Offset != s.Offset || l.Vaddr != s.Vaddr || l.Filesz != s.Filesz || l.Memsz != s.Memsz || l.Prot != s.Prot || l.Align != s.Align {
			t.Errorf("readelf LOAD %d: %+v; plan %+v", i, l, s)
		}
	}
	if !strings.Contains(out, "Entry point 0x"+strconv.FormatUint(plan.Entry, 16)) {
		t.Errorf("readelf does not give entry %#x:\n%s", plan.Entry, out)
	}
}

// checkApplied checks the memory after Apply: every page of every
// segment allocated with its protection, the file's bytes where Linux's
// mapping puts them, zeros in the bss.
func checkApplied(t testing.TB, plan *Plan, file []byte, mem *simMemory) {
	t.Helper()
	if len(mem.regions) != len(plan.Segments) {
		t.Fatalf("%d regions for %d segments", len(mem.regions), len(plan.Segments))
	}
	for i, s := range plan.Segments {
		r := mem.regions[i]
		if r.start != s.Start || r.end != s.End || r.prot != s.Prot {
			t.Errorf("region %#x-%#x %v, segment %#x-%#x %v", r.start, r.end, r.prot, s.Start, s.End, s.Prot)
		}
		got := mem.read(t, s.Start, s.End-s.Start)
		want := make([]byte, s.End-s.Start)
		// Linux's mapping: the file's pages from the one holding p_offset.
		fileEnd := (s.Vaddr + s.Filesz + PageSize - 1) &^ (PageSize - 1)
		if s.Filesz == 0 && s.Vaddr%PageSize == 0 {
			fileEnd = s.Start
		}
		for a := s.Start; a < fileEnd; a++ {
			if off := s.FileStart + (a - s.Start); off < uint64(len(file)) {
				want[a-s.Start] = file[off]
			}
		}
		if s.Memsz > s.Filesz { // padzero
			for a := s.Vaddr + s.Filesz; a < s.End; a++ {
				want[a-s.Start] = 0
			}
		}
		if !bytes.Equal(got, want) {
			i := 0
			for got[i] == want[i] {
				i++
			}
			t.Errorf("segment %d: byte at %#x is %#x, want %#x", s.Index, s.Start+uint64(i), got[i], want[i])
		}
	}
}

// TestLoadSmall checks the small program's plan value by value.
func TestLoadSmall(t *testing.T) {
	file := smallELF()
	plan, err := Load(bytes.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{
		{Vaddr: 0x400000, Memsz: 0x1800, Offset: 0, Filesz: 0x1800, Align: 0x1000, Prot: ProtRead | ProtExec,
			Start: 0x400000, End: 0x402000, FileStart: 0, CopySize: 0x2000, Index: 1},
		{Vaddr: 0x402800, Memsz: 0x2000, Offset: 0x1800, Filesz: 0x300, Align: 0x1000, Prot: ProtRead | ProtWrite,
			Start: 0x402000, End: 0x405000, FileStart: 0x1000, CopySize: 0xb00, Index: 2},
	}
	if len(plan.Segments) != 2 || plan.Segments[0] != want[0] || plan.Segments[1] != want[1] {
		t.Errorf("segments %+v\nwant %+v", plan.Segments, want)
	}
	if plan.Entry != smallEntry || plan.Phdr != 0x400040 || plan.Phnum != 5 || plan.Brk != 0x405000 || plan.ExecStack {
		t.Errorf("plan %+v", plan)
	}
	if plan.TLS == nil || *plan.TLS != (TLS{0x402800, 0x10, 0x20, 8}) {
		t.Errorf("TLS %+v", plan.TLS)
	}
	if plan.StartCode != 0x400000 || plan.EndCode != 0x401800 || plan.StartData != 0x402800 || plan.EndData != 0x402b00 {
		t.Errorf("code %#x-%#x data %#x-%#x", plan.StartCode, plan.EndCode, plan.StartData, plan.EndData)
	}
	mem := newSimMemory()
	if err := plan.Apply(bytes.NewReader(file), mem); err != nil {
		t.Fatal(err)
	}
	checkApplied(t, plan, file, mem)
	// The partial pages, spelled out: the text's last page shows the file
	// bytes after it (Linux maps whole pages); the data's first page the
	// file bytes before it; its bss is zero from p_filesz on.
	if got := mem.read(t, 0x401800, 1)[0]; got != file[0x1800] {
		t.Errorf("text tail %#x, want the file's %#x", got, file[0x1800])
	}
	if got := mem.read(t, 0x402000, 1)[0]; got != file[0x1000] {
		t.Errorf("data head %#x, want the file's %#x", got, file[0x1000])
	}
	if got := mem.read(t, 0x402aff, 2); got[0] != file[0x1aff] || got[1] != 0 {
		t.Errorf("data/bss boundary % x, want %#x 00", got, file[0x1aff])
	}
}

// TestLoadStaticPIE: a static-pie (ET_DYN without PT_INTERP) is loaded at
// a base: DefaultPIEBase, or Options.PIEBase, aligned to the segments'
// p_align.
func TestLoadStaticPIE(t *testing.T) {
	progs := smallProgs()
	for i := range progs {
		if progs[i].Vaddr != 0 {
			progs[i].Vaddr -= 0x400000
			progs[i].Paddr -= 0x400000
		}
	}
	file := mkELF(elf.ET_DYN, smallEntry-0x400000, progs, smallSize)
	for _, c := range []struct{ base, bias uint64 }{
		{0, DefaultPIEBase},
		{0x10000000, 0x10000000},
		{0x10000800, 0x10000000}, // aligned down
	} {
		plan, err := Load(bytes.NewReader(file), &Options{PIEBase: c.base})
		if err != nil {
			t.Fatal(err)
		}
		if plan.Type != elf.ET_DYN || plan.Bias != c.bias || plan.Entry != c.bias+0x1000 || plan.Phdr != c.bias+0x40 ||
			plan.Segments[0].Start != c.bias || plan.Brk != c.bias+0x5000 || plan.TLS.Vaddr != c.bias+0x2800 {
			t.Errorf("base %#x: %+v", c.base, plan)
		}
	}

	// A real one, when the host can link it.
	dir := t.TempDir()
	src := filepath.Join(dir, "pie.c")
	os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644)
	bin := filepath.Join(dir, "pie")
	if out, err := exec.Command("gcc", "-static-pie", "-O", "-o", bin, src).CombinedOutput(); err != nil {
		t.Logf("gcc -static-pie: %v %s (a real static-pie not loaded)", err, out)
		return
	}
	plan, _ := loadFile(t, bin, nil)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if plan.Type != elf.ET_DYN || plan.Entry != f.Entry+plan.Bias || plan.Bias == 0 {
		t.Errorf("static-pie: %+v", plan)
	}
	t.Logf("gcc -static-pie: bias %#x, entry %#x, %d segments, brk %#x", plan.Bias, plan.Entry, len(plan.Segments), plan.Brk)
}

// TestLoadRefusals mutates the small program's headers: each refusal is
// checked by its kind.
func TestLoadRefusals(t *testing.T) {
	const interp = "/lib64/ld-linux-x86-64.so.2"
	set := func(i int, f func(p *elf.Prog64)) func([]elf.Prog64) {
		return func(ps []elf.Prog64) { f(&ps[i]) }
	}
	cases := []struct {
		name  string
		progs func([]elf.Prog64)  // changes the program headers
		file  func([]byte) []byte // changes the file afterwards
		opts  *Options
		kind  error
		msg   string // a part of the message
	}{
		{name: "empty", file: func([]byte) []byte { return nil }, kind: ErrNotELF},
		{name: "magic", file: func(b []byte) []byte { b[1] = 'X'; return b }, kind: ErrNotELF},
		{name: "short header", file: func(b []byte) []byte { return b[:40] }, kind: ErrTruncated},
		{name: "ELFCLASS32", file: func(b []byte) []byte { b[elf.EI_CLASS] = byte(elf.ELFCLASS32); return b }, kind: ErrClass, msg: "ELFCLASS32 file"},
		{name: "big-endian", file: func(b []byte) []byte { b[elf.EI_DATA] = byte(elf.ELFDATA2MSB); return b }, kind: ErrClass},
		{name: "EI_VERSION", file: func(b []byte) []byte { b[elf.EI_VERSION] = 0; return b }, kind: ErrHeader},
		{name: "i386", file: func(b []byte) []byte { b[18] = byte(elf.EM_386); return b }, kind: ErrMachine, msg: "EM_386"},
		{name: "aarch64", file: func(b []byte) []byte { b[18] = byte(elf.EM_AARCH64); return b }, kind: ErrMachine},
		{name: "ET_REL", file: func(b []byte) []byte { b[16] = byte(elf.ET_REL); return b }, kind: ErrType, msg: "ET_REL"},
		{name: "ET_CORE", file: func(b []byte) []byte { b[16] = byte(elf.ET_CORE); return b }, kind: ErrType},
		{name: "phentsize", file: func(b []byte) []byte { b[54] = 32; return b }, kind: ErrHeader},
		{name: "phnum 0", file: func(b []byte) []byte { b[56] = 0; return b }, kind: ErrHeader},
		{name: "phnum 74", file: func(b []byte) []byte { b[56] = 74; return b }, kind: ErrHeader},
		{name: "phnum 0xffff", file: func(b []byte) []byte { b[56], b[57] = 0xff, 0xff; return b }, kind: ErrHeader},
		{name: "phoff past the end", file: func(b []byte) []byte { b[33] = 0x30; return b }, kind: ErrTruncated},
		{name: "phoff huge", file: func(b []byte) []byte { b[39] = 0xff; return b }, kind: ErrHeader},
		{name: "PT_INTERP",
			progs: set(3, func(p *elf.Prog64) {
				*p = elf.Prog64{Type: uint32(elf.PT_INTERP), Flags: uint32(elf.PF_R), Off: 0x1c00, Filesz: uint64(len(interp) + 1), Memsz: uint64(len(interp) + 1)}
			}),
			file: func(b []byte) []byte { copy(b[0x1c00:], interp+"\x00"); return b },
			kind: ErrDynamic, msg: "loader: PT_INTERP " + interp + ": dynamically linked programs are not supported; build with CGO_ENABLED=0"},
		{name: "PT_INTERP ET_DYN",
			progs: set(3, func(p *elf.Prog64) { *p = elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 0x1c00, Filesz: 4} }),
			file:  func(b []byte) []byte { b[16] = byte(elf.ET_DYN); return b },
			kind:  ErrDynamic},
		{name: "PT_INTERP past the end",
			progs: set(3, func(p *elf.Prog64) { *p = elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 1 << 40, Filesz: 1 << 40} }),
			kind:  ErrDynamic, msg: "loader: PT_INTERP: dynamically"},
		{name: "filesz > memsz", progs: set(2, func(p *elf.Prog64) { p.Filesz = p.Memsz + 1 }), kind: ErrSize},
		{name: "offset+filesz wraps", progs: set(2, func(p *elf.Prog64) { p.Off = 1<<64 - 0x800; p.Filesz = 0x1000; p.Memsz = 0x1000 }), kind: ErrSize},
		{name: "offset not congruent", progs: set(2, func(p *elf.Prog64) { p.Off = 0x1804 }), kind: ErrAlign},
		{name: "below mmap_min_addr", progs: set(1, func(p *elf.Prog64) { p.Vaddr = 0x1000 }), kind: ErrRange},
		{name: "page 0", progs: set(1, func(p *elf.Prog64) { p.Vaddr = 0 }), kind: ErrRange},
		{name: "past 128 TiB", progs: set(2, func(p *elf.Prog64) { p.Vaddr = 1<<47 - 0x800 }), kind: ErrRange},
		{name: "into the top page", progs: set(2, func(p *elf.Prog64) { p.Vaddr = 1<<47 - 0x2800 }), kind: ErrRange},
		{name: "kernel half", progs: set(2, func(p *elf.Prog64) { p.Vaddr = 0xffffffff80000800 }), kind: ErrRange},
		{name: "vaddr+memsz wraps", progs: set(2, func(p *elf.Prog64) { p.Vaddr = 1<<64 - 0x800 }), kind: ErrRange},
		{name: "memsz huge", progs: set(2, func(p *elf.Prog64) { p.Memsz = 1 << 63 }), kind: ErrRange},
		{name: "overlap", progs: set(2, func(p *elf.Prog64) { p.Vaddr = 0x401800 }), kind: ErrOverlap},
		{name: "overlap reversed", progs: set(1, func(p *elf.Prog64) { p.Vaddr = 0x403000 }), kind: ErrOverlap},
		{name: "no PT_LOAD", progs: func(ps []elf.Prog64) { ps[1].Type, ps[2].Type = uint32(elf.PT_NOTE), uint32(elf.PT_NOTE) }, kind: ErrNoLoad},
		{name: "only empty PT_LOADs", progs: func(ps []elf.Prog64) { ps[1].Memsz, ps[1].Filesz, ps[2].Memsz, ps[2].Filesz = 0, 0, 0, 0 }, kind: ErrNoLoad},
		{name: "entry outside", file: func(b []byte) []byte { b[24+2] = 0x50; return b }, kind: ErrEntry},
		{name: "entry in data", file: func(b []byte) []byte { b[24+1] = 0x29; b[24+2] = 0x40; return b }, kind: ErrEntry},
		{name: "entry in a text page past p_memsz", file: func(b []byte) []byte { b[24+1] = 0x19; return b }, kind: ErrEntry},
		{name: "entry in a data page before p_vaddr", progs: set(2, func(p *elf.Prog64) { p.Flags |= uint32(elf.PF_X) }), file: func(b []byte) []byte { b[24+1] = 0x20; b[24+2] = 0x40; return b }, kind: ErrEntry},
		{name: "truncated segment", file: func(b []byte) []byte { return b[:0x1a00] }, kind: ErrTruncated},
		{name: "W+X denied", progs: set(2, func(p *elf.Prog64) { p.Flags |= uint32(elf.PF_X) }), opts: &Options{DenyWX: true}, kind: ErrWX},
		{name: "outside custom range", opts: &Options{MinAddr: 0x401000}, kind: ErrRange},
		{name: "outside custom top", opts: &Options{MaxAddr: 0x404000}, kind: ErrRange},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			progs := smallProgs()
			if c.progs != nil {
				c.progs(progs)
			}
			file := mkELF(elf.ET_EXEC, smallEntry, progs, smallSize)
			if c.file != nil {
				file = c.file(file)
			}
			plan, err := Load(bytes.NewReader(file), c.opts)
			if err == nil {
				t.Fatalf("loaded: %+v", plan)
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, c.kind) {
				t.Fatalf("error %v (%T), want kind %v", err, err, c.kind)
			}
			if !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "loader: ") {
				t.Errorf("message %q, want %q in it", err, c.msg)
			}
			t.Logf("%v", err)
		})
	}
}

// TestLoadAccepted: what Linux loads and Load does too, with a word.
func TestLoadAccepted(t *testing.T) {
	progs := smallProgs()
	progs[2].Flags |= uint32(elf.PF_X)
	progs[3].Flags |= uint32(elf.PF_X)
	plan, err := Load(bytes.NewReader(mkELF(elf.ET_EXEC, smallEntry, progs, smallSize)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Warnings) != 1 || !strings.Contains(plan.Warnings[0], "writable and executable") || !plan.ExecStack {
		t.Errorf("warnings %q, exec stack %v", plan.Warnings, plan.ExecStack)
	}

	// No PT_PHDR: AT_PHDR from the segment that maps e_phoff, as Linux.
	progs = smallProgs()
	progs[0].Type = uint32(elf.PT_NOTE)
	plan, err = Load(bytes.NewReader(mkELF(elf.ET_EXEC, smallEntry, progs, smallSize)), nil)
	if err != nil || plan.Phdr != 0x400040 {
		t.Fatalf("%v %+v", err, plan)
	}

	// No segment maps the headers: Linux passes 0, so does Load, saying so.
	progs = smallProgs()
	progs[0].Type = uint32(elf.PT_NOTE)
	progs[1].Off, progs[1].Vaddr, progs[1].Filesz, progs[1].Memsz = 0x1000, 0x401000, 0x800, 0x800
	plan, err = Load(bytes.NewReader(mkELF(elf.ET_EXEC, smallEntry, progs, smallSize)), nil)
	if err != nil || plan.Phdr != 0 || len(plan.Warnings) != 1 {
		t.Fatalf("%v %+v", err, plan)
	}

	// Empty PT_LOADs are left out; segments out of order are sorted;
	// no PT_GNU_STACK is a non-executable stack.
	progs = smallProgs()
	progs[1], progs[2] = progs[2], progs[1]
	progs[3] = elf.Prog64{Type: uint32(elf.PT_LOAD), Vaddr: 0x10, Off: 0x10}
	plan, err = Load(bytes.NewReader(mkELF(elf.ET_EXEC, smallEntry, progs, smallSize)), nil)
	if err != nil || len(plan.Segments) != 2 || plan.Segments[0].Index != 2 || plan.ExecStack {
		t.Fatalf("%v %+v", err, plan)
	}
}

// TestLoadDynamic: a dynamically linked program of the host (a PIE with
// an interpreter, as distributions build them) is refused with its
// interpreter's name.
func TestLoadDynamic(t *testing.T) {
	for _, path := range []string{"/bin/true", "/usr/bin/env"} {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		_, err = Load(f, nil)
		f.Close()
		if !errors.Is(err, ErrDynamic) || !strings.Contains(err.Error(), "ld-linux") {
			t.Errorf("%s: %v", path, err)
		}
		t.Logf("%s: %v", path, err)
	}
}

// A reader that fails: Load and Apply pass its error on, kind ErrTruncated.
type failingReader struct {
	r     io.ReaderAt
	after int64
}

func (f failingReader) ReadAt(b []byte, off int64) (int, error) {
	if off+int64(len(b)) > f.after {
		n, _ := f.r.ReadAt(b[:max(0, f.after-off)], off)
		return n, errors.New("disk on fire")
	}
	return f.r.ReadAt(b, off)
}

func TestApplyErrors(t *testing.T) {
	file := smallELF()
	plan, err := Load(bytes.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = plan.Apply(failingReader{bytes.NewReader(file), 0x1900}, newSimMemory())
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Apply with a failing reader: %v", err)
	}
	mem := newSimMemory()
	mem.Allocate(0x403000, PageSize, ProtRead)
	err = plan.Apply(bytes.NewReader(file), mem)
	if !errors.Is(err, ErrMemory) || !strings.Contains(err.Error(), "sim: allocation over a region") {
		t.Errorf("Apply over a region: %v", err)
	}
	// The tail past the end of the file reads as zero, as in a mapping.
	short := file[:0x1b00]
	plan, err = Load(bytes.NewReader(short), nil)
	if err != nil {
		t.Fatal(err)
	}
	mem = newSimMemory()
	if err := plan.Apply(bytes.NewReader(short), mem); err != nil {
		t.Fatal(err)
	}
	checkApplied(t, plan, short, mem)
}
