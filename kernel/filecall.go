//go:build hurdvm

// File system calls, passed to the file server. Handler context.
//
// hurdvm's files (the test's directory, the tmpfs at /tmp, pipes) are
// served outside the VM core, the Hurd's way: by a server, here a goroutine
// of the kernel's own program (fileserver.go) that runs kernel/fs, for
// every program (the kernel's, the processes'). A program's file system
// call becomes a request: the kernel fills a slot of fileRequests with the
// call and the descriptors translated to the server's handles, wakes the
// server, and blocks the caller. The server
// takes the request (SysFileNext), reads and writes the caller's memory
// through the kernel (SysFileCopy, SysFileString: the caller may be in
// another address space), and answers (SysFileDone). The kernel then
// installs the descriptors the answer makes, and finishes the call when
// the caller runs again, in its own address space (resumeBlocked).
//
// Nothing in kernel/fs blocks: a call that would wait (a read of an empty
// pipe, say) is answered "would block" with the handle and events to wait
// for; the caller waits in the kernel, interruptible, until the server
// says the handle is ready (SysFileNotify), and then makes its call again
// (restartCall), with the progress of a partial write kept. The wait for
// the server's answer itself is not interruptible, as Linux's calls on
// tmpfs are not: the server never blocks, and the answer comes.

package kernel

import (
	"unsafe"

	"hurdvm/mm"
	"hurdvm/paging"
)

// The file server's system calls (hurdvm's own numbers).
const (
	sysFileNext   = 0x48560040 // a0 *fileRequestView: wait for a request; returns its slot
	sysFileCopy   = 0x48560041 // a0 slot, a1 copyFromCaller..., a2 caller's address, a3 server's buffer, a4 n: bytes copied
	sysFileString = 0x48560042 // a0 slot, a1 caller's address, a2 buffer, a3 its size: length, or -errno
	sysFileDone   = 0x48560043 // a0 slot, a1 *fileAnswer: 0, or -EMFILE (the server closes the handles)
	sysFileNotify = 0x48560044 // a0 handle, a1 events
	sysFileExport = 0x48560045 // a0 buffer, a1 n: onto COM2
	sysFileUp     = 0x48560046 // the server is serving
)

// SysFileCopy's directions; copyProbeCaller copies nothing and counts the
// bytes that could be copied to the caller.
const (
	copyFromCaller = iota
	copyToCaller
	copyProbeCaller
)

// Handles the kernel puts in a request for a descriptor argument that is
// not a server file.
const (
	handleNone      = -1   // no descriptor argument
	handleCWD       = -100 // AT_FDCWD (fs.AtCWD)
	handleNotServer = -2   // a descriptor of the kernel's own (console, eventfd, epoll)
	handleBad       = -3   // no such descriptor
)

type requestState uint8

const (
	reqFree requestState = iota
	reqPosted
	reqTaken
	reqDone
)

const maxFileRequests = 64

// fileRequestView is what the server learns of a request.
type fileRequestView struct {
	Nr      uint64
	Args    [6]uint64
	Handles [2]int32 // the descriptor arguments translated (first: args[0] or dirfd)
	Slot    int32
	Umask   uint32 // the process's umask (fileUmask)
	// Cwd is the caller's working directory: a handle of the server's
	// (a process's own, progState.cwd), or 0, the server's own (the
	// kernel program's, where a process starts).
	Cwd int32
	// Prog is the caller's program: 0 the kernel's, whose chdir moves
	// the server's own directory; a process's gets a handle (NewCwd).
	Prog int32
}

// fileAnswer is the server's answer.
type fileAnswer struct {
	Result     int64    // the call's result: a count, 0, or -errno
	Handles    [2]int32 // handles to give descriptors (open: one, pipe: two)
	NHandles   int32
	Flags      uint32 // the new descriptors' O_CLOEXEC, O_NONBLOCK; answerPollable
	Block      int32  // 1: would block: wait for WaitEvents on WaitHandle, then call again
	WaitHandle int32
	WaitEvents uint32
	Signal     uint32    // a signal for the caller (SIGPIPE)
	Progress   uint64    // bytes a write did before it would block
	Ready      [2]uint32 // the new handles' events now (pipes: epoll's starting state)
	// NewCwd is a process's new working directory (chdir, fchdir): a
	// handle its program keeps (progState.cwd) until it moves again or
	// ends.
	NewCwd int32
}

