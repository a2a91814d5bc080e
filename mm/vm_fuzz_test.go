package mm

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"hurdvm/mm/vmmodel"
)

// The whole VM against vmmodel: every result, every error and every byte
// read, over tasks that allocate, deallocate, touch, fork and die; after
// each sequence every frame is back.

// byteSource feeds a Generator from fuzz input; it reads zeros once the
// input is used up (Next then stops the sequence).
type byteSource struct {
	data []byte
	done bool
}

func (s *byteSource) Uint64() uint64 {
	if len(s.data) < 8 {
		s.done = true
		var b [8]byte
		copy(b[:], s.data)
		s.data = nil
		return binary.LittleEndian.Uint64(b[:])
	}
	v := binary.LittleEndian.Uint64(s.data)
	s.data = s.data[8:]
	return v
}

const (
	diffSpan     = 8 << 20 // the busy part of each task's window
	diffMaxTasks = 4
)

// diffRun runs ops from gen until next reports false, checking the VM on
// machine m against a fresh model, then destroys everything and checks
// that every frame came back.
func diffRun(t testing.TB, m *testMachine, gen *vmmodel.Generator, next func() bool) int {
	t.Helper()
	held := func() uint64 { return m.free() + m.vm.storeFrames.Load() }
	start := held()
	model := vmmodel.New(testWindowStart, testWindowEnd, vmmodel.Errors{Inval: EINVAL, Exist: EEXIST, NoSpace: ENOSPC, NoMem: ENOMEM})
	var spaces []*AddressSpace
	var ids []int
	newID := 0
	// The pager reaches the live spaces to evict frames shared
	// copy-on-write (evictShared): the table follows spaces.
	m.sharing(&spaces)
	defer func() { m.vm.Spaces = SpaceTable{} }()
	add := func(as *AddressSpace) {
		spaces = append(spaces, as)
		ids = append(ids, newID)
		newID++
	}
	add(m.space())
	model.NewTask(0)
	ops := 0
	var recent []uintptr // addresses written lately, in order: reads and the final check use them
	for next() {
		op := gen.Next()
		ops++
		m.cpu = ops % 2 // each operation on one CPU, as in the kernel
		if op.Kind == vmmodel.OpRead && op.Value%2 == 1 && len(recent) > 0 {
			// Read what some task wrote: how a missing copy-on-write
			// copy shows up.
			op.Addr = recent[int(op.Value)%len(recent)]
		}
		if op.Kind == vmmodel.OpWrite {
			if len(recent) == 64 {
				recent = recent[1:]
			}
			recent = append(recent, op.Addr)
		}
		if len(spaces) == 0 {
			op.Kind = vmmodel.OpNewTask
		}
		i := op.Task % max(len(spaces), 1)
		if m.evictEvery > 0 && ops%m.evictEvery == 0 && len(spaces) > 0 {
			// The pager between operations: a turn of one space's
			// clock, and now and then every page of every space.
			spaces[i].EvictSome(16, 256)
			if ops%(16*m.evictEvery) == 0 {
				for _, as := range spaces {
					as.EvictAll()
				}
			}
		}
		m.tlb.shootdowns = 0
		switch op.Kind {
		case vmmodel.OpNewTask:
			if len(spaces) < diffMaxTasks {
				add(m.space())
				model.NewTask(ids[len(ids)-1])
			}
		case vmmodel.OpFork:
			if len(spaces) < diffMaxTasks {
				child := m.space()
				if err := spaces[i].ForkInto(child); err != nil {
					child.Destroy()
					if err != ENOMEM {
						t.Fatalf("op %d %v: fork: %v", ops, op, err)
					}
					break
				}
				add(child)
				model.Fork(ids[i], ids[len(ids)-1])
			}
		case vmmodel.OpDestroy:
			spaces[i].Destroy()
			model.Destroy(ids[i])
			spaces = append(spaces[:i], spaces[i+1:]...)
			ids = append(ids[:i], ids[i+1:]...)
		case vmmodel.OpAllocate:
			got := op.Addr
			err := spaces[i].Allocate(&got, op.Size, op.Flags, op.MapNow)
			if err == ENOMEM {
				break // the model does not run out; nothing may have changed (checked by later reads)
			}
			want, werr := model.Allocate(ids[i], op.Addr, op.Size, op.Flags, op.MapNow)
			if err != werr || (err == nil && got != want) {
				t.Fatalf("op %d %v: got (%#x, %v), model says (%#x, %v)", ops, op, got, err, want, werr)
			}
		case vmmodel.OpProtect:
			err := spaces[i].Protect(op.Addr, op.Size, Prot(op.Prot))
			werr := model.Protect(ids[i], op.Addr, op.Size, op.Prot)
			if err == ENOMEM && werr == nil {
				break // out of memory for a split: nothing changed
			}
			if err != werr {
				t.Fatalf("op %d %v: got %v, model says %v", ops, op, err, werr)
			}
		case vmmodel.OpDeallocate:
			err := spaces[i].Deallocate(op.Addr, op.Size)
			if err == ENOMEM {
				break
			}
			if werr := model.Deallocate(ids[i], op.Addr, op.Size); err != werr {
				t.Fatalf("op %d %v: got %v, model says %v", ops, op, err, werr)
			}
		case vmmodel.OpRead, vmmodel.OpWrite:
			acc := AccessRead
			if op.Kind == vmmodel.OpWrite {
				acc = AccessWrite
			}
			v, res := m.access(spaces[i], op.Addr, acc, op.Value)
			if res == FaultNoMemory {
				break
			}
			var wv byte
			var wfault bool
			if op.Kind == vmmodel.OpWrite {
				wfault = model.Write(ids[i], op.Addr, op.Value)
				wv = op.Value
			} else {
				wv, wfault = model.Read(ids[i], op.Addr)
			}
			if (res != FaultResolved) != wfault || (!wfault && v != wv) {
				t.Fatalf("op %d %v: got %#x (fault result %d), model says %#x (fault %v)", ops, op, v, res, wv, wfault)
			}
		}
		// One shootdown for a fork or a deallocation, however many
		// regions, frames and tables (issue 15); none left to send.
		if (op.Kind == vmmodel.OpFork || op.Kind == vmmodel.OpDeallocate) && m.tlb.shootdowns > 1 || m.tlb.pending != 0 {
			t.Fatalf("op %d %v: %d shootdowns, %d invalidations left unsent", ops, op, m.tlb.shootdowns, m.tlb.pending)
		}
	}
	// Every byte written lately, in every task.
	for k, as := range spaces {
		for _, a := range recent {
			want, wfault := model.Read(ids[k], a)
			v, res := m.access(as, a, AccessRead, 0)
			if res == FaultNoMemory {
				continue
			}
			if (res != FaultResolved) != wfault || (!wfault && v != want) {
				t.Fatalf("after %d ops, task %d byte %#x: %#x (result %d), model says %#x (fault %v)", ops, ids[k], a, v, res, want, wfault)
			}
		}
	}
	for _, as := range spaces {
		as.Destroy()
	}
	if got := held(); got != start {
		t.Fatalf("after %d ops and destroying every task: %d frames free or the store's, want %d", ops, got, start)
	}
	if m.vm.Store != nil {
		if s := m.vm.Store.Stats(); s.Pages != 0 || s.Refs != 0 || m.vm.storeErrors.Load() != 0 {
			t.Fatalf("after %d ops and destroying every task: store holds %d pages, %d references; %d store errors", ops, s.Pages, s.Refs, m.vm.storeErrors.Load())
		}
	}
	return ops
}

