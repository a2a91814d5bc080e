package loader

import (
	"debug/elf"
	"encoding/binary"
	"io"
	"sort"
	"strconv"
)

// PageSize is the x86-64 page, Linux's ELF_MIN_ALIGN and AT_PAGESZ.
const PageSize = 4096

// The address limits Load applies unless Options say otherwise.
const (
	// DefaultMinAddr is Linux's default vm.mmap_min_addr (64 KiB): no
	// segment may map a page below it, so page 0 stays unmapped and a NULL
	// dereference faults.
	DefaultMinAddr = 0x10000
	// DefaultMaxAddr is Linux's TASK_SIZE on x86-64 with 4-level paging,
	// 128 TiB less the top page (the lower half's last page is never
	// mapped: SYSRET to a non-canonical RIP would fault in ring 0).
	DefaultMaxAddr = 1<<47 - PageSize
	// DefaultPIEBase is where a static-pie program (ET_DYN without
	// PT_INTERP) is loaded unless Options.PIEBase says otherwise: Linux's
	// ELF_ET_DYN_BASE on x86-64 without randomization (2/3 of TASK_SIZE,
	// page-aligned), aligned down to the segments' largest p_align.
	DefaultPIEBase = 0x555555554000
	// PhentSize is the size of an ELF64 program header (AT_PHENT).
	PhentSize = 56
)

// Linux reads at most one page of program headers (load_elf_phdrs).
const maxPhnum = PageSize / PhentSize

// Prot is a segment's protection, with Linux's PROT_* values (those of
// hurdvm/mm's Prot too).
type Prot uint8

const (
	ProtRead Prot = 1 << iota
	ProtWrite
	ProtExec
)

// String is readelf's flags column: "R E", "RW ", "RWE".
func (p Prot) String() string {
	b := []byte("   ")
	if p&ProtRead != 0 {
		b[0] = 'R'
	}
	if p&ProtWrite != 0 {
		b[1] = 'W'
	}
	if p&ProtExec != 0 {
		b[2] = 'E'
	}
	return string(b)
}

func protOf(f elf.ProgFlag) Prot {
	var p Prot
	if f&elf.PF_R != 0 {
		p |= ProtRead
	}
	if f&elf.PF_W != 0 {
		p |= ProtWrite
	}
	if f&elf.PF_X != 0 {
		p |= ProtExec
	}
	return p
}

// Options adjust Load. The zero value (or nil) is Linux's behaviour.
type Options struct {
	// MinAddr and MaxAddr bound the pages segments may map:
	// [MinAddr, MaxAddr). Zero means DefaultMinAddr and DefaultMaxAddr.
	MinAddr, MaxAddr uint64
	// PIEBase is the load base of a static-pie program, aligned down to
	// the largest power-of-two p_align of its PT_LOAD segments. Zero
	// means DefaultPIEBase.
	PIEBase uint64
	// DenyWX refuses a segment both writable and executable (ErrWX).
	// Linux loads them; so does Load by default, with a warning in
	// Plan.Warnings.
	DenyWX bool
}

// A Segment is one PT_LOAD as it will be in memory. The pages
// [Start, End) are allocated with Prot; the CopySize bytes of the file
// from FileStart are copied to Start; every other byte is zero.
//
// This is Linux's binfmt_elf (6.1): the file is mapped from the page that
// holds p_vaddr to the page that holds p_vaddr+p_filesz, so the bytes of
// the file before the segment in its first page and, when the segment has
// no bss (p_memsz == p_filesz), after it in its last page are there too
// (bytes past the end of the file read as zero, as in a mapping); when it
// has a bss, the rest of the last file page from p_vaddr+p_filesz is
// zeroed (padzero), and the pages beyond are anonymous zero pages up to
// the page that holds p_vaddr+p_memsz.
type Segment struct {
	Vaddr  uint64 // p_vaddr plus the load bias
	Memsz  uint64 // p_memsz
	Offset uint64 // p_offset
	Filesz uint64 // p_filesz
	Align  uint64 // p_align
	Prot   Prot   // from p_flags

	Start, End uint64 // the pages mapped, page-aligned
	FileStart  uint64 // the file offset copied to Start: p_offset less Vaddr's offset in its page
	CopySize   uint64 // how many bytes of the file are copied from FileStart (some may lie past its end: zero)
	Index      int    // the program header's index in the file
}

