package loader

import (
	"encoding/binary"
	"strings"
)

// Auxiliary vector types (Linux's include/uapi/linux/auxvec.h and
// arch/x86/include/uapi/asm/auxvec.h).
const (
	AT_NULL              = 0
	AT_IGNORE            = 1
	AT_EXECFD            = 2
	AT_PHDR              = 3
	AT_PHENT             = 4
	AT_PHNUM             = 5
	AT_PAGESZ            = 6
	AT_BASE              = 7
	AT_FLAGS             = 8
	AT_ENTRY             = 9
	AT_NOTELF            = 10
	AT_UID               = 11
	AT_EUID              = 12
	AT_GID               = 13
	AT_EGID              = 14
	AT_PLATFORM          = 15
	AT_HWCAP             = 16
	AT_CLKTCK            = 17
	AT_SECURE            = 23
	AT_BASE_PLATFORM     = 24
	AT_RANDOM            = 25
	AT_HWCAP2            = 26
	AT_RSEQ_FEATURE_SIZE = 27
	AT_RSEQ_ALIGN        = 28
	AT_EXECFN            = 31
	AT_SYSINFO_EHDR      = 33
	AT_MINSIGSTKSZ       = 51
)

// Linux's limits on exec's strings (include/uapi/linux/binfmts.h, fs/exec.c).
const (
	// MaxArgStrlen is MAX_ARG_STRLEN: one argument or environment string,
	// its NUL included.
	MaxArgStrlen = 32 * PageSize
	// DefaultArgLimit is bprm_stack_limits' limit under the usual 8 MiB
	// stack rlimit (a quarter of it): the strings and their pointers.
	DefaultArgLimit = 2 << 20
	// ClockTicks is AT_CLKTCK, USER_HZ.
	ClockTicks = 100
	// DefaultStackTop is Linux's STACK_TOP on x86-64 without
	// randomization (TASK_SIZE): the top of the lower half less a page.
	DefaultStackTop = DefaultMaxAddr
)

// An Aux is one auxiliary vector entry.
type Aux struct{ Type, Val uint64 }

// StackArgs are what Stack puts on a new program's stack, beside the plan.
type StackArgs struct {
	// Top is the stack's top (exclusive), a multiple of 16; Linux's is
	// page-aligned, DefaultStackTop without randomization.
	Top uint64
	// Argv and Envp are the arguments and the environment, without NULs.
	// An empty Argv becomes {""}, as Linux makes it since 5.18.
	Argv, Envp []string
	// ExecFn is the path the program was run by (execve's filename),
	// AT_EXECFN. Empty means Argv[0].
	ExecFn string
	// Random is AT_RANDOM's 16 bytes: the program's seed (Go's runtime
	// and glibc's stack protector use it). The caller draws them.
	Random [16]byte
	// HWCap is AT_HWCAP: on x86-64, CPUID leaf 1's EDX. HWCap2 is
	// AT_HWCAP2: bit 1 when FSGSBASE is enabled for ring 3.
	HWCap, HWCap2 uint64
	// MinSigStkSz is AT_MINSIGSTKSZ: the size of the kernel's signal
	// frame, XSAVE area included (Linux's get_sigframe_size()).
	MinSigStkSz uint64
	// SysinfoEHDR is AT_SYSINFO_EHDR, the vDSO's address; 0 leaves the
	// entry out, as Linux does with vdso=0.
	SysinfoEHDR uint64
	// The credentials: AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE.
	UID, EUID, GID, EGID uint64
	Secure               bool
	// Platform is AT_PLATFORM's string; empty means "x86_64".
	Platform string
	// Gap is how far below the strings the rest begins, before the
	// rounding to 16: Linux's arch_align_stack subtracts a random number
	// below 8192 unless randomization is off (ADDR_NO_RANDOMIZE). 0 is
	// Linux without randomization.
	Gap uint64
	// Extra entries go after AT_PLATFORM, before AT_NULL: later Linux
	// versions' (6.3's AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN) or
	// AT_EXECFD.
	Extra []Aux
	// ArgLimit bounds the strings (ExecFn's included) and the argv and
	// envp pointers (E2BIG past it); 0 means DefaultArgLimit.
	ArgLimit uint64
}

