//go:build hurdvm

// The time system calls: clock_gettime, nanosleep and clock_nanosleep.
// The clocks are the TSC (monotonic) and the RTC read at boot plus the
// monotonic clock since (the wall clock); CPU time is what the scheduler
// counted for each thread. Handler context.

package kernel

// Clock IDs, Linux's values.
const (
	clockRealtime        = 0
	clockMonotonic       = 1
	clockProcessCPU      = 2
	clockThreadCPU       = 3
	clockMonotonicRaw    = 4
	clockRealtimeCoarse  = 5
	clockMonotonicCoarse = 6
	clockBoottime        = 7
	clockRealtimeAlarm   = 8
	clockBoottimeAlarm   = 9
	clockTAI             = 11

	timerAbstime = 1
)

// clockNow is clock id's time in ns; false for a clock Linux does not have.
func clockNow(id int64) (int64, bool) {
	switch id {
	case clockRealtime, clockRealtimeCoarse, clockRealtimeAlarm, clockTAI:
		return walltime(), true
	case clockMonotonic, clockMonotonicRaw, clockMonotonicCoarse, clockBoottime, clockBoottimeAlarm:
		return nanotime(), true
	case clockProcessCPU:
		return processCPU(), true
	case clockThreadCPU:
		return threadCPU(current()), true
	}
	return 0, false
}

func sysClock(id int64, ts uint64) uint64 {
	ns, ok := clockNow(id)
	if !ok {
		return errno(eINVAL)
	}
	if !writeTimespec(ts, ns) {
		return errno(eFAULT)
	}
	return 0
}

// sysSleep is clock_nanosleep(clock, flags, req, rem) (nanosleep is the
// monotonic, relative case). The thread blocks until the deadline; a
// signal ends the sleep early with EINTR and, for a relative sleep, the
// time left in *rem (sleepRemaining). A sleep on the process's CPU-time
// clock waits as long in wall time: the process's CPU time cannot pass
// the target sooner (one CPU), and the sleeper would otherwise wait for
// other threads to use it.
func sysSleep(clock int64, flags, req, rem uint64) uint64 {
	if t := thr(current()); t.sleepRestart {
		// Made again after a signal another thread took (resumeBlocked):
		// to the deadline it had, as Linux's restart block.
		t.sleepRestart = false
		if t.sleepUntil > nanotime() {
			block(waitSleep, t.sleepUntil)
		}
		return 0
	}
	switch clock {
	case clockRealtime, clockMonotonic, clockBoottime, clockTAI, clockProcessCPU:
	case clockRealtimeAlarm, clockBoottimeAlarm:
		return errno(ePERM) // needs CAP_WAKE_ALARM in Linux; nothing here has it
	default:
		if _, ok := clockNow(clock); ok {
			return errno(eOPNOTSUPP) // a clock that exists but cannot be slept on
		}
		return errno(eINVAL)
	}
	d, e := readTimespec(req)
	if e != 0 {
		return e
	}
	now := nanotime()
	deadline := addNS(now, d)
	if flags&timerAbstime != 0 {
		start, _ := clockNow(clock)
		deadline = addNS(now, d-start)
		rem = 0 // an absolute sleep reports nothing left
	}
	if deadline <= now {
		return 0
	}
	t := thr(current())
	t.waitAddr, t.sleepUntil = rem, deadline
	block(waitSleep, deadline)
	return 0
}

// sleepRemaining writes what is left of an interrupted relative sleep to
// its rem pointer (a bad pointer is the program's problem: Linux, too,
// answers EINTR whatever happens to rem).
func sleepRemaining(t *thread) {
	if t.waitAddr != 0 {
		writeTimespec(t.waitAddr, max(t.sleepUntil-nanotime(), 0))
	}
}

// readTimespec reads a struct timespec: EFAULT if it cannot, EINVAL if it
// is not a valid one (negative seconds, nanoseconds outside [0, 1e9)), as
// Linux's timespec64_valid. Far futures saturate instead of overflowing.
func readTimespec(p uint64) (int64, uint64) {
	var ts [2]int64
	if !copyIn(bytesOf(&ts), p) {
		return 0, errno(eFAULT)
	}
	s, ns := ts[0], ts[1]
	if s < 0 || ns < 0 || ns >= nsPerSecond {
		return 0, errno(eINVAL)
	}
	if s > (1<<63-1-ns)/nsPerSecond {
		return 1<<63 - 1, 0
	}
	return s*nsPerSecond + ns, 0
}

func writeTimespec(p uint64, ns int64) bool {
	ts := [2]int64{ns / nsPerSecond, ns % nsPerSecond}
	return copyOut(p, bytesOf(&ts))
}

// addNS is a+b, saturating at the largest time.
func addNS(a, b int64) int64 {
	if b > 0 && a > 1<<63-1-b {
		return 1<<63 - 1
	}
	return a + b
}
