//go:build hurdvm

// The Linux personality: the system calls the Go runtime makes, served by
// the kernel. Numbers and semantics are Linux x86-64's; sys_linux_amd64.s,
// os_linux.go and mem_linux.go in the runtime say what each must do.
// Handler context.

package kernel

import (
	"unsafe"

	"hurdvm/mm"
)

// Linux errno values, returned negated in RAX.
const (
	ePERM     = 1
	eNOENT    = 2
	eSRCH     = 3
	eINTR     = 4
	eBADF     = 9
	eAGAIN    = 11
	eNOMEM    = 12
	eFAULT    = 14
	eINVAL    = 22
	eNOSYS    = 38
	eTIMEDOUT = 110
)

const (
	sysRead             = 0
	sysWrite            = 1
	sysOpen             = 2
	sysClose            = 3
	sysMmap             = 9
	sysMprotect         = 10
	sysMunmap           = 11
	sysRtSigaction      = 13
	sysRtSigprocmask    = 14
	sysRtSigreturn      = 15
	sysPread64          = 17
	sysSchedYield       = 24
	sysMincore          = 27
	sysMadvise          = 28
	sysNanosleep        = 35
	sysGetpid           = 39
	sysClone            = 56
	sysExit             = 60
	sysKill             = 62
	sysUname            = 63
	sysFcntl            = 72
	sysGetrlimit        = 97
	sysSigaltstack      = 131
	sysPrctl            = 157
	sysArchPrctl        = 158
	sysGettid           = 186
	sysTkill            = 200
	sysFutex            = 202
	sysSchedGetaffinity = 204
	sysClockGettime     = 228
	sysClockNanosleep   = 230
	sysExitGroup        = 231
	sysEpollCtl         = 233
	sysTgkill           = 234
	sysOpenat           = 257
	sysReadlinkat       = 267
	sysEpollPwait       = 281
	sysEventfd2         = 290
	sysEpollCreate1     = 291
	sysPrlimit64        = 302
	sysGetrandom        = 318

	// hurdvm's own: breaks the kernel on purpose (a write to an unmapped
	// kernel address in handler context), so tests can see a kernel panic.
	sysHurdvmBreakKernel = 0x48560001
)

// brokenKernelAddress is never mapped: above the physmap of any RAM.
const brokenKernelAddress = 0xffff_c000_dead_0000

// cpusReported is what sched_getaffinity tells the runtime: GOMAXPROCS.
// Two even on one CPU, so that the runtime runs goroutines on several
// threads and the scheduler's preemption is exercised.
var cpusReported = 2

var syscallCounts [512]uint64
var unknownSyscallSeen [512]bool

func errno(e int) uint64 { return uint64(-int64(e)) }