// A StackImage is a program's initial stack: Data goes at [SP, Top), and
// the program starts with RSP = SP (16-aligned, as the x86-64 ABI
// requires at process entry; argc is at (RSP)).
type StackImage struct {
	Top, SP uint64
	Data    []byte

	// Where things are, for the kernel's process record (Linux's
	// mm->arg_start... for /proc/PID/cmdline and environ, and the saved
	// auxv for /proc/PID/auxv).
	Argv, Envp, Auxv         uint64 // the argv[0], envp[0] and first auxv words
	ArgStart, ArgEnd         uint64 // the argument strings
	EnvStart, EnvEnd         uint64 // the environment strings
	ExecFn, Platform, Random uint64 // AT_EXECFN's, AT_PLATFORM's and AT_RANDOM's bytes
	AuxvEntries              []Aux  // AT_NULL included
}

// resolved gives the arguments, the path and the platform string with
// their defaults.
func (a *StackArgs) resolved() (argv []string, execfn, platform string) {
	argv, execfn, platform = a.Argv, a.ExecFn, a.Platform
	if len(argv) == 0 {
		argv = []string{""}
	}
	if execfn == "" {
		execfn = argv[0]
	}
	if platform == "" {
		platform = "x86_64"
	}
	return argv, execfn, platform
}

