//go:build hurdvm && hurdvmtest

package smp

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"hurdvm/kernel"
	"hurdvm/mm"
)

// Fork against a writer (issue 15): thread W of the parent writes an
// increasing counter on its CPU while the parent forks on another. Fork
// write-protects the parent's pages and must have every CPU drop the
// writable translations before it returns; one left behind lets W write
// on into the frames the child now shares.
//
// W writes counter i into slot i mod forkSlots (the words of forkPages
// pages, each page's first word left out), in order. The checks:
//
//   - The child's copy is a snapshot: there is a k such that every slot
//     holds the latest value up to k written to it, and k is at most what
//     W had written when Fork returned (kRet, the counter W had published
//     then, plus the one write it may have made before publishing). A
//     write that landed after the write-protect and its shootdown would
//     be a value past kRet+1, or a slot out of step with the others.
//   - No write of the parent is lost: once W has stopped at its last
//     counter L, every slot of the parent holds the latest value up to L.
//     To make a stale translation lose writes, another thread of the
//     parent writes each page's first word after the fork (a marker):
//     that copies the parent's pages, and W, were its TLB stale, would go
//     on writing into the child's frames.
//
// W goes around the whole region twice after Fork returns and twice
// after the markers before anything is checked: every page is written
// again while the stale translation, if any, is there.

const (
	forkPages = 8
	perPage   = page/8 - 1 // the words of a page but its first, the marker's
	forkSlots = forkPages * perPage
	marker    = 0x6d61726b6572 // "marker"
)

func slotAddr(base uintptr, s uint64) uintptr {
	return base + uintptr(s/perPage)*page + uintptr(1+s%perPage)*8
}

func markerAddr(base uintptr, p int) uintptr { return base + uintptr(p)*page }

// latest is what slot s holds once W has written 1..k: the largest i <= k
// with i mod forkSlots == s, or 0.
func latest(s, k uint64) uint64 {
	if k < s {
		return 0
	}
	return k - (k-s)%forkSlots
}

// writer is W.
type writer struct {
	base uintptr
	pub  atomic.Uint64 // the last counter written
	cpu  atomic.Int32  // W's CPU, looked at every 1024 writes
	stop atomic.Bool
	last uint64 // the counter W stopped at (read after done)
	done chan error
}

func (w *writer) loop() {
	for i := uint64(1); ; i++ {
		*(*uint64)(at(slotAddr(w.base, i%forkSlots))) = i
		w.pub.Store(i)
		if i%1024 == 0 {
			w.cpu.Store(int32(getcpu()))
			if w.stop.Load() {
				w.last = i
				return
			}
		}
	}
}

// snapshot is a task's view of the region.
type snapshot struct {
	slots   [forkSlots]uint64
	markers [forkPages]uint64
}

