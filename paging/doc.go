// Package paging builds and changes x86-64 4-level page tables (PML4, PDPT,
// PD, PT) with 4 KiB, 2 MiB and 1 GiB pages.
//
// It is pure Go and imports no other hurdvm package: the machine comes in as
// an Env (where physical memory is visible, a source of table frames, TLB
// invalidation), so the same code runs in the kernel over real memory and in
// host tests over a byte arena. Tables are reached only as
// Env.PhysOffset + physical address, in one audited helper (physmap.go).
//
// # Handler context
//
// Map, MapPages, Unmap, Protect, Change, Translate, Leaf, Create and
// Destroy run in the kernel's page-fault and system-call handlers, under
// the rules of docs/DESIGN.md, "Handler context", and so does everything
// they call: entry.go, errors.go, env.go, physmap.go, walk.go, map.go,
// unmap.go, split.go, protect.go, copy.go, and most of pagetable.go. They
// keep their transient state on the stack or in the table frames
// themselves, use no recursion, and are //go:nosplit (the tests prove "no
// allocation" with testing.AllocsPerRun). New, Init and Bind
// (pagetable.go), Pin and ShareKernelHalf (share.go) are for ordinary
// kernel code. Each file says which it is at the top.
//
// The nosplit chains fit the linker's limit in normal and -race builds. An
// unoptimised build (-gcflags=all=-N -l) exceeds it; debug with paging
// still optimised: -gcflags='all=-N -l' -gcflags='hurdvm/paging='.
//
// A PageTable is not safe for concurrent use: its owner serializes the
// changes (the kernel: the address space's lock, docs/DESIGN.md,
// "Locking"). Other CPUs may run threads on it meanwhile, whose page walks
// set Accessed and Dirty bits: paging's read-modify-writes of present
// leaves are compare-and-swaps (atomic.go), so no such bit is lost, and
// Env.TLB's Sync shoots stale translations down on those CPUs.
//
// # One walker
//
// Every operation goes through the walker in walk.go: seek descends from the
// root to a given level (creating tables for Map), and range operations move
// through [va, va+size) entry by entry with down and next, skipping holes a
// whole table span at a time. Translate, Map's overlap check and descent,
// Unmap, Protect, the edge splits and Destroy all use it.
//
// # Page sizes
//
// Map uses the largest page that va, pa and the remaining size allow at
// every step: 1 GiB (if Env.GiantPages), 2 MiB, else 4 KiB. MapPages always
// uses 4 KiB pages. Unmap and Protect split a huge page that the range only
// partly covers (Protect only if its flags change); the rest of the page
// keeps its translation, flags and Accessed/Dirty bits. Pages are never
// merged back into huge pages.
//
// # Out of memory
//
// Every operation that fails with ErrNoMemory leaves the tables exactly as
// they were (same entries, same tables, no frame kept): Unmap and Protect
// take all the frames they need for splitting (at most four) before changing
// anything; Map that runs dry half-way removes what it mapped and frees the
// tables it allocated (invalidating those leaves, which the CPU may have
// cached meanwhile). ErrMapped also changes nothing: Map checks the whole
// range before touching it.
//
// # TLB
//
// Map into empty entries needs no invalidation. Unmap and Protect invalidate
// each changed leaf (one Invalidate per leaf, whatever its size) up to
// Env.InvalidateLimit (DefaultInvalidateLimit, 33), and past it do a single
// FlushAll instead. A split invalidates the huge page it replaced. One
// operation shoots all its invalidations down with one Sync (one IPI to
// each other CPU in the kernel): Unmap gathers what it removes as Linux's
// mmu_gather does, in the tables themselves: the leaves and the tables
// left empty are unlinked (marked dying) first, then the one shootdown
// drops the translations and, with InvalidateTables, the paging-structure
// caches, and only then are the frames released and the tables freed, so
// nothing is reused while any CPU can reach it (unmap.go, clear).
//
// # The shared kernel half
//
// The kernel's PageTable pins the PML4 slots of the kernel half (Pin: a
// PDPT per slot, never freed); each task's PageTable links those same PDPTs
// (ShareKernelHalf) and marks them Borrowed, so later kernel mappings appear
// in every address space at once and Destroy of a task leaves them alone.
// Map kernel mappings Global so CR3 switches keep them in the TLB.
//
// Not supported: 5-level paging (LA57), PAT memory types (the PAT bit is
// never set and is dropped by splits), protection keys, PCID.
package paging
