//go:build hurdvm

// The console buffer: output to the console goes into a ring in kernel
// memory, and the devices drain it a bounded piece at a time, so that
// printing never keeps interrupts off for long. At 115200 baud a byte takes
// 87 µs on the serial line, and a scrolling framebuffer redraws the whole
// screen: printing 64 KiB synchronously froze a PC for seconds.
//
// Writers. write(2) on fds 1 and 2 copies at most consolePiece bytes of
// the caller's buffer into the ring per entry into the kernel. When more
// remain, the call is restarted: the thread's saved instruction pointer is
// moved back onto its SYSCALL instruction, its registers (the arguments)
// unchanged, and cons.writers remembers how much of that call is done, so
// the thread goes back into the kernel for the next piece after interrupts
// have been taken, and write returns once, with the whole count (as a
// blocking write to a Linux tty does). When the ring is full and the UART
// cannot take more, the thread blocks (waitConsole) until the drain makes
// room. One write at a time owns the ring (the head of cons.queue, first
// come first served): each call's
// bytes stay together, and calls come out in the order they began. Kernel
// messages (kprint) go into the same ring at once, in time order with the
// program's output; consoleKernelReserve bytes of the ring are theirs, so
// that they almost never wait. Before the Go program runs (kmain) and once
// the machine is going down (consoleStopBuffering: kernel panics,
// exitMachine) output is printed directly instead.
//
// Draining. leaveKernel runs a drain step on every way out of the kernel
// to a thread while output is pending, and keeps the timer coming back
// meanwhile (consoleTimer): a step fills the UART's FIFO when LSR says it
// is empty (16 bytes, 1.4 ms of line time; under QEMU the UART takes every
// byte at once, so the step goes on until its time is up), prints bytes
// into the screen's grid and draws changed cells (screen.go), all within
// consoleStepNS. A writer that owns the ring and is not blocked drains as
// fast as its restarts come; an idle CPU as fast as the timer comes back.
// The serial line and the screen each have their own tail in the ring;
// room is what both have consumed.
//
// Handler context: the ring, the writers and the queue are package-level
// arrays; nothing here allocates, locks or stores a Go pointer.

package kernel

import (
	"math/bits"
)

const (
	consoleRingSize = 64 << 10 // a power of two
	// consoleKernelReserve is the part of the ring only kernel messages
	// may fill.
	consoleKernelReserve = 4 << 10
	// consolePiece is the most a write call copies into the ring per entry
	// into the kernel (a fraction of a µs of copying on a PC).
	consolePiece = 4 << 10
	// consoleStepNS is the time budget of one drain step: with the one
	// FIFO fill or glyph that may overrun it, no interrupt waits much
	// more than 20 µs for console output on a PC.
	consoleStepNS = 10_000
	// consoleSoonNS is how soon the timer brings the next drain step while
	// output is pending that the devices can take now and a thread runs;
	// an idle CPU drains as fast as the timer comes back (consoleIdleNS).
	consoleSoonNS = 50_000
	consoleIdleNS = 1_000
	// serialBaud is the line rate consoleInit sets.
	serialBaud = 115200
	// serialStuckNS: a 16-byte FIFO empties in 1.4 ms at serialBaud; one
	// that stays full for this long never will (a port that answers the
	// probe but does not transmit), and waiting for it would hang the
	// kernel's messages and every writer. (QEMU holds its FIFO full while
	// the host does not read the console: that must not count, so the
	// limit is long.)
	serialStuckNS = 10 * nsPerSecond
)

// consoleWriter is the write call a thread is in the middle of.
type consoleWriter struct {
	tid    int32
	active bool   // queued: the call has not returned yet
	buf, n uint64 // the call's arguments
	done   uint64 // bytes of it already in the ring
}

