package syscalls

// clone, arch_prctl, getpid, gettid, sched_yield and sched_getaffinity.
// Linux's side is kernel/fork.c (copy_process), arch/x86/kernel/process.c
// and process_64.c (set_new_tls, do_arch_prctl_64) and
// kernel/sched/core.c.

import (
	"runtime"
	"syscall"
	"time"
)

const (
	cloneVM            = 0x100
	cloneFS            = 0x200
	cloneFiles         = 0x400
	cloneSighand       = 0x800
	cloneThread        = 0x10000
	cloneSysvsem       = 0x40000
	cloneSettls        = 0x80000
	cloneParentSettid  = 0x100000
	cloneChildCleartid = 0x200000
	// runtimeClone is what the Go runtime asks for (os_linux.go).
	runtimeClone = cloneVM | cloneFS | cloneFiles | cloneSighand | cloneSysvsem | cloneThread
	sigCHLD      = 17

	archSetGS    = 0x1001
	archSetFS    = 0x1002
	archGetFS    = 0x1003
	archGetGS    = 0x1004
	archGetCPUID = 0x1011
)

// clone makes a child that exits at once (cloneExit), with every signal
// blocked meanwhile: none may be delivered to a child that has no stack.
func clone(flags, ptid, ctid, tls uintptr) (r uintptr, e syscall.Errno) {
	withMaskRestored(func() string {
		setMask(^uint64(0))
		r, e = rawResult(cloneExit(flags, 0, ptid, ctid, tls))
		return ""
	})
	return r, e
}

// forkStatus is clone's answer for a new process, and whether it was
// reaped with status 0.
func forkStatus(flags uintptr) string {
	pid, e := clone(flags, 0, 0, 0)
	if e != 0 {
		return errnoName(e)
	}
	ws := scratch() + scratchOther
	poke32(ws, 0xffff)
	r, e := sysBlocking(syscall.SYS_WAIT4, pid, ws, 0, 0)
	return join("ok", check("reaped", e == 0 && r == pid && peek32(ws) == 0))
}

// onOtherThread runs f on another locked thread and returns its result.
func onOtherThread(f func() uintptr) uintptr {
	c := make(chan uintptr)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c <- f()
	}()
	return <-c
}

func archPrctl(code, addr uintptr) string { return answer(sys(syscall.SYS_ARCH_PRCTL, code, addr)) }

// fsBase is the thread's FS base: the Go runtime's thread-local storage.
func fsBase() uintptr {
	a := scratch() + scratchOther
	must(sys(syscall.SYS_ARCH_PRCTL, archGetFS, a))
	return uintptr(peek64(a))
}

// affinity answers sched_getaffinity(pid, size) and whether CPU 0 is in
// the mask.
func affinity(pid, size uintptr) string {
	return onPages(1, func(a uintptr) string {
		r, e := sys(syscall.SYS_SCHED_GETAFFINITY, pid, size, a)
		if e != 0 {
			return errnoName(e)
		}
		return join(answer(r, e), check("cpu0", peek64(a)&1 != 0))
	})
}

