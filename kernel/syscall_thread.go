//go:build hurdvm

// The thread system calls: clone (threads of the one program), futex,
// sched_getaffinity and arch_prctl. Handler context.

package kernel

// processID is the program's process ID: it is the only one.
const processID = 1

// clone's flags, Linux's values.
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
	cloneDetached      = 0x400000
	cloneChildSettid   = 0x01000000

	// cloneThreadFlags are what a new thread of this program shares;
	// cloneKnown is every flag hurdvm can honour for one.
	cloneThreadFlags = cloneVM | cloneSighand | cloneThread
	cloneKnown       = cloneThreadFlags | cloneFS | cloneFiles | cloneSysvsem | cloneSettls |
		cloneParentSettid | cloneChildCleartid | cloneDetached | cloneChildSettid
)

// threadTableFull is said once, when clone first finds no free thread.
var threadTableFull bool

// sysCloneThread makes a thread that shares everything: the child returns
// from the same SYSCALL with RAX=0 on stack stk, with TLS tls when
// CLONE_SETTLS. A clone that is not a new thread of the caller's program
// (fork, vfork, a new process) is EINVAL, and so is any flag it cannot
// honour. A process's new thread is the process's (its task, its
// program's state) and returns to ring 3.
func sysCloneThread(tf *TrapFrame, flags, stk, ptid, ctid, tls uint64) uint64 {
	if flags&cloneThreadFlags != cloneThreadFlags || flags&^(cloneKnown|0xff) != 0 {
		return errno(eINVAL)
	}
	if flags&cloneSettls != 0 && !tlsBaseOK(tls) {
		return errno(ePERM) // as arch_prctl(ARCH_SET_FS): no FS base outside user space
	}
	i, ok := newThread()
	if !ok {
		if !threadTableFull {
			threadTableFull = true
			kprint("hurdvm: clone: the thread table is full (")
			kprintDec(maxThreads - 1)
			kprint(" threads); clone answers EAGAIN\n")
		}
		return errno(eAGAIN)
	}
	p := thr(current())
	c := thr(i)
	if flags&cloneParentSettid != 0 && !writeUser32(ptid, uint32(c.tid)) {
		c.state = threadFree
		return errno(eFAULT)
	}
	if flags&cloneChildSettid != 0 && !writeUser32(ctid, uint32(c.tid)) {
		c.state = threadFree
		return errno(eFAULT)
	}
	if flags&cloneChildCleartid != 0 {
		c.clearTID = ctid
	}
	copyCaller(c, p, tf, stk)
	if flags&cloneSettls != 0 {
		c.fsBase = tls
	}
	if p.proc != 0 {
		c.cr3, c.space, c.proc = p.cr3, p.space, p.proc
		procs[p.proc-1].threads++
	} else {
		// A new thread is one of the runtime's generic Ms: it starts in
		// the kernel task whatever task its creator was running (only
		// Task.Run's own locked thread enters a task).
		c.cr3, c.space = kernelPT.Root, kernelSpace
	}
	c.state = threadRunnable
	enqueue(i)
	return uint64(c.tid)
}

// copyCaller makes the new thread c a copy of p, the caller of clone or
// fork at frame tf: its registers (0 in RAX, the child's answer; stk, if
// not 0, as its stack pointer), its FPU state, TLS bases, signal mask and
// name. Where it runs, and in which task, is the caller's to say.
func copyCaller(c, p *thread, tf *TrapFrame, stk uint64) {
	c.frame = *tf
	c.frame.RAX = 0
	c.fpu = p.fpu // the parent's state, saved by this very system call
	c.frame.FPU = fpuAreaOf(c)
	if stk != 0 {
		c.frame.RSP = stk
	}
	c.fsBase, c.gsBase = p.fsBase, p.gsBase
	c.sigMask = p.sigMask
	c.name = p.name
	c.keepCaps = p.keepCaps
}

// threadExit ends the current thread (exit): CLONE_CHILD_CLEARTID's word
// is cleared and its waiters woken, as pthread_join expects. A process's
// last thread ends the process with status, as Linux's do_exit.
func threadExit(t *thread, status int32) {
	if t.clearTID != 0 && writeUser32(t.clearTID, 0) {
		futexWake(t.clearTID, 1, futexBitsetAny)
	}
	if t.proc == 0 {
		t.state = threadDead
		return
	}
	if p := &procs[t.proc-1]; p.threads == 1 && !p.ending {
		p.info.ExitCode = status & 0xff
	}
	procThreadEnd(t.proc-1, current())
}

