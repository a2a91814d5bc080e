package syscalls

// rt_sigaction, rt_sigprocmask, sigaltstack, kill, tkill and tgkill.
// Linux's side is kernel/signal.c. The rows change only what they put
// back: SIGUSR2's action (the test never sends SIGUSR2), the calling
// thread's mask and alternate stack.

import (
	"syscall"
)

const (
	sigUSR2    = 12
	sigURG     = 23
	sigsetSize = 8

	sigBlock   = 0
	sigUnblock = 1
	sigSetmask = 2

	ssOnstack    = 1
	ssDisable    = 2
	ssAutodisarm = 1 << 31
	minSigStkSz  = 2048 // MINSIGSTKSZ

	missingID = 1 << 30 // above pid_max: no such process or thread
)

func sigbit(sig int) uint64 { return 1 << (sig - 1) }

// unblockable are the signals no mask holds.
var unblockable = sigbit(int(syscall.SIGKILL)) | sigbit(int(syscall.SIGSTOP))

func sigaction(sig, act, oact, size uintptr) string {
	return answer(sys(syscall.SYS_RT_SIGACTION, sig, act, oact, size))
}

// actionOf copies sig's action (struct sigaction: handler, flags,
// restorer, mask) to scratch and returns where.
func actionOf(sig uintptr) uintptr {
	a := scratch() + scratchAction
	must(sys(syscall.SYS_RT_SIGACTION, sig, 0, a, sigsetSize))
	return a
}

// currentMask copies the thread's signal mask to scratch and returns where.
func currentMask() uintptr {
	m := scratch() + scratchMask
	must(sys(syscall.SYS_RT_SIGPROCMASK, sigBlock, 0, m, sigsetSize))
	return m
}

// setMask makes mask the thread's signal mask.
func setMask(mask uint64) {
	m := scratch() + scratchMask2
	poke64(m, mask)
	must(sys(syscall.SYS_RT_SIGPROCMASK, sigSetmask, m, 0, sigsetSize))
}

// withMaskRestored runs f and puts the thread's signal mask back.
func withMaskRestored(f func() string) string {
	old := peek64(currentMask())
	defer setMask(old)
	return f()
}

// stack is a stack_t.
type stack struct {
	sp    uint64
	flags uint32
	size  uint64
}

func pokeStack(a uintptr, s stack) {
	poke64(a, s.sp)
	poke32(a+8, s.flags)
	poke32(a+12, 0)
	poke64(a+16, s.size)
}

func peekStack(a uintptr) stack { return stack{peek64(a), peek32(a + 8), peek64(a + 16)} }

// altstack is the thread's alternate signal stack.
func altstack() stack {
	a := scratch() + scratchStack2
	must(sys(syscall.SYS_SIGALTSTACK, 0, a))
	return peekStack(a)
}

// setAltstack asks sigaltstack for s.
func setAltstack(s stack) string {
	a := scratch() + scratchStack
	pokeStack(a, s)
	return answer(sys(syscall.SYS_SIGALTSTACK, a, 0))
}

// onAltstackRestored runs f with the thread's alternate signal stack (the
// Go runtime's, cur) put back afterwards, and meanwhile every signal
// blocked but the faults: none may arrive on a stack f set up.
func onAltstackRestored(f func(cur stack) string) func() string {
	return func() string {
		return withMaskRestored(func() string {
			setMask(^uint64(0) &^ (sigbit(4) | sigbit(5) | sigbit(7) | sigbit(8) | sigbit(11)))
			cur := altstack()
			defer setAltstack(cur)
			return f(cur)
		})
	}
}

// describeAltstack is sigaltstack(NULL, &old)'s answer with old's flags.
func describeAltstack() string {
	a := scratch() + scratchStack2
	r, e := sys(syscall.SYS_SIGALTSTACK, 0, a)
	if e != 0 {
		return errnoName(e)
	}
	s := peekStack(a)
	return join(answer(r, e), fact("flags", uint64(s.flags)))
}

func gettid() uintptr { r, _ := sys(syscall.SYS_GETTID); return r }
func getpid() uintptr { r, _ := sys(syscall.SYS_GETPID); return r }

