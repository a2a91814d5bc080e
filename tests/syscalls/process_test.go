package syscalls

// getrandom, prlimit64, getrlimit, prctl, uname, getcpu, and system call
// numbers no kernel serves. Linux's side is drivers/char/random.c, kernel/sys.c
// and arch/x86/entry/common.c.

import (
	"runtime"
	"syscall"
	"unsafe"
)

const (
	grndNonblock = 1
	grndRandom   = 2
	grndInsecure = 4

	rlimitStack  = 3
	rlimitNofile = 7
	rlimNLimits  = 16

	prSetPdeathsig  = 1
	prGetPdeathsig  = 2
	prGetDumpable   = 3
	prSetName       = 15
	prGetName       = 16
	prGetTimerslack = 30
)

func getrandom(buf, n, flags uintptr) string { return answer(sys(sysGetrandom, buf, n, flags)) }

// prlimit answers prlimit64(pid, resource, new, old).
func prlimit(pid, resource, new, old uintptr) string {
	return answer(sys(syscall.SYS_PRLIMIT64, pid, resource, new, old))
}

// limitOf copies resource's limits (struct rlimit64: cur, max) to scratch
// and returns where.
func limitOf(resource uintptr) uintptr {
	a := scratch() + scratchOther
	must(sys(syscall.SYS_PRLIMIT64, 0, resource, 0, a))
	return a
}