func threadRows() []row {
	rows := []row{
		{name: "clone/thread", want: "ok", call: func() string { return status(clone(runtimeClone, 0, 0, 0)) }},
		{name: "clone/thread-settls", want: "ok", call: func() string {
			return status(clone(runtimeClone|cloneSettls, 0, 0, scratch()+scratchOther))
		}},
		{name: "clone/thread-parent-settid", want: "ok,ptid", call: func() string {
			ptid := scratch() + scratchOther
			poke32(ptid, 0)
			r, e := clone(runtimeClone|cloneParentSettid, ptid, 0, 0)
			if e != 0 {
				return errnoName(e)
			}
			return join("ok", check("ptid", uintptr(peek32(ptid)) == r))
		}},
		// The thread's exit clears the word (mm_release), as pthread_join
		// waits for.
		{name: "clone/thread-child-cleartid", want: "ok,cleared", call: func() string {
			return onPages(1, func(ctid uintptr) string {
				poke32(ctid, 1)
				_, e := clone(runtimeClone|cloneChildCleartid, 0, ctid, 0)
				if e != 0 {
					return errnoName(e)
				}
				for t0 := time.Now(); peek32(ctid) != 0 && time.Since(t0) < 2*time.Second; {
					time.Sleep(time.Millisecond)
				}
				return join("ok", check("cleared", peek32(ctid) == 0))
			})
		}},
		// copy_process: CLONE_THREAD needs CLONE_SIGHAND, which needs
		// CLONE_VM.
		{name: "clone/thread-without-sighand", want: "EINVAL", call: func() string { return status(clone(cloneVM|cloneThread, 0, 0, 0)) }},
		{name: "clone/sighand-without-vm", want: "EINVAL", call: func() string { return status(clone(cloneSighand, 0, 0, 0)) }},
		{name: "clone/fork", want: "ok,reaped", call: func() string { return forkStatus(sigCHLD) }},
		{name: "clone/vm-process", want: "ok,reaped", call: func() string { return forkStatus(cloneVM | sigCHLD) }},
		// set_new_tls: an FS base outside the user half is EPERM, and
		// the thread is never made.
		{name: "clone/settls-kernel", want: "EPERM", call: func() string { return status(clone(runtimeClone|cloneSettls, 0, 0, physmapBase)) }},
		// hurdvm made the thread; loading its FS base (WRMSR) faulted in
		// the kernel.
		{name: "clone/settls-noncanonical", want: "EPERM", killer: "CloneTLS", call: func() string {
			return status(clone(runtimeClone|cloneSettls, 0, 0, nonCanonical))
		}},

		{name: "arch_prctl/get-fs", want: "0,set", call: func() string {
			a := scratch() + scratchOther
			return join(archPrctl(archGetFS, a), check("set", peek64(a) != 0))
		}},
		// Setting the FS base to what it is changes nothing for the Go
		// runtime, whose thread-local storage it holds.
		{name: "arch_prctl/set-fs-same", want: "0,unchanged", call: func() string {
			fs := fsBase()
			return join(archPrctl(archSetFS, fs), check("unchanged", fsBase() == fs))
		}},
		{name: "arch_prctl/get-gs", want: "0,value=0", call: func() string {
			a := scratch() + scratchOther
			poke64(a, 1)
			r := archPrctl(archGetGS, a)
			if r != "0" {
				return r
			}
			return join(r, fact("value", peek64(a)))
		}},
		{name: "arch_prctl/set-gs-0", want: "0", call: func() string { return archPrctl(archSetGS, 0) }},
		// do_arch_prctl_64: a base at or past TASK_SIZE_MAX is EPERM.
		{name: "arch_prctl/set-gs-kernel", want: "EPERM", call: func() string { return archPrctl(archSetGS, physmapBase) }},
		{name: "arch_prctl/set-gs-noncanonical", want: "EPERM", call: func() string { return archPrctl(archSetGS, nonCanonical) }},
		{name: "arch_prctl/get-cpuid", want: "1", call: func() string { return archPrctl(archGetCPUID, 0) }},
		{name: "arch_prctl/unknown-code", want: "EINVAL", call: func() string { return archPrctl(0x9999, 0) }},
		// hurdvm took any FS base: the next return loaded it with WRMSR
		// (#GP in the kernel for a non-canonical one) or ran the program
		// with its thread-local storage in the kernel's half.
		{name: "arch_prctl/set-fs-noncanonical", want: "EPERM", killer: "ArchPrctlFS", call: func() string { return archPrctl(archSetFS, nonCanonical) }},
		{name: "arch_prctl/set-fs-kernel", want: "EPERM", killer: "ArchPrctlFS", call: func() string { return archPrctl(archSetFS, physmapBase) }},

		{name: "getpid", want: "ok", call: func() string { return check("ok", getpid() > 0) }},
		{name: "getpid/same-on-threads", want: "same", call: func() string { return check("same", onOtherThread(getpid) == getpid()) }},
		{name: "gettid", want: "ok", call: func() string { return check("ok", gettid() > 0) }},
		{name: "gettid/per-thread", want: "distinct", call: func() string { return check("distinct", onOtherThread(gettid) != gettid()) }},
		{name: "sched_yield", want: "0", call: func() string { return answer(sys(syscall.SYS_SCHED_YIELD)) }},

		{name: "sched_getaffinity/size-8", want: "8,cpu0", call: func() string { return affinity(0, 8) }},
		{name: "sched_getaffinity/size-128", want: "8,cpu0", call: func() string { return affinity(0, 128) }},
		{name: "sched_getaffinity/self-tid", want: "8,cpu0", call: func() string { return affinity(gettid(), 8) }},
		{name: "sched_getaffinity/size-0", want: "EINVAL", call: func() string { return affinity(0, 0) }},
		{name: "sched_getaffinity/size-4", want: "EINVAL", call: func() string { return affinity(0, 4) }},
		{name: "sched_getaffinity/size-9", want: "EINVAL", call: func() string { return affinity(0, 9) }},
		{name: "sched_getaffinity/missing-pid", want: "ESRCH", call: func() string { return affinity(missingID, 8) }},
		{name: "sched_getaffinity/pid-minus-1", want: "ESRCH", call: func() string { return affinity(neg(-1), 8) }},
	}
	rows = append(rows, pointerRows("arch_prctl/get-fs", writes, efault, func(p uintptr) string { return archPrctl(archGetFS, p) })...)
	rows = append(rows, pointerRows("sched_getaffinity/mask", writes, efault, func(p uintptr) string {
		return answer(sys(syscall.SYS_SCHED_GETAFFINITY, 0, 8, p))
	})...)
	return rows
}
