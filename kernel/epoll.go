//go:build hurdvm

// epoll: how the Go runtime's netpoller waits for its descriptors (and for
// its timers, through an eventfd). Handler context.
//
// Registrations live in one table for all epoll instances (epollRegs).
// A waiter that finds nothing ready blocks; a change of a descriptor's
// state (fdNotify) wakes the waiters of every instance that watches it,
// and each collects its events when it runs again (epollResume), in its
// own address space: no event is ever written into a blocked thread's
// memory from elsewhere.

package kernel

const (
	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3

	// epollEventSize is sizeof(struct epoll_event) on x86-64: packed, 4
	// bytes of events and 8 of data.
	epollEventSize = 12
	// epollMaxEvents is Linux's EP_MAX_EVENTS: maxevents above it is
	// EINVAL, so that the buffer's size cannot overflow.
	epollMaxEvents = (1<<31 - 1) / epollEventSize

	maxEpollRegs = 1024
)

type epollReg struct {
	used    bool
	epfd    int32
	fd      int32
	events  uint32 // what was asked, EPOLLET and EPOLLONESHOT included
	data    uint64
	pending uint32 // edge-triggered: events since the last report
}

// A program's registrations are its progState's epollRegs.

func epollCreate(flags uint64) uint64 {
	if flags&^oCloexec != 0 {
		return errno(eINVAL)
	}
	return newFile(fileEpoll, flags)
}

// epollLookup is the epoll instance epfd: EBADF if no descriptor, EINVAL
// if it is not an epoll instance.
func epollLookup(epfd int32) (*openFile, uint64) {
	ep := fdFile(epfd)
	if ep == nil {
		return nil, errno(eBADF)
	}
	if ep.kind != fileEpoll {
		return nil, errno(eINVAL)
	}
	return ep, 0
}

func epollFind(epfd, fd int32) *epollReg {
	pg := curProg()
	for i := range pg.epollRegs {
		if r := &pg.epollRegs[i]; r.used && r.epfd == epfd && r.fd == fd {
			return r
		}
	}
	return nil
}

func epollCtl(epfd int32, op uint64, fd int32, ev uint64) uint64 {
	// As Linux: the event is read first, then the descriptors checked.
	var events uint32
	var data uint64
	if op != epollCtlDel {
		var buf [epollEventSize]byte
		if !copyIn(buf[:], ev) {
			return errno(eFAULT)
		}
		events = uint32(buf[0]) | uint32(buf[1])<<8 | uint32(buf[2])<<16 | uint32(buf[3])<<24
		for i := 11; i >= 4; i-- {
			data = data<<8 | uint64(buf[i])
		}
	}
	ep, f := fdFile(epfd), fdFile(fd)
	if ep == nil || f == nil {
		return errno(eBADF)
	}
	if ep.kind != fileEpoll || fd == epfd || (op != epollCtlAdd && op != epollCtlDel && op != epollCtlMod) {
		return errno(eINVAL)
	}
	if op == epollCtlMod && events&epollExclusive != 0 {
		return errno(eINVAL)
	}
	if f.kind == fileServer && !f.pollable {
		return errno(ePERM) // a regular file or a directory: always ready, as Linux says
	}
	if op != epollCtlDel {
		events |= epollErr | epollHup // always reported, as in Linux
	}
	r := epollFind(epfd, fd)
	switch op {
	case epollCtlAdd:
		if r != nil {
			return errno(eEXIST)
		}
		pg := curProg()
		for i := range pg.epollRegs {
			if !pg.epollRegs[i].used {
				r = &pg.epollRegs[i]
				break
			}
		}
		if r == nil {
			return errno(eNOSPC)
		}
		*r = epollReg{used: true, epfd: epfd, fd: fd}
	case epollCtlDel, epollCtlMod:
		if r == nil {
			return errno(eNOENT)
		}
		if op == epollCtlDel {
			*r = epollReg{}
			return 0
		}
	}
	r.events, r.data = events, data
	// What is ready now is reported once, edge-triggered or not.
	r.pending = fileReady(fd, f) & events
	if r.pending != 0 {
		epollWake(epfd)
	}
	return 0
}

// epollForget drops the registrations of descriptor fd, when it closes.
func epollForget(fd int32) {
	pg := curProg()
	for i := range pg.epollRegs {
		if r := &pg.epollRegs[i]; r.used && r.fd == fd {
			*r = epollReg{}
		}
	}
}

// epollForgetInstance drops every registration of the epoll instance
// epfd named, when its open file goes.
func epollForgetInstance(epfd int32) {
	pg := curProg()
	for i := range pg.epollRegs {
		if r := &pg.epollRegs[i]; r.used && r.epfd == epfd {
			*r = epollReg{}
		}
	}
}

// epollReadyEvents is what registration r would report now.
func epollReadyEvents(r *epollReg) uint32 {
	if r.events&epollET != 0 {
		return r.pending & r.events
	}
	f := fdFile(r.fd)
	if f == nil {
		return 0
	}
	return fileReady(r.fd, f) & r.events
}

