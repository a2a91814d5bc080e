package fs

// Readiness, for epoll and for waking callers blocked on ErrWouldBlock.

// Poll is handle h's poll events now, as Linux's poll methods report
// them: a pipe's read end is readable (EPOLLIN) when it holds data and
// hung up (EPOLLHUP) when its writer is gone; a write end is writable
// (EPOLLOUT) while a buffer is free and in error (EPOLLERR) when its
// reader is gone. Other files are always readable and writable (Linux's
// DEFAULT_POLLMASK), though epoll refuses them (see Pollable).
func (fsys *FS) Poll(h Handle) (Events, Errno) {
	f, e := fsys.handle(h)
	if e != 0 {
		return 0, e
	}
	pp := f.node.pipe
	if pp == nil {
		return EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM, 0
	}
	var ev Events
	if f.readable {
		if !pp.empty() {
			ev |= EPOLLIN | EPOLLRDNORM
		}
		if !pp.writerOpen {
			ev |= EPOLLHUP
		}
	}
	if f.writable {
		if !pp.full() {
			ev |= EPOLLOUT | EPOLLWRNORM
		}
		if !pp.readerOpen {
			ev |= EPOLLERR
		}
	}
	return ev, 0
}

// Pollable says whether epoll can watch handle h. Only pipes can: Linux
// answers epoll_ctl with EPERM for regular files, directories and
// /dev/null, and that is how Go's os package learns to read such files
// directly instead of through its poller.
func (fsys *FS) Pollable(h Handle) bool {
	f, e := fsys.handle(h)
	return e == 0 && f.node.pipe != nil
}

// wake tells the server that handle h may have become ready.
func (fsys *FS) wake(h Handle) {
	if fsys.notify == nil {
		return
	}
	ev, _ := fsys.Poll(h)
	fsys.notify(h, ev)
}
