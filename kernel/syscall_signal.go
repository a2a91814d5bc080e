//go:build hurdvm

// The signal system calls: rt_sigaction, rt_sigprocmask, sigaltstack,
// kill, tkill and tgkill (rt_sigreturn is in signal.go). Checks and their
// order are Linux 6.1's (kernel/signal.c). Handler context.

package kernel

// sigsetSize is sizeof(sigset_t) in the kernel's ABI: 64 signals.
const sigsetSize = 8

func validSignal(sig uint64) bool { return sig >= 1 && sig < nsig }

func sysSigaction(sig, act, oact, setsize uint64) uint64 {
	if setsize != sigsetSize {
		return errno(eINVAL)
	}
	var na sigaction
	if act != 0 && !copyIn(bytesOf(&na), act) {
		return errno(eFAULT)
	}
	if !validSignal(sig) || act != 0 && (sig == sigKILL || sig == sigSTOP) {
		return errno(eINVAL)
	}
	me := thr(current()).proc
	pg := progIndex(me)
	old := pg.sigactions[sig]
	if act != 0 {
		na.mask &^= unblockable
		pg.sigactions[sig] = na
		if ignored(pg, uint32(sig)) {
			// POSIX: setting a pending signal to be ignored discards it.
			pg.pending &^= sigbit(uint32(sig))
			for i := int32(1); i < threadHigh; i++ {
				if thr(i).proc == me {
					thr(i).pending &^= sigbit(uint32(sig))
				}
			}
		}
	}
	if oact != 0 && !copyOut(oact, bytesOf(&old)) {
		return errno(eFAULT)
	}
	return 0
}

const (
	sigBlock   = 0
	sigUnblock = 1
	sigSetmask = 2
)

func sysSigprocmask(t *thread, how, set, oset, setsize uint64) uint64 {
	if setsize != sigsetSize {
		return errno(eINVAL)
	}
	old := t.sigMask
	if set != 0 {
		v, ok := readUser64(set)
		if !ok {
			return errno(eFAULT)
		}
		switch how {
		case sigBlock:
			t.sigMask |= v
		case sigUnblock:
			t.sigMask &^= v
		case sigSetmask:
			t.sigMask = v
		default:
			return errno(eINVAL)
		}
		t.sigMask &^= unblockable
	}
	if oset != 0 && !writeUser64(oset, old) {
		return errno(eFAULT)
	}
	return 0
}

// stackT is Linux's stack_t.
type stackT struct {
	sp    uint64
	flags uint32
	_     uint32
	size  uint64
}

// sysAltstack is sigaltstack(ss, old_ss): the new stack is read first, the
// old one written last, as Linux does.
func sysAltstack(t *thread, tf *TrapFrame, ss, oldSS uint64) uint64 {
	var old, ns stackT
	old.sp, old.size, old.flags = t.altSP, t.altSize, t.altFlags&ssAutodisarm
	switch {
	case t.altSize == 0:
		old.flags |= ssDisable
	case onAltStack(t, tf.RSP):
		old.flags |= ssOnstack
	}
	if ss != 0 {
		if !copyIn(bytesOf(&ns), ss) {
			return errno(eFAULT)
		}
		if e := setAltStack(t, tf.RSP, ns.sp, ns.flags, ns.size); e != 0 {
			return e
		}
	}
	if oldSS != 0 && !copyOut(oldSS, bytesOf(&old)) {
		return errno(eFAULT)
	}
	return 0
}

// setAltStack is do_sigaltstack's change: not while on the alternate stack
// (EPERM), a known mode (EINVAL), at least MINSIGSTKSZ (ENOMEM).
func setAltStack(t *thread, rsp, sp uint64, flags uint32, size uint64) uint64 {
	if onAltStack(t, rsp) {
		return errno(ePERM)
	}
	mode := flags &^ ssAutodisarm
	if mode != 0 && mode != ssOnstack && mode != ssDisable {
		return errno(eINVAL)
	}
	if mode == ssDisable {
		sp, size = 0, 0
	} else if size < minSigStack {
		return errno(eNOMEM)
	}
	t.altSP, t.altSize, t.altFlags = sp, size, flags&ssAutodisarm
	return 0
}

// sysKillProcess is kill(pid, sig). The calling program (the kernel's,
// process 1, or a process) is alone in its process group (pid 0 reaches
// it too) and reaches no other; sig 0 only checks.
func sysKillProcess(pid int32, sig uint64) uint64 {
	if sig >= nsig {
		return errno(eINVAL)
	}
	if pid != curPID() && pid != 0 {
		return errno(eSRCH) // -1 too: "every process but init and the caller", and it is init
	}
	if sig != 0 {
		sendToProcess(uint32(sig))
	}
	return 0
}

// sysSignalThread is tgkill(tgid, tid, sig), and tkill(tid, sig) with the
// process's own tgid. Linux's order: IDs that cannot be (EINVAL), a thread
// that is not there (ESRCH), then the signal (EINVAL).
func sysSignalThread(tgid, tid int32, sig uint64) uint64 {
	if tid <= 0 || tgid <= 0 {
		return errno(eINVAL)
	}
	i := findTID(tid)
	if i < 0 || tgid != curPID() {
		return errno(eSRCH)
	}
	if sig >= nsig {
		return errno(eINVAL)
	}
	if sig != 0 {
		sendToThread(i, uint32(sig))
	}
	return 0
}
