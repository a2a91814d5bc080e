package handlercheck

import (
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// image is a statically linked Go ELF as the analysis reads it: its
// functions (by the symbol table), its allocated sections (to read data at
// an address), its pc-to-line table and DWARF's inlining records.
type image struct {
	funcs    []*Func // by address
	sections []section
	lines    *gosym.Table // nil when the binary has no .gopclntab
	inlined  inlining
	types    uint64 // runtime.types: where NameOffs count from
	// markers are the linker's section bounds (runtime.text, etext...):
	// assembly loads them as addresses, which are not function values even
	// where a function starts at the same address.
	markers map[uint64]bool
}

type section struct {
	addr uint64
	data []byte // nil for .bss and .noptrbss: nothing to read there
	text bool
}

// readImage loads path. The binary needs its symbol table: a program linked
// with -s (go build -ldflags=-s, or go run/test without -c) has none.
func readImage(path string) (*image, []elf.Symbol, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return nil, nil, fmt.Errorf("%s: not an x86-64 ELF (%v)", path, f.Machine)
	}
	img := &image{}
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Addr == 0 {
			continue
		}
		sec := section{addr: s.Addr, text: s.Flags&elf.SHF_EXECINSTR != 0}
		if s.Type != elf.SHT_NOBITS {
			if sec.data, err = s.Data(); err != nil {
				return nil, nil, fmt.Errorf("%s: section %s: %v", path, s.Name, err)
			}
		}
		img.sections = append(img.sections, sec)
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: no symbol table (linked with -s?): %v", path, err)
	}
	textSym := uint64(0)
	img.markers = map[uint64]bool{}
	for _, s := range syms {
		switch s.Name {
		case "runtime.types":
			img.types = s.Value
		case "runtime.text":
			textSym = s.Value
		}
		if isMarker(s.Name) {
			img.markers[s.Value] = true
		}
	}
	img.funcs = functions(syms, f.Section(".text"))
	if len(img.funcs) == 0 {
		return nil, nil, fmt.Errorf("%s: no functions in the symbol table", path)
	}
	img.inlined = readInlining(f)
	if pcln := f.Section(".gopclntab"); pcln != nil && textSym != 0 {
		data, err := pcln.Data()
		if err == nil {
			img.lines, _ = gosym.NewTable(nil, gosym.NewLineTable(data, textSym))
		}
	}
	return img, syms, nil
}

// functions turns the symbol table's text symbols into functions with
// bounds: each ends where its size says, or where the next one starts. The
// linker's markers (runtime.text, runtime.etext) and aliases at the same
// address as a sized function are dropped.
func functions(syms []elf.Symbol, text *elf.Section) []*Func {
	if text == nil {
		return nil
	}
	var fs []*Func
	sizes := map[*Func]uint64{}
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF || int(s.Section) >= 0xff00 || s.Value < text.Addr || s.Value >= text.Addr+text.Size {
			continue
		}
		if t := elf.ST_TYPE(s.Info); t != elf.STT_FUNC && t != elf.STT_NOTYPE {
			continue
		}
		if isMarker(s.Name) || s.Name == "" {
			continue
		}
		fn := &Func{Name: s.Name, Addr: s.Value}
		sizes[fn] = s.Size
		fs = append(fs, fn)
	}
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Addr != fs[j].Addr {
			return fs[i].Addr < fs[j].Addr
		}
		return sizes[fs[i]] > sizes[fs[j]]
	})
	out := fs[:0]
	for i, fn := range fs {
		if i > 0 && fs[i-1].Addr == fn.Addr {
			continue
		}
		out = append(out, fn)
	}
	for i, fn := range out {
		end := text.Addr + text.Size
		if i+1 < len(out) {
			end = out[i+1].Addr
		}
		if sz := sizes[fn]; sz > 0 && fn.Addr+sz < end {
			end = fn.Addr + sz
		}
		fn.End = end
	}
	return out
}

// isMarker reports whether a symbol is one of the linker's section
// bounds in the runtime's moduledata.
func isMarker(name string) bool {
	switch name {
	case "runtime.text", "runtime.etext", "runtime.rodata", "runtime.erodata", "runtime.types",
		"runtime.etypes", "runtime.noptrdata", "runtime.enoptrdata", "runtime.data", "runtime.edata",
		"runtime.bss", "runtime.ebss", "runtime.noptrbss", "runtime.enoptrbss", "runtime.end":
		return true
	}
	return false
}

// funcAt returns the function whose code holds pc.
func (img *image) funcAt(pc uint64) *Func {
	i := sort.Search(len(img.funcs), func(i int) bool { return img.funcs[i].End > pc })
	if i < len(img.funcs) && img.funcs[i].Addr <= pc {
		return img.funcs[i]
	}
	return nil
}

// bytes returns n bytes at addr, or nil when they are not all inside one
// section with contents.
func (img *image) bytes(addr, n uint64) []byte {
	for _, s := range img.sections {
		if addr >= s.addr && addr-s.addr+n <= uint64(len(s.data)) {
			return s.data[addr-s.addr : addr-s.addr+n]
		}
	}
	return nil
}

// word reads the 8-byte little-endian word at addr.
func (img *image) word(addr uint64) (uint64, bool) {
	b := img.bytes(addr, 8)
	if b == nil {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

// isData reports whether addr is in an allocated section other than text.
func (img *image) isData(addr uint64) bool {
	for _, s := range img.sections {
		if !s.text && addr >= s.addr && addr < s.addr+uint64(len(s.data)) {
			return true
		}
	}
	return false
}

// line is the source position of pc, "" when unknown.
func (img *image) line(pc uint64) (string, int) {
	if img.lines == nil {
		return "", 0
	}
	file, line, fn := img.lines.PCToLine(pc)
	if fn == nil {
		return "", 0
	}
	return file, line
}

// inlinedAt returns the functions inlined at pc, outermost first.
func (img *image) inlinedAt(pc uint64) []string {
	fn := img.funcAt(pc)
	if fn == nil {
		return nil
	}
	return img.inlined.at(fn.Addr, pc)
}

// name reads a Go runtime name (abi.Name): a flag byte, a varint length
// and the bytes.
func (img *image) name(addr uint64) string {
	head := img.bytes(addr, 11)
	if head == nil {
		head = img.bytes(addr, 2)
		if head == nil {
			return ""
		}
	}
	n, k := binary.Uvarint(head[1:])
	if k <= 0 {
		return ""
	}
	b := img.bytes(addr+1+uint64(k), n)
	return strings.Clone(string(b))
}
