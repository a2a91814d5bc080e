//go:build hurdvm

// A process's system calls (issue 17), the ones that are its own: with
// Linux's numbers and answers, served in the process's own task. The
// calls any program makes the same way (threads, futexes, signals, time,
// the netpoller's descriptors) are the personality's (syscall.go), which
// finds the caller's program in its thread (progState); procSyscall says
// which. Files are the file server's, as for the kernel's program
// (syscall_file.go), on the one file system it keeps for every program
// (the test's directory, /tmp, pipes), with the process's own
// descriptors. Every other call is ENOSYS, so a process reaches none of
// the kernel program's descriptors, tasks or hurdvm's own calls. Handler
// context.
//
// A process's pointers (procRange, through userRange and the copies of
// user.go) may point into its window only, the whole of what it can map
// (the lower half but its first 64 KiB and its top page): the kernel's
// image, the heap window, the physmap, non-canonical addresses and ranges
// that wrap are EFAULT before anything is touched. Inside the window the
// copy is userCopyAC's one bracketed instruction, which the fault path
// knows: a page the VM cannot give (no region, a region that forbids the
// access) ends the copy short, and the call answers EFAULT (or the count
// copied, where Linux does), never a kernel fault.
//
// The memory calls (mmap, munmap, mprotect, madvise, brk) are
// VMAllocate, VMDeallocate, Protect and Discard in the process's space,
// under its lock alone (procVMCall, without the kernel lock, as the
// kernel's own vmCall); the others under the kernel lock (procSyscall).

package kernel

import "hurdvm/mm"

const (
	sysBrk     = 12
	sysGetppid = 110

	mapPopulate = 0x8000

	// procWriteMax is the most one write call takes (Linux's is
	// MAX_RW_COUNT, 2 GiB less a page): a write of more returns the
	// count written, as a write may, and the program writes the rest.
	// A console piece: echoed output goes into the console ring as
	// kernel messages do, with interrupts off until it is in.
	procWriteMax = consolePiece
)

// procRange reports whether [addr, addr+n) lies in the process's window,
// without wrapping.
func procRange(addr, n uint64) bool {
	end := addr + n
	return end >= addr && addr >= processWindowStart && end <= processWindowEnd
}

// procVMCall serves a process's mmap, munmap and mprotect without the
// kernel lock, under its space's lock (vmCall passes them here; brk, which
// the kernel's runtime never makes, comes through procSyscall, under the
// same space lock).
func procVMCall(c *cpu, tf *TrapFrame) bool {
	nr := uint64(uint32(tf.RAX))
	trapEnter(c, tf, false)
	c.callNr = nr
	t := thr(c.current)
	p := &procs[t.proc-1]
	as := &spaces[t.space]
	a0, a1, a2, a3 := tf.RDI, tf.RSI, tf.RDX, tf.R10
	var r uint64
	switch nr {
	case sysMmap:
		r = procMmap(p, as, a0, a1, a2, a3, tf.R8, tf.R9)
	case sysMunmap:
		r = procMunmap(p, as, a0, a1)
	case sysMprotect:
		r = procMprotect(p, as, a0, a1, a2)
	case sysMadvise:
		r = madviseRange(as, processWindowStart, processWindowEnd, p.imageLo, roundUp(p.brkStart, pageSize), a0, a1, a2)
	default: // vmCall's others (the VM's and the tasks' own calls): not a process's
		r = errno(eNOSYS)
	}
	tf.RAX = r
	return true
}

// procErrno is the Linux errno of a VM error in a process's mmap: no room
// in the window is ENOMEM, as Linux says when no range fits.
func procErrno(err error) uint64 {
	if err == mm.ENOSPC {
		return errno(eNOMEM)
	}
	return linuxErrno(err)
}

