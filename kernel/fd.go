//go:build hurdvm

// File descriptors and the files they name: the console (0, 1, 2) and what
// the runtime's netpoller makes, epoll instances and eventfds. Handler
// context.
//
// As in Linux, a descriptor (fds) names an open file (files): dup and
// fcntl(F_DUPFD) make descriptors that share one open file, its flags and
// its state; the descriptor alone has FD_CLOEXEC. An open file goes when
// its last descriptor closes.
//
// Readiness reaches epoll in two ways, as in Linux: level-triggered
// registrations are asked the file's state (fileReady) at every wait;
// edge-triggered ones (EPOLLET, which the Go runtime uses for every
// descriptor) report the events that happened since they were last
// reported (fdNotify records them), once.

package kernel

type fileKind uint8

const (
	fileFree fileKind = iota
	fileConsole
	fileEpoll
	fileEventFD
	fileServer // a file of the file server (filecall.go): handle names it there
	filePidfd  // a process's pidfd (pidfd.go): count is its pid
)

// Flags of open files and descriptors, Linux's values.
const (
	oNonblock = 0x800   // O_NONBLOCK, EFD_NONBLOCK
	oCloexec  = 0x80000 // O_CLOEXEC, EFD_CLOEXEC, EPOLL_CLOEXEC
	efdSema   = 1       // EFD_SEMAPHORE

	fdCloexec = 1 // FD_CLOEXEC, in F_GETFD/F_SETFD
)

// openFile is an open file description.
type openFile struct {
	kind  fileKind
	refs  int32  // descriptors naming it
	flags uint32 // oNonblock
	sema  bool   // eventfd with EFD_SEMAPHORE
	count uint64 // eventfd counter

	handle   int32  // fileServer: the server's handle
	ready    uint32 // fileServer: its events, as the server last said
	pollable bool   // fileServer: epoll may watch it (a pipe)
}

// fdEntry is a descriptor: the open file it names (index+1; 0: free).
type fdEntry struct {
	file    int32
	cloexec bool
}

const (
	maxFDs   = 256
	maxFiles = maxFDs
)

// A program's descriptors and open files are its progState's (fds,
// files): the kernel's own program's, or a process's (process.go).

// consoleFDs opens 0, 1 and 2 on the console in pg, as a program finds
// them (a process's console is its output: procWrite).
func consoleFDs(pg *progState) {
	pg.files[0] = openFile{kind: fileConsole, refs: 3, flags: 2}
	for i := 0; i < 3; i++ {
		pg.fds[i] = fdEntry{file: 1}
	}
}

// newFile makes an open file and a descriptor for it (the lowest free, as
// Linux): the descriptor, or -EMFILE.
func newFile(kind fileKind, flags uint64) uint64 { return newFileIn(curProg(), kind, flags) }

// newFileIn is newFile in program pg's table (the file server's answers
// install descriptors in their caller's, which may be a process's).
func newFileIn(pg *progState, kind fileKind, flags uint64) uint64 {
	fi := int32(-1)
	for i := range pg.files {
		if pg.files[i].kind == fileFree {
			fi = int32(i)
			break
		}
	}
	fd := lowestFreeFDIn(pg, 0)
	if fi < 0 || fd < 0 {
		return errno(eMFILE)
	}
	pg.files[fi] = openFile{kind: kind, refs: 1, flags: uint32(flags & oNonblock)}
	pg.fds[fd] = fdEntry{file: fi + 1, cloexec: flags&oCloexec != 0}
	return uint64(fd)
}

// freeFDs is how many descriptors newFile can still make.
func freeFDs() int {
	pg := curProg()
	nfd, nfile := 0, 0
	for i := range pg.fds {
		if pg.fds[i].file == 0 {
			nfd++
		}
	}
	for i := range pg.files {
		if pg.files[i].kind == fileFree {
			nfile++
		}
	}
	return min(nfd, nfile)
}

// lowestFreeFD is the lowest free descriptor at or above min, or -1.
func lowestFreeFD(min int32) int32 { return lowestFreeFDIn(curProg(), min) }

