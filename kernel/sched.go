//go:build hurdvm

// Threads and the scheduler. Handler context.
//
// A thread is what Linux would call a task: one per runtime M (clone), plus
// the idle thread. Its saved state is a TrapFrame in the thread table, so
// switching threads is copying frames in and out of the frame trapCommon
// will return through: a blocked thread holds no kernel stack. One CPU; a
// FIFO run queue; the LAPIC timer preempts a thread after timeSlice.
//
// Blocking. A system call that must wait (futex, nanosleep, epoll_pwait)
// records what it waits for and blocks; the thread leaves the CPU at the
// trap's exit. It is woken by the event it waits for, by its deadline, or
// by a signal it does not block (EINTR, as Linux's interruptible sleeps).
// The system call is then finished by resumeBlocked, when the thread runs
// again and its own address space is loaded: that is where it writes its
// results into its memory (epoll's events, nanosleep's remaining time).
// Nothing ever writes into a blocked thread's memory from another thread's
// context, where the page could be gone or another space's.

package kernel

import (
	"sync/atomic"
	"unsafe"

	"hurdvm/mm"
)

const (
	maxThreads = 16384      // a power of two: thr masks the index
	timeSlice  = 10_000_000 // ns
	// The idle threads, one a CPU, take the top slots: idleSlot(i) is
	// CPU i's. The program's threads are 1..firstIdleSlot-1.
	firstIdleSlot = maxThreads - maxCPUs
)

func idleSlot(cpu int32) int32 { return maxThreads - 1 - cpu }

// isIdle reports whether thread i is a CPU's idle thread.
func isIdle(i int32) bool { return i >= firstIdleSlot }

type threadState uint8

const (
	threadFree threadState = iota
	threadRunnable
	threadBlocked
	threadDead
)

// waitKind is what a blocked thread waits for.
type waitKind uint8

const (
	waitNone waitKind = iota
	waitFutex
	waitSleep
	waitEpoll
	waitConsole    // write(2) on the console: for its turn or for room (consolebuf.go)
	waitEventFD    // read(2) of an empty blocking eventfd
	waitFile       // a file call, for the file server's answer (filecall.go)
	waitFileReady  // a file call that would block, for its handle to be ready
	waitFileSlot   // a file call, for a free request slot
	waitFileServer // the file server, for a request
	waitFileDrain  // exit_group, for the file server to finish its work
	waitProcess    // the kernel program's Wait, for a process to end (process.go)
	waitChild      // a process's wait4, for a child to end (procfork.go)
	waitExec       // a process's execve, for the exec server and its other threads' end (procexec.go)
	waitExecSlot   // a process's execve, for another of its execve's to finish
	waitExecServer // the exec server, for a request
	waitVfork      // a process's vfork, for its child's execve or end (procfork.go)
)

// wakeReason is why a blocked thread was woken.
type wakeReason uint8

const (
	wokenByEvent wakeReason = iota
	wokenByDeadline
	wokenBySignal
)