// answerPollable in fileAnswer.Flags: the new handles' files can be
// watched by epoll (pipes); others are EPERM to epoll_ctl.
const answerPollable = 1 << 31

type fileRequest struct {
	state  requestState
	view   fileRequestView
	thread int32 // the caller's slot
	tid    int32
	space  int32
	// proc is the caller's program (thread.proc: 0 the kernel's, i+1
	// process i's). A process's addresses are its task window's alone
	// (procRange), for the server's copies as for its own calls.
	proc int32
	// gone: the caller's process ended while the server held the
	// request; its space is destroyed (and may be another's by now), so
	// the server's copies copy nothing.
	gone   bool
	answer fileAnswer
	fds    [2]int32 // the descriptors the answer installed
}

var (
	fileRequests [maxFileRequests]fileRequest
	// fileServer is the server's thread while it waits for a request
	// (-1: not waiting); fileServerUp says it serves at all.
	fileServerThread int32 = -1
	fileServerUp     bool
	// fileServerWorking: the server took something (a request, a
	// release) and has not come back for more yet.
	fileServerWorking bool
)

// fileCall posts the current thread's system call to the file server and
// blocks the thread until the answer. h0 and h1 are its descriptor
// arguments translated (serverHandle).
func fileCall(nr uint64, args [6]uint64, h0, h1 int32) uint64 {
	slot := int32(-1)
	for i := range fileRequests {
		if fileRequests[i].state == reqFree {
			slot = int32(i)
			break
		}
	}
	t := thr(current())
	if slot < 0 {
		// Every slot taken (64 calls at once): wait for one and call
		// again.
		block(waitFileSlot, 0)
		return 0
	}
	r := &fileRequests[slot]
	*r = fileRequest{state: reqPosted, thread: current(), tid: t.tid, space: t.space, proc: t.proc}
	r.view = fileRequestView{Nr: nr, Args: args, Handles: [2]int32{h0, h1}, Slot: slot, Umask: fileUmask, Cwd: callerCwd(t), Prog: t.proc}
	t.waitReq = slot
	block(waitFile, 0)
	wakeFileServer()
	return 0
}

// callerCwd is thread t's working directory for a file request: its
// program's, or, for the exec server, that of the process whose execve it
// loads (execCwd), so that a relative program path is the process's.
func callerCwd(t *thread) int32 {
	if t.proc == 0 && current() == execServerSlot {
		return execCwd
	}
	return progOf(t).cwd
}

// setCwd makes handle h program pg's working directory (chdir, fchdir),
// the old one's handle released.
func setCwd(pg *progState, h int32) {
	if old := pg.cwd; old != 0 {
		fileRelease(old)
	}
	pg.cwd = h
}

// fileSlotFree reports whether a request slot is free (fileCall will not
// have to wait for one).
func fileSlotFree() bool {
	for i := range fileRequests {
		if fileRequests[i].state == reqFree {
			return true
		}
	}
	return false
}

// wakeFileServer wakes the server if it waits for a request.
func wakeFileServer() {
	if s := fileServerThread; s >= 0 && thr(s).state == threadBlocked && thr(s).wait == waitFileServer {
		wake(s, wokenByEvent)
	}
}

// serverHandle translates descriptor fd for a request.
func serverHandle(fd int32) int32 {
	if fd == atFDCWD {
		return handleCWD
	}
	f := fdFile(fd)
	switch {
	case f == nil:
		return handleBad
	case f.kind != fileServer:
		return handleNotServer
	}
	return f.handle
}

// fileResume finishes a file call when its thread runs again.
func fileResume(t *thread) uint64 {
	r := &fileRequests[t.waitReq&(maxFileRequests-1)]
	a := r.answer
	r.state = reqFree
	wakeFileSlotWaiters()
	if a.Signal != 0 {
		sendToThread(current(), a.Signal)
	}
	res := uint64(a.Result)
	if (r.view.Nr == sysPipe || r.view.Nr == sysPipe2) && a.Result == 0 {
		fds := [2]int32{r.fds[0], r.fds[1]}
		if !copyOut(r.view.Args[0], bytesOf(&fds)) {
			closeFD(fds[0])
			closeFD(fds[1])
			res = errno(eFAULT)
		}
	}
	if t.fileProgress > 0 && int64(res) >= 0 {
		res += t.fileProgress
	}
	t.fileProgress = 0
	return res
}

