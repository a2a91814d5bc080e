// Package handlercheck proves from a kernel's machine code that handler
// context reaches nothing it must not (docs/DESIGN.md, "Handler context"). It runs on the
// host, over the ELF the kernel build links (build/kernel.elf, or a test
// kernel from go test -c), with cmd/handlercheck as its command.
//
// Handler context is the Go code the trap path (kernel/trap_amd64.s:
// syscallEntry and the vectors jump to trapCommon, which calls
// kernel.trap) and the boot path (kernel.entry calls kernel.kmain) run. It
// runs on a kernel stack with the kernel g in TLS, whose only valid fields
// are the stack bounds: no m, no p. So it must not allocate on the Go heap,
// take a Go lock (or block on a channel), store a Go pointer where the
// compiler puts a write barrier, defer through a defer record, or panic
// through Go's panic machinery (an explicit panic, a type assertion without
// comma-ok, a throw the kernel asked for). Any of these needs the m or p
// the kernel g lacks, or the GC's cooperation, and faults or corrupts the
// runtime.
//
// # How
//
// Load reads the symbol table (function bounds; assembly functions and the
// ABI wrappers between Go and assembly are functions like any other), the
// line table, DWARF's inlining records and every go:itab symbol, then
// decodes each function with golang.org/x/arch/x86/x86asm into sites:
// direct calls; jumps out of the function (tail calls, ABI wrappers,
// assembly jumping on); loads of a function's address or of a func value
// holding it (LEAQ f(SB), MOVQ $f(SB), LEAQ f·f(SB), or a variable holding
// f·f); indirect calls, classified by where their target was loaded from;
// and the compiler's nil checks.
//
// Check then searches breadth first from each root, so every path it
// prints is a shortest one:
//
//   - a direct call or a tail jump is an edge;
//   - a function whose address a reached function takes is reached (a
//     closure, a method value, a func value stored for later): the edge
//     is from the function that takes it;
//   - an indirect call through a func value (MOVQ (F), R; CALL R) needs
//     nothing more: its possible targets are those functions;
//   - an interface call (MOVQ 24+8k(ITAB), R; CALL R, slot k of an
//     internal/abi.ITab) is followed to slot k of every itab in the binary
//     whose interface is in Config.Interfaces (hurdvm: paging.Frames and
//     paging.TLB) and whose method in that slot the call's source line
//     calls ("env.Frames.AllocTable()"). The itab's function pointers and
//     its interface's method names are read from the data (Go 1.26's
//     layout: Fun at offset 24, InterfaceType.Methods at 56), not guessed
//     from symbol names;
//   - an indirect call the decoder cannot attribute is followed to every
//     method of every checked interface's itabs and reported as a warning;
//     so is an interface call whose line names a method of an interface
//     that is not checked (error.Error, say), which is not followed.
//
// Each edge's callee is then matched against Config: an allowance (an
// edge the design accepts, with its reason in the source) stops the
// search there; a forbidden function is a violation, reported with its
// path; a run-time check (runtime.panicIndex, panicBounds, panicdivide,
// panicshift...: the compiler's bounds, divide and shift checks) is
// counted per function, like the nil checks (TESTB AL, (reg)); these end
// in a kernel-mode fault, which the kernel turns into a kernel panic, so
// they fail the check only with Config.Strict. A call to runtime.morestack
// (every prologue's stack check) is allowed and not followed: the kernel g's
// stack bounds are the kernel stacks, so the check passes where the stack
// is deep enough and a kernel stack overflow would fault anyway;
// Config.ForbidStackGrowth makes it a violation. Everything else, runtime
// functions included, is followed.
//
// The runtime's own failure paths are not ours: gopanic, throw and fatal
// are violations when kernel code calls them, and are neither reported nor
// followed when the runtime does (runtime.ifaceeq panics on uncomparable
// types; following it would drag in the whole panic machinery).
// RuntimeAllowances cut the few runtime functions compiled code calls whose
// bad paths cannot run (deferreturn behind open-coded defers, ifaceeq and
// efaceeq). KernelConfig adds hurdvm's own: the kernel-panic report, which
// kernelPanic injects into the running thread as ordinary Go code (the cut
// point at reportPanicEntry), and the write barriers of kmain, which runs
// before the runtime has started: runtime.writeBarrier is zero then, so the
// compiler's test skips every barrier. An allowance marked Finding is a
// real violation accepted until it is fixed: the summary line counts them
// and -v lists them.
//
// # Soundness limits
//
// The check is as good as its view of the call graph, which is static and
// made from machine code:
//
//   - Func values are followed by address: any reached code taking f's
//     address makes f reachable. A func value whose address is only in
//     static data (a package-level var f = g, a table of funcs) and never
//     loaded by reached code through one variable is not seen.
//   - Interface calls are typed by the method names on their source line.
//     Without the sources (a binary built elsewhere, or with -trimpath) an
//     interface call is unattributed and followed to its slot in every
//     checked interface. An interface value built at run time from an itab
//     the binary does not carry (runtime.getitab, reached only through type
//     assertions to interfaces, which allocate) is not seen.
//   - Interfaces not in Config.Interfaces are not followed: their calls are
//     warnings. Adding "error" would follow err.Error() to every error
//     type in the binary, most of them never in handler context.
//   - Assembly that computes a target (JMP AX after arithmetic) is
//     unattributed; a jump table's JMP (MOVQ (T)(I*8), R; JMP R) is taken
//     to stay in its function, as the Go compiler's do.
//   - Data and padding inside a function decode as whatever they look
//     like; bytes that do not decode are skipped and counted.
//   - A forbidden call on a path that never runs (a condition the code
//     always meets) is still a violation: the check knows no values, only
//     code. Allowances say which of those the design accepts.
//   - Allowances that name a function inlined at the call (mm.(*VM).check)
//     need DWARF; without it (a binary linked with -w) they match nothing
//     and the check fails rather than passes.
package handlercheck
