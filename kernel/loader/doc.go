// Package loader loads static Linux x86-64 programs the way Linux 6.1's
// binfmt_elf does (issue 17, "Loading"): it reads an ELF file, plans the
// memory its segments need, carries the plan out into an address space
// through a small interface, and builds the initial process stack (argc,
// argv, envp, the auxiliary vector, the strings) byte for byte as
// create_elf_tables does. It is plain Go over the standard library's
// debug/elf types, with no kernel dependency, so the kernel and the host
// tests run the same code; it allocates (an exec is not handler code: the
// kernel runs it in a goroutine, as it runs the file server).
//
// # Use
//
//	plan, err := loader.Load(file, nil)            // file: an io.ReaderAt, the initramfs entry or GRUB module
//	err = plan.Apply(file, mem)                     // mem: the new task's loader.Memory
//	img, err := loader.Stack(plan, &loader.StackArgs{
//		Top: loader.DefaultStackTop, Argv: argv, Envp: envp, ExecFn: path,
//		Random: seed, HWCap: cpuid1EDX, HWCap2: hwcap2, MinSigStkSz: sigframeSize,
//	})
//	prot := loader.ProtRead | loader.ProtWrite
//	if plan.ExecStack {
//		prot |= loader.ProtExec
//	}
//	err = img.Apply(mem, 8<<20, prot)              // the stack region, 8 MiB below Top
//	// enter ring 3 at plan.Entry with RSP = img.SP, the other registers 0;
//	// the program break starts (empty) at plan.Brk.
//
// # The plan
//
// Load reads the ELF header and the program headers (one page of them at
// most, as Linux), never the section headers: a stripped or sstripped
// program loads, and nothing a loader does not need can refuse a file.
// A Plan holds:
//
//   - Segments: each PT_LOAD of non-zero p_memsz as whole pages
//     [Start, End) with the protection of its p_flags, the file bytes to
//     copy (CopySize from FileStart, a page-aligned offset) and, implied,
//     the zeros. The bytes are where Linux's mmap of the file puts them:
//     the file from the page holding p_vaddr, the rest of the last file
//     page zeroed from p_vaddr+p_filesz when the segment has a bss
//     (padzero), anonymous zero pages up to the page holding
//     p_vaddr+p_memsz. A segment without bss shows the file bytes that
//     follow it up to its page's end, as under Linux. Linux 6.1 maps the
//     bss pages past the file read-write whatever the segment says
//     (vm_brk_flags); Load gives them the segment's protection, as Linux
//     does since 6.7.
//   - Entry: e_entry, RIP at the start and AT_ENTRY.
//   - Phdr: AT_PHDR as Linux 6.1 computes it, e_phoff's place in the
//     PT_LOAD whose file part holds it; else PT_PHDR's address when a
//     segment maps it (Linux would pass 0); else 0, with a warning.
//   - Brk: the initial program break, page-aligned above the highest
//     segment's p_vaddr+p_memsz (Linux's set_brk), without randomization.
//   - ExecStack: PT_GNU_STACK's PF_X. A program without PT_GNU_STACK gets a
//     non-executable stack, as x86-64 Linux gives since 5.8.
//   - TLS: PT_TLS, for information (the program sets up its own).
//   - StartCode, EndCode, StartData, EndData: Linux's mm fields, for a
//     /proc/PID/stat.
//   - Warnings: writable and executable segments (Linux loads them; so
//     does Load unless Options.DenyWX), an AT_PHDR that no segment maps.
//
// # What is refused, and why
//
// Every error is an *Error that says what and where and unwraps to one of
// the Err* kinds:
//
//   - ErrNotELF, ErrClass, ErrMachine: not ELF, not ELFCLASS64
//     little-endian, not EM_X86_64. The kernel runs x86-64 programs only
//     (no 32-bit or x32 personality).
//   - ErrDynamic: a PT_INTERP. A dynamically linked program needs its
//     interpreter (ld.so) and its libraries from a file system the kernel
//     does not have: "loader: PT_INTERP /lib64/ld-linux-x86-64.so.2:
//     dynamically linked programs are not supported; build with
//     CGO_ENABLED=0". Go programs built with CGO_ENABLED=0 (go build, go
//     test -c, default flags) are static ET_EXEC files.
//   - ErrType: neither ET_EXEC nor ET_DYN (object files, core dumps). An
//     ET_DYN without PT_INTERP is a static-pie (gcc -static-pie; a Go
//     static-pie needs external linking): it is loaded at a base,
//     Options.PIEBase or DefaultPIEBase (Linux's ELF_ET_DYN_BASE without
//     randomization), aligned down to the largest power-of-two p_align as
//     Linux aligns it; Plan.Bias is added to every address, and the
//     program relocates itself (glibc's _dl_relocate_static_pie). Linux
//     itself puts such a program in the mmap area; any base works.
//   - ErrHeader: e_phentsize not 56, e_phnum 0 or more than a page of
//     headers (73), e_ident's version not 1.
//   - ErrTruncated: the file ends inside the headers or before a
//     segment's p_offset+p_filesz (Load reads each segment's last byte, so
//     the refusal comes before anything is mapped).
//   - ErrSize: p_filesz > p_memsz (Linux: EINVAL), p_offset+p_filesz
//     wrapping.
//   - ErrAlign: p_offset and p_vaddr not congruent modulo the page (mmap
//     would refuse the offset). p_align is not checked otherwise, as in
//     Linux.
//   - ErrRange: pages outside [MinAddr, MaxAddr): by default Linux's
//     mmap_min_addr (64 KiB: page 0 stays unmapped, so NULL faults) and
//     TASK_SIZE (128 TiB less a page), wrapping sums included. The kernel
//     may narrow the window with Options.
//   - ErrOverlap: two segments sharing a page. Linux maps the second over
//     the first (MAP_FIXED); real linkers never emit it, and a VM_HERE
//     allocation cannot do it.
//   - ErrNoLoad, ErrEntry: nothing to load, or an entry point outside the
//     executable segments' p_vaddr..p_vaddr+p_memsz (Linux would start it
//     and fault at once).
//   - ErrWX: a writable and executable segment, with Options.DenyWX only.
//
// # The stack
//
// Stack builds the stack Linux 6.1 builds for a static program (no
// interpreter: AT_BASE 0), from the top down: 8 zero bytes, the path
// (AT_EXECFN), the environment and argument strings, a gap (Linux's
// arch_align_stack: a random amount below 8 KiB, 0 without
// randomization) rounded down to 16, "x86_64" (AT_PLATFORM), the 16
// AT_RANDOM bytes, then the auxiliary vector, envp, argv and argc at a
// 16-byte-aligned RSP. The auxiliary vector is 6.1's for x86-64, in its
// order: AT_SYSINFO_EHDR (only when a vDSO address is given: hurdvm has
// none yet), AT_MINSIGSTKSZ, AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR,
// AT_PHENT, AT_PHNUM, AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID,
// AT_GID, AT_EGID, AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN,
// AT_PLATFORM, then StackArgs.Extra (Linux 6.3 adds AT_RSEQ_FEATURE_SIZE
// and AT_RSEQ_ALIGN there), AT_NULL. As in Linux, an empty argv becomes
// {""}, a string is at most MAX_ARG_STRLEN and all of them with their
// pointers at most a quarter of the 8 MiB stack rlimit (E2BIG: ErrArgs).
// ParseStack reads a stack back as a program's start-up code does.
//
// TestStackMatchesLinux checks this against the host's Linux: a static
// Go program (testdata/auxdump) prints the stack Linux built for it,
// from its initial RSP to the top, and Stack, given the same arguments,
// environment, path and the values only the host knows (its stack top,
// AT_RANDOM's bytes, AT_HWCAP, AT_MINSIGSTKSZ, the vDSO, the credentials,
// 6.3's extra entries), builds the same bytes at the same RSP; Linux's
// AT_PHDR, AT_ENTRY, mappings of the program and initial break are the
// plan's.
//
// # In the kernel
//
// The kernel's Memory is a new task: Allocate is hurd_vm_allocate with
// VM_HERE at the segment's pages (mm.AddressSpace.Allocate with the
// VM_HERE flag), then the protection (mm.AddressSpace.Protect: the
// region is created read-write); Write copies into the task through the
// physmap, faulting pages in, whatever their protection. Apply never asks
// for a page twice, and a failed exec throws the task away. The stack
// region is one more allocation, [Top-size, Top), read-write (executable
// only when plan.ExecStack), with the image at img.SP; the program's
// brk(2) starts at plan.Brk with nothing allocated, and grows by further
// VM_HERE allocations above it. The kernel chooses the stack top (Linux's
// is DefaultStackTop, page-aligned), AT_RANDOM's bytes (its random
// source), AT_HWCAP (CPUID leaf 1's EDX), AT_HWCAP2 (bit 1 when it enables
// FSGSBASE for ring 3) and AT_MINSIGSTKSZ (its signal frame's size, XSAVE
// area included). The program starts at plan.Entry, RSP = img.SP, RDX 0
// (no atexit function from a dynamic linker), the other registers 0.
//
// # Tests
//
//	go test ./kernel/loader                        # builds Go programs with the host's Go, runs one on Linux
//	go test -run X -fuzz FuzzLoad -fuzztime 5m -parallel 1 ./kernel/loader
package loader