func lowestFreeFDIn(pg *progState, min int32) int32 {
	for i := max(min, 0); i < fdLimit(pg); i++ {
		if pg.fds[i].file == 0 {
			return i
		}
	}
	return -1
}

// fdFile is the open file descriptor fd names, or nil.
func fdFile(fd int32) *openFile {
	pg := curProg()
	if fd < 0 || fd >= maxFDs || pg.fds[fd].file == 0 {
		return nil
	}
	return &pg.files[pg.fds[fd].file-1]
}

func closeFD(fd int32) uint64 {
	f := fdFile(fd)
	if f == nil {
		return errno(eBADF)
	}
	epollForget(fd)
	curProg().fds[fd] = fdEntry{}
	if f.refs--; f.refs == 0 {
		switch f.kind {
		case fileEpoll:
			epollForgetInstance(fd)
		case fileServer:
			fileRelease(f.handle)
		}
		*f = openFile{}
	}
	return 0
}

// dupFD makes a new descriptor, the lowest at or above min, for fd's file.
func dupFD(fd, min int32, cloexec bool) uint64 {
	f := fdFile(fd)
	if f == nil {
		return errno(eBADF)
	}
	if min < 0 || min >= fdLimit(curProg()) {
		return errno(eINVAL) // past RLIMIT_NOFILE, as Linux's F_DUPFD
	}
	nfd := lowestFreeFD(min)
	if nfd < 0 {
		return errno(eMFILE)
	}
	pg := curProg()
	pg.fds[nfd] = fdEntry{file: pg.fds[fd].file, cloexec: cloexec}
	f.refs++
	return uint64(nfd)
}

// Event bits (epoll_event.events).
const (
	epollIn        = 0x1
	epollOut       = 0x4
	epollWrNorm    = 0x100
	epollErr       = 0x8
	epollHup       = 0x10
	epollRdHup     = 0x2000
	epollExclusive = 1 << 28
	epollOneshot   = 1 << 30
	epollET        = 1 << 31
)

// fileReady is the events descriptor fd's file could report now.
func fileReady(fd int32, f *openFile) uint32 {
	switch f.kind {
	case fileConsole:
		return epollOut
	case fileEventFD:
		ev := uint32(0)
		if f.count > 0 {
			ev |= epollIn
		}
		if f.count < eventfdMax {
			ev |= epollOut
		}
		return ev
	case fileEpoll:
		if epollAnyReady(fd) {
			return epollIn
		}
	case fileServer:
		return f.ready
	case filePidfd:
		return pidfdReady(f)
	}
	return 0
}

// fileNotify records that events happened on file f: every descriptor
// naming it is notified (fdNotify).
func fileNotify(f *openFile, events uint32) { fileNotifyIn(thr(current()).proc, f, events) }

// fileNotifyIn is fileNotify for a file of program prog (progIndex's
// numbering): the file server's readiness notices reach every program's.
func fileNotifyIn(prog int32, f *openFile, events uint32) {
	pg := progIndex(prog)
	for fd := int32(0); fd < maxFDs; fd++ {
		if e := pg.fds[fd].file; e != 0 && &pg.files[e-1] == f {
			epollNotify(prog, fd, events, epollMaxNests)
		}
	}
}

// ---- read, write, fcntl ----

func sysWriteFD(tf *TrapFrame, fd int32, buf, n uint64) uint64 {
	f := fdFile(fd)
	if f == nil {
		return errno(eBADF)
	}
	switch f.kind {
	case fileConsole:
		return consoleWriteCall(tf, buf, n)
	case fileEventFD:
		return eventfdWrite(f, buf, n)
	}
	return errno(eINVAL)
}

func sysReadFD(fd int32, buf, n uint64) uint64 {
	f := fdFile(fd)
	if f == nil {
		return errno(eBADF)
	}
	switch f.kind {
	case fileConsole:
		return 0 // no console input: end of file
	case fileEventFD:
		return eventfdRead(fd, f, buf, n)
	}
	return errno(eINVAL)
}