// fileProgressOr is the progress of a partial write, if any, else r.
func (t *thread) fileProgressOr(r uint64) uint64 {
	if p := t.fileProgress; p > 0 {
		t.fileProgress = 0
		return p
	}
	return r
}

// fileReadyResume is the end of a wait for a ready handle: the call again.
// For a signal, as Linux's pipes: the bytes written so far if any, else
// the call again after the handler if its action says SA_RESTART, else
// EINTR.
func fileReadyResume(t *thread, tf *TrapFrame) uint64 {
	if t.woken == wokenBySignal && (t.fileProgress > 0 || !restartsAfterSignal(t)) {
		return t.fileProgressOr(errno(eINTR))
	}
	return restartCall(tf)
}

// wakeFileSlotWaiters wakes the threads waiting for a free request slot.
func wakeFileSlotWaiters() {
	for i := int32(1); i < threadHigh; i++ {
		if t := thr(i); t.state == threadBlocked && t.wait == waitFileSlot {
			wake(i, wokenByEvent)
		}
	}
}

// fileServerCall serves the server's own system calls.
func fileServerCall(nr, a0, a1, a2, a3, a4 uint64) uint64 {
	switch nr {
	case sysFileUp:
		fileServerUp = true
		return 0
	case sysFileNext:
		return fileNext(a0)
	case sysFileCopy:
		r := requestOf(a0)
		if r == nil {
			return errno(eINVAL)
		}
		if a1 > copyProbeCaller {
			return errno(eINVAL)
		}
		if r.gone {
			return 0
		}
		return spaceCopy(&spaces[r.space], a2, a3, a4, a1, r.proc != 0)
	case sysFileString:
		r := requestOf(a0)
		if r == nil {
			return errno(eINVAL)
		}
		if r.gone {
			return errno(eFAULT)
		}
		return spaceString(&spaces[r.space], a1, a2, a3, r.proc != 0)
	case sysFileDone:
		return fileDone(a0, a1)
	case sysFileNotify:
		fileHandleReady(int32(a0), uint32(a1))
		return 0
	case sysFileExport:
		return com2Write(a0, a1)
	}
	return errno(eINVAL)
}

// requestOf is the taken request in slot, or nil.
func requestOf(slot uint64) *fileRequest {
	if slot >= maxFileRequests || fileRequests[slot].state != reqTaken {
		return nil
	}
	return &fileRequests[slot]
}

// fileNext gives the server the oldest posted request, or blocks it until
// one comes (the call is then made again).
func fileNext(view uint64) uint64 {
	if fileNoticeHead != fileNoticeTail {
		n := &fileNotices[fileNoticeHead%uint32(len(fileNotices))]
		v := fileRequestView{Nr: n.op, Handles: n.handles, Slot: -1, Umask: fileUmask}
		v.Args[0] = uint64(n.flags)
		if !copyOut(view, bytesOf(&v)) {
			return errno(eFAULT)
		}
		fileNoticeHead++
		fileServerWorking = true
		return 0
	}
	for i := range fileRequests {
		r := &fileRequests[i]
		if r.state != reqPosted {
			continue
		}
		if !copyOut(view, bytesOf(&r.view)) {
			return errno(eFAULT)
		}
		r.state = reqTaken
		fileServerWorking = true
		return uint64(i)
	}
	fileServerWorking = false
	// Nothing to do: the server is idle, which an exiting program waits
	// for (its last files must reach the host).
	for i := int32(1); i < threadHigh; i++ {
		if t := thr(i); t.state == threadBlocked && t.wait == waitFileDrain {
			wake(i, wokenByEvent)
		}
	}
	fileServerThread = current()
	block(waitFileServer, 0)
	return 0
}

// The notices' pseudo calls: fileOpRelease, Handles[0] has no descriptor
// left; fileOpPipe, make a pipe with ends Handles[0] and Handles[1], and
// Args[0] its O_NONBLOCK; fileOpDup (procfork.go), Handles[0] has
// descriptors in one more program. No one waits for an answer.
const (
	fileOpRelease = 1 << 32
	fileOpPipe    = 1<<32 + 1
)

// fileServerBusy reports whether the server has work: requests, releases.
func fileServerBusy() bool {
	if !fileServerUp {
		return false
	}
	if fileNoticeHead != fileNoticeTail {
		return true
	}
	for i := range fileRequests {
		if s := fileRequests[i].state; s == reqPosted || s == reqTaken {
			return true
		}
	}
	return fileServerWorking
}