type thread struct {
	// fpu is the thread's FPU, SSE and AVX state while it is not on the
	// CPU, and where a trap from it saves that state (fpu.go). First, so
	// that it is 64-byte aligned, as XSAVE wants: a record starts a frame.
	fpu    [fpuAreaSize]byte
	frame  TrapFrame
	state  threadState
	tid    int32
	fsBase uint64
	gsBase uint64 // ARCH_SET_GS: kept, reported, never loaded (Go does not use GS)
	cr3    uint64
	space  int32 // index in spaces: whose task window this thread sees
	// proc is the process whose ring-3 thread this is (its index in
	// procs plus one: process.go), 0 for a thread of the kernel's own
	// program. The kernel program's signals, tids and CPU time leave
	// process threads out.
	proc int32

	// Blocking (see the file comment). wait says what for; the wait*
	// fields are the system call's arguments, kept for resumeBlocked.
	wait       waitKind
	callNr     uint64 // the system call it blocked in, for restartCall
	woken      wakeReason
	resume     bool   // woken: resumeBlocked finishes the call when the thread runs
	waitAddr   uint64 // futex word; epoll: the event buffer; nanosleep: the rem pointer
	waitBits   uint32 // futex: the waiter's bitset
	waitN      int64  // epoll: room for events
	waitReq    int32  // file call: its request slot
	waitHandle int32  // file call that would block: the server's handle
	// fileProgress is what a write that had to wait has written so far.
	fileProgress uint64
	waitFD       int32  // epoll: the epoll descriptor
	waitMask     uint64 // epoll_pwait with a sigmask: the mask to restore
	waitMasked   bool
	deadline     int64  // monotonic ns; 0: none
	timed        bool   // the wait had a deadline (wake clears deadline)
	sleepUntil   int64  // nanosleep: its deadline, for the time left after a signal
	sleepRestart bool   // nanosleep made again after a signal no handler here took: sleepUntil stands
	clearTID     uint64 // CLONE_CHILD_CLEARTID: cleared and woken at exit

	// signals
	sigMask  uint64
	pending  uint64
	altSP    uint64
	altSize  uint64
	altFlags uint32 // SS_AUTODISARM
	inSignal int32  // signal frames now on this thread's stack

	name      [16]byte // prctl(PR_SET_NAME)
	pdeathsig uint32   // prctl(PR_SET_PDEATHSIG)
	// keepCaps is prctl(PR_SET_KEEPCAPS)'s flag (Linux's SECBIT_KEEP_CAPS,
	// in the thread's credentials): clone and fork copy it, execve
	// clears it. hurdvm has no capabilities to keep; the flag is read
	// back (os/signal's and syscall's AllThreadsSyscall tests).
	keepCaps bool

	// consWrite is the thread's write(2) to the console in progress
	// (consolebuf.go).
	consWrite consoleWriter

	// lastFault is the thread's latest page fault the VM could not
	// resolve (mm.TaskFault reports it).
	lastFault      mm.FaultRecord
	lastFaultValid bool

	runNext int32 // run-queue link, -1 at the end
	cpuNS   int64
	oncpu   int32 // the CPU running it, -1 when none
}

// The thread table: a thread's record fills a frame of its own (its
// TrapFrame and state), taken when the slot is first used and kept for the
// next thread in the slot; the table itself is the frames' addresses. Go's
// runtime stops at 10,000 threads, so 16,384 slots never run out first.
var (
	threadFrames      [maxThreads]uint64
	threadFramesTaken uint64 // mm.Stats.KernelFrames (with the processes' progState frames)
)

// thr is thread i's record, in the physmap.
func thr(i int32) *thread { return (*thread)(at(physmapBase + threadFrames[i&(maxThreads-1)])) }

var (
	threadHigh int32 = 1 // slots from threadHigh up are all free
	nextTID    int32 = 1
	runHead    int32 = -1
	runTail    int32 = -1
	switches   uint64

	// nextDeadline is the earliest deadline of a blocked thread (0: none),
	// kept so that leaving the kernel needs no scan of the thread table
	// unless a thread with a deadline woke (deadlinesStale).
	nextDeadline   int64
	deadlinesStale bool

	// exitedCPUNS is the CPU time of the threads that have ended, for
	// CLOCK_PROCESS_CPUTIME_ID.
	exitedCPUNS int64
)

// The idle CPU clears free memory idleZeroPiece bytes at a time and looks
// at the local APIC's interrupt request register between pieces: it stops
// as soon as an interrupt is waiting, so no interrupt waits longer than one
// piece (64 KiB is 2 to 7 µs of stores on a PC, well under the 20 µs an
// interrupt should ever wait for this). The timer for the next event is
// armed before it starts.
const idleZeroPiece = 64 << 10