// BSS is the zero-filled tail of the segment that the file does not
// give: [Vaddr+Filesz, Vaddr+Memsz), empty without a bss.
func (s Segment) BSS() (start, end uint64) { return s.Vaddr + s.Filesz, s.Vaddr + s.Memsz }

// TLS is the PT_TLS header, for information: a static program sets up its
// own thread-local storage from it (glibc finds it through AT_PHDR; the Go
// runtime uses its own TLS slot and arch_prctl).
type TLS struct {
	Vaddr, Filesz, Memsz, Align uint64
}

// A Plan is what Load makes of a program: the memory to set up, and the
// values the kernel needs for the stack (Stack), the registers and the
// program break. Apply carries it out.
type Plan struct {
	Type     elf.Type  // ET_EXEC, or ET_DYN for a static-pie
	Bias     uint64    // added to every p_vaddr: 0 for ET_EXEC
	Entry    uint64    // e_entry plus Bias: RIP at the start, AT_ENTRY
	Phdr     uint64    // the program headers in memory: AT_PHDR
	Phnum    uint64    // AT_PHNUM (AT_PHENT is PhentSize)
	Segments []Segment // by address, without those of p_memsz 0

	// Brk is the initial program break, Linux's start_brk and brk:
	// the end of the highest segment's memory, page-aligned (set_brk).
	// The brk region starts empty there and grows up.
	Brk uint64
	// ExecStack is PT_GNU_STACK's PF_X: the stack is executable. Without
	// PT_GNU_STACK it is not (x86-64 Linux since 5.8).
	ExecStack bool
	TLS       *TLS // PT_TLS, or nil

	// Linux's mm fields, for /proc/PID/stat: the lowest address of an
	// executable segment, the end of the file part of executable ones,
	// the highest segment start and the end of the highest file part.
	StartCode, EndCode, StartData, EndData uint64

	// Warnings are what Linux loads without a word but a reader should
	// know: writable and executable segments, an AT_PHDR no segment maps.
	Warnings []string
}

