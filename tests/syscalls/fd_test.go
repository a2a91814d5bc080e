package syscalls

// Descriptors: read, write, pread64, close, fcntl, eventfd2, and the
// file-system calls hurdvm answers without a file system (open, openat,
// readlinkat). Linux's side is fs/read_write.c, fs/eventfd.c, fs/open.c,
// fs/fcntl.c, fs/namei.c and fs/stat.c.

import (
	"strings"
	"syscall"
	"time"
)

const (
	efdSemaphore = 1
	efdNonblock  = syscall.O_NONBLOCK
	efdCloexec   = syscall.O_CLOEXEC
)

func eventFD(initval uint64, flags uintptr) uintptr {
	return must(sys(syscall.SYS_EVENTFD2, uintptr(initval), flags))
}

func closeFD(fd uintptr) { sys(syscall.SYS_CLOSE, fd) }

// closedFD is a descriptor number that was just closed.
func closedFD() uintptr {
	fd := eventFD(0, efdNonblock)
	closeFD(fd)
	return fd
}

// neg is n as a system call's argument: two's complement.
func neg(n int) uintptr { return uintptr(n) }

// readCounter reads n bytes of eventfd fd: the answer and the counter read.
func readCounter(fd, n uintptr) string {
	b := scratch()
	r, e := sys(syscall.SYS_READ, fd, b, n)
	if e != 0 {
		return errnoName(e)
	}
	return join(answer(r, e), fact("value", peek64(b)))
}

// writeCounter writes v to eventfd fd.
func writeCounter(fd uintptr, v uint64) (uintptr, syscall.Errno) {
	b := scratch()
	poke64(b, v)
	return sys(syscall.SYS_WRITE, fd, b, 8)
}

// onEventFD makes an eventfd with the counter at initval, runs f on it
// and closes it.
func onEventFD(initval uint64, flags uintptr, f func(fd uintptr) string) func() string {
	return func() string {
		fd := eventFD(initval, flags)
		defer closeFD(fd)
		return f(fd)
	}
}

// consoleLine is what the console rows write.
const consoleLine = "syscalls: a line written by write(1, ...)\n"

