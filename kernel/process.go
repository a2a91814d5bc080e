//go:build hurdvm

// Processes (issue 17): programs that run in ring 3, each in a task of
// its own, whose memory is hurd_vm_allocate's. The kernel's side of them:
// the table of processes, what the threads of a program share
// (progState), the calls by which the kernel's own program makes one,
// starts it, waits for it and kills it, and a process's end. Handler
// context (the loading is ordinary Go: procstart.go; the process's own
// system calls: procsyscall.go; the rest of its calls are the
// personality's, syscall.go).
//
// A process is one or more threads in ring 3 (clone) in an address space
// made by taskNew with U/S on every page it maps (mm.AddressSpace.User).
// Its threads are ordinary threads of the scheduler (sched.go), with proc
// set: the timer preempts them, on any CPU; signals, tids and futexes are
// their program's (progState, findTID, futexWake), the kernel program's
// CPU time leaves them out, and LSTAR is syscallEntryUser while one runs
// (setSyscallEntry). It ends by exit_group, by its last thread's exit, by
// a signal whose action is the default one (a fault its handler cannot
// take: fatalSignal), or when the kernel kills it; every thread ends
// (procEnd), the last one destroys its space, its frames going back, and
// its record keeps what the kernel program's Wait reads: the status, the
// signal, its space's counters, its output.

package kernel

import (
	"unsafe"

	"hurdvm/mm"
)

const (
	// maxProcs is how many processes may exist at once (live or ended
	// and not yet waited for).
	maxProcs = 16
	// procOutMax is how much of a process's output (fds 1 and 2) its
	// record keeps for Wait; the rest is counted (and echoed, if asked).
	procOutMax = 8192
)

// The calls of the kernel's program (procstart.go), made under the
// kernel lock; a process cannot make them (procSyscall knows none).
const (
	sysProcNew     = 0x48560070 // a0 flags (procEcho): record index, or -errno
	sysProcMap     = 0x48560071 // a0 index, a1 address, a2 size: VM_HERE, read-write
	sysProcProtect = 0x48560072 // a0 index, a1 address, a2 size, a3 prot
	sysProcWrite   = 0x48560073 // a0 index, a1 address, a2 buffer, a3 n: through the physmap
	sysProcStart   = 0x48560074 // a0 index, a1 entry, a2 stack pointer, a3 break: the pid
	sysProcWait    = 0x48560075 // a0 index: 0 when it has ended; blocks (EINTR on a signal)
	sysProcInfo    = 0x48560076 // a0 index, a1 *ProcessInfo, a2 its size: copies it out, frees the record
	sysProcKill    = 0x48560077 // a0 index: ends it with SIGKILL
	sysProcAbort   = 0x48560078 // a0 index: throws away a process not started
	sysProcStatus  = 0x48560079 // a0 index, a1 *ProcessStatus, a2 its size
)

// ProcessStatus is a live look at a process (sysProcStatus).
type ProcessStatus struct {
	Running bool // it has not ended
	// Stats are its space's counters now (at its end, once it ended).
	Stats                            mm.SpaceStats
	Allocates, Deallocates, Protects uint64 // as ProcessInfo's
	OutputLen                        uint64
}

// procEcho: the process's output goes to the console too.
const procEcho = 1

type procState uint8

const (
	procFree    procState = iota
	procLoading           // sysProcNew made it; its memory is being filled
	procRunning
	procExited // ended, its space destroyed: waiting for sysProcInfo
)

