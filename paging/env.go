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

// TLB invalidates cached translations after the tables change. The kernel
// implements it with invlpg and a CR3 reload; the host tests with a recorder.
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