// epollAnyReady reports whether instance epfd has an event to report.
func epollAnyReady(epfd int32) bool {
	pg := curProg()
	for i := range pg.epollRegs {
		if r := &pg.epollRegs[i]; r.used && r.epfd == epfd && epollReadyEvents(r) != 0 {
			return true
		}
	}
	return false
}

// epollCollect copies up to max ready events of epfd to the program's buf
// and returns how many, or -1 if buf is bad. A reported edge-triggered
// event is consumed; a one-shot registration is disarmed.
func epollCollect(epfd int32, buf uint64, max int64) int64 {
	pg := curProg()
	n := int64(0)
	for i := range pg.epollRegs {
		if n == max {
			break
		}
		r := &pg.epollRegs[i]
		if !r.used || r.epfd != epfd {
			continue
		}
		ev := epollReadyEvents(r)
		if ev == 0 {
			continue
		}
		var out [epollEventSize]byte
		for k := 0; k < 4; k++ {
			out[k] = byte(ev >> (8 * k))
		}
		for k := 0; k < 8; k++ {
			out[4+k] = byte(r.data >> (8 * k))
		}
		if !copyOut(buf+uint64(n)*epollEventSize, out[:]) {
			return -1
		}
		r.pending &^= ev
		if r.events&epollOneshot != 0 {
			r.events &= epollOneshot | epollET // nothing more until EPOLL_CTL_MOD
		}
		n++
	}
	return n
}

func epollWait(epfd int32, buf uint64, max, timeoutMs int64, sigmask, sigsetsize uint64) uint64 {
	// Linux's order: the signal mask, maxevents, the buffer's address
	// (access_ok alone: a buffer that cannot be written is EFAULT only when
	// an event is copied into it), then the descriptor.
	t := thr(current())
	var mask uint64
	if sigmask != 0 {
		if sigsetsize != 8 {
			return errno(eINVAL)
		}
		m, ok := readUser64(sigmask)
		if !ok {
			return errno(eFAULT)
		}
		mask = m
	}
	if max <= 0 || max > epollMaxEvents {
		return errno(eINVAL)
	}
	if !accessOK(buf, uint64(max)*epollEventSize) {
		return errno(eFAULT)
	}
	if _, e := epollLookup(epfd); e != 0 {
		return e
	}
	n := epollCollect(epfd, buf, max)
	if n < 0 {
		return errno(eFAULT)
	}
	if n > 0 || timeoutMs == 0 {
		return uint64(n)
	}
	deadline := int64(0)
	if timeoutMs > 0 {
		deadline = nanotime() + timeoutMs*1_000_000
	}
	t.waitFD, t.waitAddr, t.waitN = epfd, buf, max
	t.waitMasked = sigmask != 0
	if t.waitMasked {
		// The mask holds while the thread waits (epoll_pwait is atomic
		// in that: a signal it unblocks can end the wait).
		t.waitMask, t.sigMask = t.sigMask, mask&^unblockable
	}
	block(waitEpoll, deadline)
	return 0
}

// epollResume finishes an epoll_pwait when its thread runs again: the
// events ready now, in its own memory.
func epollResume(t *thread) uint64 {
	if t.waitMasked {
		t.sigMask, t.waitMasked = t.waitMask, false
	}
	if t.woken == wokenBySignal {
		return errno(eINTR)
	}
	if _, e := epollLookup(t.waitFD); e != 0 {
		return e // closed while waiting
	}
	n := epollCollect(t.waitFD, t.waitAddr, t.waitN)
	if n < 0 {
		return errno(eFAULT)
	}
	return uint64(n)
}

// fdNotify records that events happened on fd and wakes the waiters of
// every epoll instance that watches it, and of instances watching those,
// epollMaxNests deep (Linux's EP_MAX_NESTS), so a cycle of instances
// cannot recurse for ever.
func fdNotify(fd int32, events uint32) { epollNotify(thr(current()).proc, fd, events, epollMaxNests) }

const epollMaxNests = 4

// epollNotify records events on descriptor fd of program prog (progIndex's
// numbering) for its registrations, and wakes their waiters.
func epollNotify(prog, fd int32, events uint32, depth int) {
	pg := progIndex(prog)
	for i := range pg.epollRegs {
		r := &pg.epollRegs[i]
		if !r.used || r.fd != fd || r.events&events == 0 {
			continue
		}
		r.pending |= events & r.events
		epollWakeIn(prog, r.epfd)
		if depth > 0 {
			epollNotify(prog, r.epfd, epollIn, depth-1)
		}
	}
}

// epollWake wakes the threads waiting in epoll_pwait on epfd.
func epollWake(epfd int32) { epollWakeIn(thr(current()).proc, epfd) }

// epollWakeIn wakes program prog's threads waiting on its epfd.
func epollWakeIn(me, epfd int32) {
	for i := int32(1); i < threadHigh; i++ {
		t := thr(i)
		if t.state == threadBlocked && t.wait == waitEpoll && t.proc == me && t.waitFD == epfd {
			wake(i, wokenByEvent)
		}
	}
}
