//go:build hurdvm

// File descriptors: the console (0, 1, 2) and what the runtime's netpoller
// makes: one epoll instance and eventfds. That is all a program without a
// file system or network needs. Handler context.

package kernel

type fdKind uint8

const (
	fdFree fdKind = iota
	fdEpoll
	fdEventFD
)

const maxEpollInterest = 16

type epollInterest struct {
	fd     int32
	events uint32
	data   uint64
}

type file struct {
	kind     fdKind
	count    uint64 // eventfd counter
	interest [maxEpollInterest]epollInterest
	nint     int
}

var fds [64]file

const firstFD = 3

func newFD(kind fdKind) uint64 {
	for i := firstFD; i < len(fds); i++ {
		if fds[i].kind == fdFree {
			fds[i] = file{kind: kind}
			return uint64(i)
		}
	}
	return errno(24) // EMFILE
}

func fdLookup(fd int) *file {
	if fd < firstFD || fd >= len(fds) || fds[fd].kind == fdFree {
		return nil
	}
	return &fds[fd]
}

func closeFD(fd int) uint64 {
	if fd <= 2 {
		return 0
	}
	f := fdLookup(fd)
	if f == nil {
		return errno(eBADF)
	}
	f.kind = fdFree
	return 0
}

func newEventFD(initval uint64) uint64 {
	r := newFD(fdEventFD)
	if int64(r) >= 0 {
		fds[r].count = initval
	}
	return r
}

const (
	epollIn     = 0x1
	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3
)

func epollCtl(epfd, op, fd int, ev uint64) uint64 {
	ep := fdLookup(epfd)
	if ep == nil || ep.kind != fdEpoll {
		return errno(eBADF)
	}
	if fdLookup(fd) == nil && fd > 2 {
		return errno(eBADF)
	}
	var events uint32
	var data uint64
	if op != epollCtlDel {
		if !touchUser(ev, 12, false) {
			return errno(eFAULT)
		}
		events = *(*uint32)(at(ev))
		data = *(*uint64)(at(ev + 4))
	}
	for i := 0; i < ep.nint; i++ {
		if ep.interest[i].fd == int32(fd) {
			switch op {
			case epollCtlAdd:
				return errno(17) // EEXIST
			case epollCtlMod:
				ep.interest[i].events, ep.interest[i].data = events, data
			case epollCtlDel:
				ep.nint--
				ep.interest[i] = ep.interest[ep.nint]
			}
			return 0
		}
	}
	if op != epollCtlAdd {
		return errno(eNOENT)
	}
	if ep.nint == maxEpollInterest {
		return errno(eNOMEM)
	}
	ep.interest[ep.nint] = epollInterest{fd: int32(fd), events: events, data: data}
	ep.nint++
	return 0
}

// epollReady writes up to max ready events (struct epoll_event, packed:
// 4 bytes of events and 8 of data) to buf and returns how many.
func epollReady(ep *file, buf uint64, max int) int {
	n := 0
	for i := 0; i < ep.nint && n < max; i++ {
		in := &ep.interest[i]
		f := fdLookup(int(in.fd))
		if f == nil || f.kind != fdEventFD || f.count == 0 || in.events&epollIn == 0 {
			continue
		}
		p := buf + uint64(n)*12
		*(*uint32)(at(p)) = epollIn
		*(*uint64)(at(p + 4)) = in.data
		n++
	}
	return n
}

func epollWait(epfd int, buf uint64, max, timeoutMs int) uint64 {
	ep := fdLookup(epfd)
	if ep == nil || ep.kind != fdEpoll {
		return errno(eBADF)
	}
	if max <= 0 {
		return errno(eINVAL)
	}
	if !touchUser(buf, uint64(max)*12, true) {
		return errno(eFAULT)
	}
	if n := epollReady(ep, buf, max); n > 0 || timeoutMs == 0 {
		return uint64(n)
	}
	deadline := int64(0)
	if timeoutMs > 0 {
		deadline = nanotime() + int64(timeoutMs)*1_000_000
	}
	block(waitEpoll, buf, deadline, 0)
	t := &threads[current]
	t.waitLen = uint64(max)<<32 | uint64(epfd)
	return 0
}

// eventfdWrite adds to the counter and wakes the threads waiting in
// epoll_pwait on an epoll set that watches it.
func eventfdWrite(f *file, v uint64) {
	f.count += v
	for i := int32(1); i < threadHigh; i++ {
		t := &threads[i]
		if t.state != threadBlocked || t.wait != waitEpoll {
			continue
		}
		ep := fdLookup(int(uint32(t.waitLen)))
		if ep == nil {
			continue
		}
		if n := epollReady(ep, t.waitAddr, int(t.waitLen>>32)); n > 0 {
			wake(i, uint64(n))
		}
	}
}