var cons struct {
	buffered bool // output goes through the ring (else directly to the devices)
	flushing bool // consoleStopBuffering is printing what the ring holds
	// work: the devices have not shown everything, or writers wait;
	// consoleStep has something to do. Every return from the kernel
	// tests it, and nothing else when it is false.
	work bool

	ring       [consoleRingSize]byte
	head       uint64 // bytes ever put into the ring
	serialTail uint64 // of those, bytes the UART took
	screenTail uint64 // of those, bytes printed into the screen's grid
	crSent     bool   // the '\r' before the '\n' at serialTail went out
	serialBusy bool   // the last drain found the UART's FIFO not yet empty
	// serialFull is the TSC when the UART's FIFO was last filled: a UART
	// whose FIFO has not emptied for serialStuckNS is given up.
	serialFull uint64

	stepTSC      uint64 // consoleStepNS in TSC ticks
	stuckTSC     uint64 // serialStuckNS in TSC ticks
	serialPollNS int64  // half the time the UART takes to send a full FIFO

	queue      [maxThreads]int32 // threads whose write call waits for the ring, in order
	queueHead  uint32            // the owner: queue[queueHead%maxThreads]
	queueTail  uint32
	callStart  uint64 // TSC when the write call being served entered, 0 outside one
	longestTSC uint64 // the longest stretch of console work with interrupts off
	steps      uint64 // drain steps run
	blocked    uint64 // times a write call blocked, for its turn or for room
	bytes      uint64 // bytes write(2) put into the ring
}

// consoleStartBuffering makes output go through the ring from now on; the
// clock must be calibrated.
func consoleStartBuffering() {
	cons.stepTSC = tscHz * consoleStepNS / nsPerSecond
	cons.stuckTSC = tscHz * (serialStuckNS / nsPerSecond)
	cons.serialPollNS = int64(serialFIFO) * 10 * nsPerSecond / serialBaud / 2
	cons.head, cons.serialTail, cons.screenTail = 0, 0, 0
	cons.serialFull = rdtsc()
	cons.buffered = true
}

// consoleStopBuffering prints what the ring holds, synchronously, and makes
// all later output direct: the machine is going down, nothing may be lost,
// and the host reads the exit line.
func consoleStopBuffering() {
	if !cons.buffered {
		return
	}
	if cons.flushing {
		// The flush itself faulted: what it had not printed is lost,
		// the report of the fault is not.
		cons.buffered = false
		return
	}
	cons.flushing = true
	screenFeed(^uint64(0))
	screenDrawAll()
	serialPush(^uint64(0), true)
	cons.buffered = false
	cons.flushing = false
	cons.work = false
}

// ringFree is how many bytes may be put into the ring, by a writer
// (kernel false) or by a kernel message (kernel true).
func ringFree(kernel bool) uint64 {
	// A device that is not there consumes everything at once.
	if !serialPresent {
		cons.serialTail = cons.head
	}
	if screen.kind == screenNone {
		cons.screenTail = cons.head
	}
	free := consoleRingSize - (cons.head - min(cons.serialTail, cons.screenTail))
	if !kernel {
		free -= min(free, consoleKernelReserve)
	}
	return free
}

// ringPut copies b into the ring, which must have room for it.
func ringPut(b []byte) {
	at := cons.head % consoleRingSize
	n := copy(cons.ring[at:], b)
	copy(cons.ring[:], b[n:])
	cons.head += uint64(len(b))
	cons.work = true
}

// ringPutUser copies n bytes of the program's memory at addr into the
// ring, which must have room for them: false, with nothing put, if the
// memory cannot be read.
func ringPutUser(addr, n uint64) bool {
	at := cons.head % consoleRingSize
	first := min(n, consoleRingSize-at)
	if !copyIn(cons.ring[at:at+first], addr) || !copyIn(cons.ring[:n-first], addr+first) {
		return false
	}
	cons.head += n
	cons.work = true
	return true
}

// consoleBufferKernel puts one byte of a kernel message into the ring. A
// kernel message cannot wait for the drain: when even the reserve is full,
// the UART is waited for here.
func consoleBufferKernel(c byte) {
	for ringFree(true) == 0 {
		screenFeed(^uint64(0))
		serialPush(rdtsc()+cons.stepTSC, true)
	}
	cons.ring[cons.head%consoleRingSize] = c
	cons.head++
	cons.work = true
}

// consolePending reports whether the devices have not shown everything yet
// (a device that is not there catches up in the next drain step).
func consolePending() bool {
	return cons.head != cons.serialTail || cons.head != cons.screenTail || screenDirty()
}

// consoleDrain runs a drain step when output is pending, and wakes the
// writer whose turn it is when it can go on (leaveKernel).
func consoleDrain() {
	if cons.work {
		consoleStep()
	}
}

