package vmmodel

import "fmt"

// Kind is an operation of the differential testers.
type Kind uint8

const (
	OpAllocate Kind = iota
	OpDeallocate
	OpRead
	OpWrite
	OpFork
	OpDestroy
	OpNewTask
	OpProtect // only from a Generator with Protect set
	numKinds
)

// Op is one operation on task Task (an index into the live tasks, taken
// modulo their number by the tester).
type Op struct {
	Kind   Kind
	Task   int
	Addr   uintptr // for allocate, deallocate, read, write
	Size   uintptr
	Flags  uintptr
	MapNow bool
	Value  byte
	Prot   int // for protect: ProtNone, ProtRead or both
}

func (o Op) String() string {
	switch o.Kind {
	case OpAllocate:
		return fmt.Sprintf("allocate(task %d, addr %#x, size %#x, flags %#x, mapNow %v)", o.Task, o.Addr, o.Size, o.Flags, o.MapNow)
	case OpDeallocate:
		return fmt.Sprintf("deallocate(task %d, addr %#x, size %#x)", o.Task, o.Addr, o.Size)
	case OpRead:
		return fmt.Sprintf("read(task %d, %#x)", o.Task, o.Addr)
	case OpWrite:
		return fmt.Sprintf("write(task %d, %#x, %#x)", o.Task, o.Addr, o.Value)
	case OpFork:
		return fmt.Sprintf("fork(task %d)", o.Task)
	case OpDestroy:
		return fmt.Sprintf("destroy(task %d)", o.Task)
	case OpNewTask:
		return "new task"
	case OpProtect:
		return fmt.Sprintf("protect(task %d, addr %#x, size %#x, prot %d)", o.Task, o.Addr, o.Size, o.Prot)
	}
	return "?"
}

// Source is where a generator takes its choices: fuzz bytes or a PRNG.
type Source interface {
	Uint64() uint64
}

// Generator turns a Source into operations over a window: most addresses
// fall in the window's first Span bytes so that regions collide often; a
// few are bad on purpose (unaligned, outside the window, non-canonical,
// kernel half, wrapping), and a few are huge-page sized.
type Generator struct {
	Src         Source
	WindowStart uintptr
	Span        uintptr // the busy part of the window, a multiple of 2 MiB
	// Protect adds mprotect to the operations (mm's FuzzVM: the kernel
	// task's VM of tests/stress has no such call).
	Protect bool
}

func (g *Generator) n(k uint64) uint64 { return g.Src.Uint64() % k }

// Next returns the next operation.
func (g *Generator) Next() Op {
	var o Op
	switch r := g.n(100); {
	case r < 28:
		o.Kind = OpAllocate
	case r < 45:
		o.Kind = OpDeallocate
	case r < 65:
		o.Kind = OpWrite
	case r < 88:
		o.Kind = OpRead
	case r < 93:
		o.Kind = OpFork
	case r < 97:
		o.Kind = OpDestroy
	default:
		o.Kind = OpNewTask
	}
	o.Task = int(g.n(8))
	o.Value = byte(g.n(255) + 1)
	o.Addr = g.addr()
	o.Size = g.size()
	if g.n(4) == 0 {
		o.Flags |= VMHere
	}
	if g.n(4) == 0 {
		o.Flags |= ZeroFill
	}
	if g.n(50) == 0 {
		o.Flags |= 1 << (2 + g.n(8)) // an unknown flag
	}
	o.MapNow = g.n(5) == 0
	o.Prot = []int{ProtNone, ProtRead, ProtRead | ProtWrite}[g.n(3)]
	if g.Protect && o.Kind == OpRead && g.n(3) == 0 {
		o.Kind = OpProtect // (an eighth of the operations, taken from reads)
	}
	if o.Kind == OpRead || o.Kind == OpWrite {
		// Accesses stay in the window: outside it is the kernel's shared
		// memory (readable in ring 0), which the model does not describe.
		if o.Addr < g.WindowStart || o.Addr >= g.WindowStart+g.Span {
			o.Addr = g.WindowStart + uintptr(g.n(uint64(g.Span/page)))*page
		}
		o.Addr = o.Addr&^(page-1) + uintptr(g.n(page)) // any byte of the page
	}
	return o
}

func (g *Generator) addr() uintptr {
	switch r := g.n(40); {
	case r == 0:
		return g.WindowStart + uintptr(g.n(uint64(g.Span))) // unaligned
	case r == 1:
		return []uintptr{0, page, 16 << 20, 0x00c0_0000_0000, 0x0000_9000_0000_0000,
			0xffff_8000_0000_0000, ^uintptr(0) &^ (page - 1), g.WindowStart - page}[g.n(8)]
	case r < 5:
		return g.WindowStart + uintptr(g.n(uint64(g.Span/huge)))*huge // huge-page aligned
	}
	return g.WindowStart + uintptr(g.n(uint64(g.Span/page)))*page
}

func (g *Generator) size() uintptr {
	switch r := g.n(40); {
	case r == 0:
		return uintptr(g.n(3 * page)) // zero, or not a page multiple
	case r == 1:
		return ^uintptr(0) &^ (page - 1) // wraps
	case r < 5:
		return uintptr(1+g.n(2)) * huge
	case r < 8:
		return uintptr(1+g.n(uint64(g.Span/page/4))) * page
	}
	return uintptr(1+g.n(8)) * page
}