// ProcessInfo is what the kernel keeps of a process once it has ended, as
// sysProcInfo copies it out.
type ProcessInfo struct {
	PID      int32
	ExitCode int32 // exit's or exit_group's status (low 8 bits), when Signal is 0
	Signal   int32 // the signal that ended it, 0 if it exited
	_        int32
	// For an exception or fault: where it was (RIP) and, for a page
	// fault, the address.
	FaultRIP, FaultAddr uint64
	// Stats are its address space's counters at its end, before the
	// space was destroyed.
	Stats mm.SpaceStats
	// The VM calls its mmap, munmap, brk and mprotect made in its space
	// (mm.AddressSpace.Allocate, Deallocate and Protect): each counted
	// when it succeeded.
	Allocates, Deallocates, Protects uint64
	// OutputLen is how many bytes it wrote to fds 1 and 2; Output holds
	// the first procOutMax of them.
	OutputLen uint64
	Output    [procOutMax]byte
}

// proc is a process's record.
type proc struct {
	state procState
	echo  bool
	// ending: procEnd has begun; a thread of it still on a CPU ends at
	// that CPU's next way out of the kernel (leaveKernel).
	ending bool
	// execer is the thread whose execve is past its point of no return,
	// plus one (procexec.go); every other thread ends as for ending.
	execer  int32
	slot    int32 // its address space
	thread  int32 // its first thread (a slot of the thread table)
	threads int32 // its threads not yet ended
	waiter  int32 // the thread blocked in sysProcWait, plus one; 0: none
	// parent is the process that forked it, plus one (procfork.go); 0:
	// the kernel's program started it (StartProcess, Wait); -1: its
	// parent ended first, and its record goes as it ends.
	parent int32
	// exitSignal is what its end sends its parent (clone's low byte:
	// SIGCHLD for fork).
	exitSignal uint32
	// pgid and sid are its process group and session (procgroup.go);
	// execed: it made an execve (its parent's setpgid is EACCES then).
	pgid, sid int32
	execed    bool
	// vforker is the thread that made it with CLONE_VFORK, plus one, and
	// vforkerTID its tid: it waits (waitVfork) until this process makes
	// its execve or ends (vforkDone). 0: none waits.
	vforker, vforkerTID int32
	// cpuNS is the CPU time of its threads that have ended; childCPUNS
	// its reaped children's (proclimits.go).
	cpuNS, childCPUNS int64
	// The program break: [brkStart, brk) is the brk area, its pages
	// from brkStart up to brk rounded up allocated (procBrk). Changed
	// under the space's lock.
	brkStart, brk uint64
	// imageLo is the lowest address the loader mapped: the program's
	// image is [imageLo, brkStart), what Linux maps from its file
	// (madviseRange treats it so).
	imageLo uint64
	// exe is the absolute path of its program (/proc/self/exe), exeLen
	// bytes of it (procexe.go).
	exe    [pathMax]byte
	exeLen uint32
	info   ProcessInfo
}

var (
	procs [maxProcs]proc
	// procTableFull is said once, when sysProcNew first finds no record.
	procTableFull bool
)

// progState is what the threads of one program share, as the threads of
// one Linux process share their signal actions and descriptor table: the
// kernel's own program's is kernelProg, process i's fills frames of its
// own (progFrames[i], an order-progOrder block in the physmap: 47 KiB, too
// large for the image's eager BSS 16 times over), taken when its slot is
// first used and kept for the next process in the slot, as thread records
// are. The personality's calls (signal.go, fd.go, epoll.go) reach the
// caller's through curProg.
type progState struct {
	sigactions [nsig]sigaction
	// pending are the signals sent to the program (kill) that no
	// thread has taken yet.
	pending   uint64
	fds       [maxFDs]fdEntry
	files     [maxFiles]openFile
	epollRegs [maxEpollRegs]epollReg
	// rlimits are a process's resource limits (proclimits.go; the
	// kernel's program's are syscall_system.go's rlimits).
	rlimits [rlimitCount][2]uint64
	// cwd is the working directory: a handle of the file server's that
	// keeps it (chdir, fchdir; fork's child shares it, execve keeps it),
	// or 0, the server's own directory, the kernel program's (a process
	// starts there; the kernel program's chdir moves that one).
	cwd int32
}

const progOrder = 4

var (
	kernelProg progState
	progFrames [maxProcs]uint64
)

