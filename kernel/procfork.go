//go:build hurdvm

// A process's children (issue 17): fork, wait4 and kill of another
// process, as Linux's. Handler context, under the kernel lock
// (procSyscall).
//
// fork (and clone without CLONE_THREAD, vfork) makes a process whose task
// is a copy-on-write copy of the caller's (taskNew with the caller's space
// as the parent: mm's ForkInto), whose one thread is a copy of the
// calling thread (its registers, FPU state, TLS, signal mask and stack),
// and whose program state is a copy of the caller's: signal actions,
// descriptors and open files (a server file's handle gets one more
// reference in the server, a notice posted before any later release of
// it, so that either side's close leaves the other's file open). CLONE_VM
// without CLONE_THREAD (Go's os/exec makes CLONE_VFORK|CLONE_VM, then
// execve in the child) gets a copy too, not the caller's memory: the
// child writes nothing its parent reads. With CLONE_VFORK (vfork's) the
// calling thread waits, as Linux's, until the child makes its execve or
// ends; only SIGKILL ends the wait early, with its process.
//
// A child's record keeps its parent (proc.parent). Its end sends SIGCHLD
// to the parent and wakes the parent's threads in wait4; the parent's
// wait4 reaps it (Linux's status word) and frees its record. A parent
// that ends first frees its ended children and leaves the others
// without one: their records go as they end.

package kernel

const (
	sysFork  = 57
	sysVfork = 58
	sysWait4 = 61

	wNohang    = 1
	wUntraced  = 2
	wContinued = 8
	wNothread  = 0x20000000
	wAll       = 0x40000000
	wClone     = 0x80000000

	cloneVfork   = 0x4000
	cloneSigMask = 0xff // the signal a child's end sends its parent

	eCHILD = 10

	// rusageSize is struct rusage's (wait4 fills its user time, the
	// child's CPU time: proclimits.go).
	rusageSize = 144
)

// fileOpDup is the notice that a handle has one more descriptor in
// another program (fork): the server adds a reference (fs.Dup).
const fileOpDup = 1<<32 + 2

// procFork is fork, vfork, and clone without CLONE_THREAD: the child's
// pid to the parent, 0 to the child (its frame's RAX).
func procFork(tf *TrapFrame, t *thread, flags, stk, ptid uint64) uint64 {
	if flags&cloneVM != 0 && flags&cloneVfork == 0 {
		return errno(eINVAL) // a process sharing its parent's memory: not served
	}
	if flags&(cloneThread|cloneSighand) != 0 {
		return errno(eINVAL) // CLONE_SIGHAND needs CLONE_VM, and CLONE_THREAD is sysCloneThread's
	}
	// CLONE_PIDFD: the parent's pidfd for the child goes where
	// parent_tid points (so CLONE_PARENT_SETTID cannot be given too). Its
	// descriptor, the lowest free, is written first: a fault there is
	// EFAULT with no child made.
	pidfdAt := uint64(0)
	if flags&clonePidfd != 0 {
		if flags&cloneParentSettid != 0 {
			return errno(eINVAL)
		}
		fd := lowestFreeFD(0)
		if fd < 0 || freeFDs() == 0 {
			return errno(eMFILE)
		}
		if !writeUser32(ptid, uint32(fd)) {
			return errno(eFAULT)
		}
		pidfdAt = ptid
	}
	parent := t.proc - 1
	pp := &procs[parent]
	ppg := progOf(t)
	nfiles := uint32(0)
	for i := range ppg.files {
		if f := &ppg.files[i]; f.kind == fileServer && f.refs > 0 {
			nfiles++
		}
	}
	if ppg.cwd != 0 {
		nfiles++ // the working directory's handle: one more reference too
	}
	if nfiles > 0 && (!fileServerUp || !fileNoticeRoom(nfiles)) {
		return errno(eAGAIN)
	}
	r := procTake()
	if int64(r) < 0 {
		return r
	}
	ci := int32(r)
	// The child's task: a copy-on-write copy of the parent's.
	s := taskMake(int64(pp.slot), true)
	if s&taskErrBit != 0 {
		return errno(eNOMEM) // ENOMEM, as Linux's fork says for a copy it cannot make
	}
	ti, ok := newThread()
	if !ok {
		as := &spaces[int32(s)]
		lockSpace(as)
		as.Destroy()
		unlockSpace(as)
		return errno(eAGAIN)
	}
	c := &procs[ci]
	*c = proc{slot: int32(s)}
	cpg := progIndex(ci + 1)
	*cpg = *ppg
	cpg.pending = 0
	for i := range cpg.files {
		if f := &cpg.files[i]; f.kind == fileServer && f.refs > 0 {
			postNotice(fileNotice{op: fileOpDup, handles: [2]int32{f.handle, -1}})
		}
	}
	if cpg.cwd != 0 {
		postNotice(fileNotice{op: fileOpDup, handles: [2]int32{cpg.cwd, -1}})
	}

	ct := thr(ti)
	copyCaller(ct, t, tf, stk)
	ct.space, ct.cr3, ct.proc = c.slot, spaces[c.slot].PT.Root, ci+1
	ct.altSP, ct.altSize, ct.altFlags = t.altSP, t.altSize, t.altFlags // fork keeps it (a thread's clone does not)

	c.state = procRunning
	c.echo = pp.echo
	c.parent = parent + 1
	c.pgid, c.sid = pp.pgid, pp.sid
	c.exitSignal = uint32(flags & cloneSigMask)
	c.thread, c.threads = ti, 1
	c.brkStart, c.brk, c.imageLo = pp.brkStart, pp.brk, pp.imageLo
	c.exe, c.exeLen = pp.exe, pp.exeLen
	c.info = ProcessInfo{PID: ct.tid}
	if pidfdAt != 0 {
		pidfdNew(ct.tid, 0) // the descriptor written above: the lowest free still
	}
	ct.state = threadRunnable
	enqueue(ti)
	kickIdleCPU()
	if flags&cloneVfork != 0 {
		// The parent waits, killable only, until the child's execve or
		// end (vforkDone), and then answers the child's pid.
		c.vforker, c.vforkerTID = current()+1, t.tid
		t.waitN = int64(ct.tid)
		block(waitVfork, 0)
	}
	return uint64(ct.tid)
}

