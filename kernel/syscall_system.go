//go:build hurdvm

// System calls about the system and the process: prlimit64 and
// getrlimit, prctl, uname (getrandom is in random.go). Handler context.

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
	var nl [2]uint64
	if newp != 0 {
		if !copyIn(bytesOf(&nl), newp) {
			return errno(eFAULT)
		}
		if nl[0] > nl[1] {
			return errno(eINVAL)
		}
		if nl[1] > rlimits[resource][1] {
			return errno(ePERM)
		}
	}
	if oldp != 0 && !copyOut(oldp, bytesOf(&rlimits[resource])) {
		return errno(eFAULT)
	}
	if newp != 0 {
		rlimits[resource] = nl
	}
	return 0
}

// sysPrctlOp: nothing the Go runtime asks of prctl changes anything here
// (it names its memory with PR_SET_VMA, which Linux without
// CONFIG_ANON_VMA_NAME refuses too).
func sysPrctlOp(option uint64) uint64 {
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
