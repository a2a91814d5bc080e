//go:build hurdvm

// A process's resource limits, CPU-time clocks and accounting (issue 17),
// as Linux 6.1's: prlimit64, getrlimit and setrlimit on the process's own
// table (progState.rlimits: RLIMIT_NOFILE is the descriptor limit the
// kernel enforces, lowestFreeFDIn), clock_gettime and clock_getres of
// CLOCK_PROCESS_CPUTIME_ID (every thread of the process, ended ones
// included), CLOCK_THREAD_CPUTIME_ID and the clocks glibc and Go build
// from a pid or tid, times and getrusage (and wait4's and waitid's
// rusage: the child's), and prctl's PR_SET_PDEATHSIG sent when the
// parent ends. hurdvm does not tell user time from system time: a
// process's CPU time is all user time. Handler context, under the kernel
// lock (procSyscall).

package kernel

const (
	sysGetrusage   = 98
	sysTimes       = 100
	sysSetrlimit   = 160
	sysClockGetres = 229

	rlimitCPU        = 0
	rlimitCore       = 4
	rlimitNproc      = 6
	rlimitMemlock    = 8
	rlimitSigpending = 11
	rlimitMsgqueue   = 12

	rusageSelf     = 0
	rusageThread   = 1
	rusageChildren = ^uint64(0) // -1

	// userHZ is the clock tick times counts in (Linux's USER_HZ).
	userHZ = 100
)

// procRlimitDefaults are a process's limits at its start: Linux's
// defaults for a process of init's, but RLIMIT_NOFILE, which is the
// descriptor table (maxFDs) soft and hard, and RLIMIT_NPROC and
// RLIMIT_SIGPENDING, which are the process table's and a thread's
// signals.
var procRlimitDefaults = [rlimitCount][2]uint64{
	rlimitCPU:        {unlimited, unlimited},
	1:                {unlimited, unlimited}, // RLIMIT_FSIZE
	2:                {unlimited, unlimited}, // RLIMIT_DATA
	rlimitStack:      {8 << 20, unlimited},
	rlimitCore:       {0, unlimited},
	5:                {unlimited, unlimited}, // RLIMIT_RSS
	rlimitNproc:      {maxProcs, maxProcs},
	rlimitNofile:     {maxFDs, maxFDs},
	rlimitMemlock:    {8 << 20, 8 << 20},
	9:                {unlimited, unlimited}, // RLIMIT_AS
	10:               {unlimited, unlimited}, // RLIMIT_LOCKS
	rlimitSigpending: {nsig, nsig},
	rlimitMsgqueue:   {819200, 819200},
	13:               {0, 0},                 // RLIMIT_NICE
	14:               {0, 0},                 // RLIMIT_RTPRIO
	15:               {unlimited, unlimited}, // RLIMIT_RTTIME
}

// procPrlimit is prlimit64(pid, resource, new, old) from process me (and
// getrlimit, setrlimit: pid 0): pid 0 or its own is its table, another
// process's pid that one's (ESRCH for none: the kernel's program too).
// A process runs as root: it may raise a hard limit, but RLIMIT_NOFILE
// no higher than the descriptor table (EPERM, as past Linux's nr_open).
// The old limit is read before the new one is set.
func procPrlimit(me, pid int32, resource, newp, oldp uint64) uint64 {
	j := me
	if pid != 0 {
		if j = procByPID(pid); j < 0 || procs[j].state != procRunning {
			return errno(eSRCH)
		}
	}
	if resource >= rlimitCount {
		return errno(eINVAL)
	}
	hardMax := unlimited
	if resource == rlimitNofile {
		hardMax = maxFDs
	}
	return rlimitCall(&progIndex(j+1).rlimits, resource, newp, oldp, hardMax)
}

// fdLimit is how many descriptors program pg may have: its RLIMIT_NOFILE
// (the kernel's program: the table, as its limit is).
func fdLimit(pg *progState) int32 {
	if pg == &kernelProg {
		return maxFDs
	}
	return int32(min(pg.rlimits[rlimitNofile][0], maxFDs))
}

// procCPU is the CPU time of every thread of process i, the ended ones'
// (proc.cpuNS) included.
func procCPU(i int32) int64 {
	ns := procs[i].cpuNS
	for j := int32(1); j < threadHigh; j++ {
		if t := thr(j); t.proc == i+1 && t.state != threadFree && t.state != threadDead {
			ns += threadCPU(j)
		}
	}
	return ns
}

