// Context: Create, Translate, Leaf and the range checks run in handler
// context (nosplit, no heap, no Go pointer stores). New, Init and Bind are
// for ordinary kernel code: Bind stores the Env pointer, New allocates the
// PageTable (use Init, or Bind then Create, on a global or embedded value
// to avoid that, e.g. before the Go runtime is up).

package paging

// PageTable is one x86-64 4-level address space: the PML4 frame at Root and
// everything below it that paging allocated.
//
// A PageTable is not safe for concurrent use: the kernel serialises the
// operations on an address space (spinlock with interrupts disabled). The
// tables are reached only through Env.PhysOffset + physical address; none of
// paging's state lives in Go heap memory apart from the PageTable itself.
//
// Invariants: a non-present entry is zero; a table other than the root and
// the pinned PDPTs is never empty (it is freed when its last entry goes);
// leaves are never found at the PML4 level.
type PageTable struct {
	Root    uint64 // physical address of the PML4: the value for CR3
	env     *Env
	created bool // Root is ours (physical 0 is a valid Root in host tests)

	share shareBatch // ShareLeaves's batch for its visit
}

// New allocates a PageTable with an empty PML4.
func New(env *Env) (*PageTable, error) {
	pt := new(PageTable)
	if err := pt.Init(env); err != nil {
		return nil, err
	}
	return pt, nil
}

// Init makes pt an empty address space (a zeroed PML4 from env.Frames). It
// is New for a PageTable that lives in a global or inside another struct:
// Bind and Create in one.
func (pt *PageTable) Init(env *Env) error {
	if env == nil || env.Frames == nil || env.TLB == nil {
		return ErrEnv
	}
	pt.Bind(env)
	return pt.Create()
}

// Bind ties pt to env without allocating anything. It is the only method
// that stores a Go pointer, so that the kernel can bind its page tables
// once in ordinary code and Create and Destroy them later in handler
// context, where a pointer store (with its write barrier) is not allowed.
// Binding to the env pt already has stores nothing.
func (pt *PageTable) Bind(env *Env) {
	if pt.env != env {
		pt.env = env
	}
}

// Create gives a bound PageTable a fresh, empty PML4. Handler context: it
// stores no Go pointer.
//
//go:nosplit
func (pt *PageTable) Create() error {
	env := pt.env
	if env == nil || env.Frames == nil || env.TLB == nil || pt.created {
		return ErrEnv
	}
	root, ok := env.Frames.AllocTable()
	if !ok {
		return ErrNoMemory
	}
	if root%PageSize != 0 {
		env.Frames.FreeTable(root)
		return ErrMisaligned
	}
	pt.Root, pt.created = root, true
	return nil
}

// live reports whether pt has tables: bound and created, not destroyed.
//
//go:nosplit
func (pt *PageTable) live() bool { return pt.env != nil && pt.created }

// Live reports whether pt has tables (Init or Create, and no Destroy since).
//
//go:nosplit
func (pt *PageTable) Live() bool { return pt.live() }

// Translate returns the physical address va maps to, the flags of its leaf
// (the FlagMask bits) and the size of the page that maps it. When va is not
// mapped, ok is false and pageSize is the size of the aligned block around
// va the walk found unmapped (a whole PT, PD or PDPT entry's span), so a
// scan can skip it; for a non-canonical va pageSize is 0.
//
//go:nosplit
func (pt *PageTable) Translate(va uintptr) (pa uint64, flags Flags, pageSize uintptr, ok bool) {
	if !pt.live() || !Canonical(va) {
		return 0, 0, 0, false
	}
	w := walker{pt: pt}
	w.seek(va, PT, false)
	e := *w.slot()
	size := w.lvl.Size()
	if e&Present == 0 {
		return 0, 0, size, false
	}
	return leafPA(e, w.lvl) + uint64(va&(size-1)), e & FlagMask, size, true
}

// Leaf returns the raw leaf entry that maps va (with the CPU's Accessed and
// Dirty bits) and its level; ok is false when va is not mapped, and e is
// then the not-present entry the walk stopped at (0, or at level PT a
// soft entry: the fault path tells an evicted page from a fresh one
// without a second walk).
//
//go:nosplit
func (pt *PageTable) Leaf(va uintptr) (e Entry, l Level, ok bool) {
	if !pt.live() || !Canonical(va) {
		return 0, 0, false
	}
	w := walker{pt: pt}
	w.seek(va, PT, false)
	x := *w.slot()
	return x, w.lvl, x&Present != 0
}

// checkRange validates a virtual range for the range operations and returns
// its last byte. The whole range must lie in one canonical half; a range may
// end exactly at the top of the address space (last = 2^64-1).
//
//go:nosplit
func (pt *PageTable) checkRange(va, size uintptr) (last uintptr, err error) {
	if !pt.live() {
		return 0, ErrEnv
	}
	if va%PageSize != 0 || size%PageSize != 0 {
		return 0, ErrMisaligned
	}
	if size == 0 {
		return 0, nil
	}
	last = va + size - 1
	if last < va || !Canonical(va) || !Canonical(last) || (va^last)>>63 != 0 {
		return 0, ErrNonCanonical
	}
	return last, nil
}

// rangeEnd is the address just past last, and whether it exists as a
// canonical address (it does not at the top of either half).
//
//go:nosplit
func rangeEnd(last uintptr) (end uintptr, ok bool) {
	end = last + 1
	return end, end != 0 && Canonical(end)
}

// Mapped is how many bytes of [va, va+size) are mapped (leaves counted
// whole, or the part of them inside the range), by one walk that skips
// holes a table at a time: for statistics, not for hot paths.
//
//go:nosplit
func (pt *PageTable) Mapped(va, size uintptr) uintptr {
	last, err := pt.checkRange(va, size)
	if err != nil || size == 0 {
		return 0
	}
	total := uintptr(0)
	w := walker{pt: pt}
	w.seek(va, PT, false)
	for {
		e := *w.slot()
		if e&Present != 0 {
			if isTable(e, w.lvl) {
				w.down(e)
				continue
			}
			lo := max(w.leafVA(), va)
			hi := min(w.leafVA()+(w.lvl.Size()-1), last)
			total += hi - lo + 1
		}
		if w.next() || w.va > last {
			return total
		}
	}
}