// idleInit makes CPU c's idle thread, on the stack ending at stackTop,
// and makes it what c runs.
func idleInit(c *cpu, stackTop uint64) {
	i := idleSlot(c.index)
	if !threadSlot(i) {
		kernelPanicMsg("no frame for an idle thread")
	}
	idle := thr(i)
	*idle = thread{runNext: -1, oncpu: c.index}
	idle.state = threadRunnable
	idle.frame.RIP = uint64(idleLoopAddr())
	idle.frame.CS = selKernelCode
	idle.frame.SS = selKernelData
	idle.frame.RSP = stackTop
	idle.frame.RFLAGS = rflagsIF | 2
	// The kernel's own tables: idling must never keep a task's tables
	// loaded, which could be destroyed (and their frames reused) meanwhile.
	idle.cr3 = kernelPT.Root
	fpuReset(&idle.fpu)
	idle.frame.FPU = fpuAreaOf(idle)
	c.idle, c.current = i, i
	c.fpuArea = idle.frame.FPU
}

// threadsInit makes the boot CPU's idle thread and the initial thread
// (the runtime's M0, which kmain is about to enter), and makes the latter
// current.
func threadsInit(idleStackTop uint64) {
	c := thisCPU()
	idleInit(c, idleStackTop)
	t, _ := newThread()
	thr(t).state = threadRunnable
	thr(t).cr3 = kernelPT.Root
	thr(t).oncpu = c.index
	fpuReset(&thr(t).fpu)
	c.current = t
	c.fpuArea = fpuAreaOf(thr(t))
}

// threadSlot makes sure slot i has a frame for its record.
func threadSlot(i int32) bool {
	if threadFrames[i] != 0 {
		return true
	}
	pa, err := frames.AllocZeroed(0)
	if err != nil {
		return false
	}
	threadFrames[i] = uint64(pa)
	threadFramesTaken++
	return true
}

// newThread takes a free slot for a new thread: false when every slot is
// taken, or a new slot's frame cannot be had.
func newThread() (int32, bool) {
	for i := int32(1); i < firstIdleSlot; i++ {
		if i >= threadHigh && !threadSlot(i) {
			return 0, false
		}
		if thr(i).state == threadFree {
			t := thr(i)
			*t = thread{runNext: -1, oncpu: -1}
			t.tid = nextTID
			nextTID++
			if i >= threadHigh {
				threadHigh = i + 1
			}
			return i, true
		}
	}
	return 0, false
}

// live reports whether thread i exists (runnable or blocked).
func live(i int32) bool {
	s := thr(i).state
	return s == threadRunnable || s == threadBlocked
}

// findTID is the slot of the live thread tid of the caller's program, or
// -1: a program's tids name its own threads only.
func findTID(tid int32) int32 {
	me := thr(current()).proc
	for i := int32(1); i < threadHigh; i++ {
		if thr(i).tid == tid && live(i) && thr(i).proc == me {
			return i
		}
	}
	return -1
}

func enqueue(t int32) {
	thr(t).runNext = -1
	if runTail < 0 {
		runHead = t
	} else {
		thr(runTail).runNext = t
	}
	runTail = t
}

func dequeue() int32 {
	t := runHead
	if t >= 0 {
		runHead = thr(t).runNext
		if runHead < 0 {
			runTail = -1
		}
		thr(t).runNext = -1
	}
	return t
}

// block puts the current thread to sleep until wake, its deadline (0:
// none) or a signal; the trap's exit path then switches to another thread.
// The caller has filled the thread's wait* arguments.
func block(kind waitKind, deadline int64) {
	t := thr(current())
	t.callNr = thisCPU().callNr
	t.state = threadBlocked
	t.wait = kind
	t.deadline = deadline
	t.timed = deadline != 0
	t.resume = false
	if deadline != 0 && (nextDeadline == 0 || deadline < nextDeadline) {
		nextDeadline = deadline
	}
}

// wake makes blocked thread i runnable; resumeBlocked finishes its system
// call when it runs.
func wake(i int32, why wakeReason) {
	t := thr(i)
	t.state = threadRunnable
	t.woken = why
	t.resume = true
	if t.deadline != 0 {
		t.deadline = 0
		deadlinesStale = true
	}
	enqueue(i)
	kickIdleCPU()
}