// fileDrainLimit bounds how long exit_group waits for the file server: a
// program that crashed stops the runtime's other goroutines, the server's
// too, and must still end.
const fileDrainLimit = 5e9 // ns

// fileDrainDeadline is when an exiting program stops waiting (0: not
// exiting yet).
var fileDrainDeadline int64

// exitWaitsForFiles reports whether exit_group is to wait (blocked with
// waitFileDrain) for the server to finish what it has: the program's last
// files must reach the host. Past fileDrainLimit it says so on the console
// and lets the program end.
func exitWaitsForFiles() bool {
	if !fileServerBusy() {
		return false
	}
	now := nanotime()
	if fileDrainDeadline == 0 {
		fileDrainDeadline = now + fileDrainLimit
	}
	if now >= fileDrainDeadline {
		kprint("hurdvm: the file server did not finish within 5 s of exit; files it was sending to the host may be missing\n")
		return false
	}
	block(waitFileDrain, fileDrainDeadline)
	return true
}

// fileDone takes the server's answer to a request, installs the
// descriptors it makes, and wakes the caller.
func fileDone(slot, answer uint64) uint64 {
	r := requestOf(slot)
	if r == nil {
		return errno(eINVAL)
	}
	if !copyIn(bytesOf(&r.answer), answer) {
		return errno(eFAULT)
	}
	a := &r.answer
	i := r.thread
	t := thr(i)
	gone := t.tid != r.tid || t.state != threadBlocked || t.wait != waitFile
	if a.NewCwd > 0 {
		if gone || r.gone || r.proc == 0 {
			fileRelease(a.NewCwd) // its process ended meanwhile
		} else {
			setCwd(progIndex(r.proc), a.NewCwd)
		}
	}
	if a.Block == 0 && a.Result >= 0 && a.NHandles > 0 {
		if gone {
			// No one to give descriptors to (its process ended): the
			// server closes the handles, then answers again.
			return errno(eSRCH)
		}
		pg := progOf(t) // the caller's table, not the server's
		n := min(a.NHandles, 2)
		for i := int32(0); i < n; i++ {
			fd := newServerFile(pg, a.Handles[i], a.Flags, a.Ready[i])
			if int64(fd) < 0 {
				for j := int32(0); j < i; j++ {
					fdDrop(pg, r.fds[j]) // the server closes every handle
				}
				return fd // -EMFILE: the server closes the handles, then answers again
			}
			r.fds[i] = int32(fd)
		}
		if r.view.Nr != sysPipe && r.view.Nr != sysPipe2 {
			a.Result = int64(r.fds[0])
		}
	}
	if gone {
		r.state = reqFree // the caller is gone
		return 0
	}
	if a.Block != 0 {
		// The caller waits, interruptibly, until the handle is ready, and
		// then makes its call again past what it did already.
		r.state = reqFree
		wakeFileSlotWaiters()
		t.fileProgress += a.Progress
		if a.Progress > 0 {
			t.frame.RSI += a.Progress // write(fd, buf, count): the rest of buf
			t.frame.RDX -= a.Progress
		}
		t.waitHandle, t.waitBits = a.WaitHandle, a.WaitEvents
		t.wait = waitFileReady
		if nextSignal(t) != 0 {
			// A signal came while it waited for this answer, which
			// interrupt lets pass (waitFile is not interruptible): the
			// interruptible wait ends at once, or nothing would end it
			// until the handle is ready.
			wake(i, wokenBySignal)
		}
		return 0
	}
	r.state = reqDone
	wake(i, wokenByEvent)
	return 0
}

// newServerFile makes an open file and a descriptor for a server handle
// in program pg's table.
func newServerFile(pg *progState, h int32, flags, ready uint32) uint64 {
	fd := newFileIn(pg, fileServer, uint64(flags))
	if int64(fd) >= 0 {
		f := &pg.files[pg.fds[fd].file-1]
		f.handle, f.ready = h, ready
		f.pollable = flags&answerPollable != 0
	}
	return fd
}

// fdDrop takes descriptor fd of program pg back without asking the
// server anything.
func fdDrop(pg *progState, fd int32) {
	if fd < 0 || fd >= maxFDs || pg.fds[fd].file == 0 {
		return
	}
	f := &pg.files[pg.fds[fd].file-1]
	pg.fds[fd] = fdEntry{}
	if f.refs--; f.refs == 0 {
		*f = openFile{}
	}
}