// The state must fit its frames.
var _ [pageSize<<progOrder - unsafe.Sizeof(progState{})]byte

// progOf is thread t's program's state.
func progOf(t *thread) *progState { return progIndex(t.proc) }

// progIndex is the state of program p: 0 the kernel's own, i+1 process
// i's.
func progIndex(p int32) *progState {
	if p == 0 {
		return &kernelProg
	}
	return (*progState)(at(physmapBase + progFrames[(p-1)&(maxProcs-1)]))
}

// curProg is the calling thread's program's state.
func curProg() *progState { return progOf(thr(current())) }

// curPID is the calling thread's program's process ID: the kernel
// program's is 1, a process's its first thread's tid.
func curPID() int32 {
	if p := thr(current()).proc; p != 0 {
		return procs[p-1].info.PID
	}
	return processID
}

// procCall serves the kernel program's process calls (the kernel lock is
// held).
func procCall(tf *TrapFrame, nr, a0, a1, a2, a3 uint64) uint64 {
	if nr == sysProcNew {
		return procNew(a0)
	}
	as := (*mm.AddressSpace)(nil)
	if a0&execTarget != 0 {
		// An execve's fresh space (procexec.go), loaded by the same calls.
		if as = execLoadSpace(a0); as == nil || nr != sysProcMap && nr != sysProcProtect && nr != sysProcWrite {
			return errno(eINVAL)
		}
		if r := &execRequests[a0&^execTarget]; nr == sysProcMap && (r.imageLo == 0 || a1 < r.imageLo) {
			r.imageLo = a1
		}
		return procLoadCall(as, nr, a1, a2, a3)
	}
	if a0 >= maxProcs {
		return errno(eINVAL)
	}
	p := &procs[a0]
	switch nr {
	case sysProcMap, sysProcProtect, sysProcWrite, sysProcStart, sysProcAbort:
		if p.state != procLoading {
			return errno(eINVAL)
		}
	case sysProcWait, sysProcInfo, sysProcKill, sysProcStatus:
		if p.state != procRunning && p.state != procExited {
			return errno(eINVAL)
		}
	}
	as = &spaces[p.slot]
	switch nr {
	case sysProcMap, sysProcProtect, sysProcWrite:
		if nr == sysProcMap && (p.imageLo == 0 || a1 < p.imageLo) {
			p.imageLo = a1
		}
		return procLoadCall(as, nr, a1, a2, a3)
	case sysProcStart:
		if e := procSetExe(p, tf.R8, tf.R9); e != 0 {
			return e
		}
		return procStart(a0, a1, a2, a3)
	case sysProcAbort:
		lockSpace(as)
		as.Destroy()
		unlockSpace(as)
		p.state = procFree
		return 0
	case sysProcWait:
		if p.state == procExited {
			return 0
		}
		if p.waiter != 0 {
			return errno(eAGAIN) // one waiter at a time (procstart.go's Wait is serialized)
		}
		p.waiter = current() + 1
		block(waitProcess, 0)
		return 0 // procWaitResume says
	case sysProcInfo:
		if p.state != procExited {
			return errno(eAGAIN)
		}
		if a2 != uint64(unsafe.Sizeof(p.info)) || !copyOut(a1, bytesOf(&p.info)) {
			return errno(eFAULT)
		}
		p.state = procFree
		return 0
	case sysProcKill:
		procKill(int32(a0))
		return 0
	case sysProcStatus:
		// The counters change under the space's lock (procsyscall.go).
		st := ProcessStatus{Running: p.state == procRunning, Stats: p.info.Stats, OutputLen: p.info.OutputLen}
		if st.Running {
			lockSpace(as)
			st.Stats = as.Stats()
		}
		st.Allocates, st.Deallocates, st.Protects = p.info.Allocates, p.info.Deallocates, p.info.Protects
		if st.Running {
			unlockSpace(as)
		}
		if a2 != uint64(unsafe.Sizeof(st)) || !copyOut(a1, bytesOf(&st)) {
			return errno(eFAULT)
		}
		return 0
	}
	return errno(eINVAL)
}