// interrupt wakes thread i with EINTR if it is blocked: a signal it does
// not block is pending for it.
func interrupt(i int32) {
	t := thr(i)
	switch {
	case t.state == threadBlocked && t.wait != waitFile && t.wait != waitFileSlot && t.wait != waitExec && t.wait != waitExecSlot && t.wait != waitVfork:
		wake(i, wokenBySignal)
	case t.oncpu >= 0:
		kickCPU(t.oncpu) // running on another CPU: it takes the signal now, not at its next tick
	}
}

// resumeBlocked finishes the system call of the thread that was blocked
// and is about to run again (t is current, its address space loaded, tf
// its frame): the call's result goes into RAX, and what the call writes
// into the program's memory is written now.
func resumeBlocked(t *thread, tf *TrapFrame) {
	t.resume = false
	kind := t.wait
	t.wait = waitNone
	r := uint64(0)
	switch kind {
	case waitFutex:
		switch t.woken {
		case wokenByDeadline:
			r = errno(eTIMEDOUT)
		case wokenBySignal:
			// Linux's futex_wait: -ERESTARTSYS without a timeout (made
			// again after an SA_RESTART handler), EINTR with one.
			r = errno(eINTR)
			if !t.timed && restartsAfterSignal(t) {
				r = restartCall(tf)
			}
		}
	case waitSleep:
		// A signal that ran no handler here (another thread of the
		// process took it) leaves the sleep to go on to its deadline, as
		// Linux's restart_syscall does; one that runs a handler ends it.
		if t.woken == wokenBySignal && signalToTake(t) == 0 {
			t.sleepRestart = true
			r = restartCall(tf)
		} else if t.woken == wokenBySignal {
			r = errno(eINTR)
			sleepRemaining(t)
		}
	case waitEpoll:
		r = epollResume(t)
	case waitEventFD:
		// Called again when the counter changed, and after an SA_RESTART
		// handler (Linux's -ERESTARTSYS).
		r = errno(eINTR)
		if t.woken != wokenBySignal || restartsAfterSignal(t) {
			r = restartCall(tf)
		}
	case waitFile:
		r = fileResume(t)
	case waitFileReady:
		r = fileReadyResume(t, tf)
	case waitFileSlot, waitFileServer, waitFileDrain, waitExecSlot, waitExecServer:
		r = restartCall(tf)
	case waitExec:
		r = execResume(t, tf)
	case waitProcess:
		r = procWaitResume(t)
	case waitChild:
		r = procWaitChildResume(t, tf)
	case waitVfork:
		r = uint64(t.waitN) // the child's pid
	case waitConsole:
		// The write call restarts: its SYSCALL is re-executed with the
		// call's number in RAX (consoleRestart), signal or not.
		r = sysWrite
	}
	tf.RAX = r
}

// restartCall makes the current thread execute its system call again when
// it returns: SYSCALL is two bytes long, and the registers holding the
// call's arguments are as the thread left them; the call's number goes
// back into RAX (the result).
func restartCall(tf *TrapFrame) uint64 {
	tf.RIP -= 2
	return thr(current()).callNr
}

// timerTick wakes the threads whose deadline has passed.
func timerTick() {
	now := nanotime()
	for i := int32(1); i < threadHigh; i++ {
		t := thr(i)
		if t.state == threadBlocked && t.deadline != 0 && t.deadline <= now {
			wake(i, wokenByDeadline)
		}
	}
}

// threadCPU is the CPU time thread t has used, the current slice included.
func threadCPU(i int32) int64 {
	t := thr(i)
	ns := t.cpuNS
	if t.oncpu >= 0 {
		ns += nanotime() - cpus[t.oncpu].sliceStart
	}
	return ns
}

// processCPU is the CPU time of every thread of the program, ended ones
// included (CLOCK_PROCESS_CPUTIME_ID); the idle thread's is not the
// program's.
func processCPU() int64 {
	ns := exitedCPUNS
	for i := int32(1); i < threadHigh; i++ {
		if thr(i).state != threadFree && thr(i).proc == 0 {
			ns += threadCPU(i)
		}
	}
	return ns
}