func read(t *testing.T, task *mm.Task, base uintptr) *snapshot {
	t.Helper()
	s := new(snapshot)
	if err := task.Run(func() {
		for i := range s.slots {
			s.slots[i] = *(*uint64)(at(slotAddr(base, uint64(i))))
		}
		for p := range s.markers {
			s.markers[p] = *(*uint64)(at(markerAddr(base, p)))
		}
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// mismatches lists the slots of s that do not hold latest(slot, k), the
// first few of them.
func (s *snapshot) mismatches(k uint64) (n int, first string) {
	for i, v := range s.slots {
		if want := latest(uint64(i), k); v != want {
			if n < 4 {
				first += fmt.Sprintf(" slot %d (page %d) holds %d, want %d;", i, i/perPage, v, want)
			}
			n++
		}
	}
	return n, first
}

func (s *snapshot) max() uint64 {
	var m uint64
	for _, v := range s.slots {
		m = max(m, v)
	}
	return m
}

const (
	forkTrials  = 12 // at most
	forkCounted = 3  // enough trials with the fork and W on two CPUs
)

func TestForkAgainstWriter(t *testing.T) {
	needCPUs(t)
	quiet(t)
	runtime.LockOSThread() // the forking thread: its CPU is A
	defer runtime.UnlockOSThread()
	counted := 0
	for i := 1; i <= forkTrials && counted < forkCounted; i++ {
		if forkTrial(t, i) {
			counted++
		}
	}
	if counted == 0 {
		t.Fatalf("in %d trials, the fork and the writer never ran on two different CPUs: the test proved nothing", forkTrials)
	}
}

// forkTrial is one fork under W; it reports whether the trial counts
// (the forking thread and W each on one CPU, not the same, throughout).
func forkTrial(t *testing.T, trial int) bool {
	parent, err := mm.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Destroy()
	w := &writer{done: make(chan error, 1)}
	w.cpu.Store(-1)
	var allocErr error
	if err := parent.Run(func() { allocErr = mm.VMAllocate(&w.base, forkPages*page, 0, false) }); err != nil || allocErr != nil {
		t.Fatal(err, allocErr)
	}
	restore := shootdowns(t)
	restored := false
	undo := func() {
		if !restored {
			restored = true
			restore()
		}
	}
	defer undo()
	go func() { w.done <- parent.Run(w.loop) }()
	stopW := func() {
		w.stop.Store(true)
		if err := <-w.done; err != nil {
			t.Fatalf("trial %d: the writer: %v", trial, err)
		}
	}
	// W has written every slot twice: every page is W's, writable, in its TLB.
	if !waitFor(func() bool { return w.pub.Load() >= 2*forkSlots && w.cpu.Load() >= 0 }) {
		stopW()
		t.Fatalf("trial %d: the writer did not get round the region twice in %v", trial, waitLimit)
	}
	wCPU0, a0 := int(w.cpu.Load()), getcpu()
	k0 := w.pub.Load()
	sent := kernel.ShootdownsSent()
	child, err := parent.Fork()
	kRet := w.pub.Load()
	sent = kernel.ShootdownsSent() - sent
	a1 := getcpu()
	if err != nil {
		stopW()
		t.Fatalf("trial %d: Fork: %v", trial, err)
	}
	defer child.Destroy()
	// W goes round twice more, then another thread of the parent writes
	// the markers, then W goes round twice more.
	if !waitFor(func() bool { return w.pub.Load() >= kRet+2*forkSlots+1024 }) {
		stopW()
		t.Fatalf("trial %d: the writer stopped after the fork (at %d)", trial, w.pub.Load())
	}
	wCPU1 := int(w.cpu.Load())
	mCPU := -1
	if err := parent.Run(func() {
		mCPU = getcpu()
		for p := 0; p < forkPages; p++ {
			*(*uint64)(at(markerAddr(w.base, p))) = marker
		}
	}); err != nil {
		stopW()
		t.Fatal(err)
	}
	kMark := w.pub.Load()
	if !waitFor(func() bool { return w.pub.Load() >= kMark+2*forkSlots+1024 }) {
		stopW()
		t.Fatalf("trial %d: the writer stopped after the markers (at %d)", trial, w.pub.Load())
	}
	wCPU2 := int(w.cpu.Load())
	stopW()
	undo() // W's thread left the parent: no stale translation of it is left
	L := w.last

	counts := a0 == a1 && wCPU0 == wCPU1 && wCPU1 == wCPU2 && wCPU0 != a0
	where := fmt.Sprintf("fork on CPU %d..%d, W on CPU %d, %d, %d, markers from CPU %d; W at %d when Fork began, %d when it returned, %d after the markers, stopped at %d; %d shootdown IPIs during Fork",
		a0, a1, wCPU0, wCPU1, wCPU2, mCPU, k0, kRet, kMark, L, sent)

	c := read(t, child, w.base)
	p := read(t, parent, w.base)
	failed := false
	fail := func(format string, args ...any) {
		t.Errorf("trial %d: "+format, append([]any{trial}, args...)...)
		failed = true
	}
	// The child: a snapshot, from before Fork returned.
	if m := c.max(); m > kRet+1 {
		fail("the child holds counter %d, which W wrote after Fork returned (W had written %d then)", m, kRet)
	} else if m < k0 {
		fail("the child's latest counter is %d, but W had written %d before Fork began", m, k0)
	}
	if n, first := c.mismatches(c.max()); n > 0 {
		fail("the child's copy is no snapshot: %d slots are not what they were when W had written %d:%s", n, c.max(), first)
	}
	for pg, v := range c.markers {
		if v != 0 {
			fail("the child's page %d holds the marker the parent wrote after the fork", pg)
			break
		}
	}
	// The parent: every write of W there.
	if n, first := p.mismatches(L); n > 0 {
		fail("the parent lost writes of W: %d slots do not hold W's last write to them (W stopped at %d):%s", n, L, first)
	}
	for pg, v := range p.markers {
		if v != marker {
			fail("the parent's page %d lost its marker: %#x", pg, v)
			break
		}
	}
	if counts && sent == 0 && !failed {
		fail("no shootdown IPI was sent during Fork while W's CPU had the parent's tables loaded")
	}
	if failed {
		t.Fatalf("trial %d: %s", trial, where)
	}
	t.Logf("trial %d: the child holds W's writes up to %d, the parent all %d (%s)%s", trial, c.max(), L, where,
		map[bool]string{true: "", false: "; not counted: a thread moved"}[counts])
	return counts
}
