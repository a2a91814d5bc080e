//go:build hurdvm

// waitid and pidfds for processes (issue 17), as Linux 6.1's: waitid's
// P_ALL, P_PID, P_PGID and P_PIDFD with WEXITED, WNOHANG and WNOWAIT
// (WSTOPPED and WCONTINUED are accepted and find nothing: no process
// stops here) and siginfo filled as Linux fills it; pidfd_open,
// pidfd_send_signal and clone's CLONE_PIDFD. A pidfd is a descriptor of
// the kernel's own (filePidfd, its count the pid) that epoll reports
// readable (EPOLLIN) once its process has ended. Go's os package uses
// them when its probe (os.checkPidfd: pidfd_open of itself, waitid
// P_PIDFD answering ECHILD, pidfd_send_signal of 0, clone with
// CLONE_VFORK|CLONE_VM|CLONE_PIDFD) passes. Handler context, under the
// kernel lock (procSyscall).

package kernel

const (
	sysWaitid          = 247
	sysPidfdSendSignal = 424
	sysPidfdOpen       = 434

	eACCES = 13

	// waitid's idtype.
	pAll   = 0
	pPID   = 1
	pPGID  = 2
	pPIDFD = 3

	// waitid's options beyond wait4's.
	wStopped = 2 // WSTOPPED (wait4's WUNTRACED)
	wExited  = 4
	wNowait  = 0x1000000

	// siginfo's si_code for SIGCHLD.
	cldExited = 1
	cldKilled = 2

	clonePidfd = 0x1000

	epollRdNorm = 0x40
)

// waitidSelect is waitid's idtype and id as a selection of process me's
// children, or the errno Linux answers: EINVAL for an idtype it does not
// know or an id that cannot be; for P_PIDFD, EBADF for a descriptor that
// is not a pidfd.
func waitidSelect(me int32, idtype uint64, id int32) (waitSelect, uint64) {
	switch idtype {
	case pAll:
		return waitSelect{kind: waitAny}, 0
	case pPID:
		if id <= 0 {
			return waitSelect{}, errno(eINVAL)
		}
		return waitSelect{kind: waitPID, id: id}, 0
	case pPGID:
		if id < 0 {
			return waitSelect{}, errno(eINVAL)
		}
		if id == 0 {
			id = procs[me].pgid
		}
		return waitSelect{kind: waitPGID, id: id}, 0
	case pPIDFD:
		if id < 0 {
			return waitSelect{}, errno(eINVAL)
		}
		f := fdFile(id)
		if f == nil || f.kind != filePidfd {
			return waitSelect{}, errno(eBADF)
		}
		return waitSelect{kind: waitPID, id: int32(f.count)}, 0
	}
	return waitSelect{}, errno(eINVAL)
}

// procWaitid is waitid(idtype, id, infop, options, rusage): a child that
// ended and that idtype and id select is reaped (left for another wait
// with WNOWAIT) and infop gets Linux's siginfo (si_signo SIGCHLD, si_code
// CLD_EXITED with the exit status or CLD_KILLED with the signal, si_pid,
// si_uid 0); none that ended: with WNOHANG 0 and a siginfo of zeros (a
// pidfd opened O_NONBLOCK: EAGAIN), else the caller waits for one; no
// such child at all: ECHILD.
func procWaitid(t *thread, idtype uint64, id int32, infop, options, rusage uint64) uint64 {
	if options&^(wNohang|wNowait|wExited|wStopped|wContinued|wNothread|wClone|wAll) != 0 ||
		options&(wExited|wStopped|wContinued) == 0 {
		return errno(eINVAL)
	}
	me := t.proc - 1
	w, e := waitidSelect(me, idtype, id)
	if e != 0 {
		return e
	}
	found, j := procChild(me, w, options)
	if options&wExited == 0 {
		j = -1 // only stops and continues, which never come
	}
	if !found {
		return errno(eCHILD)
	}
	var info [4]int32 // si_code, (padding), si_pid, si_uid; si_signo and si_status beside
	signo, status := int32(0), int32(0)
	if j >= 0 {
		c := &procs[j]
		signo, info[0], info[2], status = sigCHLD, cldExited, c.info.PID, c.info.ExitCode&0xff
		if c.info.Signal != 0 {
			info[0], status = cldKilled, c.info.Signal
		}
		cpu := c.cpuNS
		if options&wNowait == 0 {
			procReaped(j)
			c.state = procFree // reaped
		}
		if rusage != 0 && !procRusage(rusage, cpu) {
			return errno(eFAULT)
		}
	} else {
		if options&wNohang == 0 {
			if idtype == pPIDFD && fdFile(id).flags&oNonblock != 0 {
				return errno(eAGAIN)
			}
			block(waitChild, 0)
			return 0
		}
	}
	if infop == 0 {
		return 0
	}
	// As Linux: an infop the process cannot own is no error (the call's
	// answer stands); one it owns that faults is EFAULT.
	if !procRange(infop, 28) {
		return 0
	}
	// si_signo, si_errno, si_code; then si_pid, si_uid, si_status (the
	// padding between them is left as it was, as Linux leaves it).
	head, tail := [3]int32{signo, 0, info[0]}, [3]int32{info[2], info[3], status}
	if !copyOut(infop, bytesOf(&head)) || !copyOut(infop+16, bytesOf(&tail)) {
		return errno(eFAULT)
	}
	return 0
}