func systemCall(tf *TrapFrame) {
	nr := tf.RAX
	a0, a1, a2, a3, a4 := tf.RDI, tf.RSI, tf.RDX, tf.R10, tf.R8
	if nr < uint64(len(syscallCounts)) {
		syscallCounts[nr]++
	}
	t := &threads[current]
	r := uint64(0)
	switch nr {
	case sysWrite:
		r = sysWriteFD(tf, int(a0), a1, a2)
	case sysRead:
		r = sysReadFD(int(a0), a1, a2)
	case sysPread64:
		r = errno(eBADF)
	case sysOpen, sysOpenat:
		r = errno(eNOENT) // no file system
	case sysReadlinkat:
		r = errno(eNOENT)
	case sysClose:
		r = closeFD(int(a0))
	case sysFcntl:
		r = sysFcntlFD(int(a0), int(a1))
	case sysMmap:
		r = sysMmapAnon(a0, a1, a2, a3)
	case sysMunmap:
		r = heapUnmap(a0, a1)
	case sysMadvise:
		if a2 == 4 || a2 == 8 { // MADV_DONTNEED, MADV_FREE
			r = heapDiscard(a0, a1)
		}
	case sysMprotect:
		r = 0 // the Go runtime does not use it: protections come with mmap
	case mm.SysVMAllocate, mm.SysVMDeallocate, mm.SysVMStats:
		r = vmSyscall(nr, a0, a1, a2, a3)
	case mm.SysTaskNew, mm.SysTaskEnter, mm.SysTaskDestroy:
		r = taskSyscall(nr, a0)
	case sysInspectTranslate, sysInspectFrameAlloc, sysInspectFrameFree, sysInspectFrameStats:
		r = inspectSyscall(nr, a0, a1)
	case sysMincore:
		r = errno(eNOSYS)
	case sysRtSigaction:
		r = sysSigaction(a0, a1, a2)
	case sysRtSigprocmask:
		r = sysSigprocmask(t, a0, a1, a2)
	case sysRtSigreturn:
		sigreturn(tf)
		return // RAX is the restored context's
	case sysSigaltstack:
		r = sysAltstack(t, a0, a1)
	case sysArchPrctl:
		switch a0 {
		case 0x1002: // ARCH_SET_FS
			t.fsBase = a1
		case 0x1003: // ARCH_GET_FS
			if !putUser64(a1, t.fsBase) {
				r = errno(eFAULT)
			}
		default:
			r = errno(eINVAL)
		}
	case sysGetpid:
		r = 1
	case sysGettid:
		r = uint64(t.tid)
	case sysTgkill, sysTkill, sysKill:
		tid, sig := a1, a2
		if nr != sysTgkill {
			tid, sig = a0, a1
		}
		r = sysSignalThread(int32(tid), uint32(sig))
	case sysClone:
		r = sysCloneThread(tf, a0, a1, a4)
	case sysExit:
		t.state = threadDead
	case sysExitGroup:
		exitMachine(int(int32(a0)))
	case sysFutex:
		r = sysFutexOp(tf, a0, int(a1), uint32(a2), a3)
	case sysNanosleep:
		r = sysSleep(a0, false)
	case sysClockNanosleep:
		r = sysSleep(a2, a1&1 != 0) // TIMER_ABSTIME
	case sysSchedYield:
		// End the slice: leaveKernel queues this thread behind the others.
		sliceStart = nanotime() - timeSlice
	case sysSchedGetaffinity:
		if a1 < 8 {
			r = errno(eINVAL)
		} else if !putUser64(a2, 1<<cpusReported-1) {
			r = errno(eFAULT)
		} else {
			r = 8
		}
	case sysClockGettime:
		r = sysClock(a0, a1)
	case sysGetrandom:
		r = sysRandom(a0, a1, a2)
	case sysPrlimit64:
		r = sysRlimit(a1, a3)
	case sysGetrlimit:
		r = sysRlimit(a0, a1)
	case sysPrctl:
		r = 0
	case sysEpollCreate1:
		r = newFD(fdEpoll)
	case sysEventfd2:
		r = newEventFD(a0)
	case sysEpollCtl:
		r = epollCtl(int(a0), int(a1), int(a2), a3)
	case sysEpollPwait:
		r = epollWait(int(a0), a1, int(int32(a2)), int(int32(a3)))
	case sysUname:
		r = sysUnameInfo(a0)
	case sysHurdvmBreakKernel:
		switch a1 {
		case 1:
			breakPageFaults = true // the next page fault faults again inside its handler
		case 2:
			r = breakPageTableEntry(a0)
		default:
			*(*uint64)(at(brokenKernelAddress)) = a0
		}
	default:
		if nr < uint64(len(unknownSyscallSeen)) && !unknownSyscallSeen[nr] {
			unknownSyscallSeen[nr] = true
			kprint("hurdvm: unimplemented system call ")
			kprintDec(nr)
			kprintSyscallName(nr)
			kprint("\n")
		}
		r = errno(eNOSYS)
	}
	// A thread that blocked gets its result when it is woken.
	if t.state == threadRunnable || current == idleThread {
		tf.RAX = r
	}
}

// breakPageTableEntry sets bit 51 of the entry mapping va in the current
// address space: a reserved bit wherever the CPU has fewer than 52
// physical-address bits (QEMU's CPUs have 40), so the next access to va
// is a page fault with the RSVD error bit.
func breakPageTableEntry(va uint64) uint64 {
	pt := &spaces[threads[current].space].PT
	pa, flags, _, ok := pt.Translate(uintptr(va))
	if !ok {
		return errno(eFAULT)
	}
	if pt.Replace(uintptr(va)&^(pageSize-1), pa&^(pageSize-1)|1<<51, flags) != nil {
		return errno(eNOMEM)
	}
	return 0
}

func sysWriteFD(tf *TrapFrame, fd int, buf, n uint64) uint64 {
	switch fd {
	case 1, 2:
		return consoleWriteCall(tf, buf, n)
	}
	if f := fdLookup(fd); f != nil && f.kind == fdEventFD {
		if n < 8 || !touchUser(buf, 8, false) {
			return errno(eINVAL)
		}
		eventfdWrite(f, *(*uint64)(at(buf)))
		return 8
	}
	return errno(eBADF)
}