// procLoadCall is a loading call (sysProcMap, sysProcProtect,
// sysProcWrite) in the space being loaded: a process's not yet started,
// or an execve's fresh one.
func procLoadCall(as *mm.AddressSpace, nr, a1, a2, a3 uint64) uint64 {
	switch nr {
	case sysProcMap:
		va := uintptr(a1)
		lockSpace(as)
		err := as.Allocate(&va, uintptr(a2), mm.VM_HERE, false)
		unlockSpace(as)
		return linuxErrno(err)
	case sysProcProtect:
		lockSpace(as)
		err := as.Protect(uintptr(a1), uintptr(a2), protOf(a3))
		unlockSpace(as)
		return linuxErrno(err)
	}
	// sysProcWrite. Whatever the pages' protection will be: they are
	// read-write until the loader is done (sysProcMap).
	if spaceCopy(as, a1, a2, a3, copyToCaller, true) != a3 {
		return errno(eFAULT)
	}
	return 0
}

// procNew makes a record and an empty process space for a program being
// loaded.
func procNew(flags uint64) uint64 {
	r := procTake()
	if int64(r) < 0 {
		return r
	}
	i := int(r)
	s := taskNew(-1, true)
	if s&taskErrBit != 0 {
		return errno(eNOMEM)
	}
	p := &procs[i]
	*p = proc{state: procLoading, slot: int32(s), echo: flags&procEcho != 0}
	pg := progIndex(int32(i) + 1)
	*pg = progState{rlimits: procRlimitDefaults} // no handlers, no descriptors but 0, 1 and 2
	consoleFDs(pg)
	return uint64(i)
}

// procTake finds a free record, with the frames of its program state, and
// returns its index (still free: the caller fills it), or -errno.
func procTake() uint64 {
	i := -1
	for j := range procs {
		if procs[j].state == procFree {
			i = j
			break
		}
	}
	if i < 0 {
		if !procTableFull {
			procTableFull = true
			kprint("hurdvm: the process table is full (16 processes not yet waited for)\n")
		}
		return errno(eAGAIN)
	}
	if progFrames[i] == 0 {
		pa, err := frames.AllocZeroed(progOrder)
		if err != nil {
			return errno(eNOMEM)
		}
		progFrames[i] = uint64(pa)
		threadFramesTaken += 1 << progOrder
	}
	return uint64(i)
}

// procStart gives the loaded process i its thread, entering ring 3 at
// entry with its stack pointer at sp (the Linux start stack the loader
// wrote there) and every other register 0, as Linux starts a static
// program; brk is where its program break starts. The pid is the thread's
// tid, as Linux's main thread has.
func procStart(i, entry, sp, brk uint64) uint64 {
	p := &procs[i]
	if !procRange(entry, 1) || !procRange(sp-1, 1) || sp%16 != 0 {
		return errno(eINVAL)
	}
	ti, ok := newThread()
	if !ok {
		return errno(eAGAIN)
	}
	t := thr(ti)
	t.frame = TrapFrame{RIP: entry, RSP: sp, CS: selUserCode, SS: selUserData, RFLAGS: rflagsIF | 2}
	fpuReset(&t.fpu)
	t.frame.FPU = fpuAreaOf(t)
	t.space = p.slot
	t.cr3 = spaces[p.slot].PT.Root
	t.proc = int32(i) + 1
	copy(t.name[:15], "process")
	p.thread, p.threads = ti, 1
	p.brkStart, p.brk = brk, brk
	p.info = ProcessInfo{PID: t.tid}
	p.pgid, p.sid = t.tid, t.tid // a session and group of its own (procgroup.go)
	p.state = procRunning
	t.state = threadRunnable
	enqueue(ti)
	kickIdleCPU()
	return uint64(t.tid)
}