// Stack builds the initial stack of the program plan describes, as Linux
// 6.1's exec does for a static program (do_execveat_common's strings,
// then create_elf_tables). From the top down:
//
//	8 zero bytes
//	ExecFn's string (bprm->exec, AT_EXECFN)
//	the environment strings, then the argument strings below them, each
//	  list in order upwards (argv[0]'s string is the lowest)
//	Gap, then rounding down to 16
//	Platform's string ("x86_64\0", AT_PLATFORM), right below
//	AT_RANDOM's 16 bytes, right below (not aligned)
//	unused bytes so that RSP is 16-aligned
//	the auxiliary vector: [AT_SYSINFO_EHDR,] AT_MINSIGSTKSZ, AT_HWCAP,
//	  AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE, AT_FLAGS,
//	  AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_RANDOM,
//	  AT_HWCAP2, AT_EXECFN, AT_PLATFORM, Extra..., AT_NULL
//	NULL, envp pointers (upwards), NULL, argv pointers, argc    <- RSP
//
// AT_BASE is 0 (no interpreter) and AT_FLAGS 0. Errors are *Error:
// ErrArgs for a string with a NUL, one longer than MaxArgStrlen or
// strings past ArgLimit (Linux's E2BIG), ErrStack for a misaligned Top,
// one outside the lower half, or a stack over a segment.
func Stack(plan *Plan, a *StackArgs) (*StackImage, error) {
	if a.Top%16 != 0 {
		return nil, newError(ErrStack, "stack top ", hex(a.Top), " is not a multiple of 16")
	}
	if a.Top > DefaultMaxAddr || a.Top < DefaultMinAddr {
		return nil, newError(ErrStack, "stack top ", hex(a.Top), " is outside ", hex(DefaultMinAddr), "-", hex(DefaultMaxAddr))
	}
	argv, execfn, platform := a.resolved()
	limit := a.ArgLimit
	if limit == 0 {
		limit = DefaultArgLimit
	}

	// The strings, checked as Linux's copy_strings checks them.
	ptrs := uint64(len(argv)+len(a.Envp)) * 8
	if ptrs >= limit {
		return nil, newError(ErrArgs, dec(uint64(len(argv))), " arguments and ", dec(uint64(len(a.Envp))), " environment strings: their pointers exceed ", dec(limit), " bytes (E2BIG)")
	}
	total := uint64(0)
	check := func(what string, s string) error {
		if strings.IndexByte(s, 0) >= 0 {
			return newError(ErrArgs, what, " holds a NUL byte")
		}
		if len(s)+1 > MaxArgStrlen {
			return newError(ErrArgs, what, " is ", dec(uint64(len(s))), " bytes long, more than MAX_ARG_STRLEN (E2BIG)")
		}
		total += uint64(len(s)) + 1
		if total > limit-ptrs {
			return newError(ErrArgs, "the arguments and environment exceed ", dec(limit), " bytes (E2BIG)")
		}
		return nil
	}
	if err := check("the program's path", execfn); err != nil {
		return nil, err
	}
	for _, s := range a.Envp {
		if err := check("an environment string", s); err != nil {
			return nil, err
		}
	}
	for _, s := range argv {
		if err := check("an argument", s); err != nil {
			return nil, err
		}
	}
	if strings.IndexByte(platform, 0) >= 0 || len(platform) > 64 {
		return nil, newError(ErrArgs, "the platform string is not a short string without NULs")
	}
	if a.Gap > 1<<20 {
		return nil, newError(ErrStack, "gap ", dec(a.Gap), " is more than 1 MiB")
	}

	// Addresses, from the top down.
	p := a.Top - 8
	p -= uint64(len(execfn)) + 1
	execAddr := p
	envAddrs := make([]uint64, len(a.Envp))
	for i := len(a.Envp) - 1; i >= 0; i-- {
		p -= uint64(len(a.Envp[i])) + 1
		envAddrs[i] = p
	}
	envStart := p
	argAddrs := make([]uint64, len(argv))
	for i := len(argv) - 1; i >= 0; i-- {
		p -= uint64(len(argv[i])) + 1
		argAddrs[i] = p
	}
	argStart := p
	if p < a.Gap+64 {
		return nil, newError(ErrStack, "the stack does not fit below ", hex(a.Top))
	}
	p = (p - a.Gap) &^ 15
	p -= uint64(len(platform)) + 1
	platAddr := p
	p -= 16
	randAddr := p

	aux := make([]Aux, 0, 24+len(a.Extra))
	if a.SysinfoEHDR != 0 {
		aux = append(aux, Aux{AT_SYSINFO_EHDR, a.SysinfoEHDR})
	}
	secure := uint64(0)
	if a.Secure {
		secure = 1
	}
	aux = append(aux,
		Aux{AT_MINSIGSTKSZ, a.MinSigStkSz},
		Aux{AT_HWCAP, a.HWCap},
		Aux{AT_PAGESZ, PageSize},
		Aux{AT_CLKTCK, ClockTicks},
		Aux{AT_PHDR, plan.Phdr},
		Aux{AT_PHENT, PhentSize},
		Aux{AT_PHNUM, plan.Phnum},
		Aux{AT_BASE, 0},
		Aux{AT_FLAGS, 0},
		Aux{AT_ENTRY, plan.Entry},
		Aux{AT_UID, a.UID},
		Aux{AT_EUID, a.EUID},
		Aux{AT_GID, a.GID},
		Aux{AT_EGID, a.EGID},
		Aux{AT_SECURE, secure},
		Aux{AT_RANDOM, randAddr},
		Aux{AT_HWCAP2, a.HWCap2},
		Aux{AT_EXECFN, execAddr},
		Aux{AT_PLATFORM, platAddr},
	)
	aux = append(aux, a.Extra...)
	aux = append(aux, Aux{AT_NULL, 0})

	items := uint64(1+len(argv)+1+len(a.Envp)+1) + 2*uint64(len(aux))
	if p < items*8+16+DefaultMinAddr {
		return nil, newError(ErrStack, "the stack does not fit below ", hex(a.Top))
	}
	sp := (p - items*8) &^ 15
	if sp < DefaultMinAddr {
		return nil, newError(ErrStack, "the stack does not fit below ", hex(a.Top))
	}
	for _, s := range plan.Segments {
		if sp < s.End && s.Start < a.Top {
			return nil, newError(ErrStack, "the stack ", hex(sp), "-", hex(a.Top), " overlaps segment ", dec(uint64(s.Index)), " (", hex(s.Start), "-", hex(s.End), ")")
		}
	}

	img := &StackImage{
		Top: a.Top, SP: sp, Data: make([]byte, a.Top-sp),
		ArgStart: argStart, ArgEnd: envStart, EnvStart: envStart, EnvEnd: execAddr,
		ExecFn: execAddr, Platform: platAddr, Random: randAddr, AuxvEntries: aux,
	}
	put := func(addr uint64, s string) { copy(img.Data[addr-sp:], s) } // the NUL is already there
	put(execAddr, execfn)
	for i, s := range a.Envp {
		put(envAddrs[i], s)
	}
	for i, s := range argv {
		put(argAddrs[i], s)
	}
	put(platAddr, platform)
	copy(img.Data[randAddr-sp:], a.Random[:])

	w := img.Data
	word := func(v uint64) { binary.LittleEndian.PutUint64(w, v); w = w[8:] }
	word(uint64(len(argv)))
	img.Argv = sp + 8
	for _, v := range argAddrs {
		word(v)
	}
	word(0)
	img.Envp = img.Argv + uint64(len(argv)+1)*8
	for _, v := range envAddrs {
		word(v)
	}
	word(0)
	img.Auxv = img.Envp + uint64(len(a.Envp)+1)*8
	for _, e := range aux {
		word(e.Type)
		word(e.Val)
	}
	return img, nil
}