// cString is the NUL-terminated string at a, at most n bytes.
func cString(a uintptr, n int) string {
	b := unsafe.Slice((*byte)(mem(a)), n)
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// getcpu answers getcpu(cpu, node, cache).
func getcpu(cpu, node, cache uintptr) string { return answer(sys(sysGetcpu, cpu, node, cache)) }

// cpuInRange says whether the CPU number at a names a CPU of the machine
// (sched_getaffinity's count, which hurdvm makes at least 2).
func cpuInRange(a uintptr) string { return check("cpu-in-range", int(peek32(a)) < runtime.NumCPU()) }

func processRows() []row {
	rows := []row{
		{name: "getrandom/16", want: "16,filled", call: func() string {
			return onPages(1, func(a uintptr) string { return join(getrandom(a, 16, 0), check("filled", !allZero(a, 16))) })
		}},
		{name: "getrandom/0", want: "0", call: func() string { return onPages(1, func(a uintptr) string { return getrandom(a, 0, 0) }) }},
		{name: "getrandom/nonblock", want: "16", call: func() string { return onPages(1, func(a uintptr) string { return getrandom(a, 16, grndNonblock) }) }},
		{name: "getrandom/random", want: "16", call: func() string { return onPages(1, func(a uintptr) string { return getrandom(a, 16, grndRandom) }) }},
		{name: "getrandom/insecure", want: "16", call: func() string { return onPages(1, func(a uintptr) string { return getrandom(a, 16, grndInsecure) }) }},
		{name: "getrandom/flags-0xff", want: "EINVAL", call: func() string { return onPages(1, func(a uintptr) string { return getrandom(a, 16, 0xff) }) }},
		// GRND_INSECURE with GRND_RANDOM makes no sense: EINVAL.
		{name: "getrandom/insecure-random", want: "EINVAL", call: func() string {
			return onPages(1, func(a uintptr) string { return getrandom(a, 16, grndInsecure|grndRandom) })
		}},
		// The flags are checked before the buffer.
		{name: "getrandom/bad-flags-null-buffer", want: "EINVAL", call: func() string { return getrandom(0, 16, 0xff) }},
		// What fits before the hole is written, and counted.
		{name: "getrandom/into-hole", want: "8", call: func() string {
			a := pageBeforeHole()
			defer unmapPages(a, 1)
			return getrandom(a+pageSize-8, 16, 0)
		}},

		{name: "prlimit64/nofile", want: "0,cur-within-max", call: func() string {
			a := scratch() + scratchOther
			r := prlimit(0, rlimitNofile, 0, a)
			return join(r, check("cur-within-max", peek64(a) <= peek64(a+8)))
		}},
		{name: "prlimit64/stack", want: "0", call: func() string { return prlimit(0, rlimitStack, 0, scratch()+scratchOther) }},
		{name: "prlimit64/self-pid", want: "0", call: func() string { return prlimit(getpid(), rlimitNofile, 0, scratch()+scratchOther) }},
		{name: "prlimit64/missing-pid", want: "ESRCH", call: func() string { return prlimit(missingID, rlimitNofile, 0, scratch()+scratchOther) }},
		{name: "prlimit64/resource-16", want: "EINVAL", call: func() string { return prlimit(0, rlimNLimits, 0, scratch()+scratchOther) }},
		{name: "prlimit64/resource-99", want: "EINVAL", call: func() string { return prlimit(0, 99, 0, scratch()+scratchOther) }},
		{name: "prlimit64/none", want: "0", call: func() string { return prlimit(0, rlimitNofile, 0, 0) }},
		// do_prlimit checks the resource even when nothing is read or set.
		{name: "prlimit64/none-resource-99", want: "EINVAL", call: func() string { return prlimit(0, 99, 0, 0) }},
		{name: "prlimit64/set-same", want: "0", call: func() string { return prlimit(0, rlimitNofile, limitOf(rlimitNofile), 0) }},
		{name: "prlimit64/cur-above-max", want: "EINVAL", call: func() string {
			a := scratch() + scratchAction2
			poke64(a, 2)
			poke64(a+8, 1)
			return prlimit(0, rlimitNofile, a, 0)
		}},
		{name: "getrlimit/nofile", want: "0", call: func() string { return answer(sys(syscall.SYS_GETRLIMIT, rlimitNofile, scratch()+scratchOther)) }},
		{name: "getrlimit/resource-99", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_GETRLIMIT, 99, scratch()+scratchOther)) }},

		{name: "prctl/get-name", want: "0,named", call: func() string {
			a := scratch() + scratchOther
			poke64(a, 0)
			return join(answer(sys(syscall.SYS_PRCTL, prGetName, a)), check("named", peek64(a) != 0))
		}},
		{name: "prctl/set-name-same", want: "0", call: func() string {
			a := scratch() + scratchText
			must(sys(syscall.SYS_PRCTL, prGetName, a))
			return answer(sys(syscall.SYS_PRCTL, prSetName, a))
		}},
		{name: "prctl/get-pdeathsig", want: "0,value=0", call: func() string {
			a := scratch() + scratchOther
			poke32(a, 99)
			return join(answer(sys(syscall.SYS_PRCTL, prGetPdeathsig, a)), fact("value", uint64(peek32(a))))
		}},
		{name: "prctl/set-pdeathsig-99", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_PRCTL, prSetPdeathsig, 99)) }},
		{name: "prctl/get-dumpable", want: "1", call: func() string { return answer(sys(syscall.SYS_PRCTL, prGetDumpable)) }},
		{name: "prctl/get-timerslack", want: "50000", call: func() string { return answer(sys(syscall.SYS_PRCTL, prGetTimerslack)) }},
		{name: "prctl/unknown-option", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_PRCTL, 1000)) }},

		{name: "uname", want: "0,Linux,x86_64", call: func() string {
			return onPages(1, func(a uintptr) string {
				return join(answer(sys(syscall.SYS_UNAME, a)), cString(a, 65), cString(a+4*65, 65))
			})
		}},

		{name: "getcpu/cpu-and-node", want: "0,cpu-in-range,node=0", call: func() string {
			a := scratch() + scratchOther
			poke32(a, ^uint32(0))
			poke32(a+4, 99)
			return join(getcpu(a, a+4, 0), cpuInRange(a), fact("node", uint64(peek32(a+4))))
		}},
		{name: "getcpu/cpu-only", want: "0,cpu-in-range", call: func() string {
			a := scratch() + scratchOther
			poke32(a, ^uint32(0))
			return join(getcpu(a, 0, 0), cpuInRange(a))
		}},
		{name: "getcpu/none", want: "0", call: func() string { return getcpu(0, 0, 0) }},
		// The third argument (the old getcpu_cache) is not looked at.
		{name: "getcpu/cache-ignored", want: "0", call: func() string {
			a := scratch() + scratchOther
			return getcpu(a, a+4, kernelHalf)
		}},
		// The CPU is written before the node pointer fails (kernel/sys.c:
		// err |= put_user for each, then -EFAULT).
		{name: "getcpu/bad-node-cpu-written", want: "EFAULT,cpu-in-range", call: func() string {
			a := scratch() + scratchOther
			poke32(a, ^uint32(0))
			return join(getcpu(a, unmappedPage(), 0), cpuInRange(a))
		}},
		{name: "getcpu/cpu-into-hole", want: "EFAULT", call: func() string {
			a := pageBeforeHole()
			defer unmapPages(a, 1)
			return getcpu(a+pageSize-2, 0, 0)
		}},

		{name: "syscall/500", want: "ENOSYS", call: func() string { return answer(sys(500)) }},
		{name: "syscall/1000", want: "ENOSYS", call: func() string { return answer(sys(1000)) }},
		{name: "syscall/minus-1", want: "ENOSYS", call: func() string { return answer(sys(^uintptr(0))) }},
		// The number is an int: the register's high half is not part of
		// it (do_syscall_64), so this is getpid.
		{name: "syscall/high-bits-getpid", want: "getpid", call: func() string {
			r, e := sys(1<<32 | syscall.SYS_GETPID)
			if e != 0 {
				return errnoName(e)
			}
			return check("getpid", r == getpid())
		}},
		// The x32 numbers (bit 30) are off in Debian's kernel.
		{name: "syscall/x32-getpid", want: "ENOSYS", call: func() string { return answer(sys(0x4000_0000 | syscall.SYS_GETPID)) }},
	}
	rows = append(rows, pointerRows("getrandom/buffer", writes, efault, func(p uintptr) string { return getrandom(p, 16, 0) })...)
	rows = append(rows, pointerRows("prlimit64/old", writes, absentIf(efault, "0"), func(p uintptr) string { return prlimit(0, rlimitNofile, 0, p) })...)
	rows = append(rows, pointerRows("prlimit64/new", reads, absentIf(efault, "0"), func(p uintptr) string { return prlimit(0, rlimitNofile, p, 0) })...)
	rows = append(rows, pointerRows("getrlimit/buffer", writes, efault, func(p uintptr) string {
		return answer(sys(syscall.SYS_GETRLIMIT, rlimitNofile, p))
	})...)
	rows = append(rows, pointerRows("prctl/get-name", writes, efault, func(p uintptr) string { return answer(sys(syscall.SYS_PRCTL, prGetName, p)) })...)
	rows = append(rows, pointerRows("prctl/set-name", reads, efault, func(p uintptr) string { return answer(sys(syscall.SYS_PRCTL, prSetName, p)) })...)
	rows = append(rows, pointerRows("getcpu/cpu", writes, absentIf(efault, "0"), func(p uintptr) string { return getcpu(p, 0, 0) })...)
	rows = append(rows, pointerRows("getcpu/node", writes, absentIf(efault, "0"), func(p uintptr) string { return getcpu(0, p, 0) })...)
	rows = append(rows, pointerRows("uname/buffer", writes, efault, func(p uintptr) string { return answer(sys(syscall.SYS_UNAME, p)) })...)
	return rows
}