func sysReadFD(fd int, buf, n uint64) uint64 {
	if fd == 0 {
		return 0 // no console input yet: end of file
	}
	if f := fdLookup(fd); f != nil && f.kind == fdEventFD {
		if n < 8 || !touchUser(buf, 8, true) {
			return errno(eINVAL)
		}
		if f.count == 0 {
			return errno(eAGAIN)
		}
		*(*uint64)(at(buf)) = f.count
		f.count = 0
		return 8
	}
	return errno(eBADF)
}

func sysFcntlFD(fd, cmd int) uint64 {
	if fd > 2 && fdLookup(fd) == nil {
		return errno(eBADF)
	}
	switch cmd {
	case 1, 2, 4: // F_GETFD, F_SETFD, F_SETFL
		return 0
	case 3: // F_GETFL
		return 2 // O_RDWR
	}
	return errno(eINVAL)
}

func sysMmapAnon(addr, length, prot, flags uint64) uint64 {
	const mapFixed, mapAnon = 0x10, 0x20
	if flags&mapAnon == 0 {
		return errno(19) // ENODEV: no files to map
	}
	if length == 0 {
		return errno(eINVAL)
	}
	a, e := heapMap(addr, length, prot, flags&mapFixed != 0)
	if e != 0 {
		return e
	}
	return a
}

func sysSigaction(sig, act, oact uint64) uint64 {
	if sig == 0 || sig >= nsig || sig == sigKILL || sig == 19 {
		return errno(eINVAL)
	}
	size := uint64(unsafe.Sizeof(sigaction{}))
	if oact != 0 {
		if !touchUser(oact, size, true) {
			return errno(eFAULT)
		}
		*(*sigaction)(at(oact)) = sigactions[sig]
	}
	if act != 0 {
		if !touchUser(act, size, false) {
			return errno(eFAULT)
		}
		sigactions[sig] = *(*sigaction)(at(act))
	}
	return 0
}

func sysSigprocmask(t *thread, how, set, oset uint64) uint64 {
	old := t.sigMask
	if set != 0 {
		v, ok := getUser64(set)
		if !ok {
			return errno(eFAULT)
		}
		switch how {
		case 0:
			t.sigMask |= v
		case 1:
			t.sigMask &^= v
		case 2:
			t.sigMask = v
		default:
			return errno(eINVAL)
		}
		t.sigMask &^= sigbit(sigKILL) | sigbit(19)
	}
	if oset != 0 && !putUser64(oset, old) {
		return errno(eFAULT)
	}
	return 0
}

func sysAltstack(t *thread, ss, old uint64) uint64 {
	if old != 0 {
		if !touchUser(old, 24, true) {
			return errno(eFAULT)
		}
		flags := t.altFlags
		if t.altSize == 0 {
			flags = ssDisable
		}
		putUser64(old, t.altSP)
		*(*int32)(at(old + 8)) = flags
		putUser64(old+16, t.altSize)
	}
	if ss != 0 {
		if !touchUser(ss, 24, false) {
			return errno(eFAULT)
		}
		sp, _ := getUser64(ss)
		flags := *(*int32)(at(ss + 8))
		size, _ := getUser64(ss + 16)
		if flags&ssDisable != 0 {
			t.altSP, t.altSize, t.altFlags = 0, 0, ssDisable
		} else {
			t.altSP, t.altSize, t.altFlags = sp, size, 0
		}
	}
	return 0
}

func sysSignalThread(tid int32, sig uint32) uint64 {
	if sig >= nsig {
		return errno(eINVAL)
	}
	i := findTID(tid)
	if tid == 1 && i < 0 {
		i = findTID(threads[current].tid) // kill(getpid(), sig): the caller
	}
	if i < 0 {
		return errno(eSRCH)
	}
	if sig != 0 {
		threads[i].pending |= sigbit(sig)
	}
	return 0
}