// Apply allocates the stack region [Top-size, Top) with prot (ProtRead|
// ProtWrite, and ProtExec when the plan's ExecStack says so) and writes
// the image at SP. size is a multiple of PageSize that holds the image;
// what lies below SP is the program's stack to grow into (Linux's is
// 128 KiB at first, growing to the 8 MiB rlimit; hurdvm's pages are
// demand-zero, so a large region costs what is touched).
func (s *StackImage) Apply(mem Memory, size uint64, prot Prot) error {
	if size%PageSize != 0 || size < s.Top-s.SP || s.Top%PageSize != 0 || size > s.Top-DefaultMinAddr {
		return newError(ErrStack, "stack region of ", hex(size), " bytes below ", hex(s.Top), " does not fit the image (", dec(s.Top-s.SP), " bytes) in whole pages")
	}
	if err := mem.Allocate(s.Top-size, size, prot); err != nil {
		return wrapError(ErrMemory, err, "allocating the stack ", hex(s.Top-size), "-", hex(s.Top))
	}
	if err := mem.Write(s.SP, s.Data); err != nil {
		return wrapError(ErrMemory, err, "writing the stack at ", hex(s.SP))
	}
	return nil
}

// ParsedStack is what a program finds on its stack at entry.
type ParsedStack struct {
	Argc       uint64
	Argv, Envp []string
	Auxv       []Aux // AT_NULL included
	ExecFn     string
	Platform   string
	Random     [16]byte
	ArgvAddrs  []uint64 // the strings' addresses
	EnvpAddrs  []uint64
}

// ParseStack reads an initial stack as a program's start-up code does:
// data is the memory [sp, sp+len(data)), which holds argc at sp and
// every string the pointers point to. It is the inverse of Stack, and
// reads a stack Linux built just as well (the tests compare them).
func ParseStack(data []byte, sp uint64) (*ParsedStack, error) {
	end := sp + uint64(len(data))
	bad := func(what string, at uint64) error {
		return newError(ErrStack, what, " at ", hex(at), " is outside ", hex(sp), "-", hex(end))
	}
	off := uint64(0)
	word := func() (uint64, bool) {
		if off+8 > uint64(len(data)) || off+8 < off {
			return 0, false
		}
		v := binary.LittleEndian.Uint64(data[off:])
		off += 8
		return v, true
	}
	str := func(addr uint64) (string, bool) {
		if addr < sp || addr >= end {
			return "", false
		}
		b := data[addr-sp:]
		for i, c := range b {
			if c == 0 {
				return string(b[:i]), true
			}
		}
		return "", false
	}
	ps := &ParsedStack{}
	argc, ok := word()
	if !ok {
		return nil, bad("argc", sp)
	}
	if argc > uint64(len(data))/8 {
		return nil, newError(ErrStack, "argc ", dec(argc), " is more than the stack holds")
	}
	ps.Argc = argc
	list := func(n int, what string) ([]string, []uint64, error) {
		var ss []string
		var as []uint64
		for i := 0; n < 0 || i < n; i++ {
			at := sp + off
			v, ok := word()
			if !ok {
				return nil, nil, bad(what+" pointer", at)
			}
			if v == 0 {
				if n >= 0 {
					return nil, nil, newError(ErrStack, what, "[", dec(uint64(i)), "] is NULL")
				}
				return ss, as, nil
			}
			s, ok := str(v)
			if !ok {
				return nil, nil, bad(what+" string", v)
			}
			ss, as = append(ss, s), append(as, v)
		}
		at := sp + off
		if v, ok := word(); !ok || v != 0 {
			return nil, nil, newError(ErrStack, "no NULL after ", what, " at ", hex(at))
		}
		return ss, as, nil
	}
	var err error
	if ps.Argv, ps.ArgvAddrs, err = list(int(argc), "argv"); err != nil {
		return nil, err
	}
	if ps.Envp, ps.EnvpAddrs, err = list(-1, "envp"); err != nil {
		return nil, err
	}
	for {
		at := sp + off
		t, ok1 := word()
		v, ok2 := word()
		if !ok1 || !ok2 {
			return nil, bad("auxv entry", at)
		}
		ps.Auxv = append(ps.Auxv, Aux{t, v})
		switch t {
		case AT_NULL:
			return ps, nil
		case AT_EXECFN:
			if ps.ExecFn, ok = str(v); !ok {
				return nil, bad("AT_EXECFN string", v)
			}
		case AT_PLATFORM:
			if ps.Platform, ok = str(v); !ok {
				return nil, bad("AT_PLATFORM string", v)
			}
		case AT_RANDOM:
			if v < sp || v+16 > end || v+16 < v {
				return nil, bad("AT_RANDOM bytes", v)
			}
			copy(ps.Random[:], data[v-sp:])
		}
	}
}

// Lookup returns the value of the first auxv entry of type t.
func (ps *ParsedStack) Lookup(t uint64) (uint64, bool) {
	for _, e := range ps.Auxv {
		if e.Type == t {
			return e.Val, true
		}
	}
	return 0, false
}