func fdRows() []row {
	const nb = efdNonblock
	rows := []row{
		{name: "read/eventfd", want: "8,value=3", call: onEventFD(3, nb, func(fd uintptr) string { return readCounter(fd, 8) })},
		{name: "read/eventfd/size-16", want: "8,value=3", call: onEventFD(3, nb, func(fd uintptr) string { return readCounter(fd, 16) })},
		{name: "read/eventfd/size-4", want: "EINVAL", call: onEventFD(3, nb, func(fd uintptr) string { return readCounter(fd, 4) })},
		{name: "read/eventfd/empty", want: "EAGAIN", call: onEventFD(0, nb, func(fd uintptr) string { return readCounter(fd, 8) })},
		{name: "read/eventfd/semaphore", want: "8,value=1,then=8,value=1", call: onEventFD(3, nb|efdSemaphore, func(fd uintptr) string {
			return join(readCounter(fd, 8), "then="+readCounter(fd, 8))
		})},
		// A blocking eventfd's read waits for a write (eventfd_read).
		{name: "read/eventfd/blocking", want: "8,value=5", call: onEventFD(0, 0, func(fd uintptr) string {
			done := make(chan struct{})
			go func() {
				defer close(done)
				time.Sleep(50 * time.Millisecond)
				writeCounter(fd, 5)
			}()
			b := mapPages(1)
			defer unmapPages(b, 1)
			r, e := sysBlocking(syscall.SYS_READ, fd, b, 8)
			<-done
			if e != 0 {
				return errnoName(e)
			}
			return join(answer(r, e), fact("value", peek64(b)))
		})},
		// An empty nonblocking eventfd answers EAGAIN before it looks at
		// the buffer; a full one takes the counter, then fails to copy
		// it out, and the count is gone (eventfd_read).
		{name: "read/eventfd/null-empty", want: "EAGAIN", call: onEventFD(0, nb, func(fd uintptr) string {
			return answer(sys(syscall.SYS_READ, fd, 0, 8))
		})},
		{name: "read/eventfd/null-loses-count", want: "EFAULT,then=EAGAIN", call: onEventFD(2, nb, func(fd uintptr) string {
			return join(answer(sys(syscall.SYS_READ, fd, 0, 8)), "then="+readCounter(fd, 8))
		})},
		{name: "read/epoll", want: "EINVAL", call: onEpoll(func(ep uintptr) string { return readCounter(ep, 8) })},
		{name: "read/closed", want: "EBADF", call: func() string { return readCounter(closedFD(), 8) }},
		{name: "read/fd-minus-1", want: "EBADF", call: func() string { return readCounter(neg(-1), 8) }},
		{name: "read/fd-1000", want: "EBADF", call: func() string { return readCounter(1000, 8) }},

		{name: "write/eventfd", want: "8,then=8,value=5", call: onEventFD(0, nb, func(fd uintptr) string {
			return join(answer(writeCounter(fd, 5)), "then="+readCounter(fd, 8))
		})},
		{name: "write/eventfd/size-16", want: "8", call: onEventFD(0, nb, func(fd uintptr) string {
			b := scratch()
			poke64(b, 1)
			return answer(sys(syscall.SYS_WRITE, fd, b, 16))
		})},
		{name: "write/eventfd/size-4", want: "EINVAL", call: onEventFD(0, nb, func(fd uintptr) string {
			return answer(sys(syscall.SYS_WRITE, fd, scratch(), 4))
		})},
		{name: "write/eventfd/max", want: "EINVAL", call: onEventFD(0, nb, func(fd uintptr) string {
			return answer(writeCounter(fd, ^uint64(0)))
		})},
		// The counter's largest value is 2^64-2; a write that would pass
		// it blocks, or fails with EAGAIN (eventfd_write).
		{name: "write/eventfd/overflow", want: "8,then=EAGAIN", call: onEventFD(0, nb, func(fd uintptr) string {
			return join(answer(writeCounter(fd, ^uint64(0)-1)), "then="+answer(writeCounter(fd, 1)))
		})},
		{name: "write/console", want: itoa(len(consoleLine)), call: func() string {
			b := scratch() + scratchText
			pokeString(b, consoleLine)
			return answer(sys(syscall.SYS_WRITE, 1, b, uintptr(len(consoleLine))))
		}},
		{name: "write/console/size-0", want: "0", call: func() string { return answer(sys(syscall.SYS_WRITE, 1, scratch(), 0)) }},
		{name: "write/epoll", want: "EINVAL", call: onEpoll(func(ep uintptr) string { return answer(writeCounter(ep, 1)) })},
		{name: "write/closed", want: "EBADF", call: func() string { return answer(writeCounter(closedFD(), 1)) }},
		{name: "write/fd-minus-1", want: "EBADF", call: func() string { return answer(writeCounter(neg(-1), 1)) }},

		// Neither an eventfd nor an epoll instance can be read at an
		// offset (ksys_pread64: no FMODE_PREAD); a negative offset is
		// refused before the descriptor is looked up.
		{name: "pread64/eventfd", want: "ESPIPE", call: onEventFD(1, nb, func(fd uintptr) string {
			return answer(sys(syscall.SYS_PREAD64, fd, scratch(), 8, 0))
		})},
		{name: "pread64/epoll", want: "ESPIPE", call: onEpoll(func(ep uintptr) string {
			return answer(sys(syscall.SYS_PREAD64, ep, scratch(), 8, 0))
		})},
		{name: "pread64/fd-minus-1", want: "EBADF", call: func() string { return answer(sys(syscall.SYS_PREAD64, neg(-1), scratch(), 8, 0)) }},
		{name: "pread64/negative-offset", want: "EINVAL", call: onEventFD(1, nb, func(fd uintptr) string {
			return answer(sys(syscall.SYS_PREAD64, fd, scratch(), 8, neg(-1)))
		})},
		{name: "pread64/negative-offset-bad-fd", want: "EINVAL", call: func() string {
			return answer(sys(syscall.SYS_PREAD64, neg(-1), scratch(), 8, neg(-1)))
		}},

		{name: "openat/missing", want: "ENOENT", call: func() string { return openat(atFDCWD, "/hurdvm-parity-missing") }},
		{name: "open/missing", want: "ENOENT", call: func() string {
			b := scratch() + scratchText
			pokeString(b, "/hurdvm-parity-missing")
			return answer(sys(syscall.SYS_OPEN, b, syscall.O_RDONLY))
		}},
		{name: "openat/empty-path", want: "ENOENT", call: func() string { return openat(atFDCWD, "") }},
		{name: "openat/relative-bad-dirfd", want: "EBADF", call: func() string { return openat(neg(-5), "hurdvm-parity-missing") }},
		{name: "openat/absolute-bad-dirfd", want: "ENOENT", call: func() string { return openat(neg(-5), "/hurdvm-parity-missing") }},
		// getname: a path of PATH_MAX bytes or more.
		{name: "openat/path-too-long", want: "ENAMETOOLONG", call: func() string { return openat(atFDCWD, "/"+strings.Repeat("a", 5000)) }},
		{name: "open/path/null", want: "EFAULT", call: func() string { return answer(sys(syscall.SYS_OPEN, 0, syscall.O_RDONLY)) }},

		{name: "readlinkat/missing", want: "ENOENT", call: func() string { return readlinkat("/hurdvm-parity-missing", 64) }},
		// do_readlinkat checks the size before the path.
		{name: "readlinkat/bufsize-0", want: "EINVAL", call: func() string { return readlinkat("/hurdvm-parity-missing", 0) }},
		{name: "readlinkat/bufsize-0-null-path", want: "EINVAL", call: func() string {
			return answer(sys(syscall.SYS_READLINKAT, atFDCWD, 0, scratch(), 0))
		}},

		{name: "close/eventfd", want: "0", call: func() string { return answer(sys(syscall.SYS_CLOSE, eventFD(0, nb))) }},
		{name: "close/epoll", want: "0", call: func() string { return answer(sys(syscall.SYS_CLOSE, epollFD())) }},
		{name: "close/closed", want: "EBADF", call: func() string { return answer(sys(syscall.SYS_CLOSE, closedFD())) }},
		{name: "close/fd-minus-1", want: "EBADF", call: func() string { return answer(sys(syscall.SYS_CLOSE, neg(-1))) }},
		{name: "close/fd-1000", want: "EBADF", call: func() string { return answer(sys(syscall.SYS_CLOSE, 1000)) }},
		// close takes an unsigned int: the high half of the register is
		// not part of the descriptor.
		{name: "close/high-bits-ignored", want: "0,then=EBADF", call: func() string {
			fd := eventFD(0, nb)
			return join(answer(sys(syscall.SYS_CLOSE, 1<<32|fd)), "then="+answer(sys(syscall.SYS_CLOSE, fd)))
		}},

		{name: "fcntl/getfd/eventfd", want: "0", call: onEventFD(0, nb, func(fd uintptr) string { return fcntl(fd, syscall.F_GETFD, 0) })},
		{name: "fcntl/getfd/eventfd-cloexec", want: "1", call: onEventFD(0, nb|efdCloexec, func(fd uintptr) string {
			return fcntl(fd, syscall.F_GETFD, 0)
		})},
		{name: "fcntl/getfd/console", want: "0", call: func() string { return fcntl(1, syscall.F_GETFD, 0) }},
		{name: "fcntl/getfd/closed", want: "EBADF", call: func() string { return fcntl(closedFD(), syscall.F_GETFD, 0) }},
		{name: "fcntl/getfd/fd-minus-1", want: "EBADF", call: func() string { return fcntl(neg(-1), syscall.F_GETFD, 0) }},
		{name: "fcntl/setfd", want: "0,then=1", call: onEventFD(0, nb, func(fd uintptr) string {
			return join(fcntl(fd, syscall.F_SETFD, syscall.FD_CLOEXEC), "then="+fcntl(fd, syscall.F_GETFD, 0))
		})},
		{name: "fcntl/getfl/eventfd", want: "2", call: onEventFD(0, 0, func(fd uintptr) string { return fcntl(fd, syscall.F_GETFL, 0) })},
		{name: "fcntl/getfl/eventfd-nonblock", want: "2050", call: onEventFD(0, nb, func(fd uintptr) string {
			return fcntl(fd, syscall.F_GETFL, 0)
		})},
		{name: "fcntl/getfl/epoll", want: "2", call: onEpoll(func(ep uintptr) string { return fcntl(ep, syscall.F_GETFL, 0) })},
		{name: "fcntl/setfl-nonblock", want: "0,then=2050", call: onEventFD(0, 0, func(fd uintptr) string {
			return join(fcntl(fd, syscall.F_SETFL, syscall.O_NONBLOCK), "then="+fcntl(fd, syscall.F_GETFL, 0))
		})},
		{name: "fcntl/unknown-cmd", want: "EINVAL", call: onEventFD(0, nb, func(fd uintptr) string { return fcntl(fd, 9999, 0) })},
		{name: "fcntl/unknown-cmd-bad-fd", want: "EBADF", call: func() string { return fcntl(neg(-1), 9999, 0) }},
		{name: "fcntl/dupfd", want: "ok,at-least-10", call: onEventFD(0, nb, func(fd uintptr) string {
			r, e := sys(syscall.SYS_FCNTL, fd, syscall.F_DUPFD, 10)
			if e != 0 {
				return errnoName(e)
			}
			defer closeFD(r)
			return join("ok", check("at-least-10", r >= 10))
		})},
		{name: "fcntl/dupfd-cloexec", want: "ok,then=1", call: onEventFD(0, nb, func(fd uintptr) string {
			r, e := sys(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
			if e != 0 {
				return errnoName(e)
			}
			defer closeFD(r)
			return join("ok", "then="+fcntl(r, syscall.F_GETFD, 0))
		})},

		{name: "eventfd2/plain", want: "ok", call: func() string { return fdStatus(sys(syscall.SYS_EVENTFD2, 0, 0)) }},
		{name: "eventfd2/nonblock-cloexec", want: "ok", call: func() string { return fdStatus(sys(syscall.SYS_EVENTFD2, 0, nb|efdCloexec)) }},
		{name: "eventfd2/semaphore", want: "ok", call: func() string { return fdStatus(sys(syscall.SYS_EVENTFD2, 0, efdSemaphore)) }},
		{name: "eventfd2/bad-flags", want: "EINVAL", call: func() string { return fdStatus(sys(syscall.SYS_EVENTFD2, 0, 2)) }},
		{name: "eventfd2/initval-max", want: "8,value=4294967295", call: onEventFD(1<<32-1, nb, func(fd uintptr) string {
			return readCounter(fd, 8)
		})},
	}
	rows = append(rows, pointerRows("read/eventfd", writes, efault, func(p uintptr) string {
		fd := eventFD(1, nb)
		defer closeFD(fd)
		return answer(sys(syscall.SYS_READ, fd, p, 8))
	})...)
	rows = append(rows, pointerRows("write/eventfd", reads, efault, func(p uintptr) string {
		fd := eventFD(0, nb)
		defer closeFD(fd)
		return answer(sys(syscall.SYS_WRITE, fd, p, 8))
	})...)
	rows = append(rows, pointerRows("write/console", reads, efault, func(p uintptr) string {
		return answer(sys(syscall.SYS_WRITE, 1, p, 8))
	})...)
	rows = append(rows, pointerRows("openat/path", reads, efault, func(p uintptr) string {
		return fdStatus(sys(syscall.SYS_OPENAT, atFDCWD, p, syscall.O_RDONLY))
	})...)
	rows = append(rows, pointerRows("readlinkat/path", reads, efault, func(p uintptr) string {
		return answer(sys(syscall.SYS_READLINKAT, atFDCWD, p, scratch(), 64))
	})...)
	return rows
}

const atFDCWD = ^uintptr(99) // AT_FDCWD, -100

func openat(dirfd uintptr, path string) string {
	b := mapPages(2)
	defer unmapPages(b, 2)
	pokeString(b, path)
	return fdStatus(sys(syscall.SYS_OPENAT, dirfd, b, syscall.O_RDONLY))
}

func readlinkat(path string, size uintptr) string {
	b := mapPages(1)
	defer unmapPages(b, 1)
	pokeString(b, path)
	return answer(sys(syscall.SYS_READLINKAT, atFDCWD, b, b+1024, size))
}

func fcntl(fd, cmd, arg uintptr) string { return answer(sys(syscall.SYS_FCNTL, fd, cmd, arg)) }

// fdStatus is status for a call that makes a descriptor, which it closes.
func fdStatus(fd uintptr, e syscall.Errno) string {
	if e == 0 {
		closeFD(fd)
	}
	return status(fd, e)
}