// Load reads the ELF program r holds (the whole file: an initramfs
// entry, a GRUB module) and plans its loading as Linux 6.1's
// load_elf_binary does for a static program. It reads the ELF header,
// the program headers, PT_INTERP's path when there is one, and one byte
// at the end of each segment's file part (a truncated file is refused
// here, not half loaded). Errors are *Error.
func Load(r io.ReaderAt, opts *Options) (*Plan, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MinAddr == 0 {
		o.MinAddr = DefaultMinAddr
	}
	if o.MaxAddr == 0 {
		o.MaxAddr = DefaultMaxAddr
	}
	if o.PIEBase == 0 {
		o.PIEBase = DefaultPIEBase
	}

	hdr, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	progs, err := readProgs(r, hdr)
	if err != nil {
		return nil, err
	}

	// A program interpreter is a dynamic linker: refused, whatever the type.
	for _, p := range progs {
		if elf.ProgType(p.Type) == elf.PT_INTERP {
			return nil, interpError(r, p)
		}
	}
	typ := elf.Type(hdr.Type)
	switch typ {
	case elf.ET_EXEC, elf.ET_DYN:
	default:
		return nil, newError(ErrType, "e_type ", typ.String(), ": only executables (ET_EXEC) and static-pie programs (ET_DYN without PT_INTERP) can be loaded")
	}

	plan := &Plan{Type: typ, Phnum: uint64(hdr.Phnum)}

	// The load bias of a static-pie (Linux: load_bias = ELF_PAGESTART(base
	// - first p_vaddr), the base aligned to maximum_alignment).
	if typ == elf.ET_DYN {
		align := uint64(PageSize)
		first, found := uint64(0), false
		for _, p := range progs {
			if elf.ProgType(p.Type) != elf.PT_LOAD {
				continue
			}
			if !found {
				first, found = p.Vaddr, true
			}
			if a := p.Align; a != 0 && a&(a-1) == 0 && a > align {
				align = a
			}
		}
		plan.Bias = pageStart(o.PIEBase&^(align-1) - first)
	}

	var (
		phdr      uint64
		phdrFound bool
		ptPhdr    *elf.Prog64
		maxEnd    uint64
		startCode = ^uint64(0)
	)
	for i := range progs {
		p := &progs[i]
		switch elf.ProgType(p.Type) {
		case elf.PT_GNU_STACK:
			plan.ExecStack = elf.ProgFlag(p.Flags)&elf.PF_X != 0
			continue
		case elf.PT_TLS:
			plan.TLS = &TLS{Vaddr: p.Vaddr + plan.Bias, Filesz: p.Filesz, Memsz: p.Memsz, Align: p.Align}
			continue
		case elf.PT_PHDR:
			ptPhdr = p
			continue
		case elf.PT_LOAD:
		default:
			continue
		}
		seg, err := segment(r, i, p, plan.Bias, &o)
		if err != nil {
			return nil, err
		}
		// AT_PHDR as Linux 6.1 computes it: the (last) PT_LOAD whose file
		// part holds e_phoff.
		if p.Off <= hdr.Phoff && hdr.Phoff-p.Off < p.Filesz {
			phdr, phdrFound = hdr.Phoff-p.Off+seg.Vaddr, true
		}
		if seg.Memsz == 0 {
			continue
		}
		if seg.Prot&ProtWrite != 0 && seg.Prot&ProtExec != 0 {
			if o.DenyWX {
				return nil, newError(ErrWX, "segment ", dec(uint64(i)), " at ", hex(seg.Vaddr), " is writable and executable")
			}
			plan.Warnings = append(plan.Warnings, "segment "+dec(uint64(i))+" at "+hex(seg.Vaddr)+" is writable and executable")
		}
		fileEnd := seg.Vaddr + seg.Filesz
		if seg.Prot&ProtExec != 0 {
			startCode = min(startCode, seg.Vaddr)
			plan.EndCode = max(plan.EndCode, fileEnd)
		}
		plan.StartData = max(plan.StartData, seg.Vaddr)
		plan.EndData = max(plan.EndData, fileEnd)
		maxEnd = max(maxEnd, seg.Vaddr+seg.Memsz)
		plan.Segments = append(plan.Segments, seg)
	}
	if len(plan.Segments) == 0 {
		return nil, newError(ErrNoLoad, "no PT_LOAD segment with memory")
	}
	if startCode != ^uint64(0) {
		plan.StartCode = startCode
	}
	sort.Slice(plan.Segments, func(i, j int) bool { return plan.Segments[i].Start < plan.Segments[j].Start })
	for i := 1; i < len(plan.Segments); i++ {
		a, b := &plan.Segments[i-1], &plan.Segments[i]
		if a.End > b.Start {
			return nil, newError(ErrOverlap, "segments ", dec(uint64(a.Index)), " (", hex(a.Start), "-", hex(a.End),
				") and ", dec(uint64(b.Index)), " (", hex(b.Start), "-", hex(b.End), ") share pages")
		}
	}
	plan.Brk = pageAlign(maxEnd) // no overflow: maxEnd <= MaxAddr, page-aligned

	plan.Entry = hdr.Entry + plan.Bias
	if s := plan.find(plan.Entry); s == nil || s.Prot&ProtExec == 0 || plan.Entry < s.Vaddr || plan.Entry >= s.Vaddr+s.Memsz {
		return nil, newError(ErrEntry, "entry point ", hex(plan.Entry), " is not in an executable segment")
	}

	switch {
	case phdrFound:
		plan.Phdr = phdr
		if ptPhdr != nil && ptPhdr.Vaddr+plan.Bias != phdr {
			plan.Warnings = append(plan.Warnings, "PT_PHDR says "+hex(ptPhdr.Vaddr+plan.Bias)+", e_phoff is mapped at "+hex(phdr)+" (AT_PHDR)")
		}
	case ptPhdr != nil && plan.mapsFile(ptPhdr.Vaddr+plan.Bias, uint64(hdr.Phnum)*PhentSize):
		// Linux would pass 0; PT_PHDR says where the table is and a
		// segment maps it.
		plan.Phdr = ptPhdr.Vaddr + plan.Bias
	default:
		plan.Warnings = append(plan.Warnings, "no segment maps the program headers: AT_PHDR is 0")
	}
	return plan, nil
}

