package mm

import (
	"testing"

	"hurdvm/paging"
)

// A process's space (AddressSpace.User, issue 17): every page its regions
// map carries U/S, whichever way it was mapped (a demand fault, map_now's
// huge pages, a page brought back from the pager's store), and keeps it
// through Protect; a task of Go code in ring 0 never gets it.
func TestUserSpacePagesCarryUS(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	m.withStore(16 << 20)
	user, task := m.space(), m.space()
	user.User = true
	us := func(as *AddressSpace, va uintptr) bool {
		t.Helper()
		_, f, _, ok := as.PT.Translate(va)
		if !ok {
			t.Fatalf("%#x not mapped", va)
		}
		return f&paging.User != 0
	}
	for _, c := range []struct {
		as   *AddressSpace
		want bool
	}{{user, true}, {task, false}} {
		a := mustAllocate(t, c.as, 0, 4*PageSize, 0, false)
		m.write(c.as, a, 1)
		huge := mustAllocate(t, c.as, 0, paging.HugePageSize, 0, true)
		if err := c.as.Protect(a, PageSize, ProtRead); err != nil {
			t.Fatal(err)
		}
		m.write(c.as, a+PageSize, 2)
		if c.as.Evict(a+PageSize) != EvictDone {
			t.Fatal("the page was not evicted")
		}
		if m.read(c.as, a+PageSize) != 2 {
			t.Fatal("the evicted page came back different")
		}
		for _, va := range []uintptr{a, a + PageSize, huge, huge + paging.HugePageSize - PageSize} {
			if got := us(c.as, va); got != c.want {
				t.Errorf("user space %v: the page at %#x has U/S %v", c.as.User, va, got)
			}
		}
	}
	// Create makes a space anew: not a process's until the kernel says so.
	user.Destroy()
	if err := user.Create(testWindowStart, testWindowEnd); err != nil {
		t.Fatal(err)
	}
	if user.User {
		t.Error("Create left User set")
	}
}

// Discard (madvise(MADV_DONTNEED)) in a task's space, a process's heap
// giving pages back, frees the task's own frames: SharedFrames, the
// kernel task's shared window's count, does not change (it did: Discard
// charged every space's frames to it, and each process that gave memory
// back with madvise left SharedFrames lower by as much at its end).
func TestDiscardInATaskIsNotShared(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	task := m.space()
	a := mustAllocate(t, task, 0, 8*PageSize, 0, false)
	for i := uintptr(0); i < 8; i++ {
		m.write(task, a+i*PageSize, byte(i+1))
	}
	before := m.vm.ReadStats()
	if err := task.Discard(a, 8*PageSize); err != nil {
		t.Fatal(err)
	}
	after := m.vm.ReadStats()
	if after.SharedFrames != before.SharedFrames {
		t.Errorf("SharedFrames %d before the task's Discard, %d after", before.SharedFrames, after.SharedFrames)
	}
	if after.FreeFrames < before.FreeFrames+8 {
		t.Errorf("free frames %d before Discard, %d after: its 8 pages did not go back", before.FreeFrames, after.FreeFrames)
	}
	if m.read(task, a) != 0 {
		t.Error("a discarded page does not read as zero")
	}
}

// mprotect(PROT_NONE) of pages that have frames (small ones and a map_now
// huge page) takes every access away, and a later Protect gives the same
// bytes back; a fork in between shares them copy-on-write; deallocating
// withheld pages gives their frames back. Before paging's Withhold, a page
// touched before PROT_NONE stayed readable.
func TestProtectNoneWithholdsTouchedPages(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	free := m.free()
	parent := m.space()
	a := mustAllocate(t, parent, 0, 4*PageSize, 0, false)
	huge := mustAllocate(t, parent, 0, paging.HugePageSize, 0, true)
	pages := []uintptr{a, a + 3*PageSize, huge, huge + paging.HugePageSize - PageSize}
	for i, va := range pages {
		m.write(parent, va, byte(i+1))
	}
	for _, r := range [][2]uintptr{{a, 4 * PageSize}, {huge, paging.HugePageSize}} {
		if err := parent.Protect(r[0], r[1], 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, va := range pages {
		for _, acc := range []Access{AccessRead, AccessWrite} {
			if _, r := m.access(parent, va, acc, 9); r != FaultProtection {
				t.Fatalf("%v at %#x after PROT_NONE: fault result %d, want FaultProtection", acc, va, r)
			}
		}
	}
	child := m.space()
	if err := parent.ForkInto(child); err != nil {
		t.Fatal(err)
	}
	for _, as := range []*AddressSpace{parent, child} {
		for _, r := range [][2]uintptr{{a, 4 * PageSize}, {huge, paging.HugePageSize}} {
			if err := as.Protect(r[0], r[1], protRW); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, va := range pages {
		for _, as := range []*AddressSpace{parent, child} {
			if got := m.read(as, va); got != byte(i+1) {
				t.Fatalf("%#x after PROT_NONE and back: %d, want %d", va, got, i+1)
			}
		}
		m.write(child, va, 0x55) // its own copy: the parent keeps its byte
		if got := m.read(parent, va); got != byte(i+1) {
			t.Fatalf("the child's write at %#x reached the parent: %d", va, got)
		}
	}
	if err := child.Protect(a, 4*PageSize, 0); err != nil {
		t.Fatal(err)
	}
	child.Destroy()
	if err := parent.Protect(huge, paging.HugePageSize, 0); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]uintptr{{a, 4 * PageSize}, {huge, paging.HugePageSize}} {
		if err := parent.Deallocate(r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	parent.Destroy()
	if got := m.free(); got != free {
		t.Fatalf("%d frames free at the end, %d at the start", got, free)
	}
}