// Linux's CPU-time clock ids built from a pid or a tid (glibc's and Go's
// clock_getcpuclockid, pthread_getcpuclockid): ~pid << 3, then the
// clock (CPUCLOCK_PROF 0, VIRT 1, SCHED 2) and CPUCLOCK_PERTHREAD (4).
const (
	cpuClockPerThread = 4
	cpuClockWhichMask = 3
)

// procClockCPU is the CPU time clock id names for process me's caller:
// CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, or a clock built
// from a pid (any process's, a zombie's too; 0 the caller's) or a tid (a thread of the
// caller's process; 0 the caller). ok is false for an id that names no
// such clock (EINVAL).
func procClockCPU(me int32, id int64) (ns int64, ok bool) {
	switch {
	case id == clockProcessCPU:
		return procCPU(me), true
	case id == clockThreadCPU:
		return threadCPU(current()), true
	case id >= 0 || id&cpuClockWhichMask == cpuClockWhichMask:
		return 0, false
	}
	pid := int32(^(id >> 3))
	if id&cpuClockPerThread != 0 {
		if pid == 0 {
			return threadCPU(current()), true
		}
		i := findTID(pid)
		if i < 0 || thr(i).proc != me+1 {
			return 0, false
		}
		return threadCPU(i), true
	}
	j := me
	if pid != 0 {
		if j = procByPID(pid); j < 0 {
			return 0, false // a zombie's is still there, as on Linux, until it is reaped
		}
	}
	return procCPU(j), true
}

// procClockGetres is clock_getres: 1 ns for every clock hurdvm has (its
// clocks are the TSC's), EINVAL for another id; a NULL res is no error.
func procClockGetres(me int32, id int64, res uint64) uint64 {
	if _, ok := clockNow(id); !ok {
		if _, ok := procClockCPU(me, id); !ok {
			return errno(eINVAL)
		}
	}
	if res != 0 && !writeTimespec(res, 1) {
		return errno(eFAULT)
	}
	return 0
}

// procTimes is times(buf): the process's CPU time and its reaped
// children's in clock ticks (all user time), and the ticks since boot.
func procTimes(me int32, buf uint64) uint64 {
	p := &procs[me]
	tick := int64(nsPerSecond / userHZ)
	tms := [4]int64{procCPU(me) / tick, 0, p.childCPUNS / tick, 0}
	if buf != 0 && !copyOut(buf, bytesOf(&tms)) {
		return errno(eFAULT)
	}
	return uint64(nanotime() / tick)
}

// procGetrusage is getrusage(who, usage): RUSAGE_SELF the process's CPU
// time, RUSAGE_THREAD the caller's, RUSAGE_CHILDREN its reaped
// children's, as user time; the other fields 0.
func procGetrusage(me int32, who, usage uint64) uint64 {
	var ns int64
	switch who {
	case rusageSelf:
		ns = procCPU(me)
	case rusageThread:
		ns = threadCPU(current())
	case rusageChildren:
		ns = procs[me].childCPUNS
	default:
		return errno(eINVAL)
	}
	if !procRusage(usage, ns) {
		return errno(eFAULT)
	}
	return 0
}

// procRusage writes a struct rusage whose user time is ns, every other
// field 0.
func procRusage(addr uint64, ns int64) bool {
	var ru [rusageSize / 8]int64
	ru[0], ru[1] = ns/nsPerSecond, ns%nsPerSecond/1000 // ru_utime: seconds, microseconds
	return copyOut(addr, bytesOf(&ru))
}

// procReaped accounts child j, reaped by its parent: its CPU time and
// its own reaped children's go to the parent's children's time.
func procReaped(j int32) {
	c := &procs[j]
	if c.parent > 0 {
		procs[c.parent-1].childCPUNS += c.cpuNS + c.childCPUNS
	}
}

// procPdeathsig sends, as process i ends, each of its live children the
// signal a thread of it asked for with PR_SET_PDEATHSIG.
func procPdeathsig(i int32) {
	for j := int32(1); j < threadHigh; j++ {
		t := thr(j)
		if t.pdeathsig == 0 || t.proc == 0 || t.state == threadFree || t.state == threadDead {
			continue
		}
		if c := &procs[t.proc-1]; c.parent == i+1 && c.state == procRunning && !c.ending {
			sendToProg(t.proc, t.pdeathsig)
		}
	}
}