// sysCloneThread makes a thread that shares everything (the runtime only
// asks for CLONE_VM|CLONE_THREAD|...): the child returns from the same
// SYSCALL with RAX=0 on stack stk and with TLS tls when CLONE_SETTLS.
func sysCloneThread(tf *TrapFrame, flags, stk, tls uint64) uint64 {
	const cloneSettls = 0x80000
	i, ok := newThread()
	if !ok {
		return errno(eAGAIN)
	}
	p := &threads[current]
	c := &threads[i]
	c.frame = *tf
	c.frame.RAX = 0
	c.frame.RSP = stk
	c.fsBase = p.fsBase
	if flags&cloneSettls != 0 {
		c.fsBase = tls
	}
	// A new thread is one of the runtime's generic Ms: it starts in the
	// kernel task whatever task its creator was running (only Task.Run's
	// own locked thread enters a task).
	c.cr3, c.space = kernelPT.Root, kernelSpace
	c.sigMask = p.sigMask
	c.state = threadRunnable
	enqueue(i)
	return uint64(c.tid)
}

func sysFutexOp(tf *TrapFrame, addr uint64, op int, val uint32, timeout uint64) uint64 {
	switch op & 0x7f {
	case 0, 9: // FUTEX_WAIT, FUTEX_WAIT_BITSET
		if !touchUser(addr, 4, false) {
			return errno(eFAULT)
		}
		if *(*uint32)(at(addr)) != val {
			return errno(eAGAIN)
		}
		deadline := int64(0)
		if timeout != 0 {
			d, ok := getTimespec(timeout)
			if !ok {
				return errno(eFAULT)
			}
			if op&0x7f == 9 {
				deadline = d // absolute
			} else {
				deadline = nanotime() + d
			}
			if deadline <= nanotime() {
				return errno(eTIMEDOUT)
			}
		}
		block(waitFutex, addr, deadline, errno(eTIMEDOUT))
		return 0
	case 1, 10: // FUTEX_WAKE, FUTEX_WAKE_BITSET
		n := uint64(0)
		for i := int32(1); i < threadHigh && n < uint64(val); i++ {
			t := &threads[i]
			if t.state == threadBlocked && t.wait == waitFutex && t.waitAddr == addr {
				wake(i, 0)
				n++
			}
		}
		return n
	}
	return errno(eNOSYS)
}

func sysSleep(ts uint64, absolute bool) uint64 {
	d, ok := getTimespec(ts)
	if !ok {
		return errno(eFAULT)
	}
	deadline := d
	if !absolute {
		deadline = nanotime() + d
	}
	if deadline > nanotime() {
		block(waitSleep, 0, deadline, 0)
	}
	return 0
}

func sysClock(id, ts uint64) uint64 {
	var ns int64
	switch id {
	case 0, 5, 8, 11: // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
		ns = walltime()
	case 2, 3: // process and thread CPU time
		ns = threads[current].cpuNS + nanotime() - sliceStart
	default: // MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE, BOOTTIME
		ns = nanotime()
	}
	if !touchUser(ts, 16, true) {
		return errno(eFAULT)
	}
	putUser64(ts, uint64(ns/nsPerSecond))
	putUser64(ts+8, uint64(ns%nsPerSecond))
	return 0
}

func sysRlimit(resource, old uint64) uint64 {
	if old == 0 {
		return 0
	}
	if !touchUser(old, 16, true) {
		return errno(eFAULT)
	}
	cur, max := ^uint64(0), ^uint64(0)
	switch resource {
	case 3: // RLIMIT_STACK
		cur = 8 << 20
	case 7: // RLIMIT_NOFILE
		cur, max = uint64(len(fds)), uint64(len(fds))
	}
	putUser64(old, cur)
	putUser64(old+8, max)
	return 0
}

func sysUnameInfo(buf uint64) uint64 {
	if !touchUser(buf, 6*65, true) {
		return errno(eFAULT)
	}
	fields := [6]string{"Linux", "hurdvm", "6.1.0-hurdvm", "#1", "x86_64", "(none)"}
	for i, s := range fields {
		p := buf + uint64(i)*65
		for j := 0; j < 65; j++ {
			c := byte(0)
			if j < len(s) {
				c = s[j]
			}
			*(*byte)(at(p + uint64(j))) = c
		}
	}
	return 0
}

func getTimespec(p uint64) (int64, bool) {
	if !touchUser(p, 16, false) {
		return 0, false
	}
	s := *(*int64)(at(p))
	ns := *(*int64)(at(p + 8))
	return s*nsPerSecond + ns, true
}

func getUser64(p uint64) (uint64, bool) {
	if !touchUser(p, 8, false) {
		return 0, false
	}
	return *(*uint64)(at(p)), true
}

func putUser64(p, v uint64) bool {
	if !touchUser(p, 8, true) {
		return false
	}
	*(*uint64)(at(p)) = v
	return true
}