// procWaitResume finishes sysProcWait for its waiter t: 0 once the process
// has ended; EINTR when a signal woke t first (the caller asks again).
func procWaitResume(t *thread) uint64 {
	if t.woken == wokenBySignal {
		for i := range procs {
			if procs[i].waiter == current()+1 {
				procs[i].waiter = 0
			}
		}
		return errno(eINTR)
	}
	return 0
}

// procKill ends process i with SIGKILL (procEnd): the kernel's program
// asks, so no thread of it is this CPU's.
func procKill(i int32) {
	p := &procs[i]
	if p.state != procRunning || p.ending {
		return
	}
	p.info.Signal = sigKILL
	procEnd(i)
}

// procFatalSignal ends the current thread's process with sig (a fault or
// exception in ring 3 its handler cannot take, a signal whose action is
// the default one: fatalSignal), as Linux ends a process killed by a
// signal. The kernel and the other processes go on. tf is nil for kill's
// SIGKILL.
func procFatalSignal(tf *TrapFrame, sig uint32, addr uint64) {
	t := thr(current())
	i := t.proc - 1
	p := &procs[i]
	if p.ends(current()) {
		return // another thread ended it first, or execs: leaveKernel ends this one
	}
	p.info.Signal = int32(sig)
	if tf == nil {
		kprint("hurdvm: process ")
		kprintDec(uint64(p.info.PID))
		kprint(" killed by signal ")
		kprintDec(uint64(sig))
		kprint("\n")
		procEnd(i)
		return
	}
	p.info.FaultRIP, p.info.FaultAddr = tf.RIP, addr
	kprint("hurdvm: process ")
	kprintDec(uint64(p.info.PID))
	kprint(" killed by signal ")
	kprintDec(uint64(sig))
	kprint(" at rip ")
	kprintHex(tf.RIP)
	if tf.Vector == vecPageFault {
		kprint(", address ")
		kprintHex(addr)
	}
	if tf.Vector < 32 { // an exception; otherwise a signal's default action on the way out of a call or an interrupt
		kprint(" (vector ")
		kprintDec(tf.Vector)
		kprint(", error code ")
		kprintHex(tf.ErrorCode)
		kprint(")")
	}
	kprint("\n")
	procEnd(i)
}

// procExit ends the current thread's process with status (exit_group).
func procExit(status int32) {
	t := thr(current())
	p := &procs[t.proc-1]
	if !p.ending {
		p.info.ExitCode = status & 0xff
	}
	procEnd(t.proc - 1)
}

// procEnd ends process i: each of its threads ends (procThreadEnd) now,
// or, when it runs on another CPU, at that CPU's next way out of the
// kernel, which the kick makes soon (leaveKernel sees ending). The last
// one to end destroys the space. Kernel lock held.
func procEnd(i int32) {
	p := &procs[i]
	if p.ending {
		return
	}
	p.ending = true
	c := thisCPU()
	for j := int32(1); j < threadHigh; j++ {
		t := thr(j)
		if t.proc != i+1 || t.state == threadFree || t.state == threadDead {
			continue
		}
		if t.oncpu >= 0 && j != c.current {
			kickCPU(t.oncpu)
			continue
		}
		procThreadEnd(i, j)
	}
}

