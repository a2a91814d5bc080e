package handlercheck

import (
	"fmt"
	"sort"
	"strings"
)

// Program is what the check runs on: every function of a binary with what
// its code calls or takes the address of, and the binary's itabs. Load
// makes one from an ELF; tests also build them by hand.
type Program struct {
	Funcs []*Func // by address
	Itabs []Itab
	// Pos gives the source position of an instruction, for reports; nil
	// when unknown.
	Pos func(pc uint64) (file string, line int)
	// Inlined gives the functions the compiler inlined at an instruction,
	// outermost first; nil when unknown.
	Inlined func(pc uint64) []string

	byAddr map[uint64]*Func
	byName map[string]*Func
}

// Func is one function of the binary: a Go function, an assembly one, or
// an ABI wrapper between them.
type Func struct {
	Name      string // as the symbol table spells it: hurdvm/mm.(*VM).release
	Addr, End uint64 // code is [Addr, End)
	Sites     []Site // in address order
	// DecodeErrors counts bytes x86asm could not decode (data or padding
	// inside the function); a site hidden there is missed.
	DecodeErrors int
}

// SiteKind says what an instruction does that matters to the call graph.
type SiteKind uint8

const (
	// SiteCall is a CALL to the function at Target.
	SiteCall SiteKind = iota
	// SiteTail is a JMP (or conditional jump) out of the function, to the
	// function at Target: a tail call, an ABI wrapper, assembly jumping on.
	SiteTail
	// SiteAddr loads the address of the function at Target, or of a func
	// value holding it (LEA or MOV, possibly through one variable): the
	// function may be called through a func value from here on.
	SiteAddr
	// SiteFuncValue is an indirect call through a func value: the target
	// is loaded from offset 0 of the closure context register (DX).
	SiteFuncValue
	// SiteInterface is an indirect call through slot Method of an itab:
	// the target is loaded from offset 24+8*Method of a register.
	SiteInterface
	// SiteIndirect is an indirect call or jump the decoder could not
	// attribute to a func value, an itab or a jump table.
	SiteIndirect
	// SiteNilCheck is a compiler-inserted nil check (TESTB AL, (reg)): a
	// nil pointer faults there.
	SiteNilCheck
)

// Site is one instruction of a function that calls, jumps out, takes a
// function's address, or checks a pointer.
type Site struct {
	PC     uint64
	Kind   SiteKind
	Target uint64 // SiteCall, SiteTail, SiteAddr: the entry of the function
	Method int    // SiteInterface: the itab slot
	// Names are, for SiteInterface, the methods the site's source line
	// calls (".Name(" on that line); nil when the source is not readable.
	// They say which interfaces' slot Method the call can be.
	Names []string
}

// Load reads a statically linked x86-64 Go ELF with its symbol table,
// decodes every function's code, and reads the source line of each
// interface call (from the files the line table names) for the methods it
// calls.
func Load(path string) (*Program, error) {
	img, syms, err := readImage(path)
	if err != nil {
		return nil, err
	}
	itabs, err := readItabs(img, syms)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	p := &Program{Funcs: img.funcs, Itabs: itabs, Pos: img.line, Inlined: img.inlinedAt}
	lines := sourceLines{}
	for _, fn := range p.Funcs {
		code := img.bytes(fn.Addr, fn.End-fn.Addr)
		if code == nil {
			return nil, fmt.Errorf("%s: %s: code outside the text section", path, fn.Name)
		}
		decode(img, fn, code)
		for i := range fn.Sites {
			if s := &fn.Sites[i]; s.Kind == SiteInterface {
				s.Names = lines.calledMethods(img.line(s.PC))
			}
		}
	}
	p.index()
	return p, nil
}

func (p *Program) index() {
	sort.Slice(p.Funcs, func(i, j int) bool { return p.Funcs[i].Addr < p.Funcs[j].Addr })
	p.byAddr = make(map[uint64]*Func, len(p.Funcs))
	p.byName = make(map[string]*Func, len(p.Funcs))
	for _, fn := range p.Funcs {
		p.byAddr[fn.Addr] = fn
		if _, dup := p.byName[fn.Name]; !dup {
			p.byName[fn.Name] = fn
		}
	}
}

// Func returns the function with this symbol name; an assembly function
// is also found by its Go name (without ".abi0").
func (p *Program) Func(name string) *Func {
	if p.byName == nil {
		p.index()
	}
	if fn := p.byName[name]; fn != nil {
		return fn
	}
	return p.byName[name+".abi0"]
}

func (p *Program) at(addr uint64) *Func {
	if p.byAddr == nil {
		p.index()
	}
	return p.byAddr[addr]
}

func (p *Program) pos(pc uint64) (string, int) {
	if p.Pos == nil {
		return "", 0
	}
	return p.Pos(pc)
}

func (p *Program) inlined(pc uint64) []string {
	if p.Inlined == nil {
		return nil
	}
	return p.Inlined(pc)
}

// canonical is the name rules match: the Go name of an assembly function
// (its ABI0 symbol has ".abi0" appended when Go code calls it through a
// wrapper).
func canonical(name string) string {
	name = strings.TrimSuffix(name, ".abi0")
	return strings.ReplaceAll(name, "<ABIInternal>", "")
}

// pkgPath is the import path of the package a function belongs to:
// everything up to the first dot after the last slash (type arguments in
// brackets may hold slashes and dots of their own).
func pkgPath(name string) string {
	name = canonical(name)
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	slash := strings.LastIndexByte(name, '/')
	if dot := strings.IndexByte(name[slash+1:], '.'); dot >= 0 {
		return name[:slash+1+dot]
	}
	return name
}

// ShortName drops the import path's directories: hurdvm/mm.(*VM).release
// is mm.(*VM).release, golang.org/x/arch/x86/x86asm.Decode x86asm.Decode.
func ShortName(name string) string {
	name = canonical(name)
	head := name
	if i := strings.IndexByte(head, '['); i >= 0 {
		head = head[:i]
	}
	if i := strings.LastIndexByte(head, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// inRuntime reports whether a function belongs to the Go runtime proper.
func inRuntime(name string) bool {
	p := pkgPath(name)
	return p == "runtime" || strings.HasPrefix(p, "runtime/") || strings.HasPrefix(p, "internal/runtime/")
}