// procMmap is mmap of anonymous memory: a region made by Allocate (with
// VM_HERE at a fixed address or a usable hint, first fit in the window
// otherwise; map_now for MAP_POPULATE), given prot by Protect unless it is
// read-write. MAP_FIXED deallocates what was there first. The checks and
// their order are Linux 6.1's; a process has no descriptor to map
// (EBADF), and MAP_SHARED is private memory (no process shares its
// memory with another yet).
func procMmap(p *proc, as *mm.AddressSpace, addr, length, prot, flags, fd, off uint64) uint64 {
	if off%pageSize != 0 {
		return errno(eINVAL)
	}
	if flags&mapAnonymous == 0 {
		return errno(eBADF)
	}
	length, fixed, e := anonMmapChecks(addr, length, flags)
	if e != 0 {
		return e
	}
	if fixed && !procRange(addr, length) {
		return errno(eNOMEM) // outside the window: nothing there the process may map
	}
	populate := flags&mapPopulate != 0
	va := uintptr(addr)
	size := uintptr(length)
	lockSpace(as)
	var err error
	switch {
	case flags&mapFixed != 0:
		if err = as.Deallocate(va, size); err == nil {
			p.info.Deallocates++
			err = as.Allocate(&va, size, mm.VM_HERE, populate)
		}
	case flags&mapFixedNoreplace != 0:
		err = as.Allocate(&va, size, mm.VM_HERE, populate)
	default:
		err = mm.EEXIST
		if addr != 0 && addr%pageSize == 0 && procRange(addr, length) {
			err = as.Allocate(&va, size, mm.VM_HERE, populate) // the hint, if it is free
		}
		if err != nil {
			err = as.Allocate(&va, size, 0, populate)
		}
	}
	if err == nil {
		p.info.Allocates++
		if pr := protOf(prot); pr != mm.ProtRead|mm.ProtWrite {
			if err = as.Protect(va, size, pr); err != nil {
				as.Deallocate(va, size)
				p.info.Deallocates++
			} else {
				p.info.Protects++
			}
		}
	}
	unlockSpace(as)
	if err != nil {
		return procErrno(err)
	}
	return uint64(va)
}

// procMunmap is munmap: Deallocate of the range's part in the window (its
// first 64 KiB hold nothing of the process's).
func procMunmap(p *proc, as *mm.AddressSpace, addr, length uint64) uint64 {
	if addr%pageSize != 0 || length == 0 {
		return errno(eINVAL)
	}
	end := roundUp(addr+length, pageSize)
	if end <= addr || end > taskSize {
		return errno(eINVAL)
	}
	addr, end = max(addr, processWindowStart), min(end, processWindowEnd)
	if addr >= end {
		return 0
	}
	lockSpace(as)
	err := as.Deallocate(uintptr(addr), uintptr(end-addr))
	if err == nil {
		p.info.Deallocates++
	}
	unlockSpace(as)
	return procErrno(err)
}

// procMprotect is mprotect: Protect; a page outside every region (or
// outside the window) is ENOMEM, as Linux says.
func procMprotect(p *proc, as *mm.AddressSpace, addr, length, prot uint64) uint64 {
	if addr%pageSize != 0 || prot&^(protRead|protWrite|protExec|protSem) != 0 {
		return errno(eINVAL)
	}
	if length == 0 {
		return 0
	}
	length = roundUp(length, pageSize)
	if length == 0 || addr+length < addr || addr+length > taskSize {
		return errno(eNOMEM)
	}
	if !procRange(addr, length) {
		return errno(eNOMEM)
	}
	lockSpace(as)
	err := as.Protect(uintptr(addr), uintptr(length), protOf(prot))
	if err == nil {
		p.info.Protects++
	}
	unlockSpace(as)
	return procErrno(err)
}

// procBrk is brk: the break moves to addr when the pages between its old
// and new page-rounded ends can be allocated (VM_HERE) or are
// deallocated; the answer is the break, unchanged when it cannot move (as
// Linux answers).
func procBrk(p *proc, as *mm.AddressSpace, addr uint64) uint64 {
	lockSpace(as)
	r := procMoveBrk(p, as, addr)
	unlockSpace(as)
	return r
}

