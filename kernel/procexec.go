//go:build hurdvm

// execve for processes (issue 17): the kernel's side. Handler context,
// under the kernel lock.
//
// The ELF loader is ordinary Go, so it does not run in the system call: a
// process's execve becomes a request (one slot a process: execRequests[i]
// is process i's) and its thread blocks, not interruptibly (Linux's
// execve is not). The exec server, a goroutine of the kernel's own
// program (procstart.go, serveExec), takes it (sysExecNext), reads the
// path, argv and envp from the caller's memory through the kernel
// (sysExecString, sysExecCopy: the caller's space, its window only, as
// the file server's copies), opens the file through the file system,
// plans it, and loads it into a fresh space (sysExecNew) with the very
// code that starts a process (procMemory.load: sysProcMap, sysProcWrite,
// sysProcProtect, the index naming the request's space). An error on the
// way (EFAULT, E2BIG, ENOENT, EACCES, ENOEXEC...) is sysExecFail: the
// fresh space goes, and the caller's call answers the errno, the process
// unchanged.
//
// sysExecCommit is the point of no return: the process's other threads
// end (at once, or at their CPU's next way out of the kernel:
// proc.execer), and when the caller is the last one it is woken, and its
// resume (execResume, the caller's own context) swaps the space: the old
// one is destroyed (every frame back), the thread starts the new image
// (its registers 0 but RIP and RSP, its FPU state reset, no TLS, no
// sigaltstack; its tid the pid, as Linux's de_thread gives the thread
// that execs from another than the first), the handled signals go back
// to their default action
// (ignored ones stay ignored; the mask and pending signals stay), the
// close-on-exec descriptors close, and the process keeps its pid, its
// parent and its children. A process that ends meanwhile takes the
// request with it (procExecGone).

package kernel

import (
	"sync/atomic"

	"hurdvm/mm"
)

const (
	sysExecve   = 59
	sysExecveat = 322

	// execveat's flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH).
	atSymlinkNofollow = 0x100
	atEmptyPath       = 0x1000

	eNOEXEC = 8

	// The exec server's calls (the kernel program's, served under the
	// kernel lock; a process cannot make them).
	sysExecNext   = 0x48560080 // a0 *execView: waits for a request; its slot
	sysExecCopy   = 0x48560081 // a0 slot, a1 caller's address, a2 buffer, a3 n: bytes copied from the caller
	sysExecString = 0x48560082 // a0 slot, a1 caller's address, a2 buffer, a3 its size: length, or -errno
	sysExecNew    = 0x48560083 // a0 slot: the fresh space the loading calls then fill (index execTarget|slot)
	sysExecFail   = 0x48560084 // a0 slot, a1 errno: the caller's call answers it
	sysExecCommit = 0x48560085 // a0 slot, a1 entry, a2 stack pointer, a3 break: the caller runs the new image

	// execTarget in the index of sysProcMap, sysProcWrite and
	// sysProcProtect names exec request (index&^execTarget)'s fresh
	// space rather than a process being started.
	execTarget = 0x100
)

type execState uint8

const (
	execFree      execState = iota
	execPosted              // the caller waits; the server has not taken it
	execTaken               // the server loads
	execFailed              // the server's errno is in result
	execCommitted           // the new image is loaded; the other threads end, then the caller swaps
)

// execView is what the server learns of a request.
type execView struct {
	Path, Argv, Envp uint64
	PID              int32
	// Flags are execveat's (0 for execve); DirArg its dirfd argument
	// (AT_FDCWD for execve), Dir that descriptor translated as for a
	// file call (serverHandle: handleCWD, handleBad, handleNotServer, or
	// a server handle), and DirFD a descriptor of the kernel program's
	// for that handle, which the server reads through and closes (-1:
	// none).
	Flags  uint32
	DirArg int32
	Dir    int32
	DirFD  int32
	// DirCloexec: DirArg is close-on-exec, so a script found through
	// it cannot be read by its interpreter after the execve (ENOENT, as
	// Linux's BINPRM_FLAGS_PATH_INACCESSIBLE).
	DirCloexec bool
}

type execRequest struct {
	state  execState
	thread int32 // the caller's thread slot
	view   execView
	// gone: the caller's process ended while the server held the
	// request: its calls copy nothing, and its end frees the request.
	gone   bool
	space  int32 // the fresh space (sysExecNew), 0: none yet
	result uint64
	entry  uint64
	sp     uint64
	brk    uint64
	// imageLo is the lowest address loaded (the process's imageLo).
	imageLo uint64
}

var (
	execRequests [maxProcs]execRequest
	// execServerThread is the exec server's thread while it waits for a
	// request, -1 otherwise; execServerSlot is its thread at any time.
	execServerThread int32 = -1
	execServerSlot   int32 = -1
	// execsEnded counts the execve calls whose process ended with them
	// in flight, by the request's state then (the tests read it).
	execsEnded [execCommitted + 1]uint64
	// execCwd is the working directory of the process whose execve the
	// server loads (a handle it holds a reference to, 0 for the server's
	// own directory): its file calls start there (callerCwd).
	execCwd int32
)

