//go:build hurdvm

// The Linux personality: the system calls the Go runtime makes, served by
// the kernel, with Linux x86-64's numbers and Linux 6.1's answers (the
// table test tests/syscalls checks them against the real Linux: make
// test-linux-parity). What each must do is in the runtime's
// sys_linux_amd64.s, os_linux.go and mem_linux.go, and in Linux's source.
// This file dispatches; the calls are served by family: syscall_memory.go,
// syscall_thread.go, syscall_signal.go, syscall_time.go,
// syscall_system.go, fd.go (descriptors, eventfd, epoll). Handler context.

package kernel

import (
	"sync/atomic"

	"hurdvm/mm"
)

// Linux errno values, returned negated in RAX.
const (
	ePERM        = 1
	eNOENT       = 2
	eSRCH        = 3
	eINTR        = 4
	eBADF        = 9
	eAGAIN       = 11
	eNOMEM       = 12
	eFAULT       = 14
	eEXIST       = 17
	eNODEV       = 19
	eINVAL       = 22
	eNFILE       = 23
	eMFILE       = 24
	eNOTDIR      = 20
	eNOSPC       = 28
	eSPIPE       = 29
	eNOSYS       = 38
	eNAMETOOLONG = 36
	eOPNOTSUPP   = 95
	eTIMEDOUT    = 110
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
	sysEpollWait        = 232
	sysEventfd2         = 290
	sysEpollCreate1     = 291
	sysPrlimit64        = 302
	sysGetcpu           = 309
	sysGetrandom        = 318
)

var syscallCounts [512]uint64

var unknownSyscallSeen [512]bool

func errno(e int) uint64 { return uint64(-int64(e)) }

// vmCall serves the memory calls without the kernel lock, each under the
// lock of the address space it changes (docs/DESIGN.md, "Locking"):
// mmap of anonymous memory, munmap, madvise, mprotect, and the VM's and
// the tasks' calls but entering and destroying a task (which look at the
// threads). False for any other call, which the locked path serves.
func vmCall(c *cpu, tf *TrapFrame) bool {
	nr := uint64(uint32(tf.RAX))
	a0, a1, a2, a3, a4, a5 := tf.RDI, tf.RSI, tf.RDX, tf.R10, tf.R8, tf.R9
	switch nr {
	case sysMmap:
		if a3&mapAnonymous == 0 {
			return false // a descriptor: the personality's
		}
	case sysMunmap, sysMadvise, sysMprotect, mm.SysVMAllocate, mm.SysVMDeallocate, mm.SysVMStats,
		mm.SysTaskNew, mm.SysTaskStats, mm.SysPagerRun:
	default:
		return false
	}
	if tf.CS&3 != 0 {
		return procVMCall(c, tf) // a process's (procsyscall.go)
	}
	trapEnter(c, tf, c.inKernelStack(tf.RSP))
	c.callNr = nr
	atomic.AddUint64(&syscallCounts[nr&(uint64(len(syscallCounts))-1)], 1)
	var r uint64
	switch nr {
	case sysMmap:
		r = mmapAnon(a0, a1, a2, a3, a4, a5)
	case sysMunmap:
		r = munmapRange(a0, a1)
	case sysMadvise:
		r = madviseRange(&spaces[kernelSpace], heapWindowStart, heapWindowEnd, 0, 0, a0, a1, a2)
	case sysMprotect:
		r = mprotectRange(a0, a1, a2)
	case mm.SysVMAllocate, mm.SysVMDeallocate, mm.SysVMStats:
		r = vmSyscall(nr, a0, a1, a2, a3)
	case mm.SysPagerRun:
		r = pagerRun(a0 != 0)
	default:
		r = taskSyscall(nr, a0, a1, a2)
	}
	tf.RAX = r
	return true
}

// reportUnimplemented says once, for each number, that a program made a
// call hurdvm does not serve (ENOSYS).
func reportUnimplemented(nr uint64) {
	if nr < uint64(len(unknownSyscallSeen)) && !unknownSyscallSeen[nr] {
		unknownSyscallSeen[nr] = true
		kprint("hurdvm: unimplemented system call ")
		kprintDec(nr)
		kprintSyscallName(nr)
		kprint("\n")
	}
}