func consoleStep() {
	if !consolePending() {
		consoleWakeOwner() // an owner that went away left its turn to the next
		cons.work = cons.queueHead != cons.queueTail
		return
	}
	start := rdtsc()
	end := start + cons.stepTSC
	// The UART first, with half the time when the screen has work too;
	// the screen then, and the UART again with what time is left.
	serialEnd := end
	if cons.screenTail != cons.head || screenDirty() {
		serialEnd = start + cons.stepTSC/2
	}
	serialPush(serialEnd, false)
	if screenFeed(end) {
		screenDrawSome(end)
	}
	serialPush(end, false)
	cons.steps++

	stretch := rdtsc() - start
	if cons.callStart != 0 {
		stretch = rdtsc() - cons.callStart // the write call's copy and this step: one stretch
		cons.callStart = 0
	}
	cons.longestTSC = max(cons.longestTSC, stretch)
	consoleWakeOwner()
	cons.work = consolePending() || cons.queueHead != cons.queueTail
}

// consoleTimer is when leaveKernel must come back for the next drain step:
// next, or sooner while output is pending.
func consoleTimer(now, next int64) int64 {
	if !cons.work {
		return next
	}
	return consoleTimerPending(now, next)
}

// consoleTimerPending is consoleTimer's work, kept out of line so that
// consoleTimer's test is inlined into leaveKernel.
//
//go:noinline
func consoleTimerPending(now, next int64) int64 {
	if !consolePending() {
		return next
	}
	at := now + consoleSoonNS
	if isIdle(current()) {
		at = now + consoleIdleNS
	}
	if cons.serialBusy && cons.screenTail == cons.head && !screenDirty() {
		at = now + cons.serialPollNS // only the UART has work, and its FIFO is full
	}
	if next == 0 || at < next {
		return at
	}
	return next
}

// serialPush gives the UART bytes from the ring, a FIFO's worth whenever LSR
// says the FIFO is empty, until the ring is sent or the TSC passes
// deadline. With wait it waits for the FIFO to empty; without, it stops
// there. It reports whether everything was sent.
func serialPush(deadline uint64, wait bool) bool {
	cons.serialBusy = false
	if !serialPresent {
		cons.serialTail = cons.head
		return true
	}
	for cons.serialTail != cons.head {
		if !serialIdle() {
			if rdtsc()-cons.serialFull > cons.stuckTSC {
				serialPresent = false // the output stays on the screen
				cons.serialTail = cons.head
				return true
			}
			if !wait || rdtsc() > deadline {
				cons.serialBusy = true
				return false
			}
			continue
		}
		cons.serialFull = rdtsc()
		for room := serialFIFO; room > 0 && cons.serialTail != cons.head; room-- {
			c := cons.ring[cons.serialTail%consoleRingSize]
			if c == '\n' && !cons.crSent {
				serialPut('\r')
				cons.crSent = true
				continue
			}
			serialPut(c)
			cons.crSent = false
			cons.serialTail++
		}
		if rdtsc() > deadline {
			return cons.serialTail == cons.head
		}
	}
	return true
}

// screenFeed prints bytes from the ring into the screen's grid until the
// ring is consumed or the TSC passes deadline, and reports whether the
// ring was consumed.
func screenFeed(deadline uint64) bool {
	for n := 0; cons.screenTail != cons.head; n++ {
		if screen.kind == screenNone {
			cons.screenTail = cons.head
			break
		}
		if n%16 == 15 && rdtsc() > deadline {
			return false
		}
		screenPutc(cons.ring[cons.screenTail%consoleRingSize])
		cons.screenTail++
	}
	return true
}