// leaveKernel picks the thread this CPU returns to, loads its frame into
// tf, finishes its blocked system call, delivers its pending signals, arms
// the timer for the next event, and returns its FS base.
func leaveKernel(tf *TrapFrame) uint64 {
	consoleDrain()
	c := thisCPU()
	c.kicked = false
	pagerWakeOwed(c) // pager.go: before the choice, which it may change
	now := nanotime()
again:
	cur := c.current
	t := thr(cur)
	if t.proc != 0 && t.state != threadDead && procs[t.proc-1].ends(cur) {
		procThreadEnd(t.proc-1, cur) // its process ended, or another thread's execve ends it, while it ran here (procEnd, execEndOthers kicked this CPU)
	}
	sliceOver := now-c.sliceStart >= timeSlice
	switchOut := t.state != threadRunnable || isIdle(cur) || c.yielding ||
		(runHead >= 0 && sliceOver)
	c.yielding = false
	if !switchOut && sliceOver {
		// Nobody waits: a new slice, and the time so far charged.
		t.cpuNS += now - c.sliceStart
		c.sliceStart = now
	}
	if switchOut {
		next := dequeue()
		if next < 0 {
			if t.state == threadRunnable {
				next = cur // nothing else to run: keep going
			} else {
				next = c.idle
			}
		} else if t.state == threadRunnable && !isIdle(cur) {
			enqueue(cur)
		}
		if next != cur {
			t.frame = *tf
			*tf = thr(next).frame
			t.cpuNS += now - c.sliceStart
			t.oncpu = -1
			if t.state == threadDead {
				if t.proc == 0 {
					exitedCPUNS += t.cpuNS
				}
				t.state = threadFree
				for threadHigh > 1 && thr(threadHigh-1).state == threadFree {
					threadHigh-- // keep the table scans short
				}
			}
			// The new thread first, then the flag, each atomic: a
			// shootdown either sees this CPU busy or its flag taken
			// here (shootdown.go).
			atomic.StoreInt32(&c.current, next)
			thr(next).oncpu = c.index
			if atomic.SwapUint32(&c.tlbStale, 0) != 0 {
				flushLocal(true)
			}
			c.fpuArea = fpuAreaOf(thr(next))
			tf.FPU = c.fpuArea
			switches++
			if thr(next).cr3 != 0 {
				setCR3(c, thr(next).cr3)
			}
			setSyscallEntry(c, thr(next).proc != 0)
		}
		c.sliceStart = now
	}
	nt := thr(c.current)
	if !isIdle(c.current) {
		if nt.resume {
			resumeBlocked(nt, tf)
		}
		deliverPending(nt, tf)
		if nt.proc != 0 {
			if nt.state != threadRunnable {
				goto again // a signal's default action ended its process: another thread
			}
			procReturnFrame(tf)
		}
	}

	// The next timer event: a deadline, or the end of the slice if
	// someone is waiting to run, or the console's next drain step.
	if deadlinesStale {
		nextDeadline = 0
		for i := int32(1); i < threadHigh; i++ {
			if d := thr(i).deadline; d != 0 && thr(i).state == threadBlocked && (nextDeadline == 0 || d < nextDeadline) {
				nextDeadline = d
			}
		}
		deadlinesStale = false
	}
	// A CPU running a thread takes a tick at the end of its slice even
	// if nobody waits now: another CPU may queue a thread meanwhile.
	next := nextDeadline
	if !isIdle(c.current) && (next == 0 || c.sliceStart+timeSlice < next) {
		next = c.sliceStart + timeSlice
	}
	next = consoleTimer(now, next)
	armTimer(next)

	if isIdle(c.current) && framesReady {
		// Nothing to run: clear free memory, a piece at a time, until an
		// interrupt is waiting (the timer just armed, a device's), so
		// that a later fault or map_now finds it zero.
		for frames.ZeroSome(mm.MaxOrder, idleZeroPiece) && !lapicInterruptWaiting() && !kernelLockWanted() {
		}
	}
	return nt.fsBase
}

// The record must fit its frame.
var _ [pageSize - unsafe.Sizeof(thread{})]byte
