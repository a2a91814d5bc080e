package qemu

import (
	"debug/elf"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The kernel's BSS is demand-zero above a size (README "Boot and memory"):
// the boot stage zeroes and backs only the BSS the kernel needs before its
// VM runs, and the kernel makes the rest regions of the kernel task that
// the page-fault handler backs on first touch, like the Go heap. Test
// kernels carry crypto/internal/fips140/drbg.memory, a 32 MiB array no
// test touches; backing it at boot made 54 MiB the smallest machine.
//
// Which symbols: a BSS symbol (.bss or .noptrbss) of LazyMinSize bytes or
// more, unless it belongs to a package whose code runs in the kernel's
// handler context or under the Go runtime's own feet (eagerPackages): a
// fault there cannot be served, so their variables are always backed. The
// Go linker sorts the symbols of a data section by size, so the large
// ones sit together at the end of .bss and of .noptrbss: the result is one
// or two ranges. Each range is shrunk to whole pages, so a page partly
// holding a small symbol stays backed.

// LazyMinSize is the smallest BSS symbol left to demand paging: large
// enough that only arrays meant as bulk storage qualify (the kernel's own
// largest tables are a few hundred KiB and eager anyway), small enough to
// catch every array whose backing would show in the machine's minimum.
const LazyMinSize = 1 << 20

// eagerPackages are the packages whose variables are always backed: the
// kernel and the VM run in handler context (a fault on the page-fault
// handler's own stack is a kernel panic), and the Go runtime touches its
// variables with its locks held and in signal handlers.
var eagerPackages = []string{"hurdvm/kernel", "hurdvm/mm", "hurdvm/paging", "runtime", "internal/runtime"}

// maxLazyRanges is how many ranges the boot stage and the kernel take
// (boot.S's table, the kernel's lazyBSS array): the linker's size order
// makes at most one per BSS section.
const maxLazyRanges = 4

// PageRange is [Start, End), page aligned.
type PageRange struct{ Start, End uint64 }

// errNoSymbols: the ELF has no symbol table to find the large arrays in.
var errNoSymbols = errors.New("no symbol table: `go test` strips it unless the link flags say -s=false (see qemu.GoLDFlags)")

// LazyBSS returns the page ranges of f's BSS the boot stage leaves
// unbacked, sorted by address.
func LazyBSS(f *elf.File) ([]PageRange, error) {
	syms, err := f.Symbols()
	if err != nil {
		if errors.Is(err, elf.ErrNoSymbols) {
			return nil, errNoSymbols
		}
		return nil, err
	}
	bss := func(s elf.Symbol) bool {
		i := int(s.Section)
		if s.Section == elf.SHN_UNDEF || i >= len(f.Sections) {
			return false
		}
		sec := f.Sections[i]
		return sec.Type == elf.SHT_NOBITS && sec.Flags&elf.SHF_ALLOC != 0
	}
	var in, all []elf.Symbol
	for _, s := range syms {
		if s.Size == 0 || s.Section == elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE {
			continue
		}
		all = append(all, s)
		if bss(s) {
			in = append(in, s)
		}
	}
	if c, ok := coverageCounters(syms); ok {
		all = append(all, c)
		in = append(in, c)
	}
	sort.Slice(in, func(i, j int) bool { return in[i].Value < in[j].Value })
	// Runs of large variables with no other symbol between them, in one
	// section.
	var runs []PageRange
	open := false
	for i, s := range in {
		if s.Size < LazyMinSize || elf.ST_TYPE(s.Info) != elf.STT_OBJECT || eagerPackage(s.Name) {
			open = false
			continue
		}
		if open && in[i-1].Section == s.Section {
			runs[len(runs)-1].End = s.Value + s.Size
			continue
		}
		runs = append(runs, PageRange{s.Value, s.Value + s.Size})
		open = true
	}
	// Whole pages: a run's first and last pages are lazy when nothing else
	// is in them (no other symbol, no bytes from the file), so that the
	// array ending the image leaves no page of it behind.
	free := func(lo, hi uint64) bool {
		for _, s := range all {
			if s.Value < hi && lo < s.Value+s.Size {
				return false
			}
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Paddr < hi && lo < p.Paddr+p.Filesz {
				return false
			}
		}
		return true
	}
	var out []PageRange
	for _, r := range runs {
		lo, hi := r.Start&^(pageSize-1), (r.End+pageSize-1)&^(pageSize-1)
		if !free(lo, r.Start) {
			lo += pageSize
		}
		if !free(r.End, hi) {
			hi -= pageSize
		}
		if lo < hi {
			out = append(out, PageRange{lo, hi})
		}
	}
	if len(out) > maxLazyRanges { // keep the largest; the rest stays backed
		sort.Slice(out, func(i, j int) bool { return out[i].End-out[i].Start > out[j].End-out[j].Start })
		out = out[:maxLazyRanges]
		sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	}
	return out, nil
}

const pageSize = 4096

// coverageCounters is the block of go build -cover's counters as one
// symbol: the linker gathers them, nameless, between runtime.covctrs and
// runtime.ecovctrs at the end of .noptrbss, after the large arrays. The
// instrumented kernel writes them from its first instruction on, in
// handler context too: the page they share with the end of a large array
// must stay backed.
func coverageCounters(syms []elf.Symbol) (elf.Symbol, bool) {
	var start, end *elf.Symbol
	for i := range syms {
		switch syms[i].Name {
		case "runtime.covctrs":
			start = &syms[i]
		case "runtime.ecovctrs":
			end = &syms[i]
		}
	}
	if start == nil || end == nil || end.Value <= start.Value {
		return elf.Symbol{}, false
	}
	c := *start
	c.Name, c.Size, c.Info = "runtime.covctrs", end.Value-start.Value, elf.ST_INFO(elf.STB_LOCAL, elf.STT_OBJECT)
	return c, true
}

// symbolPackage is the import path of the package a Go symbol belongs to:
// "golang.org/x/arch/x86/x86asm.decoder" is in golang.org/x/arch/x86/x86asm.
func symbolPackage(name string) string {
	slash := strings.LastIndex(name, "/") + 1
	if dot := strings.Index(name[slash:], "."); dot >= 0 {
		return name[:slash+dot]
	}
	return name
}

func eagerPackage(name string) bool {
	pkg := symbolPackage(name)
	for _, p := range eagerPackages {
		if pkg == p || strings.HasPrefix(pkg, p+"/") {
			return true
		}
	}
	return false
}

// eagerEnd is where the part of the image the boot stage must back ends:
// the end of the last byte of a PT_LOAD segment outside the lazy ranges.
func eagerEnd(f *elf.File, lazy []PageRange) uint64 {
	end := uint64(0)
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		hi := p.Paddr + p.Memsz
		for i := len(lazy) - 1; i >= 0; i-- { // a lazy tail does not count
			if lazy[i].End >= hi && lazy[i].Start < hi {
				hi = max(lazy[i].Start, p.Paddr)
			}
		}
		end = max(end, hi)
	}
	return end
}

// checkLazyInBSS makes sure every lazy range lies in the zero-filled part
// of a writable PT_LOAD segment (its last page included), at the address
// it is linked at: that part is what the boot stage would have zeroed.
func checkLazyInBSS(f *elf.File, lazy []PageRange) error {
	for _, r := range lazy {
		ok := false
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Flags&elf.PF_W != 0 && p.Paddr == p.Vaddr &&
				r.Start >= p.Paddr+p.Filesz && r.End <= (p.Paddr+p.Memsz+pageSize-1)&^(pageSize-1) {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("lazy BSS range %#x-%#x is not in a segment's zero-filled part", r.Start, r.End)
		}
	}
	return nil
}
