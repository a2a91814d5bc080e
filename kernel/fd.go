//go:build hurdvm

// File descriptors: the console (0, 1, 2) and what the runtime's netpoller
// makes: epoll instances and eventfds. Handler context.
//
// Readiness reaches epoll in two ways, as in Linux: level-triggered
// registrations are asked the descriptor's state (fdReady) at every wait;
// edge-triggered ones (EPOLLET, which the Go runtime uses for every
// descriptor) report the events that happened since they were last
// reported (fdNotify records them), once.

package kernel

type fdKind uint8

const (
	fdFree fdKind = iota
	fdConsole
	fdEpoll
	fdEventFD
)

// Flags of open descriptions and descriptors, Linux's values.
const (
	oNonblock = 0x800   // O_NONBLOCK, EFD_NONBLOCK
	oCloexec  = 0x80000 // O_CLOEXEC, EFD_CLOEXEC, EPOLL_CLOEXEC
	efdSema   = 1       // EFD_SEMAPHORE

	fdCloexec = 1 // FD_CLOEXEC, in F_GETFD/F_SETFD
)

type file struct {
	kind    fdKind
	flags   uint32 // oNonblock
	cloexec bool
	sema    bool   // eventfd with EFD_SEMAPHORE
	count   uint64 // eventfd counter
}

const maxFDs = 256

var fds [maxFDs]file

// consoleFDs opens 0, 1 and 2 on the console, as a program finds them.
func consoleFDs() {
	for i := 0; i < 3; i++ {
		fds[i] = file{kind: fdConsole}
	}
}

func newFD(kind fdKind, flags uint64) uint64 {
	for i := range fds {
		if fds[i].kind == fdFree {
			fds[i] = file{kind: kind, flags: uint32(flags & oNonblock), cloexec: flags&oCloexec != 0}
			return uint64(i)
		}
	}
	return errno(eMFILE)
}

func fdLookup(fd int32) *file {
	if fd < 0 || int(fd) >= len(fds) || fds[fd].kind == fdFree {
		return nil
	}
	return &fds[fd]
}

func closeFD(fd int32) uint64 {
	f := fdLookup(fd)
	if f == nil {
		return errno(eBADF)
	}
	epollForget(fd)
	*f = file{}
	return 0
}

// Event bits (epoll_event.events).
const (
	epollIn      = 0x1
	epollOut     = 0x4
	epollErr     = 0x8
	epollHup     = 0x10
	epollRdHup   = 0x2000
	epollOneshot = 1 << 30
	epollET      = 1 << 31
)

// fdReady is the events descriptor f could report now.
func fdReady(fd int32, f *file) uint32 {
	switch f.kind {
	case fdConsole:
		return epollOut
	case fdEventFD:
		ev := uint32(0)
		if f.count > 0 {
			ev |= epollIn
		}
		if f.count < eventfdMax {
			ev |= epollOut
		}
		return ev
	case fdEpoll:
		if epollAnyReady(fd) {
			return epollIn
		}
	}
	return 0
}

// ---- read, write, fcntl ----

func sysWriteFD(tf *TrapFrame, fd int32, buf, n uint64) uint64 {
	f := fdLookup(fd)
	if f == nil {
		return errno(eBADF)
	}
	switch f.kind {
	case fdConsole:
		return consoleWriteCall(tf, buf, n)
	case fdEventFD:
		return eventfdWrite(fd, f, buf, n)
	}
	return errno(eINVAL)
}

func sysReadFD(fd int32, buf, n uint64) uint64 {
	f := fdLookup(fd)
	if f == nil {
		return errno(eBADF)
	}
	switch f.kind {
	case fdConsole:
		return 0 // no console input: end of file
	case fdEventFD:
		return eventfdRead(fd, f, buf, n)
	}
	return errno(eINVAL)
}

// sysPreadFD: nothing open here can be read at an offset.
func sysPreadFD(fd int32) uint64 {
	if fdLookup(fd) == nil {
		return errno(eBADF)
	}
	return errno(eSPIPE)
}

const (
	fGetfd = 1
	fSetfd = 2
	fGetfl = 3
	fSetfl = 4
)

func sysFcntlFD(fd int32, cmd, arg uint64) uint64 {
	f := fdLookup(fd)
	if f == nil {
		return errno(eBADF)
	}
	switch cmd {
	case fGetfd:
		if f.cloexec {
			return fdCloexec
		}
		return 0
	case fSetfd:
		f.cloexec = arg&fdCloexec != 0
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
	r := newFD(fdEventFD, flags)
	if int64(r) >= 0 {
		fds[r].count = initval
		fds[r].sema = flags&efdSema != 0
	}
	return r
}

// eventfdWrite adds the 8-byte value at buf to the counter. A write that
// would pass eventfdMax waits in Linux; the runtime's eventfds are
// non-blocking, and hurdvm answers EAGAIN to blocking ones as well.
func eventfdWrite(fd int32, f *file, buf, n uint64) uint64 {
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
		fdNotify(fd, epollIn)
	}
	return 8
}

// eventfdRead hands the counter over (or 1 of it with EFD_SEMAPHORE) and
// resets it. An empty counter is EAGAIN (a blocking read would wait in
// Linux; hurdvm's programs only read after epoll said it is ready).
func eventfdRead(fd int32, f *file, buf, n uint64) uint64 {
	if n < 8 {
		return errno(eINVAL)
	}
	if f.count == 0 {
		return errno(eAGAIN)
	}
	v := f.count
	if f.sema {
		v = 1
	}
	if !writeUser64(buf, v) {
		return errno(eFAULT)
	}
	f.count -= v
	fdNotify(fd, epollOut)
	return 8
}
