//go:build hurdvm && hurdvmtest

// Test hooks for the multiprocessor tests (tests/smp), built only into
// test kernels like testhooks.go: how many CPUs run, how many shootdown
// IPIs they sent, and a switch that turns TLB shootdowns off, so that a
// test can be shown to fail without them. Each is a system call of its
// own, served in the system-call handler (handler context) under the
// kernel lock.

package kernel

import (
	"syscall"

	"hurdvm/mm"
)

const (
	sysSMPCPUs           = 0x48560060 // returns ncpu
	sysSMPShootdownsSent = 0x48560061 // returns the shootdown IPIs every CPU sent
	sysSMPShootdowns     = 0x48560062 // a0 1: on, 0: off; returns 1 if they were on
)

// hurdvm's own system call numbers must be distinct (hooks once took the
// ACPI window's): a switch with two equal constant cases does not compile.
func _() {
	switch uint64(0) {
	case sysBreakKernel,
		mm.SysVMAllocate, mm.SysVMDeallocate, mm.SysVMStats, mm.SysPagerRun,
		mm.SysTaskNew, mm.SysTaskEnter, mm.SysTaskDestroy, mm.SysTaskStats, mm.SysTaskFault,
		sysInspectTranslate, sysInspectFrameAlloc, sysInspectFrameFree, sysInspectFrameStats, sysStoreCapacity, sysEvictTask,
		sysFileNext, sysFileCopy, sysFileString, sysFileDone, sysFileNotify, sysFileExport, sysFileUp,
		sysACPIMap, sysACPIClose,
		sysSMPCPUs, sysSMPShootdownsSent, sysSMPShootdowns,
		sysInspectLocks, sysPagerMarks, sysPagerPolling,
		sysProcNew, sysProcMap, sysProcProtect, sysProcWrite, sysProcStart, sysProcWait, sysProcInfo,
		sysProcKill, sysProcAbort, sysProcStatus,
		sysExecNext, sysExecCopy, sysExecString, sysExecNew, sysExecFail, sysExecCommit,
		sysTestUserBit, sysTestSMAP, sysTestUnbracketed:
	}
}

// CPUCount is how many CPUs the kernel runs on: the boot CPU and every
// AP that answered. (runtime.NumCPU is sched_getaffinity's count, which
// is at least 2: syscall_thread.go cpusReported.)
func CPUCount() int {
	r, _, _ := syscall.RawSyscall(sysSMPCPUs, 0, 0, 0)
	return int(r)
}

// ShootdownsSent is how many shootdown IPIs the CPUs have sent since boot
// (one per target CPU per Sync, shootdown.go).
func ShootdownsSent() uint64 {
	r, _, _ := syscall.RawSyscall(sysSMPShootdownsSent, 0, 0, 0)
	return uint64(r)
}

// SetShootdowns turns TLB shootdowns on or off and says whether they were
// on. Off, a CPU that changes page tables invalidates only its own TLB:
// the others keep stale translations, which is what the tests that need
// shootdowns must catch. Off is for showing that; nothing else is safe.
func SetShootdowns(on bool) (wasOn bool) {
	a := uintptr(0)
	if on {
		a = 1
	}
	r, _, _ := syscall.RawSyscall(sysSMPShootdowns, a, 0, 0)
	return r == 1
}

// smpTestSyscall serves the calls above in handler context; false for a
// call that is not one of them.
func smpTestSyscall(nr, a0 uint64, r *uint64) bool {
	switch nr {
	case sysSMPCPUs:
		*r = uint64(ncpu)
	case sysSMPShootdownsSent:
		var n uint64
		for i := int32(0); i < ncpu; i++ {
			n += cpus[i].shootdownsSent
		}
		*r = n
	case sysSMPShootdowns:
		*r = 0
		if !shootdownOff {
			*r = 1
		}
		shootdownOff = a0 == 0
	default:
		return false
	}
	return true
}
