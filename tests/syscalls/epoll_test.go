package syscalls

// epoll_create1, epoll_ctl and epoll_pwait, as Go's netpoller uses them
// with an eventfd, and beyond. Linux's side is fs/eventpoll.c.

import (
	"syscall"
	"time"
)

const (
	epollIn        = 0x1
	epollOut       = 0x4
	epollET        = 1 << 31
	epollOneshot   = 1 << 30
	epollExclusive = 1 << 28
	epollCloexec   = syscall.O_CLOEXEC

	// epollData is what the rows register and expect back.
	epollData = 0x1122_3344_5566_7788
	// epMaxEvents is EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event).
	epMaxEvents = 0x7fff_ffff / 12
	eventSize   = 12 // struct epoll_event is packed on x86-64
)

func epollFD() uintptr { return must(sys(syscall.SYS_EPOLL_CREATE1, 0)) }

func onEpoll(f func(ep uintptr) string) func() string {
	return func() string {
		ep := epollFD()
		defer closeFD(ep)
		return f(ep)
	}
}

// epollCtl makes epoll_ctl with an event of these events and data.
func epollCtl(ep, op, fd uintptr, events uint32) (uintptr, syscall.Errno) {
	ev := scratch() + scratchEvent
	poke32(ev, events)
	poke64(ev+4, epollData)
	return sys(syscall.SYS_EPOLL_CTL, ep, op, fd, ev)
}

// onReadyEpoll makes an epoll instance watching an eventfd, whose counter
// is initval, for events, runs f and closes both.
func onReadyEpoll(initval uint64, events uint32, f func(ep, efd uintptr) string) func() string {
	return func() string {
		efd := eventFD(initval, efdNonblock)
		defer closeFD(efd)
		ep := epollFD()
		defer closeFD(ep)
		must(epollCtl(ep, syscall.EPOLL_CTL_ADD, efd, events))
		return f(ep, efd)
	}
}

func epollWait(ep, buf uintptr, max int, timeoutMs int) (uintptr, syscall.Errno) {
	return sys(syscall.SYS_EPOLL_PWAIT, ep, buf, neg(max), neg(timeoutMs), 0, 0)
}

// waitOnPage waits on a page of its own for at most max events: the
// answer, and for one event what it says.
func waitOnPage(ep uintptr, max int) string {
	b := mapPages(1)
	defer unmapPages(b, 1)
	r, e := epollWait(ep, b, max, 0)
	if e != 0 || r != 1 {
		return answer(r, e)
	}
	return join(answer(r, e), fact("events", uint64(peek32(b))), check("data", peek64(b+4) == epollData))
}