// procThreadEnd ends thread ti of process i (exit, or its process's end):
// the current one leaves the CPU at the trap's exit, one on no CPU is
// taken off the run queue or out of its wait. When it was the last, the
// process ends: its space's counters are kept and the space is destroyed,
// its frames and tables going back, and the waiter is woken. The space is
// loaded nowhere then: only the process's threads load it, none is on a
// CPU any more, and a CPU that switches away from a thread loads the next
// one's tables (the idle thread's are the kernel's).
func procThreadEnd(i, ti int32) {
	p := &procs[i]
	t := thr(ti)
	c := thisCPU()
	if c.current == ti {
		setCR3(c, kernelPT.Root)
		t.state = threadDead
	} else {
		if t.state == threadRunnable {
			unqueue(ti)
		}
		if t.deadline != 0 {
			deadlinesStale = true
		}
		t.state = threadFree
	}
	t.cr3, t.space = kernelPT.Root, kernelSpace
	p.cpuNS += threadCPU(ti)
	if p.threads--; p.threads > 0 {
		execOthersEnded(i) // an execve's caller may be the last now
		return
	}
	procExecGone(i)
	vforkDone(i)
	procFilesEnd(i)
	as := &spaces[p.slot]
	lockSpace(as)
	p.info.Stats = as.Stats()
	as.Destroy()
	unlockSpace(as)
	p.state = procExited
	pidfdsEnded(p.info.PID)
	procOrphans(i)
	if p.parent != 0 {
		procChildEnded(i)
		return
	}
	if p.waiter != 0 {
		w := p.waiter - 1
		p.waiter = 0
		if thr(w).state == threadBlocked && thr(w).wait == waitProcess {
			wake(w, wokenByEvent)
		}
	}
}

// procFilesEnd lets go of what process i holds of the file server's, as
// its last thread ends: each open file's handle is released (a pipe's
// other end then sees its end), and a request of its still in the
// server's hands copies nothing more (its space is about to be destroyed,
// and the slot may be another's next): a posted or answered one is
// freed, a taken one marked gone (fileDone frees it).
func procFilesEnd(i int32) {
	pg := progIndex(i + 1)
	for j := range pg.files {
		if f := &pg.files[j]; f.kind == fileServer && f.refs > 0 {
			fileRelease(f.handle)
		}
		pg.files[j] = openFile{}
	}
	setCwd(pg, 0)
	for j := range pg.fds {
		pg.fds[j] = fdEntry{}
	}
	procRequestsGone(i)
}

// procRequestsGone takes back process i's file requests, whose threads
// have ended: a posted or answered one is freed, one the server holds is
// marked gone, so that its copies copy nothing (the space it names goes,
// and its slot may be another's next) and fileDone gives no descriptor.
func procRequestsGone(i int32) {
	freed := false
	for j := range fileRequests {
		r := &fileRequests[j]
		if r.proc != i+1 || r.state == reqFree {
			continue
		}
		if r.state == reqTaken {
			r.gone = true
			continue
		}
		r.state = reqFree
		freed = true
	}
	if freed {
		wakeFileSlotWaiters()
	}
}

// ends reports whether thread ti of process p ends at its next way out of
// the kernel: the process ends, or another thread's execve is past its
// point of no return.
func (p *proc) ends(ti int32) bool {
	return p.ending || p.execer != 0 && p.execer-1 != ti
}

// procReturnFrame is the last look at a process thread's frame before
// IRETQ takes it to ring 3 (leaveKernel): its selectors and flags are the
// kernel's to say (ring 3, IF on, IOPL 0), and its RIP must be an address
// of the lower half, which IRETQ would refuse in ring 0 otherwise, with
// the process's GS already loaded. What a process sets RIP to (a signal
// handler: deliverSignal; sigreturn's context) is checked where it is
// set: a bad one here is the kernel's bug.
func procReturnFrame(tf *TrapFrame) {
	tf.CS, tf.SS = selUserCode, selUserData
	tf.RFLAGS = tf.RFLAGS&^(rflagsIOPL|rflagsNT) | rflagsIF | 2
	if !inPrivateHalf(tf.RIP) {
		kernelPanic(tf, "a process thread's frame returns outside the lower half", 0)
	}
}

// unqueue takes thread i off the run queue, if it is there.
func unqueue(i int32) {
	prev := int32(-1)
	for j := runHead; j >= 0; j = thr(j).runNext {
		if j != i {
			prev = j
			continue
		}
		next := thr(j).runNext
		if prev < 0 {
			runHead = next
		} else {
			thr(prev).runNext = next
		}
		if runTail == i {
			runTail = prev
		}
		thr(i).runNext = -1
		return
	}
}