// procMoveBrk is procBrk under the space's lock.
func procMoveBrk(p *proc, as *mm.AddressSpace, addr uint64) uint64 {
	if addr < p.brkStart || !procRange(p.brkStart, addr-p.brkStart) {
		return p.brk
	}
	oldTop, newTop := roundUp(p.brk, pageSize), roundUp(addr, pageSize)
	switch {
	case newTop > oldTop:
		va := uintptr(oldTop)
		if as.Allocate(&va, uintptr(newTop-oldTop), mm.VM_HERE, false) != nil {
			return p.brk
		}
		p.info.Allocates++
	case newTop < oldTop:
		if as.Deallocate(uintptr(newTop), uintptr(oldTop-newTop)) != nil {
			return p.brk
		}
		p.info.Deallocates++
	}
	p.brk = addr
	return addr
}

// procSyscall serves a process's calls that are its own, under the kernel
// lock (systemCall passes every call of a process here first), and
// reports whether it did: false for the calls the kernel's personality
// serves for any program, the process's state being where the calling
// thread's program keeps it (progState: signal actions, descriptors;
// futexes keyed by the program; copies into its task window): threads
// (clone, exit, futex, gettid, sched_yield, sched_getaffinity,
// arch_prctl), signals (rt_sigaction, rt_sigprocmask, rt_sigreturn,
// sigaltstack, kill, tkill, tgkill), time (nanosleep, clock_nanosleep),
// getrandom, uname, getcpu, mincore (of its window), the netpoller's
// descriptors (epoll, eventfd), and the file
// calls (fileSyscall: paths, descriptors, pipes, dup, close). Any other
// call is ENOSYS, so a process reaches none of the kernel program's
// descriptors, tasks, or hurdvm's own calls.
func procSyscall(tf *TrapFrame, t *thread, nr uint64) bool {
	p := &procs[t.proc-1]
	if p.ends(current()) {
		return true // its process is ending (or execs): leaveKernel ends this thread too, the call unmade
	}
	a0, a1, a2 := tf.RDI, tf.RSI, tf.RDX
	var r uint64
	var ok bool
	switch nr {
	case sysWrite:
		if f := fdFile(int32(a0)); f != nil && f.kind == fileConsole {
			r = procWrite(p, a1, a2)
		} else {
			r, _ = fileSyscall(tf, nr, [6]uint64{a0, a1, a2, tf.R10, tf.R8, tf.R9})
		}
	case sysFork:
		r = procFork(tf, t, sigCHLD, 0, 0)
	case sysVfork:
		r = procFork(tf, t, cloneVfork|cloneVM|sigCHLD, 0, 0)
	case sysClone:
		if a0&cloneThread != 0 {
			return false // a thread of the process: the personality's
		}
		r = procFork(tf, t, a0, a1, a2)
	case sysExecve:
		r = procExecve(t, atFDCWD, a0, a1, a2, 0)
	case sysExecveat:
		r = procExecve(t, int32(a0), a1, a2, tf.R10, tf.R8)
	case sysWait4:
		r = procWait4(t, int32(a0), a1, a2, tf.R10)
	case sysKill:
		switch pid := int32(a0); {
		case pid == curPID():
			return false // itself: the personality's
		case pid <= 0:
			r = procKillGroup(t.proc-1, pid, a1) // a group, or every process
		default:
			r = procKillPID(pid, a1)
		}
	case sysReadlink, sysReadlinkat:
		// /proc/self/exe is the kernel's answer (procexe.go), any
		// other path the file server's.
		path, buf, size := a0, a1, int32(a2)
		if nr == sysReadlinkat {
			path, buf, size = a1, a2, int32(tf.R10)
		}
		if r, ok = procReadlink(p, path, buf, size); !ok {
			r, _ = fileSyscall(tf, nr, [6]uint64{a0, a1, a2, tf.R10, tf.R8, tf.R9})
		}
	case sysSetpgid:
		r = procSetpgid(t.proc-1, int32(a0), int32(a1))
	case sysGetpgid, sysGetpgrp, sysGetsid:
		if nr == sysGetpgrp {
			a0 = 0
		}
		r = procGetID(t.proc-1, int32(a0), nr == sysGetsid)
	case sysSetsid:
		r = procSetsid(t.proc - 1)
	case sysWaitid:
		r = procWaitid(t, a0, int32(a1), a2, tf.R10, tf.R8)
	case sysPidfdOpen:
		r = pidfdOpen(int32(a0), a1)
	case sysPidfdSendSignal:
		r = pidfdSendSignal(t, int32(a0), a1, a2, tf.R10)
	case sysExitGroup:
		procExit(int32(a0))
		return true
	case sysGetppid:
		r = processID // the kernel's program started it (or its parent ended: init's, as Linux reparents)
		if p.parent > 0 {
			r = uint64(procs[p.parent-1].info.PID)
		}
	case sysClockGettime:
		r = procClock(t.proc-1, int64(int32(a0)), a1)
	case sysClockGetres:
		r = procClockGetres(t.proc-1, int64(int32(a0)), a1)
	case sysPrlimit64:
		r = procPrlimit(t.proc-1, int32(a0), a1, a2, tf.R10)
	case sysGetrlimit:
		r = procPrlimit(t.proc-1, 0, a0, 0, a1)
	case sysSetrlimit:
		r = procPrlimit(t.proc-1, 0, a0, a1, 0)
	case sysTimes:
		r = procTimes(t.proc-1, a0)
	case sysGetrusage:
		r = procGetrusage(t.proc-1, a0, a1)
	case sysBrk:
		r = procBrk(p, &spaces[t.space], a0)
	case sysMmap, sysMunmap, sysMprotect: // (vmCall's, but for a file mmap)
		procVMCall(thisCPU(), tf)
		return true
	case sysExit, sysFutex, sysGetpid, sysGettid, sysSchedYield, sysSchedGetaffinity, sysArchPrctl, sysPrctl,
		sysRtSigaction, sysRtSigprocmask, sysRtSigreturn, sysSigaltstack, sysTkill, sysTgkill,
		sysNanosleep, sysClockNanosleep, sysGetrandom, sysUname, sysGetcpu, sysMincore,
		sysEpollCreate1, sysEpollCtl, sysEpollPwait, sysEpollWait, sysEventfd2:
		return false // the personality's, for any program (systemCall)
	default:
		// Files: the same calls as the kernel program's (syscall_file.go),
		// on the one file system the server keeps for every program, with
		// the process's descriptors and its memory (the server's copies
		// keep to its task window: spaceCopy).
		if r, ok = fileSyscall(tf, nr, [6]uint64{a0, a1, a2, tf.R10, tf.R8, tf.R9}); ok {
			break
		}
		if !procTestSyscall(nr, a0, &r) { // test kernels' hooks (proc_testhooks.go)
			reportUnimplemented(nr)
			r = errno(eNOSYS)
		}
	}
	if t.state == threadRunnable {
		tf.RAX = r
	}
	return true
}