// futex operations and flags.
const (
	futexOpWait        = 0
	futexOpWake        = 1
	futexOpRequeue     = 3
	futexOpCmpRequeue  = 4
	futexOpWakeOp      = 5
	futexOpWaitBitset  = 9
	futexOpWakeBitset  = 10
	futexPrivate       = 128
	futexClockRealtime = 256

	futexBitsetAny = 0xffff_ffff
)

// sysFutexOp is futex(uaddr, op, val, timeout or val2, uaddr2, val3).
func sysFutexOp(uaddr, op uint64, val uint32, timeout, uaddr2 uint64, val3 uint32) uint64 {
	cmd := op &^ (futexPrivate | futexClockRealtime)
	realtime := op&futexClockRealtime != 0
	if realtime && cmd != futexOpWaitBitset {
		return errno(eNOSYS) // Linux 6.1 takes it with FUTEX_WAIT_BITSET only
	}
	var deadline int64
	if timeout != 0 && (cmd == futexOpWait || cmd == futexOpWaitBitset) {
		d, e := readTimespec(timeout)
		if e != 0 {
			return e
		}
		switch {
		case cmd == futexOpWait:
			deadline = addNS(nanotime(), d) // relative
		case realtime:
			deadline = addNS(nanotime(), d-walltime()) // absolute on the wall clock
		default:
			deadline = d // absolute, CLOCK_MONOTONIC
		}
		deadline = max(deadline, 1) // 0 means "none"
	}
	switch cmd {
	case futexOpWait, futexOpWaitBitset:
		bits := val3
		if cmd == futexOpWait {
			bits = futexBitsetAny
		}
		if bits == 0 {
			return errno(eINVAL)
		}
		if e := futexKey(uaddr, op); e != 0 {
			return e
		}
		v, ok := readUser32(uaddr)
		if !ok {
			return errno(eFAULT)
		}
		if v != val {
			return errno(eAGAIN)
		}
		if deadline != 0 && deadline <= nanotime() {
			return errno(eTIMEDOUT)
		}
		t := thr(current())
		t.waitAddr, t.waitBits = uaddr, bits
		block(waitFutex, deadline)
		return 0
	case futexOpWake, futexOpWakeBitset:
		bits := uint32(futexBitsetAny)
		if cmd == futexOpWakeBitset {
			bits = val3
		}
		if bits == 0 {
			return errno(eINVAL)
		}
		if e := futexKey(uaddr, op); e != 0 {
			return e
		}
		return futexWake(uaddr, int64(val), bits)
	case futexOpRequeue, futexOpCmpRequeue:
		if e := futexKey(uaddr, op); e != 0 {
			return e
		}
		if e := futexKey(uaddr2, op); e != 0 {
			return e
		}
		if cmd == futexOpCmpRequeue {
			v, ok := readUser32(uaddr)
			if !ok {
				return errno(eFAULT)
			}
			if v != val3 {
				return errno(eAGAIN)
			}
		}
		n := futexWake(uaddr, int64(val), futexBitsetAny)
		moved := uint64(0)
		me := thr(current()).proc
		for i := int32(1); i < threadHigh && moved < uint64(uint32(timeout)); i++ {
			t := thr(i)
			if t.state == threadBlocked && t.wait == waitFutex && t.proc == me && t.waitAddr == uaddr {
				t.waitAddr = uaddr2
				moved++
			}
		}
		return n + moved
	case futexOpWakeOp:
		return futexWakeOpOp(uaddr, op, val, uint32(timeout), uaddr2, val3)
	}
	return errno(eNOSYS)
}

// futexKey checks a futex word's address as Linux's get_futex_key does:
// aligned (EINVAL), in user space (EFAULT), and, for a shared futex,
// mapped (EFAULT); a private futex's key is its address alone.
func futexKey(uaddr, op uint64) uint64 {
	if uaddr%4 != 0 {
		return errno(eINVAL)
	}
	if !accessOK(uaddr, 4) {
		return errno(eFAULT)
	}
	if op&futexPrivate == 0 && !userRange(uaddr, 4, false) {
		return errno(eFAULT)
	}
	return 0
}

// futexWake wakes up to n threads waiting on uaddr whose bitset meets bits
// and returns how many it woke. A futex's key is the caller's program and
// the address (a process's addresses are its own task's; the kernel
// program's threads share the kernel task's).
func futexWake(uaddr uint64, n int64, bits uint32) uint64 {
	woken := int64(0)
	me := thr(current()).proc
	for i := int32(1); i < threadHigh && woken < n; i++ {
		t := thr(i)
		if t.state == threadBlocked && t.wait == waitFutex && t.proc == me && t.waitAddr == uaddr && t.waitBits&bits != 0 {
			wake(i, wokenByEvent)
			woken++
		}
	}
	return uint64(woken)
}