func signalRows() []row {
	rows := []row{
		{name: "rt_sigaction/read", want: "0,handler", call: func() string {
			a := scratch() + scratchAction
			r := sigaction(sigUSR2, 0, a, sigsetSize)
			return join(r, check("handler", peek64(a) != 0))
		}},
		{name: "rt_sigaction/set-same", want: "0", call: func() string { return sigaction(sigUSR2, actionOf(sigUSR2), 0, sigsetSize) }},
		{name: "rt_sigaction/null-null", want: "0", call: func() string { return sigaction(sigUSR2, 0, 0, sigsetSize) }},
		// SIGKILL's and SIGSTOP's actions can be read, not set
		// (do_sigaction: act && sig_kernel_only(sig)).
		{name: "rt_sigaction/sigkill-read", want: "0", call: func() string { return sigaction(9, 0, scratch()+scratchAction2, sigsetSize) }},
		{name: "rt_sigaction/sigkill-set", want: "EINVAL", call: func() string { return sigaction(9, actionOf(sigUSR2), 0, sigsetSize) }},
		{name: "rt_sigaction/sigstop-read", want: "0", call: func() string { return sigaction(19, 0, scratch()+scratchAction2, sigsetSize) }},
		{name: "rt_sigaction/sigstop-set", want: "EINVAL", call: func() string { return sigaction(19, actionOf(sigUSR2), 0, sigsetSize) }},
		{name: "rt_sigaction/sig-0", want: "EINVAL", call: func() string { return sigaction(0, 0, scratch()+scratchAction2, sigsetSize) }},
		{name: "rt_sigaction/sig-64", want: "0", call: func() string { return sigaction(64, 0, scratch()+scratchAction2, sigsetSize) }},
		{name: "rt_sigaction/sig-65", want: "EINVAL", call: func() string { return sigaction(65, 0, scratch()+scratchAction2, sigsetSize) }},
		{name: "rt_sigaction/sig-minus-1", want: "EINVAL", call: func() string { return sigaction(neg(-1), 0, scratch()+scratchAction2, sigsetSize) }},
		{name: "rt_sigaction/sigsetsize-3", want: "EINVAL", call: func() string { return sigaction(sigUSR2, 0, scratch()+scratchAction2, 3) }},
		{name: "rt_sigaction/sigsetsize-16", want: "EINVAL", call: func() string { return sigaction(sigUSR2, 0, scratch()+scratchAction2, 16) }},
		// The new action is copied in before the signal is looked at.
		{name: "rt_sigaction/bad-act-before-bad-sig", want: "EFAULT", call: func() string { return sigaction(0, kernelHalf, 0, sigsetSize) }},
		// SIGKILL and SIGSTOP are taken out of sa_mask (do_sigaction).
		{name: "rt_sigaction/mask-drops-unblockable", want: "0,dropped", call: func() string {
			old := actionOf(sigUSR2)
			act := scratch() + scratchAction2
			for i := uintptr(0); i < 32; i += 8 {
				poke64(act+i, peek64(old+i))
			}
			defer sigaction(sigUSR2, act, 0, sigsetSize)
			poke64(old+24, peek64(old+24)|unblockable)
			r := sigaction(sigUSR2, old, 0, sigsetSize)
			return join(r, check("dropped", peek64(actionOf(sigUSR2)+24)&unblockable == 0))
		}},

		{name: "rt_sigprocmask/read", want: "0", call: func() string {
			return answer(sys(syscall.SYS_RT_SIGPROCMASK, sigBlock, 0, scratch()+scratchOther, sigsetSize))
		}},
		{name: "rt_sigprocmask/block-nothing", want: "0", call: func() string {
			m := scratch() + scratchOther
			poke64(m, 0)
			return answer(sys(syscall.SYS_RT_SIGPROCMASK, sigBlock, m, 0, sigsetSize))
		}},
		{name: "rt_sigprocmask/block-usr2", want: "0,blocked", call: func() string {
			return withMaskRestored(func() string {
				m := scratch() + scratchOther
				poke64(m, sigbit(sigUSR2))
				r := answer(sys(syscall.SYS_RT_SIGPROCMASK, sigBlock, m, 0, sigsetSize))
				return join(r, check("blocked", peek64(currentMask())&sigbit(sigUSR2) != 0))
			})
		}},
		{name: "rt_sigprocmask/unblockable", want: "0,dropped", call: func() string {
			return withMaskRestored(func() string {
				m := scratch() + scratchOther
				poke64(m, unblockable)
				r := answer(sys(syscall.SYS_RT_SIGPROCMASK, sigBlock, m, 0, sigsetSize))
				return join(r, check("dropped", peek64(currentMask())&unblockable == 0))
			})
		}},
		{name: "rt_sigprocmask/bad-how", want: "EINVAL", call: func() string {
			m := scratch() + scratchOther
			poke64(m, 0)
			return answer(sys(syscall.SYS_RT_SIGPROCMASK, 3, m, 0, sigsetSize))
		}},
		// Without a new set, how is never looked at.
		{name: "rt_sigprocmask/bad-how-no-set", want: "0", call: func() string {
			return answer(sys(syscall.SYS_RT_SIGPROCMASK, 3, 0, scratch()+scratchOther, sigsetSize))
		}},
		{name: "rt_sigprocmask/sigsetsize-3", want: "EINVAL", call: func() string {
			return answer(sys(syscall.SYS_RT_SIGPROCMASK, sigBlock, 0, scratch()+scratchOther, 3))
		}},
		{name: "rt_sigprocmask/sigsetsize-16", want: "EINVAL", call: func() string {
			return answer(sys(syscall.SYS_RT_SIGPROCMASK, sigBlock, 0, scratch()+scratchOther, 16))
		}},

		{name: "sigaltstack/read", want: "0,flags=0,room", call: func() string {
			a := scratch() + scratchStack2
			r := answer(sys(syscall.SYS_SIGALTSTACK, 0, a))
			s := peekStack(a)
			return join(r, fact("flags", uint64(s.flags)), check("room", s.sp != 0 && s.size >= minSigStkSz))
		}},
		{name: "sigaltstack/null-null", want: "0", call: func() string { return answer(sys(syscall.SYS_SIGALTSTACK, 0, 0)) }},
		{name: "sigaltstack/set-same", want: "0", call: onAltstackRestored(func(cur stack) string { return setAltstack(cur) })},
		{name: "sigaltstack/set-new", want: "0,then-mine", call: onAltstackRestored(func(cur stack) string {
			return onPages(16, func(a uintptr) string {
				r := setAltstack(stack{sp: uint64(a), size: 16 * pageSize})
				s := altstack()
				return join(r, check("then-mine", s.sp == uint64(a) && s.size == 16*pageSize && s.flags == 0))
			})
		})},
		// do_sigaltstack: less than MINSIGSTKSZ is ENOMEM.
		{name: "sigaltstack/size-2047", want: "ENOMEM", call: onAltstackRestored(func(cur stack) string {
			return setAltstack(stack{sp: cur.sp, size: minSigStkSz - 1})
		})},
		{name: "sigaltstack/size-2048", want: "0", call: onAltstackRestored(func(cur stack) string {
			return setAltstack(stack{sp: cur.sp, size: minSigStkSz})
		})},
		{name: "sigaltstack/size-0", want: "ENOMEM", call: onAltstackRestored(func(cur stack) string { return setAltstack(stack{sp: cur.sp}) })},
		{name: "sigaltstack/flags-99", want: "EINVAL", call: onAltstackRestored(func(cur stack) string {
			return setAltstack(stack{sp: cur.sp, size: cur.size, flags: 99})
		})},
		// SS_ONSTACK as a mode is accepted and means enabled.
		{name: "sigaltstack/flags-onstack", want: "0,then=0,flags=0", call: onAltstackRestored(func(cur stack) string {
			return join(setAltstack(stack{sp: cur.sp, size: cur.size, flags: ssOnstack}), "then="+describeAltstack())
		})},
		{name: "sigaltstack/flags-autodisarm", want: "0", call: onAltstackRestored(func(cur stack) string {
			return setAltstack(stack{sp: cur.sp, size: cur.size, flags: ssAutodisarm})
		})},
		{name: "sigaltstack/disable", want: "0,then=0,flags=2", call: onAltstackRestored(func(cur stack) string {
			return join(setAltstack(stack{flags: ssDisable}), "then="+describeAltstack())
		})},
		// On the alternate stack it cannot be changed (EPERM), and
		// reading it says SS_ONSTACK (do_sigaltstack, sas_ss_flags).
		{name: "sigaltstack/on-it", want: "EPERM", call: onAltstackRestored(func(cur stack) string {
			a := scratch() + scratchStack
			pokeStack(a, cur)
			return answer(rawResult(syscallOnStack(midStack(cur), syscall.SYS_SIGALTSTACK, a, 0)))
		})},
		{name: "sigaltstack/on-it-disable", want: "EPERM", call: onAltstackRestored(func(cur stack) string {
			a := scratch() + scratchStack
			pokeStack(a, stack{flags: ssDisable})
			return answer(rawResult(syscallOnStack(midStack(cur), syscall.SYS_SIGALTSTACK, a, 0)))
		})},
		{name: "sigaltstack/on-it-read", want: "0,flags=1", call: onAltstackRestored(func(cur stack) string {
			a := scratch() + scratchStack2
			r, e := rawResult(syscallOnStack(midStack(cur), syscall.SYS_SIGALTSTACK, 0, a))
			if e != 0 {
				return errnoName(e)
			}
			return join(answer(r, e), fact("flags", uint64(peekStack(a).flags)))
		})},

		{name: "tgkill/self-0", want: "0", call: func() string { return answer(sys(syscall.SYS_TGKILL, getpid(), gettid(), 0)) }},
		{name: "tgkill/self-sigurg", want: "0", call: func() string { return answer(sys(syscall.SYS_TGKILL, getpid(), gettid(), sigURG)) }},
		{name: "tgkill/tid-minus-1", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_TGKILL, getpid(), neg(-1), 0)) }},
		{name: "tgkill/tid-0", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_TGKILL, getpid(), 0, 0)) }},
		{name: "tgkill/tgid-minus-1", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_TGKILL, neg(-1), gettid(), 0)) }},
		{name: "tgkill/missing-tid", want: "ESRCH", call: func() string { return answer(sys(syscall.SYS_TGKILL, getpid(), missingID, 0)) }},
		// The thread must be in the thread group named (do_send_specific).
		{name: "tgkill/wrong-tgid", want: "ESRCH", call: func() string { return answer(sys(syscall.SYS_TGKILL, missingID, gettid(), 0)) }},
		{name: "tgkill/sig-65", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_TGKILL, getpid(), gettid(), 65)) }},
		// The thread is looked up before the signal is checked.
		{name: "tgkill/missing-tid-sig-65", want: "ESRCH", call: func() string { return answer(sys(syscall.SYS_TGKILL, getpid(), missingID, 65)) }},

		{name: "tkill/self-0", want: "0", call: func() string { return answer(sys(syscall.SYS_TKILL, gettid(), 0)) }},
		{name: "tkill/tid-0", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_TKILL, 0, 0)) }},
		{name: "tkill/tid-minus-1", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_TKILL, neg(-1), 0)) }},
		{name: "tkill/missing-tid", want: "ESRCH", call: func() string { return answer(sys(syscall.SYS_TKILL, missingID, 0)) }},
		{name: "tkill/sig-65", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_TKILL, gettid(), 65)) }},

		{name: "kill/self-0", want: "0", call: func() string { return answer(sys(syscall.SYS_KILL, getpid(), 0)) }},
		{name: "kill/self-sigurg", want: "0", call: func() string { return answer(sys(syscall.SYS_KILL, getpid(), sigURG)) }},
		// pid 0 is the caller's process group (kill_something_info).
		{name: "kill/group-0", want: "0", call: func() string { return answer(sys(syscall.SYS_KILL, 0, 0)) }},
		{name: "kill/missing-pid", want: "ESRCH", call: func() string { return answer(sys(syscall.SYS_KILL, missingID, 0)) }},
		{name: "kill/missing-group", want: "ESRCH", call: func() string { return answer(sys(syscall.SYS_KILL, neg(-missingID), 0)) }},
		{name: "kill/int-min", want: "ESRCH", call: func() string { return answer(sys(syscall.SYS_KILL, 0x8000_0000, 0)) }},
		{name: "kill/sig-65", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_KILL, getpid(), 65)) }},
		{name: "kill/sig-minus-1", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_KILL, getpid(), neg(-1))) }},
	}
	rows = append(rows, pointerRows("rt_sigaction/act", reads, absentIf(efault, "0"), func(p uintptr) string {
		return sigaction(sigUSR2, p, 0, sigsetSize)
	})...)
	rows = append(rows, pointerRows("rt_sigaction/oact", writes, absentIf(efault, "0"), func(p uintptr) string {
		return sigaction(sigUSR2, 0, p, sigsetSize)
	})...)
	rows = append(rows, pointerRows("rt_sigprocmask/set", reads, absentIf(efault, "0"), func(p uintptr) string {
		return withMaskRestored(func() string { return answer(sys(syscall.SYS_RT_SIGPROCMASK, sigBlock, p, 0, sigsetSize)) })
	})...)
	rows = append(rows, pointerRows("rt_sigprocmask/oset", writes, absentIf(efault, "0"), func(p uintptr) string {
		return answer(sys(syscall.SYS_RT_SIGPROCMASK, sigBlock, 0, p, sigsetSize))
	})...)
	rows = append(rows, pointerRows("sigaltstack/ss", reads, absentIf(efault, "0"), func(p uintptr) string {
		return onAltstackRestored(func(cur stack) string { return answer(sys(syscall.SYS_SIGALTSTACK, p, 0)) })()
	})...)
	rows = append(rows, pointerRows("sigaltstack/old", writes, absentIf(efault, "0"), func(p uintptr) string {
		return answer(sys(syscall.SYS_SIGALTSTACK, 0, p))
	})...)
	return rows
}

// midStack is a stack pointer halfway up s.
func midStack(s stack) uintptr { return uintptr(s.sp+s.size/2) &^ 15 }