func FuzzVM(f *testing.F) {
	f.Add([]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x10\x20\x30\x40\x50\x60\x70\x80"))
	f.Add(make([]byte, 256))
	seed := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range seed {
		seed[i] = byte(r.Uint32())
	}
	f.Add(seed)
	// One machine for every input (its arena lives as long as the fuzz
	// target): each input ends with every frame back, which diffRun checks.
	m := newTestMachine(f, 128<<20)
	m.withStore(64 << 20)
	f.Fuzz(func(t *testing.T, data []byte) {
		// Odd first bytes run with the pager evicting between operations.
		m.evictEvery = 0
		if len(data) > 0 && data[0]%2 == 1 {
			m.evictEvery = 3
		}
		m.t = t
		src := &byteSource{data: data}
		gen := &vmmodel.Generator{Src: src, WindowStart: testWindowStart, Span: diffSpan, Protect: true}
		diffRun(t, m, gen, func() bool { return !src.done })
	})
}

func TestModelConstants(t *testing.T) {
	if vmmodel.VMHere != VM_HERE || vmmodel.ZeroFill != VM_ZEROFILL {
		t.Fatal("vmmodel's vm.h flags disagree with mm's")
	}
	if vmmodel.ProtRead != ProtRead || vmmodel.ProtWrite != ProtWrite || vmmodel.ProtNone != 0 {
		t.Fatal("vmmodel's protections disagree with mm's")
	}
}

// TestVMDifferential runs a long seeded sequence in every go test.
func TestVMDifferential(t *testing.T) {
	m := newTestMachine(t, 128<<20)
	t.Logf("%d operations checked against the model", seededRuns(t, m, 0x5eed))
}

// seededRuns runs 20 seeded sequences of 2000 operations on m (diffRun)
// and returns how many operations ran.
func seededRuns(t *testing.T, m *testMachine, salt uint64) int {
	total := 0
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, salt))
		gen := &vmmodel.Generator{Src: r, WindowStart: testWindowStart, Span: diffSpan, Protect: true}
		n := 0
		total += diffRun(t, m, gen, func() bool { n++; return n <= 2000 })
	}
	return total
}

// TestVMDifferentialEvicting is TestVMDifferential with the pager evicting
// between operations: every result and byte must be the same.
func TestVMDifferentialEvicting(t *testing.T) {
	m := newTestMachine(t, 128<<20)
	m.withStore(64 << 20)
	m.evictEvery = 3
	total := seededRuns(t, m, 0xe71c7)
	s := m.vm.ReadStats()
	t.Logf("%d operations checked against the model: %d evictions (%d of frames shared copy-on-write), %d major faults", total, s.Evictions, s.SharedEvictions, s.MajorFaults)
	if s.Evictions == 0 || s.MajorFaults == 0 || s.SharedEvictions == 0 {
		t.Fatal("nothing evicted or brought back, or no shared frame evicted")
	}
}