// procWrite is write on the process's console (fds 0, 1 and 2, and their
// dups), its output: kept in its record (for Wait) and, when it was
// started so, printed on the console. Through a buffer on the kernel
// stack, piece by piece: a piece that cannot be read ends the call with
// the count written before it, or EFAULT.
func procWrite(p *proc, buf, n uint64) uint64 {
	n = min(n, procWriteMax)
	if n == 0 {
		return 0
	}
	if !procRange(buf, n) {
		return errno(eFAULT)
	}
	var piece [256]byte
	for done := uint64(0); done < n; {
		k := min(n-done, uint64(len(piece)))
		if !copyIn(piece[:k], buf+done) {
			if done > 0 {
				return done
			}
			return errno(eFAULT)
		}
		if o := p.info.OutputLen; o < procOutMax {
			copy(p.info.Output[o:], piece[:k])
		}
		p.info.OutputLen += k
		if p.echo {
			kprintBytes(piece[:k])
		}
		done += k
	}
	return n
}

// procClock is clock_gettime: the CPU-time clocks are the process's own
// (procClockCPU), not clockNow's, which are the kernel program's.
func procClock(me int32, id int64, ts uint64) uint64 {
	ns, ok := clockNow(id)
	if id < 0 || id == clockProcessCPU || id == clockThreadCPU {
		ns, ok = procClockCPU(me, id)
	}
	if !ok {
		return errno(eINVAL)
	}
	v := [2]int64{ns / nsPerSecond, ns % nsPerSecond}
	if !copyOut(ts, bytesOf(&v)) {
		return errno(eFAULT)
	}
	return 0
}
