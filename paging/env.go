// Context: any, including handlers. The interfaces here are implemented by
// the kernel (and by the host tests); their methods are called from handler
// context and must obey docs/DESIGN.md, "Handler context" themselves: nosplit, no heap, no
// Go locks.

package paging

// Frames gives the walker 4 KiB frames for page tables and takes them back.
type Frames interface {
	// AllocTable returns the physical address of a zeroed, 4 KiB aligned
	// frame, or ok == false when there is none. Physical address 0 is a
	// frame like any other.
	AllocTable() (pa uint64, ok bool)
	// FreeTable takes back a frame AllocTable gave. paging only hands back
	// frames it has cleared: every freed frame is all zeroes again, so an
	// allocator may keep them in a pre-zeroed pool.
	FreeTable(pa uint64)
}

// TLB invalidates cached translations after the tables change, on every
// CPU that may hold them. The kernel implements it with INVLPG, a CR4.PGE
// toggle and shootdown IPIs; the host tests with a recorder.
//
// Invalidate and FlushAll take effect on the calling CPU at once and on the
// others at the next Sync, which is a shootdown: paging batches an
// operation's invalidations and calls Sync once, before it releases a
// frame or frees a table whose translations it dropped, and before an
// operation that removed, downgraded or replaced translations returns. So
// no frame is reused, and no permission relied on, while any CPU can
// still reach it through a stale entry. Two leave the Sync to their
// caller, who makes one for several of them (PageTable.SyncTLB): fork's
// ShareLeaves, called once a region, and SplitEdges, whose splits change
// no translation and go with the Unmap or Change of the same range that
// follows.
type TLB interface {
	// Invalidate drops every translation of the page containing va, of
	// whatever size, and every paging-structure-cache entry (INVLPG does
	// both: SDM vol. 3 section 4.10.4.1). paging relies on the second half
	// before it frees a table: one Invalidate after unlinking tables.
	Invalidate(va uintptr)
	// FlushAll drops every translation, global ones included (toggle
	// CR4.PGE, or INVPCID all-contexts): a range of changed pages may hold
	// global pages of the kernel half, which a plain CR3 reload keeps.
	FlushAll()
	// Sync makes the Invalidates and FlushAlls since the last Sync hold
	// on every CPU that may cache translations of the tables rooted at
	// root (the physical address of their PML4), before it returns.
	Sync(root uint64)
	// InvalidateLocal drops this CPU's translation of va alone: the fault
	// handler's stale entry, when another CPU has already changed the
	// tables (and shot the old entry down).
	InvalidateLocal(va uintptr)
	// InvalidateTables is Invalidate for tables about to be freed under
	// va: the next Sync must reach every CPU whose page walks could go
	// through them, idle ones too (a walk sets Accessed bits in what it
	// takes for a table, and the frame will be something else).
	InvalidateTables(va uintptr)
}

// DefaultInvalidateLimit is how many leaves one operation invalidates one by
// one (Invalidate) before it switches to a single FlushAll. Each INVLPG costs
// on the order of 100-200 cycles; a full flush costs little itself but every
// translation in use must then be walked again. Linux/x86 settled on 33
// (tlb_single_page_flush_ceiling) from measurements on several Intel parts;
// hurdvm uses the same figure (it has not measured a cut-over of its own),
// and Env.InvalidateLimit lets tests change it.
//
// The count is of leaves, not of 4 KiB pages: unmapping a 1 GiB page is one
// INVLPG.
const DefaultInvalidateLimit = 33

// Env is what the page tables need from the machine. One Env describes the
// machine and is shared by every PageTable on it; it must stay unchanged and
// alive while they are in use.
type Env struct {
	// PhysOffset is the virtual address at which physical address 0 is
	// visible: the kernel's physmap base, or the host arena's base.
	PhysOffset uintptr
	Frames     Frames
	TLB        TLB
	// GiantPages allows 1 GiB leaves (CPUID.80000001H:EDX.Page1GB).
	GiantPages bool
	// InvalidateLimit overrides DefaultInvalidateLimit when positive.
	InvalidateLimit int
}

//go:nosplit
func (env *Env) invalidateLimit() int {
	if env.InvalidateLimit > 0 {
		return env.InvalidateLimit
	}
	return DefaultInvalidateLimit
}
