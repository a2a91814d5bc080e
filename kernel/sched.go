//go:build hurdvm

// Threads and the scheduler. Handler context.
//
// A thread is what Linux would call a task: one per runtime M (clone), plus
// the idle thread. Its saved state is a TrapFrame in the thread table, so
// switching threads is copying frames in and out of the frame trapCommon
// will return through: a blocked thread holds no kernel stack. One CPU; a
// FIFO run queue; the LAPIC timer preempts a thread after timeSlice.

package kernel

import "hurdvm/mm"

const (
	maxThreads = 512
	timeSlice  = 10_000_000 // ns
	idleThread = 0
)

type threadState uint8

const (
	threadFree threadState = iota
	threadRunnable
	threadBlocked
	threadDead
)

type waitKind uint8

const (
	waitNone waitKind = iota
	waitFutex
	waitSleep
	waitEpoll
	waitConsole // write(2) on the console: for its turn or for room (consolebuf.go)
)

type thread struct {
	frame    TrapFrame
	state    threadState
	wait     waitKind
	tid      int32
	fsBase   uint64
	cr3      uint64
	space    int32  // index in spaces: whose task window this thread sees
	waitAddr uint64 // futex word, or epoll event buffer
	waitLen  uint64 // epoll: room for events
	deadline int64  // monotonic ns; 0: none
	timeout  uint64 // value for RAX when the deadline passes

	// signals
	sigMask  uint64
	pending  uint64
	altSP    uint64
	altSize  uint64
	altFlags int32
	inSignal int32 // signal frames now on this thread's stack

	runNext int32 // run-queue link, -1 at the end
	cpuNS   int64
}

var (
	threads    [maxThreads]thread
	threadHigh int32 = 1 // threads[threadHigh:] are all free
	current    int32
	nextTID    int32 = 1
	runHead    int32 = -1
	runTail    int32 = -1
	sliceStart int64
	switches   uint64

	// nextDeadline is the earliest deadline of a blocked thread (0: none),
	// kept so that leaving the kernel needs no scan of the thread table
	// unless a thread with a deadline woke (deadlinesStale).
	nextDeadline   int64
	deadlinesStale bool
)

// The idle CPU clears free memory idleZeroPiece bytes at a time, with
// interrupts off for that long only (64 KiB is 2 to 7 µs of stores on a
// PC, well under the 20 µs an interrupt should ever wait for this), and
// comes back for the next piece idleZeroPeriod later while any is left:
// the interrupts that came meanwhile are taken in between.
const (
	idleZeroPiece  = 64 << 10
	idleZeroPeriod = 2_000 // ns
)

// threadsInit makes the idle thread and the initial thread (the runtime's
// M0, which kmain is about to enter) and makes the latter current.
func threadsInit(idleStackTop uint64) {
	for i := range threads {
		threads[i].runNext = -1
	}
	idle := &threads[idleThread]
	idle.state = threadRunnable
	idle.frame.RIP = uint64(idleLoopAddr())
	idle.frame.CS = selKernelCode
	idle.frame.SS = selKernelData
	idle.frame.RSP = idleStackTop
	idle.frame.RFLAGS = rflagsIF | 2
	// The kernel's own tables: idling must never keep a task's tables
	// loaded, which could be destroyed (and their frames reused) meanwhile.
	idle.cr3 = readCR3()
	initFX(&idle.frame)

	t, _ := newThread()
	threads[t].state = threadRunnable
	threads[t].cr3 = readCR3()
	current = t
}

// initFX gives a frame the FPU/SSE state of a freshly reset CPU.
func initFX(f *TrapFrame) {
	f.FX[0], f.FX[1] = 0x7f, 0x03                             // FCW 0x037f
	f.FX[24], f.FX[25], f.FX[26], f.FX[27] = 0x80, 0x1f, 0, 0 // MXCSR 0x1f80
}