// futexWakeOpOp is FUTEX_WAKE_OP: *uaddr2 = *uaddr2 OP oparg, atomically
// (one CPU, interrupts off), then wake val waiters on uaddr and, if the
// old value compared true, val2 waiters on uaddr2.
func futexWakeOpOp(uaddr, op uint64, val, val2 uint32, uaddr2 uint64, encoded uint32) uint64 {
	if e := futexKey(uaddr, op); e != 0 {
		return e
	}
	if e := futexKey(uaddr2, op); e != 0 {
		return e
	}
	opcode, cmp := encoded>>28&7, encoded>>24&15
	oparg := int32(encoded<<8) >> 20 // 12 bits, sign-extended
	cmparg := int32(encoded<<20) >> 20
	if encoded&(8<<28) != 0 { // FUTEX_OP_OPARG_SHIFT
		if oparg < 0 || oparg > 31 {
			return errno(eINVAL)
		}
		oparg = 1 << oparg
	}
	old, ok := readUser32(uaddr2)
	if !ok {
		return errno(eFAULT)
	}
	var nv uint32
	switch opcode {
	case 0:
		nv = uint32(oparg)
	case 1:
		nv = old + uint32(oparg)
	case 2:
		nv = old | uint32(oparg)
	case 3:
		nv = old &^ uint32(oparg)
	case 4:
		nv = old ^ uint32(oparg)
	default:
		return errno(eNOSYS)
	}
	o := int32(old)
	var hit bool
	switch cmp {
	case 0:
		hit = o == cmparg
	case 1:
		hit = o != cmparg
	case 2:
		hit = o < cmparg
	case 3:
		hit = o <= cmparg
	case 4:
		hit = o > cmparg
	case 5:
		hit = o >= cmparg
	default:
		return errno(eNOSYS)
	}
	if !writeUser32(uaddr2, nv) {
		return errno(eFAULT)
	}
	n := futexWake(uaddr, int64(val), futexBitsetAny)
	if hit {
		n += futexWake(uaddr2, int64(val2), futexBitsetAny)
	}
	return n
}

// sysGetaffinity is sched_getaffinity: the CPUs threads run on.
func sysGetaffinity(pid int32, size, mask uint64) uint64 {
	if pid != 0 && findTID(pid) < 0 {
		return errno(eSRCH)
	}
	n := cpusReported()
	if size*8 < uint64(n) || size%8 != 0 {
		return errno(eINVAL)
	}
	if !writeUser64(mask, 1<<n-1) {
		return errno(eFAULT)
	}
	return 8
}

// cpusReported is how many CPUs sched_getaffinity reports, which the Go
// runtime takes for GOMAXPROCS: every CPU, and two on a machine with one.
// The file server is a goroutine of the program, and a thread blocked in
// a file system call made with RawSyscall keeps its P: with a single P,
// the server could never run to answer it (Go's own tests make such
// calls; so does any program using syscall.RawSyscall). With two, one
// runs the server.
func cpusReported() int32 { return max(ncpu, 2) }

// arch_prctl codes.
const (
	archSetGS    = 0x1001
	archSetFS    = 0x1002
	archGetFS    = 0x1003
	archGetGS    = 0x1004
	archGetCPUID = 0x1011
)

// tlsBaseOK reports whether addr may be the kernel program's FS or GS
// base: a user address as Linux says (below TASK_SIZE), or writable
// memory of the program in the upper half, where its TLS is (the
// runtime's m0 in the image, other threads' in the heap window). Anything
// else is EPERM, as in Linux: a non-canonical base would make the WRMSR
// on the way back fault in the kernel.
func tlsBaseOK(addr uint64) bool { return addr < taskSize || userRange(addr, 1, true) }

// sysArchPrctlOp sets or reads the thread's FS and GS bases. A base must
// be a user address (tlsBaseOK).
func sysArchPrctlOp(t *thread, code, addr uint64) uint64 {
	switch code {
	case archSetFS, archSetGS:
		if !tlsBaseOK(addr) {
			return errno(ePERM)
		}
		if code == archSetFS {
			t.fsBase = addr
		} else {
			t.gsBase = addr
		}
		return 0
	case archGetFS, archGetGS:
		v := t.fsBase
		if code == archGetGS {
			v = t.gsBase
		}
		if !writeUser64(addr, v) {
			return errno(eFAULT)
		}
		return 0
	case archGetCPUID:
		return 1 // CPUID does not fault (ARCH_SET_CPUID is not offered)
	}
	return errno(eINVAL)
}