// pidfdOpen is pidfd_open(pid, flags): a close-on-exec descriptor for
// process pid (ESRCH: no such process; a thread's tid that is not a
// process's: EINVAL, as Linux 6.1), flags PIDFD_NONBLOCK (O_NONBLOCK)
// or none.
func pidfdOpen(pid int32, flags uint64) uint64 {
	if flags&^oNonblock != 0 || pid <= 0 {
		return errno(eINVAL)
	}
	if procByPID(pid) < 0 {
		if findTID(pid) >= 0 {
			return errno(eINVAL)
		}
		return errno(eSRCH)
	}
	return pidfdNew(pid, flags)
}

// pidfdNew makes the pidfd of pid in the caller's table.
func pidfdNew(pid int32, flags uint64) uint64 {
	fd := newFile(filePidfd, flags|oCloexec)
	if int64(fd) >= 0 {
		fdFile(int32(fd)).count = uint64(pid)
	}
	return fd
}

// pidfdSendSignal is pidfd_send_signal(pidfd, sig, info, flags): kill of
// the pidfd's process (ESRCH once it has been reaped; 0 for a zombie, the
// signal lost). flags must be 0; a siginfo given must name sig (EINVAL),
// and only a process's own may claim to come from the kernel (si_code
// >= 0 or SI_TKILL: EPERM).
func pidfdSendSignal(t *thread, fd int32, sig, info, flags uint64) uint64 {
	if flags != 0 {
		return errno(eINVAL)
	}
	f := fdFile(fd)
	if f == nil || f.kind != filePidfd {
		return errno(eBADF)
	}
	pid := int32(f.count)
	if info != 0 {
		var si [3]int32 // si_signo, si_errno, si_code
		if !copyIn(bytesOf(&si), info) {
			return errno(eFAULT)
		}
		if uint64(si[0]) != sig {
			return errno(eINVAL)
		}
		if pid != curPID() && (si[2] >= 0 || si[2] == siTkill) {
			return errno(ePERM)
		}
	}
	if sig >= nsig {
		return errno(eINVAL)
	}
	if procByPID(pid) < 0 {
		return errno(eSRCH)
	}
	if pid == curPID() {
		return sysKillProcess(pid, sig)
	}
	return procKillPID(pid, sig)
}

// pidfdReady is a pidfd's poll events: readable once its process has
// ended (or been reaped).
func pidfdReady(f *openFile) uint32 {
	if j := procByPID(int32(f.count)); j >= 0 && procs[j].state == procRunning {
		return 0
	}
	return epollIn | epollRdNorm
}

// pidfdsEnded tells epoll that process pid has ended: every program's
// pidfds for it are readable now.
func pidfdsEnded(pid int32) {
	for prog := int32(1); prog <= maxProcs; prog++ {
		if procs[prog-1].state != procRunning {
			continue
		}
		pg := progIndex(prog)
		for i := range pg.files {
			if f := &pg.files[i]; f.kind == filePidfd && int32(f.count) == pid {
				fileNotifyIn(prog, f, epollIn|epollRdNorm)
			}
		}
	}
}
