//go:build hurdvm

// System calls about the system and the process: prlimit64 and
// getrlimit, prctl, uname, getcpu (getrandom is in random.go). Handler
// context.

package kernel

// Resource limits, as Linux numbers them.
const (
	rlimitStack  = 3
	rlimitNofile = 7
	rlimitCount  = 16 // RLIM_NLIMITS
)

// rlimits are the limits the program set or found: none but the stack and
// the descriptors. A constant table, not code: the runtime and package
// syscall ask before this package's variables are initialised.
var rlimits = [rlimitCount][2]uint64{
	{unlimited, unlimited},
	{unlimited, unlimited},
	{unlimited, unlimited},
	{8 << 20, unlimited}, // RLIMIT_STACK: Linux's default
	{unlimited, unlimited},
	{unlimited, unlimited},
	{unlimited, unlimited},
	{maxFDs, maxFDs}, // RLIMIT_NOFILE: the descriptor table
	{unlimited, unlimited},
	{unlimited, unlimited},
	{unlimited, unlimited},
	{unlimited, unlimited},
	{unlimited, unlimited},
	{unlimited, unlimited},
	{unlimited, unlimited},
	{unlimited, unlimited},
}

const unlimited = ^uint64(0)

// sysPrlimit is prlimit64(pid, resource, new, old) (getrlimit is pid 0,
// no new limit). A new limit may lower the hard limit or move the soft
// one below it, as an unprivileged process may; raising the hard limit is
// EPERM.
func sysPrlimit(pid int32, resource, newp, oldp uint64) uint64 {
	if pid != 0 && pid != processID {
		return errno(eSRCH)
	}
	if resource >= rlimitCount {
		return errno(eINVAL)
	}
	return rlimitCall(&rlimits, resource, newp, oldp, rlimits[resource][1])
}

// rlimitCall is prlimit64's work on a program's table of limits tbl for
// resource (checked): the new limit read (EFAULT), a soft limit above its
// hard one EINVAL, a hard one above hardMax EPERM; the old limit written
// (EFAULT) before the new one is set.
func rlimitCall(tbl *[rlimitCount][2]uint64, resource, newp, oldp, hardMax uint64) uint64 {
	var nl [2]uint64
	if newp != 0 {
		if !copyIn(bytesOf(&nl), newp) {
			return errno(eFAULT)
		}
		if nl[0] > nl[1] {
			return errno(eINVAL)
		}
		if nl[1] > hardMax {
			return errno(ePERM)
		}
	}
	if oldp != 0 && !copyOut(oldp, bytesOf(&tbl[resource])) {
		return errno(eFAULT)
	}
	if newp != 0 {
		tbl[resource] = nl
	}
	return 0
}

// prctl options hurdvm serves (Linux's values).
const (
	prSetPdeathsig  = 1
	prGetPdeathsig  = 2
	prGetDumpable   = 3
	prSetDumpable   = 4
	prGetKeepcaps   = 7
	prSetKeepcaps   = 8
	prSetName       = 15
	prGetName       = 16
	prSetTimerslack = 29
	prGetTimerslack = 30

	defaultTimerslack = 50_000 // ns, Linux's
)

// sysPrctlOp serves the prctl options a Go program meets: the thread's
// name (16 bytes, NUL-terminated), the parent-death signal (kept: hurdvm
// has no parent process), dumpable and the timer slack (reported, no
// effect), the keep-capabilities flag (kept and read back). Anything else is EINVAL, as Linux answers for an option it
// does not know (the runtime's PR_SET_VMA, without CONFIG_ANON_VMA_NAME).
func sysPrctlOp(t *thread, option, arg uint64) uint64 {
	switch option {
	case prSetName:
		var name [16]byte
		if userCopyPartial(name[:15], arg) == 0 {
			return errno(eFAULT)
		}
		for i, c := range name {
			if c == 0 {
				clear(name[i:]) // the string ends at its NUL
				break
			}
		}
		t.name = name
		return 0
	case prGetName:
		if !copyOut(arg, t.name[:]) {
			return errno(eFAULT)
		}
		return 0
	case prSetPdeathsig:
		if arg >= nsig {
			return errno(eINVAL)
		}
		t.pdeathsig = uint32(arg)
		return 0
	case prGetPdeathsig:
		if !writeUser32(arg, t.pdeathsig) {
			return errno(eFAULT)
		}
		return 0
	case prGetDumpable:
		return 1
	case prSetDumpable:
		if arg > 1 {
			return errno(eINVAL)
		}
		return 0
	case prGetKeepcaps:
		if t.keepCaps {
			return 1
		}
		return 0
	case prSetKeepcaps:
		if arg > 1 {
			return errno(eINVAL)
		}
		t.keepCaps = arg == 1
		return 0
	case prGetTimerslack:
		return defaultTimerslack
	case prSetTimerslack:
		return 0
	}
	return errno(eINVAL)
}

func sysUnameInfo(buf uint64) uint64 {
	var u [6][65]byte
	fields := [6]string{"Linux", "hurdvm", "6.1.0-hurdvm", "#1", "x86_64", "(none)"}
	for i, s := range fields {
		copy(u[i][:], s)
	}
	if !copyOut(buf, bytesOf(&u)) {
		return errno(eFAULT)
	}
	return 0
}

// sysGetcpuOp is getcpu(cpu, node, cache): the CPU the caller runs on
// (its index, 0 the boot CPU) and its NUMA node (hurdvm has one, 0).
// Either pointer may be NULL; the cache argument is ignored, as Linux
// 6.1 does (kernel/sys.c). As there, the CPU is written even when the
// node pointer is bad, and the answer is then EFAULT.
func sysGetcpuOp(cpup, nodep uint64) uint64 {
	ok := true
	if cpup != 0 {
		ok = writeUser32(cpup, uint32(thisCPU().index))
	}
	if nodep != 0 {
		ok = writeUser32(nodep, 0) && ok
	}
	if !ok {
		return errno(eFAULT)
	}
	return 0
}