// sysPreadFD: nothing open here can be read at an offset. A negative
// offset is EINVAL before anything else, as in Linux.
func sysPreadFD(fd int32, off int64) uint64 {
	if off < 0 {
		return errno(eINVAL)
	}
	if fdFile(fd) == nil {
		return errno(eBADF)
	}
	return errno(eSPIPE)
}

const (
	fDupfd        = 0
	fGetfd        = 1
	fSetfd        = 2
	fGetfl        = 3
	fSetfl        = 4
	fDupfdCloexec = 1030
)

func sysFcntlFD(fd int32, cmd, arg uint64) uint64 {
	f := fdFile(fd)
	if f == nil {
		return errno(eBADF)
	}
	switch cmd {
	case fDupfd, fDupfdCloexec:
		return dupFD(fd, int32(arg), cmd == fDupfdCloexec)
	case fGetfd:
		if curProg().fds[fd].cloexec {
			return fdCloexec
		}
		return 0
	case fSetfd:
		curProg().fds[fd].cloexec = arg&fdCloexec != 0
		return 0
	case fGetfl:
		return uint64(f.flags) | 2 // O_RDWR
	case fSetfl:
		f.flags = f.flags&^oNonblock | uint32(arg&oNonblock)
		return 0
	}
	return errno(eINVAL)
}

// ---- eventfd ----

// eventfdMax is the largest count an eventfd holds.
const eventfdMax = 1<<64 - 2

func eventfdCreate(initval, flags uint64) uint64 {
	if flags&^(oNonblock|oCloexec|efdSema) != 0 || initval > 0xffff_ffff {
		return errno(eINVAL)
	}
	r := newFile(fileEventFD, flags)
	if int64(r) >= 0 {
		f := fdFile(int32(r))
		f.count = initval
		f.sema = flags&efdSema != 0
	}
	return r
}

// eventfdWrite adds the 8-byte value at buf to the counter. A write that
// would pass eventfdMax waits in Linux; the runtime's eventfds are
// non-blocking, and hurdvm answers EAGAIN to blocking ones as well.
func eventfdWrite(f *openFile, buf, n uint64) uint64 {
	if n < 8 {
		return errno(eINVAL)
	}
	v, ok := readUser64(buf)
	if !ok {
		return errno(eFAULT)
	}
	if v == ^uint64(0) {
		return errno(eINVAL)
	}
	if v > eventfdMax-f.count {
		return errno(eAGAIN)
	}
	f.count += v
	if v > 0 {
		fileNotify(f, epollIn)
		eventfdWakeReaders(f)
	}
	return 8
}

// eventfdRead hands the counter over (or 1 of it with EFD_SEMAPHORE) and
// resets it. An empty counter is EAGAIN for a non-blocking eventfd; a
// blocking one waits for a write. As in Linux, the count is consumed
// before it is copied out: a bad buffer loses it (EFAULT).
func eventfdRead(fd int32, f *openFile, buf, n uint64) uint64 {
	if n < 8 {
		return errno(eINVAL)
	}
	if f.count == 0 {
		if f.flags&oNonblock != 0 {
			return errno(eAGAIN)
		}
		t := thr(current())
		t.waitFD, t.waitAddr = fd, buf
		block(waitEventFD, 0)
		return 0
	}
	v := f.count
	if f.sema {
		v = 1
	}
	f.count -= v
	fileNotify(f, epollOut)
	if !writeUser64(buf, v) {
		return errno(eFAULT)
	}
	return 8
}

// eventfdWakeReaders wakes the threads blocked reading file f: their read
// runs again (resumeBlocked), and blocks again if another reader took the
// count first.
func eventfdWakeReaders(f *openFile) {
	me := thr(current()).proc
	for i := int32(1); i < threadHigh; i++ {
		if t := thr(i); t.state == threadBlocked && t.wait == waitEventFD && t.proc == me && fdFile(t.waitFD) == f {
			wake(i, wokenByEvent)
		}
	}
}