// fileHandleReady records that the server's handle h may be ready now
// (events ev): epoll learns it, in every program with a descriptor for it
// (the kernel's and the processes': one file system serves them all, and
// a pipe's ends may be in two), and the threads waiting for h to do
// something of ev are woken to call again.
func fileHandleReady(h int32, ev uint32) {
	for prog := int32(0); prog <= maxProcs; prog++ {
		if prog > 0 && procs[prog-1].state != procRunning {
			continue
		}
		pg := progIndex(prog)
		for i := range pg.files {
			if f := &pg.files[i]; f.kind == fileServer && f.handle == h {
				f.ready = ev
				fileNotifyIn(prog, f, ev)
			}
		}
	}
	for i := int32(1); i < threadHigh; i++ {
		if t := thr(i); t.state == threadBlocked && t.wait == waitFileReady && t.waitHandle == h && t.waitBits&ev != 0 {
			wake(i, wokenByEvent)
		}
	}
}

// Notices tell the server what needs no answer: a handle released (its
// last descriptor closed), a pipe the kernel made. They go through a ring
// the server drains before it takes any request, so a request on a handle
// finds every notice about it done.
type fileNotice struct {
	op      uint64 // fileOpRelease, fileOpPipe
	handles [2]int32
	flags   uint32 // fileOpPipe: pipe2's O_NONBLOCK
}

var (
	fileNotices                    [4096]fileNotice
	fileNoticeHead, fileNoticeTail uint32
	// fileNoticesLost counts releases the full ring could not take (the
	// server far behind): their handles stay open in the server.
	fileNoticesLost uint64
)

// fileNoticeRoom reports whether the ring takes n more notices.
func fileNoticeRoom(n uint32) bool {
	return fileNoticeTail-fileNoticeHead+n <= uint32(len(fileNotices))
}

// postNotice queues n for the server and wakes it.
func postNotice(n fileNotice) {
	if !fileNoticeRoom(1) {
		fileNoticesLost++
		return
	}
	fileNotices[fileNoticeTail%uint32(len(fileNotices))] = n
	fileNoticeTail++
	wakeFileServer()
}

// fileRelease tells the server that handle h has no descriptor left.
func fileRelease(h int32) { postNotice(fileNotice{op: fileOpRelease, handles: [2]int32{h, -1}}) }

// fileUmask is the process's umask: the kernel's, so that umask(2) needs
// no answer from the server (Go makes it, like pipe2, without giving up
// its P: a call that waited for the server goroutine could wait for ever
// with one P); every request carries it.
var fileUmask uint32 = 0o022

// nextPipeHandle is the number the next pipe the kernel makes gets for
// its read end (fs.ChosenHandles up, wrapping there).
var nextPipeHandle int32 = fileChosenHandles

// fileChosenHandles is fs.ChosenHandles: handle numbers the kernel picks.
const fileChosenHandles = 1 << 30

// pipeCall is pipe and pipe2, answered at once: the kernel picks the
// ends' handle numbers, gives the program its descriptors, and tells the
// server to make the pipe (a notice). Go's syscall.Pipe2 is a raw call,
// made without giving up the caller's P: waiting for the server goroutine
// there would hang a program with one P. Linux's order of errors: the
// flags, the descriptors, then the copy-out.
func pipeCall(nr uint64, fdsAddr, flags uint64) uint64 {
	if nr == sysPipe {
		flags = 0
	}
	if flags&^(oCloexec|oNonblock) != 0 {
		return errno(eINVAL) // O_DIRECT too: hurdvm's pipes have no packet mode
	}
	if !fileServerUp || !fileNoticeRoom(1) {
		return errno(eNFILE)
	}
	if freeFDs() < 2 {
		return errno(eMFILE)
	}
	r, w := nextPipeHandle, nextPipeHandle+1
	if nextPipeHandle += 2; nextPipeHandle < fileChosenHandles {
		nextPipeHandle = fileChosenHandles // wrapped past int32
	}
	pg := curProg()
	fds := [2]int32{
		int32(newServerFile(pg, r, uint32(flags)|answerPollable, 0)),
		int32(newServerFile(pg, w, uint32(flags)|answerPollable, epollOut|epollWrNorm)),
	}
	if !copyOut(fdsAddr, bytesOf(&fds)) {
		fdDrop(pg, fds[0])
		fdDrop(pg, fds[1])
		return errno(eFAULT)
	}
	postNotice(fileNotice{op: fileOpPipe, handles: [2]int32{r, w}, flags: uint32(flags & oNonblock)})
	return 0
}

