//go:build hurdvm

// The TLB of every CPU (paging's Env.TLB): invalidations batched per
// operation and shot down to the other CPUs that may cache them. Handler
// context.
//
// Invalidate and FlushAll act on this CPU at once and record what they
// dropped; Sync, which paging calls once per operation before anything
// is freed (paging/env.go), sends the batch to the CPUs that need it, one
// IPI each, and waits until each has answered. Who needs it: every other
// CPU when the batch touches what every address space shares (the image,
// the heap window, the physmap: the kernel task's tables), otherwise the
// CPUs whose loaded tables are the operation's (cpu.cr3). A CPU that
// switched away from a task's tables kept none of its translations (they
// are not global, and loading CR3 drops the rest).
//
// An idle CPU is left out of a shootdown that frees no tables it may have
// cached: it flushes everything before it runs a thread again (tlbStale).
// One operation sends one shootdown, its leaves and its freed tables
// together (paging's clear): each CPU gets one IPI.
//
// Several CPUs change tables at once (each under the lock of the address
// space it changes: docs/DESIGN.md, "Locking"), so each CPU has a request
// of its own (cpu.shoot), and a CPU answers every request that names it:
// in its interrupt handler (vecShootdown, before it would take any lock),
// while it spins for a lock, while it waits for its own request's
// answers (two CPUs shooting at each other would wait for ever
// otherwise), or while an AP waits to be released.

package kernel

import (
	"math/bits"
	"sync/atomic"

	"hurdvm/paging"
)

// tlbBatchMax is how many pages one Sync invalidates one by one; past it
// the other CPUs flush (paging itself switches to FlushAll there).
const tlbBatchMax = paging.DefaultInvalidateLimit

// shootReq is one CPU's request to the others.
type shootReq struct {
	va      [tlbBatchMax]uintptr
	n       int32
	all     bool
	global  bool
	pending atomic.Uint64 // the CPUs that have not answered, a bit each
}

// shootdownOff turns shootdowns off, for the test that shows it fails
// without them (testhooks.go). Never set otherwise.
var shootdownOff bool

// machineTLB is paging's view of the CPUs' TLBs.
type machineTLB struct{}

func (machineTLB) Invalidate(va uintptr) {
	invlpg(va)
	if ncpu == 1 {
		// No other CPU to tell (yet: one that starts later has cached
		// nothing of the tables as they were).
		return
	}
	c := thisCPU()
	if c.tlbN < tlbBatchMax {
		c.tlbVA[c.tlbN] = va
		c.tlbN++
	} else {
		c.tlbAll = true
	}
	if !inPrivateHalf(uint64(va)) {
		c.tlbShared = true
	}
}

// FlushAll drops this CPU's translations, global ones too.
func (machineTLB) FlushAll() {
	flushLocal(true)
	c := thisCPU()
	c.tlbAll, c.tlbShared = true, true
}

func (machineTLB) InvalidateLocal(va uintptr) { invlpg(va) }

func (t machineTLB) InvalidateTables(va uintptr) {
	t.Invalidate(va)
	thisCPU().tlbTables = true
}

func (machineTLB) Sync(root uint64) {
	c := thisCPU()
	if c.tlbN == 0 && !c.tlbAll {
		return
	}
	if ncpu > 1 && !shootdownOff && !stopping.Load() {
		shootdown(c, root) // (stopped CPUs run nothing that could use a stale entry)
	}
	c.tlbN, c.tlbAll, c.tlbShared, c.tlbTables = 0, false, false, false
}

// shootdown sends c's batch to the CPUs that may cache it and waits for
// every one of them.
func shootdown(c *cpu, root uint64) {
	shared := c.tlbShared || root == kernelPT.Root
	// The tables changed before this load of the other CPUs' state: a
	// CPU that loads root from now on walks the new tables (a full
	// barrier, since x86 lets a load pass an earlier store).
	c.shootSeq.Add(1)
	var targets uint64
	for j := int32(0); j < ncpu; j++ {
		o := &cpus[j]
		loaded := atomic.LoadUint64(&o.cr3) == root
		// The tables freed are root's own, or, for the kernel task's
		// root, what every space links: a CPU with other tables
		// loaded has none of root's own in its paging-structure
		// caches (loading CR3 dropped them).
		tables := c.tlbTables && (loaded || root == kernelPT.Root)
		switch {
		case j == c.index || !shared && !loaded:
		case isIdle(atomic.LoadInt32(&o.current)) && !tables:
			// Idle: it flushes before it runs a thread again (Linux's
			// lazy TLB), which costs less than waking it now. Not when
			// tables it may have cached go: its page walks could
			// still reach them. It takes its flag with a swap after
			// it stores its new thread (leaveKernel); looking again
			// after setting the flag, this CPU sends the IPI if it
			// missed the flag.
			atomic.StoreUint32(&o.tlbStale, 1)
			if !isIdle(atomic.LoadInt32(&o.current)) {
				targets |= 1 << j
			}
		default:
			targets |= 1 << j
		}
	}
	if targets == 0 {
		return
	}
	req := &c.shoot
	req.n = c.tlbN
	req.va = c.tlbVA
	req.all = c.tlbAll
	req.global = shared
	req.pending.Store(targets)
	for t := targets; t != 0; t &= t - 1 {
		lapicSend(cpus[bits.TrailingZeros64(t)].apicID, icrFixed|vecShootdown)
	}
	c.shootdownsSent += uint64(bits.OnesCount64(targets))
	for req.pending.Load() != 0 {
		shootdownAnswer(c)
		pause()
	}
}

// shootdownAnswer carries out the request for CPU c, if there is one for
// it.
func shootdownAnswer(c *cpu) {
	bit := uint64(1) << c.index
	for j := int32(0); j < ncpu; j++ {
		req := &cpus[j].shoot
		if req.pending.Load()&bit == 0 {
			continue
		}
		if req.all {
			flushLocal(req.global)
		} else {
			for _, va := range req.va[:req.n] {
				invlpg(va)
			}
		}
		req.pending.And(^bit)
	}
}

// setCR3 loads page tables on CPU c and records whose they are.
func setCR3(c *cpu, root uint64) {
	atomic.StoreUint64(&c.cr3, root)
	if readCR3() != root {
		writeCR3(root)
	}
}
