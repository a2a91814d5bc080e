// Package store is the backing store of the pager (issue 16): where a task's
// page goes when it is evicted, and where the fault that finds it gone
// (a major fault) gets it back. vm.h's regions are "allocated on demand and
// multiplexed"; this is the second half's memory.
//
// # The interface
//
// The fault path sees Backend: Put a page and get a Slot, Get it back into
// a frame, Dup and Free references, Refs, Stats. A Slot fits a not-present
// page-table entry (Slot.PTE, SlotOfPTE: bits 12-61, inverted as Linux
// inverts swap entries against L1TF; bit 0, Present, clear; bits 1-11 are
// the paging layer's, for its marker). Copy-on-write across fork is a
// reference count per slot: an evicted page shared by parent and child is
// one slot, referenced from both page tables (Dup at fork, Free from each
// side as it brings the page back or drops it). An all-zero page is not
// stored: Put returns ZeroSlot, and the pager makes the entry empty, so the
// page comes back as demand-zero. A block device can be a second backend,
// or a tier behind this one, without touching the fault path; its waits
// are ErrBusy, which the fault path should handle from the start.
//
// # The compressed store
//
// Compressed is Linux's zram over zsmalloc, in frames the kernel lends it
// (Frames: Alloc, Free, Page):
//
//   - Each page is compressed with LZ4's block format
//     (github.com/pierrec/lz4/v4). LZ4 is the codec the issue names, and the
//     one memory compressors choose for the fault path's sake (Zircon's
//     page compression uses it; zram offers it): its decoder has no
//     entropy stage and runs at GB/s, so a major fault costs little more
//     than a copy, and it still compresses ordinary memory 2-4:1. The
//     store keeps its own lz4.Compressor (the package's pooled functions
//     allocate) and decodes with lz4.UncompressBlock (amd64 assembly).
//   - A page whose block would take more than three quarters of a page
//     (maxCompressed) is stored as it is, in a frame of its own: the
//     quarter saved is not worth a decompression per fault, and random data
//     gives up early (the compressor stops when its output would not fit).
//   - Compressed pages are objects of 77 size classes, 32 to 3072 bytes in
//     32-byte steps, packed end to end into zspages of 1 to 8 frames (not
//     contiguous: an object may straddle two frames), as zsmalloc packs
//     them since Linux 6.3 (its default chain size, 8; 6.1 has 4). Each
//     class takes the zspage size that wastes least, and classes with the
//     same layout are merged, as zsmalloc merges them. A full zspage uses
//     at least 96% of its frames; a page compressed to n bytes (n >= 256)
//     takes at most 1.125 n of memory, 1.03 n on average over 1-2 KiB
//     (TestClasses). A zspage goes back to Frames as soon as it is empty,
//     and allocation fills the zspages that were full before the
//     half-empty ones, so these drain. There is no compaction yet; the
//     slot table makes it possible (moving an object changes one entry,
//     not the page tables that hold its slot).
//   - The slot table maps a slot to its data, its stored length and its
//     reference count: 16-byte entries in frames, found through a directory
//     (table.go), grown a frame at a time and released when the store
//     empties. A slot carries its entry's generation, so Get, Dup and Free
//     of a stale slot (freed, even if its entry was used again) fail with
//     ErrBadSlot instead of reading another task's page.
//   - The capacity is in uncompressed bytes, as zram's disksize is: by
//     default min(RAM/2, 4 GiB), as Linux's zram-generator sizes zram swap;
//     the kernel command-line option hurdvm.store= (CmdlineOption,
//     CapacityFromCmdline) sets it. A Put past it fails with ErrFull; a Put
//     that finds too few frames fails with ErrNoFrames; either way the
//     store holds exactly what it held before (the object is placed before
//     the table grows, and given back if the table cannot).
//
// # Handler context
//
// Put, Get, Dup, Free, Refs, Stats, SetCapacity, the slot encoding and the
// command-line parser run in handler context (docs/DESIGN.md, "Handler
// context"): they allocate nothing, take no Go lock, store no Go pointer and
// do not panic. Their memory is the Compressed value (about 150 KiB, most of
// it the LZ4 compressor's hash table: a kernel package-level variable,
// never in the demand-zero BSS) and frames from Frames. Init stores the
// Frames value once (at boot); New allocates. TestNoAllocations measures
// zero allocations for every call, and TestHandlerContext runs the kernel's
// handler-context checker over the machine code of a program that uses the
// store as the kernel will. There is no lock: callers serialize, as they
// do for mm's frame allocator (the kernel takes one spinlock, interrupts
// off, around each call).
package store