// systemCall serves the system call in tf. A call that blocks the thread
// gets its result when the thread is woken (wake, or its resume function):
// the dispatcher then leaves RAX alone.
func systemCall(tf *TrapFrame) {
	// Linux takes the number as an int: the upper half of RAX is ignored.
	nr := uint64(uint32(tf.RAX))
	thisCPU().callNr = nr
	a0, a1, a2, a3, a4, a5 := tf.RDI, tf.RSI, tf.RDX, tf.R10, tf.R8, tf.R9
	if nr < uint64(len(syscallCounts)) {
		atomic.AddUint64(&syscallCounts[nr], 1)
	}
	t := thr(current())
	var r uint64
	var ok bool
	if t.proc != 0 {
		if procSyscall(tf, t, nr) { // a process's own calls, and the ones it may not make
			return
		}
	} else if r, ok = fileSyscall(tf, nr, [6]uint64{a0, a1, a2, a3, a4, a5}); ok {
		goto done
	}
	switch nr {
	// Descriptors of the kernel's own (fd.go, epoll.go); files are
	// syscall_file.go's.
	case sysEpollCreate1:
		r = epollCreate(a0)
	case sysEventfd2:
		r = eventfdCreate(a0, a1)
	case sysEpollCtl:
		r = epollCtl(int32(a0), a1, int32(a2), a3)
	case sysEpollPwait:
		r = epollWait(int32(a0), a1, int64(int32(a2)), int64(int32(a3)), a4, a5)
	case sysEpollWait: // epoll_pwait without a signal mask
		r = epollWait(int32(a0), a1, int64(int32(a2)), int64(int32(a3)), 0, 0)

	// Memory (syscall_memory.go, vm.go): what vmCall leaves to the
	// kernel lock (mmap of a descriptor, mincore, the task calls that
	// look at threads).
	case sysMmap:
		r = mmapAnon(a0, a1, a2, a3, a4, a5)
	case sysMincore:
		r = mincoreRange(a0, a1, a2)
	case mm.SysTaskEnter, mm.SysTaskDestroy, mm.SysTaskFault:
		r = taskSyscall(nr, a0, a1, a2)

	// Signals (syscall_signal.go).
	case sysRtSigaction:
		r = sysSigaction(a0, a1, a2, a3)
	case sysRtSigprocmask:
		r = sysSigprocmask(t, a0, a1, a2, a3)
	case sysRtSigreturn:
		sigreturn(tf)
		return // RAX is the restored context's
	case sysSigaltstack:
		r = sysAltstack(t, tf, a0, a1)
	case sysKill:
		r = sysKillProcess(int32(a0), a1)
	case sysTkill:
		r = sysSignalThread(curPID(), int32(a0), a1)
	case sysTgkill:
		r = sysSignalThread(int32(a0), int32(a1), a2)

	// Threads (syscall_thread.go).
	case sysClone:
		r = sysCloneThread(tf, a0, a1, a2, a3, a4)
	case sysExit:
		threadExit(t, int32(a0))
	case sysExitGroup:
		if exitWaitsForFiles() {
			break // made again when the server is idle
		}
		exitMachine(int(int32(a0)))
	case sysFutex:
		r = sysFutexOp(a0, a1, uint32(a2), a3, a4, uint32(a5))
	case sysSchedYield:
		thisCPU().yielding = true // leaveKernel queues this thread behind the others
	case sysSchedGetaffinity:
		r = sysGetaffinity(int32(a0), a1, a2)
	case sysArchPrctl:
		r = sysArchPrctlOp(t, a0, a1)
	case sysGetpid:
		r = uint64(curPID())
	case sysGettid:
		r = uint64(t.tid)

	// Time (syscall_time.go).
	case sysNanosleep:
		r = sysSleep(clockMonotonic, 0, a0, a1)
	case sysClockNanosleep:
		r = sysSleep(int64(int32(a0)), a1, a2, a3)
	case sysClockGettime:
		r = sysClock(int64(int32(a0)), a1)

	// The system (syscall_system.go).
	case sysGetrandom:
		r = sysRandom(a0, a1, a2)
	case sysPrlimit64:
		r = sysPrlimit(int32(a0), a1, a2, a3)
	case sysGetrlimit:
		r = errno(eFAULT) // the old limit is not optional here
		if a1 != 0 {
			r = sysPrlimit(0, a0, 0, a1)
		}
	case sysPrctl:
		r = sysPrctlOp(t, a0, a1)
	case sysUname:
		r = sysUnameInfo(a0)
	case sysGetcpu:
		r = sysGetcpuOp(a0, a1)

	case sysFileNext, sysFileCopy, sysFileString, sysFileDone, sysFileNotify, sysFileExport, sysFileUp:
		r = fileServerCall(nr, a0, a1, a2, a3, a4)
	case sysACPIMap, sysACPIClose: // CPU discovery at boot (acpiwindow.go)
		r = acpiWindowCall(nr, a0, a1)
	case sysProcNew, sysProcMap, sysProcProtect, sysProcWrite, sysProcStart, sysProcWait,
		sysProcInfo, sysProcKill, sysProcAbort, sysProcStatus: // processes (process.go)
		r = procCall(tf, nr, a0, a1, a2, a3)
	case sysExecNext, sysExecCopy, sysExecString, sysExecNew, sysExecFail, sysExecCommit: // execve's server (procexec.go)
		r = execCall(nr, a0, a1, a2, a3, a4, a5)
	default:
		if testSyscall(tf, nr, a0, a1, &r) {
			break
		}
		reportUnimplemented(nr)
		r = errno(eNOSYS)
	}
done:
	// A thread that blocked gets its result when it is woken.
	if t.state == threadRunnable || isIdle(current()) {
		tf.RAX = r
	}
}
