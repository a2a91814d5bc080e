package mm

import "testing"

// Destroy gives everything back in one pass over the tables: no TLB work
// (the space is loaded on no CPU), and no work per region. It once
// removed region 0 over and over, with a TLB flush each time: 100,000
// regions took 9 s with interrupts off.
func TestDestroyIsOnePass(t *testing.T) {
	m := newTestMachine(t, 128<<20)
	start := m.free()
	as := m.space()
	const n = 20_000
	for i := uintptr(0); i < n; i++ {
		va := mustAllocate(t, as, testWindowStart+2*i*PageSize, PageSize, VM_HERE, false)
		if i%8 == 0 {
			m.write(as, va, 1)
		}
	}
	if as.Regions.Len() != n {
		t.Fatalf("%d regions, want %d", as.Regions.Len(), n)
	}
	m.tlb = countTLB{}
	as.Destroy()
	if m.tlb.invalidations != 0 || m.tlb.flushes != 0 {
		t.Errorf("Destroy invalidated %d pages and flushed %d times; the space is loaded nowhere", m.tlb.invalidations, m.tlb.flushes)
	}
	if got := m.free(); got != start {
		t.Errorf("FreeFrames %d after Destroy, want %d", got, start)
	}
}

// The kernel task's space owns the shared windows (the Go heap): a fork
// leaves their regions out, since every space links them already and a
// child holding them would unmap them for everyone when destroyed.
func TestForkLeavesSharedRegionsOut(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	start := m.free()
	kernel := new(AddressSpace)
	kernel.BindKernel(&m.vm)
	if err := kernel.Create(testWindowStart, testWindowEnd); err != nil {
		t.Fatal(err)
	}
	heap, err := kernel.MapAnon(0, 16*PageSize, ProtRead|ProtWrite, false, true, testWindowStart, testWindowStart+1<<20)
	if err != nil {
		t.Fatal(err)
	}
	m.write(kernel, heap, 7)
	own := mustAllocate(t, kernel, testWindowStart+2<<20, 4*PageSize, VM_HERE, false)
	m.write(kernel, own, 8)

	child := m.space()
	if err := kernel.ForkInto(child); err != nil {
		t.Fatal(err)
	}
	if _, ok := child.Regions.Find(heap); ok {
		t.Error("the child got the shared window's region")
	}
	if _, ok := child.Regions.Find(own); !ok {
		t.Error("the child lacks the parent's own region")
	}
	child.Destroy()
	if b := m.read(kernel, heap); b != 7 {
		t.Errorf("the shared window reads %d after the child's end, want 7", b)
	}
	kernel.Destroy()
	if got := m.free(); got != start {
		t.Errorf("FreeFrames %d after both ends, want %d", got, start)
	}
}

// The reserve (VM.Reserve) is for the shared windows: a task space takes
// neither data frames nor page tables from it. Here a copy-on-write fault
// that could take its huge page over still needs a table to split it.
func TestReserveHoldsForTables(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	m.vm.Reserve = 64
	parent := m.space()
	a := mustAllocate(t, parent, 0, 2<<20, 0, true)
	if _, _, size, _ := parent.PT.Translate(a); size != 2<<20 {
		t.Fatalf("map_now region mapped with %d-byte pages, want one huge page", size)
	}
	child := m.space()
	if err := parent.ForkInto(child); err != nil {
		t.Fatal(err)
	}
	child.Destroy() // the parent is the last sharer: its write takes the page over
	release := holdFrames(t, &m.fa, m.vm.Reserve)
	if r := parent.Fault(a, AccessWrite); r != FaultNoMemory {
		t.Errorf("copy-on-write fault needing a table with only the reserve left: %v, want FaultNoMemory", r)
	}
	if got := m.fa.FreeFrames(); got != m.vm.Reserve {
		t.Errorf("%d frames free after the refused fault, want %d", got, m.vm.Reserve)
	}
	release()
	if r := parent.Fault(a, AccessWrite); r != FaultResolved {
		t.Errorf("the same fault with memory: %v", r)
	}
}

// Each space counts what happened in its own regions: exact figures a
// program can check, whatever the rest of the machine does.
func TestSpaceStats(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	parent := m.space()
	a := mustAllocate(t, parent, 0, 64*PageSize, 0, false)
	for i := uintptr(0); i < 40; i++ {
		m.write(parent, a+i*PageSize, 1)
	}
	mustAllocate(t, parent, 0, 2<<20, 0, true)
	want := SpaceStats{PageFaults: 40, ResidentPages: 40 + 512, Regions: 2}
	if got := parent.Stats(); got != want {
		t.Fatalf("parent: %+v, want %+v", got, want)
	}
	child := m.space()
	if err := parent.ForkInto(child); err != nil {
		t.Fatal(err)
	}
	for i := uintptr(0); i < 10; i++ {
		m.write(child, a+i*PageSize, 2)
	}
	if got, want := child.Stats(), (SpaceStats{PageFaults: 10, COWCopies: 10, ResidentPages: 552, Regions: 2}); got != want {
		t.Errorf("child: %+v, want %+v", got, want)
	}
	child.Destroy()
	m.write(parent, a, 3) // the last sharer takes the frame over
	if err := parent.Deallocate(a, 64*PageSize); err != nil {
		t.Fatal(err)
	}
	if got, want := parent.Stats(), (SpaceStats{PageFaults: 41, COWReuses: 1, ResidentPages: 512, Regions: 1}); got != want {
		t.Errorf("parent after: %+v, want %+v", got, want)
	}
	parent.Destroy()
}