// header is the part of the ELF64 header Load uses (debug/elf's
// Header64 without e_ident).
type header = elf.Header64

func readHeader(r io.ReaderAt) (*header, error) {
	var b [64]byte
	n, err := r.ReadAt(b[:], 0)
	if n < 4 || string(b[:4]) != elf.ELFMAG {
		return nil, newError(ErrNotELF, "no ELF magic (\\x7fELF) at the start of the file")
	}
	if n < len(b) {
		return nil, wrapError(ErrTruncated, err, "the ELF header is cut short (", dec(uint64(n)), " bytes of 64)")
	}
	if c := elf.Class(b[elf.EI_CLASS]); c != elf.ELFCLASS64 {
		return nil, newError(ErrClass, c.String(), " file: only 64-bit (ELFCLASS64) programs are supported")
	}
	if d := elf.Data(b[elf.EI_DATA]); d != elf.ELFDATA2LSB {
		return nil, newError(ErrClass, d.String(), " file: only little-endian (ELFDATA2LSB) programs are supported")
	}
	if v := elf.Version(b[elf.EI_VERSION]); v != elf.EV_CURRENT {
		return nil, newError(ErrHeader, "ELF version ", dec(uint64(v)), " in e_ident (want 1)")
	}
	le := binary.LittleEndian
	h := &header{
		Type:      le.Uint16(b[16:]),
		Machine:   le.Uint16(b[18:]),
		Version:   le.Uint32(b[20:]),
		Entry:     le.Uint64(b[24:]),
		Phoff:     le.Uint64(b[32:]),
		Shoff:     le.Uint64(b[40:]),
		Flags:     le.Uint32(b[48:]),
		Ehsize:    le.Uint16(b[52:]),
		Phentsize: le.Uint16(b[54:]),
		Phnum:     le.Uint16(b[56:]),
		Shentsize: le.Uint16(b[58:]),
		Shnum:     le.Uint16(b[60:]),
		Shstrndx:  le.Uint16(b[62:]),
	}
	copy(h.Ident[:], b[:16])
	if m := elf.Machine(h.Machine); m != elf.EM_X86_64 {
		return nil, newError(ErrMachine, "e_machine ", m.String(), ": only x86-64 (EM_X86_64) programs are supported")
	}
	if h.Phentsize != PhentSize {
		return nil, newError(ErrHeader, "e_phentsize ", dec(uint64(h.Phentsize)), " (want 56)")
	}
	if h.Phnum == 0 || h.Phnum > maxPhnum {
		return nil, newError(ErrHeader, "e_phnum ", dec(uint64(h.Phnum)), ": between 1 and ", dec(maxPhnum), " program headers (one page) are supported")
	}
	if h.Phoff > 1<<62 {
		return nil, newError(ErrHeader, "e_phoff ", hex(h.Phoff), " is past any file")
	}
	return h, nil
}

func readProgs(r io.ReaderAt, h *header) ([]elf.Prog64, error) {
	b := make([]byte, int(h.Phnum)*PhentSize)
	if n, err := r.ReadAt(b, int64(h.Phoff)); n < len(b) {
		return nil, wrapError(ErrTruncated, err, "the program headers at ", hex(h.Phoff), " are cut short (", dec(uint64(n)), " bytes of ", dec(uint64(len(b))), ")")
	}
	le := binary.LittleEndian
	progs := make([]elf.Prog64, h.Phnum)
	for i := range progs {
		q := b[i*PhentSize:]
		progs[i] = elf.Prog64{
			Type:   le.Uint32(q[0:]),
			Flags:  le.Uint32(q[4:]),
			Off:    le.Uint64(q[8:]),
			Vaddr:  le.Uint64(q[16:]),
			Paddr:  le.Uint64(q[24:]),
			Filesz: le.Uint64(q[32:]),
			Memsz:  le.Uint64(q[40:]),
			Align:  le.Uint64(q[48:]),
		}
	}
	return progs, nil
}