// consoleWriteCall serves write(2) on fds 1 and 2 (see the top of the file).
func consoleWriteCall(tf *TrapFrame, buf, n uint64) uint64 {
	if !cons.buffered {
		return consoleWriteNow(buf, n)
	}
	start := rdtsc()
	t := thr(current())
	w := &thr(current()).consWrite
	if !w.active || w.tid != t.tid || w.buf != buf || w.n != n {
		if w.active && w.tid == t.tid {
			// A new call while this thread's earlier one is unfinished:
			// a signal handler interrupted that one (which resumes when
			// the handler returns). It cannot wait behind its own thread.
			return consoleWriteNow(buf, n)
		}
		if n == 0 {
			return 0
		}
		*w = consoleWriter{tid: t.tid, active: true, buf: buf, n: n}
		cons.queue[cons.queueTail%maxThreads] = current()
		cons.queueTail++
		cons.work = true
	}
	if consoleOwner() != current() {
		cons.blocked++
		block(waitConsole, 0)
		return consoleRestart(tf)
	}
	if piece := min(w.n-w.done, consolePiece, ringFree(false)); piece > 0 {
		if !ringPutUser(w.buf+w.done, piece) {
			if w.done > 0 {
				return consoleFinish(w.done) // what was written, as Linux returns
			}
			return consoleFinish(errno(eFAULT))
		}
		w.done += piece
		cons.bytes += piece
		cons.callStart = start // the drain step after this call ends the stretch
	}
	if w.done == w.n {
		return consoleFinish(w.n)
	}
	if ringFree(false) == 0 && cons.screenTail == cons.head && !serialIdle() {
		// Full, and only the UART can make room, which it cannot do
		// before its FIFO has gone out: wait for the drain.
		cons.blocked++
		block(waitConsole, 0)
	}
	return consoleRestart(tf)
}

// consoleRestart makes the current thread execute its write call again
// when it next runs: SYSCALL is two bytes long, the registers holding the
// call's number and arguments are as the thread left them, and a thread
// that blocked is woken with the call's number in RAX.
func consoleRestart(tf *TrapFrame) uint64 {
	tf.RIP -= 2
	return sysWrite
}

// consoleFinish ends the owner's write call with result r and hands the
// ring to the next writer.
func consoleFinish(r uint64) uint64 {
	thr(current()).consWrite.active = false
	cons.queueHead++
	consoleWakeOwner()
	return r
}

// consoleOwner is the thread whose write call owns the ring, or -1. Threads
// that went away in the middle of a call lose their turn.
func consoleOwner() int32 {
	for cons.queueHead != cons.queueTail {
		i := cons.queue[cons.queueHead%maxThreads]
		t := thr(i)
		w := &t.consWrite
		if w.active && w.tid == t.tid && (t.state == threadRunnable || t.state == threadBlocked) {
			return i
		}
		w.active = false
		cons.queueHead++
	}
	return -1
}

// consoleWakeOwner wakes the owner when it waits (for its turn or for
// room) and there is room for its next piece: woken without room, it would
// only block again.
func consoleWakeOwner() {
	i := consoleOwner()
	if i < 0 || thr(i).state != threadBlocked || thr(i).wait != waitConsole {
		return
	}
	w := &thr(i).consWrite
	if ringFree(false) >= min(w.n-w.done, consolePiece) {
		wake(i, wokenByEvent) // resumeBlocked puts sysWrite in RAX: the call restarts
	}
}

// consoleWriteNow puts a whole write call's bytes out at once, as kernel
// output: when the console is direct, and for a signal handler's write in
// the middle of its thread's own.
func consoleWriteNow(buf, n uint64) uint64 {
	if !userRange(buf, n, false) {
		return errno(eFAULT)
	}
	var piece [256]byte
	for done := uint64(0); done < n; {
		k := min(n-done, uint64(len(piece)))
		if !copyIn(piece[:k], buf+done) {
			if done > 0 {
				return done
			}
			return errno(eFAULT)
		}
		kprintBytes(piece[:k])
		done += k
	}
	return n
}

// ConsoleStats is what the console buffer measured since the Go program
// started.
type ConsoleStats struct {
	// LongestNS is the longest stretch of console work with interrupts
	// off: a write call's copy and the drain step after it, or a drain
	// step on its own.
	LongestNS uint64
	Steps     uint64 // drain steps
	Blocked   uint64 // times a write call waited for its turn or for room
	Bytes     uint64 // bytes write(2) put into the buffer
}

// ReadConsoleStats returns the console buffer's counters. (Plain reads of
// words the kernel updates: one CPU, and a word is never torn.)
func ReadConsoleStats() ConsoleStats {
	hi, lo := bits.Mul64(cons.longestTSC, nsPerTSC32)
	return ConsoleStats{LongestNS: hi<<32 | lo>>32, Steps: cons.steps, Blocked: cons.blocked, Bytes: cons.bytes}
}