// procExecve is a process's execve(path, argv, envp): a request for the
// exec server, the caller blocked until it answers. A second execve of
// the same process while one is in flight waits for the slot and is made
// again then.
func procExecve(t *thread, dirfd int32, path, argv, envp, flags uint64) uint64 {
	i := t.proc - 1
	r := &execRequests[i]
	if r.state != execFree {
		block(waitExecSlot, 0)
		return 0
	}
	*r = execRequest{state: execPosted, thread: current(), view: execView{Path: path, Argv: argv, Envp: envp, PID: procs[i].info.PID,
		Flags: uint32(flags), DirArg: dirfd, Dir: serverHandle(dirfd), DirFD: -1}}
	if pg := progOf(t); dirfd >= 0 && dirfd < maxFDs {
		r.view.DirCloexec = pg.fds[dirfd].cloexec
	}
	block(waitExec, 0)
	if s := execServerThread; s >= 0 && thr(s).state == threadBlocked && thr(s).wait == waitExecServer {
		wake(s, wokenByEvent)
	}
	return 0
}

// execCall serves the exec server's calls.
func execCall(nr, a0, a1, a2, a3, a4, a5 uint64) uint64 {
	if nr == sysExecNext {
		return execNext(a0)
	}
	if a0 >= maxProcs || execRequests[a0].state != execTaken {
		return errno(eINVAL)
	}
	r := &execRequests[a0]
	switch nr {
	case sysExecCopy:
		if r.gone {
			return 0
		}
		return spaceCopy(&spaces[procs[a0].slot], a1, a2, a3, copyFromCaller, true)
	case sysExecString:
		if r.gone {
			return errno(eFAULT)
		}
		return spaceString(&spaces[procs[a0].slot], a1, a2, a3, true)
	case sysExecNew:
		if r.gone {
			return errno(eSRCH)
		}
		if r.space != 0 {
			return errno(eINVAL)
		}
		s := taskNew(-1, true)
		if s&taskErrBit != 0 {
			return errno(eNOMEM)
		}
		r.space = int32(s)
		return 0
	case sysExecFail:
		if a1 == 0 || a1 > 4095 {
			a1 = eNOEXEC
		}
		execFinish(int32(a0), errno(int(a1)))
		return 0
	case sysExecCommit:
		if r.space == 0 || !procRange(a1, 1) || !procRange(a2-1, 1) || a2%16 != 0 {
			execFinish(int32(a0), errno(eINVAL))
			return errno(eINVAL)
		}
		if r.gone {
			execFinish(int32(a0), errno(eSRCH))
			return errno(eSRCH)
		}
		if e := procSetExe(&procs[a0], a4, a5); e != 0 {
			execFinish(int32(a0), e)
			return e
		}
		r.entry, r.sp, r.brk = a1, a2, a3
		r.state = execCommitted
		execEndOthers(int32(a0))
		return 0
	}
	return errno(eINVAL)
}

// execLoadSpace is the space a loading call with index idx fills: exec
// request idx&^execTarget's fresh one, or nil.
func execLoadSpace(idx uint64) *mm.AddressSpace {
	i := idx &^ execTarget
	if i >= maxProcs {
		return nil
	}
	r := &execRequests[i]
	if r.state != execTaken || r.gone || r.space == 0 {
		return nil
	}
	return &spaces[r.space]
}

// execNext gives the server the oldest posted request, or blocks it until
// one comes (the call is then made again).
func execNext(view uint64) uint64 {
	execServerSlot = current()
	if execCwd != 0 {
		fileRelease(execCwd) // the last request's
		execCwd = 0
	}
	for i := range execRequests {
		r := &execRequests[i]
		if r.state != execPosted {
			continue
		}
		// execveat's directory or file: a descriptor of the server's own
		// for the handle (one more reference to it), which it closes.
		r.view.DirFD = -1
		if h := r.view.Dir; h >= 0 && fileNoticeRoom(1) {
			if fd := newServerFile(&kernelProg, h, oCloexec, 0); int64(fd) >= 0 {
				postNotice(fileNotice{op: fileOpDup, handles: [2]int32{h, -1}})
				r.view.DirFD = int32(fd)
			}
		}
		if !copyOut(view, bytesOf(&r.view)) {
			return errno(eFAULT)
		}
		r.state = execTaken
		// The server opens the program from the caller's working
		// directory, with a reference of its own to it (the process may
		// end, and move, while it loads).
		if h := progIndex(int32(i) + 1).cwd; h != 0 && fileNoticeRoom(1) {
			postNotice(fileNotice{op: fileOpDup, handles: [2]int32{h, -1}})
			execCwd = h
		}
		return uint64(i)
	}
	execServerThread = current()
	block(waitExecServer, 0)
	return 0
}

