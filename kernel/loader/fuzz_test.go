package loader

import (
	"bytes"
	"debug/elf"
	"errors"
	"strings"
	"testing"
)

// tinyELF is a seed the fuzzer can get through quickly: 0x200 bytes,
// text with the headers, data with a bss.
func tinyELF(typ elf.Type, base uint64) []byte {
	return mkELF(typ, base+0x100, []elf.Prog64{
		{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Off: 0, Vaddr: base, Filesz: 0x180, Memsz: 0x180, Align: 0x1000},
		{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: 0x180, Vaddr: base + 0x1180, Filesz: 0x40, Memsz: 0x1000, Align: 0x1000},
		{Type: uint32(elf.PT_GNU_STACK), Flags: uint32(elf.PF_R | elf.PF_W)},
	}, 0x200)
}

// FuzzLoad feeds Load arbitrary files: it never panics, every error is an
// *Error of a known kind, and a plan it accepts holds together (segments
// page-aligned, sorted, apart, inside the address limits, the entry in an
// executable one, the break above them all), Apply carries it out with
// the file's bytes where they belong, and Stack and ParseStack agree on
// it.
func FuzzLoad(f *testing.F) {
	f.Add(tinyELF(elf.ET_EXEC, 0x400000))
	f.Add(tinyELF(elf.ET_DYN, 0))
	f.Add(smallELF())
	progs := smallProgs()
	progs[3] = elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 0x1c00, Filesz: 28}
	f.Add(mkELF(elf.ET_EXEC, smallEntry, progs, smallSize))
	progs = smallProgs()
	progs[2].Flags |= uint32(elf.PF_X)
	f.Add(mkELF(elf.ET_EXEC, smallEntry, progs, smallSize))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkLoad(t, data, nil)
		checkLoad(t, data, &Options{DenyWX: true, PIEBase: 0x10000000, MinAddr: 0x400000, MaxAddr: 0x100000000})
	})
}

var kinds = []error{ErrNotELF, ErrClass, ErrMachine, ErrType, ErrDynamic, ErrHeader, ErrTruncated, ErrNoLoad,
	ErrAlign, ErrSize, ErrRange, ErrOverlap, ErrEntry, ErrWX}

func checkLoad(t *testing.T, data []byte, opts *Options) {
	plan, err := Load(bytes.NewReader(data), opts)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), "loader: ") {
			t.Fatalf("error %v (%T) is not an *Error", err, err)
		}
		for _, k := range kinds {
			if errors.Is(err, k) {
				return
			}
		}
		t.Fatalf("error %v of no known kind", err)
	}
	lo, hi := uint64(DefaultMinAddr), uint64(DefaultMaxAddr)
	if opts != nil {
		lo, hi = opts.MinAddr, opts.MaxAddr
	}
	if len(plan.Segments) == 0 {
		t.Fatal("a plan without segments")
	}
	var maxEnd, total uint64
	for i, s := range plan.Segments {
		switch {
		case s.Start%PageSize != 0 || s.End%PageSize != 0 || s.FileStart%PageSize != 0:
			t.Fatalf("segment %+v not page-aligned", s)
		case s.Start >= s.End || s.Start < lo || s.End > hi:
			t.Fatalf("segment %#x-%#x outside %#x-%#x", s.Start, s.End, lo, hi)
		case i > 0 && plan.Segments[i-1].End > s.Start:
			t.Fatalf("segments %+v and %+v overlap", plan.Segments[i-1], s)
		case s.Vaddr-s.Start >= PageSize || s.Vaddr < s.Start || s.Vaddr+s.Memsz > s.End || s.End-(s.Vaddr+s.Memsz) >= PageSize:
			t.Fatalf("segment %+v: pages do not fit p_vaddr and p_memsz", s)
		case s.Filesz > s.Memsz || s.Memsz == 0 || s.CopySize > s.End-s.Start:
			t.Fatalf("segment %+v: sizes", s)
		case s.Filesz > 0 && (s.Offset+s.Filesz > uint64(len(data)) || s.Offset+s.Filesz < s.Offset):
			t.Fatalf("segment %+v: past the file's %d bytes", s, len(data))
		}
		maxEnd = max(maxEnd, s.End)
		total += s.End - s.Start
		if opts != nil && opts.DenyWX && s.Prot&(ProtWrite|ProtExec) == ProtWrite|ProtExec {
			t.Fatalf("W+X segment accepted with DenyWX")
		}
	}
	if plan.Brk != maxEnd {
		t.Fatalf("brk %#x, segments end at %#x", plan.Brk, maxEnd)
	}
	if s := plan.find(plan.Entry); s == nil || s.Prot&ProtExec == 0 || plan.Entry < s.Vaddr || plan.Entry >= s.Vaddr+s.Memsz {
		t.Fatalf("entry %#x not in an executable segment", plan.Entry)
	}
	if plan.Phdr != 0 && plan.find(plan.Phdr) == nil {
		t.Fatalf("AT_PHDR %#x in no segment", plan.Phdr)
	}

	mem := newSimMemory()
	if err := plan.Apply(bytes.NewReader(data), mem); err != nil {
		if opts == nil || !errors.Is(err, ErrMemory) { // the simulation's limits are the defaults
			t.Fatalf("Apply: %v", err)
		}
		return
	}
	if total <= 1<<20 {
		checkApplied(t, plan, data, mem)
	}

	a := &StackArgs{Top: DefaultStackTop, Argv: []string{"/prog", "x"}, Envp: []string{"A=b"}, Random: [16]byte{9}}
	img, err := Stack(plan, a)
	if err != nil {
		if !errors.Is(err, ErrStack) {
			t.Fatalf("Stack: %v", err)
		}
		return
	}
	checkStack(t, plan, a, img)
}