func newThread() (int32, bool) {
	for i := int32(1); i < maxThreads; i++ {
		if threads[i].state == threadFree {
			t := &threads[i]
			*t = thread{runNext: -1}
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

func findTID(tid int32) int32 {
	for i := int32(1); i < threadHigh; i++ {
		if threads[i].tid == tid && (threads[i].state == threadRunnable || threads[i].state == threadBlocked) {
			return i
		}
	}
	return -1
}

func enqueue(t int32) {
	threads[t].runNext = -1
	if runTail < 0 {
		runHead = t
	} else {
		threads[runTail].runNext = t
	}
	runTail = t
}

func dequeue() int32 {
	t := runHead
	if t >= 0 {
		runHead = threads[t].runNext
		if runHead < 0 {
			runTail = -1
		}
		threads[t].runNext = -1
	}
	return t
}

// block puts the current thread to sleep until wake or its deadline; the
// trap's exit path then switches to another thread.
func block(kind waitKind, addr uint64, deadline int64, timeoutResult uint64) {
	t := &threads[current]
	t.state = threadBlocked
	t.wait = kind
	t.waitAddr = addr
	t.deadline = deadline
	t.timeout = timeoutResult
	if deadline != 0 && (nextDeadline == 0 || deadline < nextDeadline) {
		nextDeadline = deadline
	}
}

// wake makes a blocked thread runnable with result as its system call's
// return value.
func wake(i int32, result uint64) {
	t := &threads[i]
	t.frame.RAX = result
	t.state = threadRunnable
	t.wait = waitNone
	if t.deadline != 0 {
		t.deadline = 0
		deadlinesStale = true
	}
	enqueue(i)
}

// timerTick wakes the threads whose deadline has passed.
func timerTick() {
	now := nanotime()
	for i := int32(1); i < threadHigh; i++ {
		t := &threads[i]
		if t.state == threadBlocked && t.deadline != 0 && t.deadline <= now {
			wake(i, t.timeout)
		}
	}
}

// leaveKernel picks the thread to return to, loads its frame into tf,
// delivers its pending signals, arms the timer for the next event, and
// returns its FS base.
func leaveKernel(tf *TrapFrame) uint64 {
	consoleDrain()
	now := nanotime()
	cur := current
	t := &threads[cur]
	switchOut := t.state != threadRunnable || cur == idleThread ||
		(runHead >= 0 && now-sliceStart >= timeSlice)
	if switchOut {
		next := dequeue()
		if next < 0 {
			if t.state == threadRunnable {
				next = cur // nothing else to run: keep going
			} else {
				next = idleThread
			}
		} else if t.state == threadRunnable && cur != idleThread {
			enqueue(cur)
		}
		if next != cur {
			t.frame = *tf
			*tf = threads[next].frame
			t.cpuNS += now - sliceStart
			if t.state == threadDead {
				t.state = threadFree
				for threadHigh > 1 && threads[threadHigh-1].state == threadFree {
					threadHigh-- // keep the table scans short
				}
			}
			current = next
			switches++
			if threads[next].cr3 != 0 && threads[next].cr3 != readCR3() {
				writeCR3(threads[next].cr3)
			}
		}
		sliceStart = now
	}
	nt := &threads[current]
	idleWork := false
	if current != idleThread {
		deliverPending(nt, tf)
	} else if framesReady {
		// Nothing to run: clear a piece of free memory so that a later
		// fault or map_now finds it zero, and come back for the next
		// piece soon unless everything free is zero already.
		idleWork = frames.ZeroSome(mm.MaxOrder, idleZeroPiece)
	}

	// The next timer event: a deadline, or the end of the slice if
	// someone is waiting to run.
	if deadlinesStale {
		nextDeadline = 0
		for i := int32(1); i < threadHigh; i++ {
			if d := threads[i].deadline; d != 0 && threads[i].state == threadBlocked && (nextDeadline == 0 || d < nextDeadline) {
				nextDeadline = d
			}
		}
		deadlinesStale = false
	}
	next := nextDeadline
	if runHead >= 0 && (next == 0 || sliceStart+timeSlice < next) {
		next = sliceStart + timeSlice
	}
	if idleWork && (next == 0 || now+idleZeroPeriod < next) {
		next = now + idleZeroPeriod
	}
	next = consoleTimer(now, next)
	armTimer(next)
	return nt.fsBase
}