// interpError names the interpreter: the message a user of a dynamically
// linked program needs.
func interpError(r io.ReaderAt, p elf.Prog64) error {
	const tail = ": dynamically linked programs are not supported; build with CGO_ENABLED=0"
	size := min(p.Filesz, 4096) // PATH_MAX
	b := make([]byte, size)
	if n, _ := r.ReadAt(b, int64(min(p.Off, 1<<62))); n == len(b) && size > 0 {
		for i, c := range b {
			if c == 0 {
				b = b[:i]
				break
			}
		}
		return newError(ErrDynamic, "PT_INTERP ", printable(b), tail)
	}
	return newError(ErrDynamic, "PT_INTERP", tail)
}

// segment checks one PT_LOAD and makes it a Segment. Linux's checks
// (load_elf_binary, elf_map): p_filesz <= p_memsz, p_memsz within
// TASK_SIZE, p_offset congruent to p_vaddr modulo the page (mmap needs a
// page-aligned offset); and here also: no arithmetic wraps, the file holds
// p_filesz bytes at p_offset, every page lies in [MinAddr, MaxAddr).
func segment(r io.ReaderAt, i int, p *elf.Prog64, bias uint64, o *Options) (Segment, error) {
	name := "segment " + dec(uint64(i))
	if p.Filesz > p.Memsz {
		return Segment{}, newError(ErrSize, name, ": p_filesz ", hex(p.Filesz), " is larger than p_memsz ", hex(p.Memsz))
	}
	if p.Off+p.Filesz < p.Off || p.Off+p.Filesz > 1<<62 {
		return Segment{}, newError(ErrSize, name, ": p_offset ", hex(p.Off), " + p_filesz ", hex(p.Filesz), " is past any file")
	}
	if p.Off%PageSize != p.Vaddr%PageSize {
		return Segment{}, newError(ErrAlign, name, ": p_offset ", hex(p.Off), " and p_vaddr ", hex(p.Vaddr), " differ modulo the page size")
	}
	v := p.Vaddr + bias
	s := Segment{
		Vaddr: v, Memsz: p.Memsz, Offset: p.Off, Filesz: p.Filesz, Align: p.Align,
		Prot: protOf(elf.ProgFlag(p.Flags)), Index: i,
	}
	if p.Memsz == 0 {
		return s, nil
	}
	end := v + p.Memsz
	if end < v || end > o.MaxAddr || pageAlign(end) < end {
		return Segment{}, newError(ErrRange, name, ": ", hex(v), " + p_memsz ", hex(p.Memsz), " ends past ", hex(o.MaxAddr))
	}
	s.Start, s.End = pageStart(v), pageAlign(end)
	if s.Start < o.MinAddr || s.End > o.MaxAddr {
		return Segment{}, newError(ErrRange, name, ": pages ", hex(s.Start), "-", hex(s.End), " are outside ", hex(o.MinAddr), "-", hex(o.MaxAddr))
	}
	head := v - s.Start
	s.FileStart = p.Off - head
	if p.Memsz > p.Filesz {
		s.CopySize = head + p.Filesz // padzero clears the rest of the page
	} else {
		s.CopySize = pageAlign(v+p.Filesz) - s.Start
	}
	if p.Filesz > 0 {
		var b [1]byte
		if n, err := r.ReadAt(b[:], int64(p.Off+p.Filesz-1)); n != 1 {
			return Segment{}, wrapError(ErrTruncated, err, name, ": the file ends before p_offset ", hex(p.Off), " + p_filesz ", hex(p.Filesz))
		}
	}
	return s, nil
}

// find returns the segment whose pages hold addr, or nil.
func (p *Plan) find(addr uint64) *Segment {
	i := sort.Search(len(p.Segments), func(i int) bool { return p.Segments[i].End > addr })
	if i < len(p.Segments) && p.Segments[i].Start <= addr {
		return &p.Segments[i]
	}
	return nil
}

// mapsFile reports whether [addr, addr+size) lies in the file part of one
// segment.
func (p *Plan) mapsFile(addr, size uint64) bool {
	s := p.find(addr)
	return s != nil && addr >= s.Vaddr && addr+size >= addr && addr+size <= s.Vaddr+s.Filesz
}

func pageStart(v uint64) uint64 { return v &^ (PageSize - 1) }
func pageAlign(v uint64) uint64 { return (v + PageSize - 1) &^ (PageSize - 1) }

// printable is b as it is when it is printable ASCII, else quoted.
func printable(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return strconv.QuoteToASCII(string(b))
		}
	}
	return string(b)
}