func epollRows() []row {
	const add, del, mod = syscall.EPOLL_CTL_ADD, syscall.EPOLL_CTL_DEL, syscall.EPOLL_CTL_MOD
	onEventFDAndEpoll := func(f func(ep, efd uintptr) string) func() string {
		return onEventFD(0, efdNonblock, func(efd uintptr) string {
			return onEpoll(func(ep uintptr) string { return f(ep, efd) })()
		})
	}
	rows := []row{
		{name: "epoll_create1/plain", want: "ok", call: func() string { return fdStatus(sys(syscall.SYS_EPOLL_CREATE1, 0)) }},
		{name: "epoll_create1/cloexec", want: "ok", call: func() string { return fdStatus(sys(syscall.SYS_EPOLL_CREATE1, epollCloexec)) }},
		{name: "epoll_create1/bad-flags", want: "EINVAL", call: func() string { return fdStatus(sys(syscall.SYS_EPOLL_CREATE1, 1)) }},

		{name: "epoll_ctl/add", want: "0", call: onEventFDAndEpoll(func(ep, efd uintptr) string {
			return answer(epollCtl(ep, add, efd, epollIn))
		})},
		{name: "epoll_ctl/add-again", want: "EEXIST", call: onReadyEpoll(0, epollIn, func(ep, efd uintptr) string {
			return answer(epollCtl(ep, add, efd, epollIn))
		})},
		{name: "epoll_ctl/mod", want: "0", call: onReadyEpoll(0, epollIn, func(ep, efd uintptr) string {
			return answer(epollCtl(ep, mod, efd, epollIn|epollOut))
		})},
		{name: "epoll_ctl/del", want: "0", call: onReadyEpoll(0, epollIn, func(ep, efd uintptr) string {
			return answer(epollCtl(ep, del, efd, 0))
		})},
		{name: "epoll_ctl/del-again", want: "ENOENT", call: onReadyEpoll(0, epollIn, func(ep, efd uintptr) string {
			epollCtl(ep, del, efd, 0)
			return answer(epollCtl(ep, del, efd, 0))
		})},
		{name: "epoll_ctl/mod-missing", want: "ENOENT", call: onEventFDAndEpoll(func(ep, efd uintptr) string {
			return answer(epollCtl(ep, mod, efd, epollIn))
		})},
		// DEL reads no event: NULL is fine.
		{name: "epoll_ctl/del-null-event", want: "0", call: onReadyEpoll(0, epollIn, func(ep, efd uintptr) string {
			return answer(sys(syscall.SYS_EPOLL_CTL, ep, del, efd, 0))
		})},
		// An instance may not watch itself (do_epoll_ctl: EINVAL).
		{name: "epoll_ctl/add-self", want: "EINVAL", call: onEpoll(func(ep uintptr) string { return answer(epollCtl(ep, add, ep, epollIn)) })},
		{name: "epoll_ctl/add-fd-minus-5", want: "EBADF", call: onEpoll(func(ep uintptr) string { return answer(epollCtl(ep, add, neg(-5), epollIn)) })},
		{name: "epoll_ctl/add-closed", want: "EBADF", call: onEpoll(func(ep uintptr) string { return answer(epollCtl(ep, add, closedFD(), epollIn)) })},
		{name: "epoll_ctl/add-console", want: "0", call: onEpoll(func(ep uintptr) string { return answer(epollCtl(ep, add, 1, epollIn)) })},
		{name: "epoll_ctl/epfd-minus-1", want: "EBADF", call: onEventFD(0, efdNonblock, func(efd uintptr) string {
			return answer(epollCtl(neg(-1), add, efd, epollIn))
		})},
		{name: "epoll_ctl/epfd-closed", want: "EBADF", call: onEventFD(0, efdNonblock, func(efd uintptr) string {
			return answer(epollCtl(closedFD(), add, efd, epollIn))
		})},
		{name: "epoll_ctl/epfd-eventfd", want: "EINVAL", call: onEventFD(0, efdNonblock, func(efd uintptr) string {
			other := eventFD(0, efdNonblock)
			defer closeFD(other)
			return answer(epollCtl(efd, add, other, epollIn))
		})},
		{name: "epoll_ctl/bad-op", want: "EINVAL", call: onEventFDAndEpoll(func(ep, efd uintptr) string {
			return answer(epollCtl(ep, 99, efd, epollIn))
		})},
		{name: "epoll_ctl/add-exclusive", want: "0", call: onEventFDAndEpoll(func(ep, efd uintptr) string {
			return answer(epollCtl(ep, add, efd, epollIn|epollExclusive))
		})},
		{name: "epoll_ctl/mod-exclusive", want: "EINVAL", call: onReadyEpoll(0, epollIn, func(ep, efd uintptr) string {
			return answer(epollCtl(ep, mod, efd, epollIn|epollExclusive))
		})},
		// The event is copied in before any descriptor is looked at.
		{name: "epoll_ctl/null-event-before-bad-fds", want: "EFAULT", call: func() string {
			return answer(sys(syscall.SYS_EPOLL_CTL, neg(-1), add, neg(-1), 0))
		}},

		{name: "epoll_pwait/ready", want: "1,events=1,data", call: onReadyEpoll(1, epollIn, func(ep, efd uintptr) string { return waitOnPage(ep, 1) })},
		{name: "epoll_pwait/ready-room-for-2", want: "1,events=1,data", call: onReadyEpoll(1, epollIn, func(ep, efd uintptr) string { return waitOnPage(ep, 2) })},
		{name: "epoll_pwait/none", want: "0", call: onReadyEpoll(0, epollIn, func(ep, efd uintptr) string { return waitOnPage(ep, 1) })},
		{name: "epoll_pwait/timeout-20ms", want: "0,waited", call: onReadyEpoll(0, epollIn, func(ep, efd uintptr) string {
			b := mapPages(1)
			defer unmapPages(b, 1)
			t0 := time.Now()
			r, e := sysBlocking(syscall.SYS_EPOLL_PWAIT, ep, b, 1, 20, 0, 0)
			return join(answer(r, e), check("waited", time.Since(t0) >= 20*time.Millisecond))
		})},
		{name: "epoll_pwait/woken-by-write", want: "1,events=1,early", call: onReadyEpoll(0, epollIn, func(ep, efd uintptr) string {
			b := mapPages(1)
			defer unmapPages(b, 1)
			done := make(chan struct{})
			go func() {
				defer close(done)
				time.Sleep(50 * time.Millisecond)
				writeCounter(efd, 1)
			}()
			t0 := time.Now()
			r, e := sysBlocking(syscall.SYS_EPOLL_PWAIT, ep, b, 1, 5000, 0, 0)
			<-done
			if e != 0 {
				return errnoName(e)
			}
			return join(answer(r, e), fact("events", uint64(peek32(b))), check("early", time.Since(t0) < 4*time.Second))
		})},
		{name: "epoll_pwait/level-triggered", want: "1,events=1,data,then=1,events=1,data", call: onReadyEpoll(1, epollIn, func(ep, efd uintptr) string {
			return join(waitOnPage(ep, 1), "then="+waitOnPage(ep, 1))
		})},
		{name: "epoll_pwait/edge-triggered", want: "1,events=1,data,then=0", call: onReadyEpoll(1, epollIn|epollET, func(ep, efd uintptr) string {
			return join(waitOnPage(ep, 1), "then="+waitOnPage(ep, 1))
		})},
		{name: "epoll_pwait/oneshot", want: "1,events=1,data,then=0", call: onReadyEpoll(1, epollIn|epollOneshot, func(ep, efd uintptr) string {
			return join(waitOnPage(ep, 1), "then="+waitOnPage(ep, 1))
		})},
		// An eventfd is writable while its counter can grow.
		{name: "epoll_pwait/writable", want: "1,events=4,data", call: onReadyEpoll(0, epollOut, func(ep, efd uintptr) string { return waitOnPage(ep, 1) })},
		// Closing the descriptor takes it out of the set.
		{name: "epoll_pwait/after-close", want: "0", call: onEpoll(func(ep uintptr) string {
			efd := eventFD(1, efdNonblock)
			must(epollCtl(ep, add, efd, epollIn))
			closeFD(efd)
			return waitOnPage(ep, 1)
		})},
		{name: "epoll_pwait/maxevents-0", want: "EINVAL", call: onReadyEpoll(1, epollIn, func(ep, efd uintptr) string { return waitOnPage(ep, 0) })},
		{name: "epoll_pwait/maxevents-minus-1", want: "EINVAL", call: onReadyEpoll(1, epollIn, func(ep, efd uintptr) string { return waitOnPage(ep, -1) })},
		{name: "epoll_pwait/maxevents-too-many", want: "EINVAL", call: onReadyEpoll(1, epollIn, func(ep, efd uintptr) string {
			return waitOnPage(ep, epMaxEvents+1)
		})},
		// The buffer is only checked to be below the kernel (access_ok);
		// one event is written into its first page.
		{name: "epoll_pwait/maxevents-most", want: "1,events=1,data", call: onReadyEpoll(1, epollIn, func(ep, efd uintptr) string {
			return waitOnPage(ep, epMaxEvents)
		})},
		{name: "epoll_pwait/epfd-minus-1", want: "EBADF", call: func() string { return waitOnPage(neg(-1), 1) }},
		{name: "epoll_pwait/epfd-closed", want: "EBADF", call: func() string { return waitOnPage(closedFD(), 1) }},
		{name: "epoll_pwait/epfd-eventfd", want: "EINVAL", call: onEventFD(1, efdNonblock, func(efd uintptr) string { return waitOnPage(efd, 1) })},
		// Nothing to report, nothing written: a NULL buffer is no fault.
		{name: "epoll_pwait/events/null-none-ready", want: "0", call: onReadyEpoll(0, epollIn, func(ep, efd uintptr) string {
			return answer(epollWait(ep, 0, 1, 0))
		})},
		// The buffer is checked (access_ok) before the descriptor.
		{name: "epoll_pwait/kernel-events-before-bad-epfd", want: "EFAULT", call: func() string {
			return answer(epollWait(neg(-1), kernelHalf, 1, 0))
		}},
		{name: "epoll_pwait/sigmask", want: "1", call: onReadyEpoll(1, epollIn, func(ep, efd uintptr) string {
			return pwaitWithMask(ep, currentMask(), 8)
		})},
		{name: "epoll_pwait/sigmask-size-3", want: "EINVAL", call: onReadyEpoll(1, epollIn, func(ep, efd uintptr) string {
			return pwaitWithMask(ep, currentMask(), 3)
		})},
		{name: "epoll_pwait/sigmask-null-size-3", want: "1", call: onReadyEpoll(1, epollIn, func(ep, efd uintptr) string {
			return pwaitWithMask(ep, 0, 3)
		})},

		// hurdvm wrote the events into the buffer from the eventfd
		// write's handler, after the buffer was gone: a page fault in
		// the kernel. Linux copies them out in the waiter's own call
		// (ep_send_events), which fails.
		{name: "epoll_pwait/buffer-unmapped-while-waiting", want: "EFAULT", killer: "EpollUnmappedBuffer", call: onReadyEpoll(0, epollIn, func(ep, efd uintptr) string {
			b := mapPages(1)
			result := make(chan string)
			go func() { result <- answer(sysBlocking(syscall.SYS_EPOLL_PWAIT, ep, b, 1, 5000, 0, 0)) }()
			time.Sleep(100 * time.Millisecond) // the waiter is in epoll_pwait
			unmapPages(b, 1)
			writeCounter(efd, 1)
			return <-result
		})},
		// The local APIC's LVT timer register: an event written there
		// reprograms hurdvm's clock.
		{name: "epoll_pwait/events/lapic-timer", want: "EFAULT", killer: "LAPIC", call: onReadyEpoll(1, epollIn, func(ep, efd uintptr) string {
			lapicPageFree()
			return answer(epollWait(ep, lapicBase+0x320, 1, 0))
		})},
	}
	rows = append(rows, pointerRows("epoll_ctl/event", reads, efault, func(p uintptr) string {
		return onEventFDAndEpoll(func(ep, efd uintptr) string { return answer(sys(syscall.SYS_EPOLL_CTL, ep, add, efd, p)) })()
	})...)
	rows = append(rows, pointerRows("epoll_pwait/events", writes, efault, func(p uintptr) string {
		return onReadyEpoll(1, epollIn, func(ep, efd uintptr) string { return answer(epollWait(ep, p, 1, 0)) })()
	})...)
	rows = append(rows, pointerRows("epoll_pwait/sigmask", reads, absentIf(efault, "1"), func(p uintptr) string {
		return onReadyEpoll(1, epollIn, func(ep, efd uintptr) string { return pwaitWithMask(ep, p, 8) })()
	})...)
	return rows
}

// pwaitWithMask waits with the signal mask at mask (sigsetsize size).
func pwaitWithMask(ep, mask, size uintptr) string {
	b := mapPages(1)
	defer unmapPages(b, 1)
	return answer(sys(syscall.SYS_EPOLL_PWAIT, ep, b, 1, 0, mask, size))
}