// spaceCopy copies n bytes between the server's buffer buf (in the
// current address space) and address va of address space as, which may be
// another (the caller of a file call, in a task): page by page through the
// physmap, the VM faulting a page in where the caller's access would. It
// returns the bytes copied (dir copyProbeCaller: that could be copied to
// the caller), up to the first that cannot be. A process's memory (proc)
// is its task window alone, as for its own calls (procRange): the server
// runs in the kernel's program, whose userRange would also let it reach
// the kernel's image and heap, the same in every space.
func spaceCopy(as *mm.AddressSpace, va, buf, n, dir uint64, proc bool) uint64 {
	out := dir != copyFromCaller
	done := uint64(0)
	for done < n {
		a := va + done
		k := min(n-done, pageSize-a%pageSize)
		if proc && !procRange(a, k) || !proc && !userRange(a, k, out) {
			break // a process's memory is its window; the kernel program's, userRange's
		}
		// The frame is copied under the lock of the space it is in, so
		// that no other CPU frees it meanwhile (a fault on the server's
		// buffer nests: the lock is recursive).
		owner := as
		if !inPrivateHalf(a) {
			owner = &spaces[kernelSpace]
		}
		lockSpace(owner)
		pa, ok := spaceFrame(as, a, out)
		if !ok {
			unlockSpace(owner)
			break
		}
		if dir != copyProbeCaller {
			user := unsafe.Slice((*byte)(at(physmapBase+pa)), k)
			server := unsafe.Slice((*byte)(at(buf+done)), k)
			if out {
				copy(user, server)
			} else {
				copy(server, user)
			}
		}
		unlockSpace(owner)
		done += k
	}
	return done
}

// spaceFrame is the physical address behind va in address space as (or,
// for the shared windows and the image, the kernel's), made present (and
// writable, for a write) as a fault would.
func spaceFrame(as *mm.AddressSpace, va uint64, write bool) (uint64, bool) {
	if !inPrivateHalf(va) {
		as = &spaces[kernelSpace] // the image and the heap window: the same in every space
	}
	acc := mm.AccessRead
	if write {
		acc = mm.AccessWrite
	}
	// Under as's lock (recursive: the caller may hold it), so that the
	// page cannot go while the frame is looked up and faulted in.
	lockSpace(as)
	defer unlockSpace(as)
	for try := 0; try < 2; try++ {
		pa, flags, _, ok := as.PT.Translate(uintptr(va))
		if ok && (!write || flags&paging.Writable != 0) {
			return pa, true
		}
		if try == 0 && as.Fault(uintptr(va&^(pageSize-1)), acc) != mm.FaultResolved {
			return 0, false
		}
	}
	return 0, false
}

// spaceString copies the NUL-terminated string at va in address space as
// into the server's buffer (size bytes) and returns its length; EFAULT if
// it cannot be read, ENAMETOOLONG if no NUL comes within size. proc: as
// spaceCopy's.
func spaceString(as *mm.AddressSpace, va, buf, size uint64, proc bool) uint64 {
	for done := uint64(0); done < size; {
		k := min(size-done, pageSize-(va+done)%pageSize)
		got := spaceCopy(as, va+done, buf+done, k, copyFromCaller, proc)
		b := unsafe.Slice((*byte)(at(buf+done)), got)
		for i, c := range b {
			if c == 0 {
				return done + uint64(i)
			}
		}
		if got < k {
			return errno(eFAULT)
		}
		done += k
	}
	return errno(eNAMETOOLONG)
}

// com2 is the second serial port: files the program leaves in
// /tmp/hurdvm-export go back to the host on it (qemuexec reads them).
const com2 = 0x2f8

// com2Write writes n bytes of the server's buffer to COM2, waiting for the
// UART where it must (QEMU's takes every byte at once).
func com2Write(buf, n uint64) uint64 {
	for _, c := range unsafe.Slice((*byte)(at(buf)), n) {
		for i := 0; i < 100000 && inb(com2+5)&0x20 == 0; i++ {
		}
		outb(com2, c)
	}
	return n
}