// vforkDone is the execve or the end of process i: the thread that made
// it with CLONE_VFORK, if it still waits, goes on.
func vforkDone(i int32) {
	p := &procs[i]
	if p.vforker == 0 {
		return
	}
	w := p.vforker - 1
	if t := thr(w); t.tid == p.vforkerTID && t.state == threadBlocked && t.wait == waitVfork {
		wake(w, wokenByEvent)
	}
	p.vforker, p.vforkerTID = 0, 0
}

// procChildEnded is the end of process i that has a parent: the parent, if
// it has not ended, learns it (its exit signal, SIGCHLD for fork's
// children, and its threads in wait4 woken); an orphan's record goes.
func procChildEnded(i int32) {
	p := &procs[i]
	if p.parent < 0 {
		p.state = procFree
		return
	}
	par := p.parent
	if sig := p.exitSignal; sig != 0 && sig < nsig {
		sendToProg(par, sig)
	}
	for j := int32(1); j < threadHigh; j++ {
		if t := thr(j); t.state == threadBlocked && t.wait == waitChild && t.proc == par {
			wake(j, wokenByEvent)
		}
	}
}

// procOrphans is the end of process i for its children: those that ended
// are freed (no one will wait for them), the others will be as they end.
func procOrphans(i int32) {
	procPdeathsig(i)
	for j := range procs {
		c := &procs[j]
		if c.parent != i+1 || c.state == procFree {
			continue
		}
		if c.state == procExited {
			c.state = procFree
		} else {
			c.parent = -1
		}
	}
}

// procWait4 is wait4(pid, status, options, rusage): a child that ended
// and that pid selects (wait4Select: -1 any, 0 the caller's group, below
// -1 group -pid, else that one; __WCLONE and __WALL as Linux's) is
// reaped, its pid the answer, its status Linux's word (the exit code
// << 8, or the signal; hurdvm writes no core dumps) and rusage its CPU
// time (procRusage); none that ended: 0
// with WNOHANG, else the caller waits for one (waitChild) and makes the
// call again; no such child at all: ECHILD.
func procWait4(t *thread, pid int32, status, options, rusage uint64) uint64 {
	if options&^(wNohang|wUntraced|wContinued|wNothread|wAll|wClone) != 0 {
		return errno(eINVAL)
	}
	me := t.proc - 1
	found, j := procChild(me, wait4Select(me, pid), options)
	if !found {
		return errno(eCHILD)
	}
	if j < 0 {
		if options&wNohang != 0 {
			return 0
		}
		block(waitChild, 0)
		return 0
	}
	c := &procs[j]
	w := uint32(c.info.ExitCode&0xff) << 8
	if c.info.Signal != 0 {
		w = uint32(c.info.Signal & 0x7f)
	}
	cpid, cpu := c.info.PID, c.cpuNS
	procReaped(j)
	c.state = procFree // reaped, whatever the copies say (as Linux)
	if status != 0 && !writeUser32(status, w) {
		return errno(eFAULT)
	}
	if rusage != 0 && !procRusage(rusage, cpu) {
		return errno(eFAULT)
	}
	return uint64(cpid)
}

// procWaitChildResume finishes a wait4 or waitid that waited: the call
// again (a child ended, a signal's SA_RESTART handler runs first, or the
// signal that woke it went to another thread), or EINTR (a handler
// without SA_RESTART runs on t and no child it waits for has ended). As
// Linux's do_wait, a child that ended is reaped even when a signal woke
// the waiter: the call made again finds it.
func procWaitChildResume(t *thread, tf *TrapFrame) uint64 {
	if t.woken == wokenBySignal && !restartsAfterSignal(t) && !procChildToReap(t, tf) {
		return errno(eINTR)
	}
	return restartCall(tf)
}

// procChildToReap reports whether the wait4 or waitid in tf, made by t,
// would reap a child now.
func procChildToReap(t *thread, tf *TrapFrame) bool {
	me := t.proc - 1
	w, options := wait4Select(me, int32(tf.RDI)), tf.RDX
	if t.callNr == sysWaitid {
		var e uint64
		if w, e = waitidSelect(me, tf.RDI, int32(tf.RSI)); e != 0 {
			return false
		}
		options = tf.R10
	}
	_, j := procChild(me, w, options)
	return j >= 0
}

// procKillPID is kill(pid, sig) from a process for another process's pid
// (its own is the personality's sysKillProcess): ESRCH when no process
// has it (a zombie's is 0, the signal lost); SIGKILL ends it at once, another signal is pending for
// it as for a kill(2) of its own.
func procKillPID(pid int32, sig uint64) uint64 {
	if sig >= nsig {
		return errno(eINVAL)
	}
	for j := range procs {
		p := &procs[j]
		if p.state != procRunning && p.state != procExited || p.info.PID != pid {
			continue
		}
		if p.ending || p.state == procExited {
			return 0 // a zombie: the signal goes nowhere, as on Linux
		}
		switch {
		case sig == 0:
		case sig == sigKILL:
			p.info.Signal = sigKILL
			procEnd(int32(j))
		default:
			sendToProg(int32(j)+1, uint32(sig))
		}
		return 0
	}
	return errno(eSRCH)
}