// execFinish ends request i without an image: its fresh space goes, and
// the caller's call answers e; a gone request is freed.
func execFinish(i int32, e uint64) {
	r := &execRequests[i]
	execDropSpace(r)
	if r.gone {
		execFree1(i)
		return
	}
	r.state, r.result = execFailed, e
	if t := thr(r.thread); t.state == threadBlocked && t.wait == waitExec {
		wake(r.thread, wokenByEvent)
	}
}

// execDropSpace destroys the request's fresh space, if it has one.
func execDropSpace(r *execRequest) {
	if r.space == 0 {
		return
	}
	as := &spaces[r.space]
	lockSpace(as)
	as.Destroy()
	unlockSpace(as)
	r.space = 0
}

// execFree1 frees request i and wakes the threads waiting for a slot.
func execFree1(i int32) {
	execRequests[i] = execRequest{}
	for j := int32(1); j < threadHigh; j++ {
		if t := thr(j); t.state == threadBlocked && t.wait == waitExecSlot {
			wake(j, wokenByEvent)
		}
	}
}

// execEndOthers ends every thread of process i but the execve's caller (a
// thread on another CPU at that CPU's next way out of the kernel:
// proc.ends), and wakes the caller when it is the last (or procThreadEnd
// does, later).
func execEndOthers(i int32) {
	p := &procs[i]
	r := &execRequests[i]
	p.execer = r.thread + 1
	for j := int32(1); j < threadHigh; j++ {
		t := thr(j)
		if j == r.thread || t.proc != i+1 || t.state == threadFree || t.state == threadDead {
			continue
		}
		if t.oncpu >= 0 {
			kickCPU(t.oncpu)
			continue
		}
		procThreadEnd(i, j)
	}
	// Their file requests copy nothing more: the space they name goes.
	procRequestsGone(i)
	execOthersEnded(i)
}

// execOthersEnded wakes the caller of process i's committed execve once
// its other threads have all ended.
func execOthersEnded(i int32) {
	p := &procs[i]
	if p.execer == 0 || p.threads != 1 {
		return
	}
	if w := p.execer - 1; thr(w).state == threadBlocked && thr(w).wait == waitExec {
		wake(w, wokenByEvent)
	}
}

// execResume finishes an execve when its caller runs again: the errno, or
// the swap to the new image (tf becomes its start).
func execResume(t *thread, tf *TrapFrame) uint64 {
	i := t.proc - 1
	r := &execRequests[i]
	if r.state != execCommitted {
		e := r.result
		execFree1(i)
		return e
	}
	p := &procs[i]
	c := thisCPU()
	// The old space is loaded nowhere but here (its other threads have
	// ended, off every CPU): this CPU leaves it first.
	old := &spaces[p.slot]
	root := spaces[r.space].PT.Root
	setCR3(c, root)
	t.cr3, t.space, p.slot = root, r.space, r.space
	lockSpace(old)
	old.Destroy()
	unlockSpace(old)

	fpu := tf.FPU
	*tf = TrapFrame{RIP: r.entry, RSP: r.sp, CS: selUserCode, SS: selUserData, RFLAGS: rflagsIF | 2}
	tf.FPU = fpu
	fpuReset(&t.fpu)
	t.fsBase, t.gsBase = 0, 0
	t.altSP, t.altSize, t.altFlags, t.inSignal = 0, 0, 0, 0
	t.keepCaps = false // as Linux's execve clears SECBIT_KEEP_CAPS
	t.clearTID = 0
	p.brkStart, p.brk, p.imageLo = r.brk, r.brk, r.imageLo
	p.execer = 0
	p.execed = true
	vforkDone(i)
	// The caller is the process's one thread now: as Linux's de_thread,
	// it takes the pid as its tid (the first thread, whose tid it was,
	// has ended).
	t.tid, p.thread = p.info.PID, current()

	pg := progOf(t)
	for s := range pg.sigactions {
		if a := &pg.sigactions[s]; a.handler != sigIGN {
			*a = sigaction{}
		}
	}
	for fd := int32(0); fd < maxFDs; fd++ {
		if pg.fds[fd].file != 0 && pg.fds[fd].cloexec {
			closeFD(fd)
		}
	}
	execFree1(i)
	return 0
}

// procExecGone is process i's end for its exec request: a posted or
// answered one is freed (its fresh space destroyed), one the server holds
// is marked gone (the server's next call frees it).
func procExecGone(i int32) {
	r := &execRequests[i]
	p := &procs[i]
	p.execer = 0
	if r.state != execFree {
		atomic.AddUint64(&execsEnded[r.state], 1)
	}
	switch r.state {
	case execFree:
	case execTaken:
		r.gone = true
	default:
		execDropSpace(r)
		execFree1(i)
	}
}
