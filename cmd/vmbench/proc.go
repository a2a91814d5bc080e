//go:build !hurdvm

// The process table (vmbench -proc): the Linux build of this program, the
// same binary, run on Linux (as /init) and on hurdvm as a process in
// ring 3 (cmd/procinit, as `qemuexec -process` runs one), so that both
// kernels serve the same system calls from the same user code:
//
//	proc/fork_64m           fork(2) of the process with 64 MiB touched, until
//	                        it returns in the parent
//	proc/fork_wait_64m      the same, the child exiting at once, until wait4
//	                        has reaped it
//	proc/cow_fault          the same with a child that first writes every
//	                        page of the 64 MiB (each a copy-on-write
//	                        fault), less the above, per page
//	proc/alloc_free_1p      mmap+munmap of 1 page (and 16), untouched
//	proc/first_touch        first-touch fault per page of a fresh 64 MiB
//	proc/demand_64m         mmap 64 MiB and touch every page
//	proc/free_64m           munmap of the 64 MiB touched
//	proc/protect_ro_64m     mprotect of the 64 MiB touched to read-only
//	proc/protect_rw_64m     and back to read-write
//
// The clock is the program's own (clock_gettime: Linux's vDSO, hurdvm's
// system call), which under QEMU's -icount shift=0 counts guest
// instructions. The child needs no memory shared with its parent (hurdvm's
// MAP_SHARED is private memory): the parent times fork and wait4 around
// it.

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
	"unsafe"
)

// The process table's samples.
var procForkT, forkWaitT, forkWaitCowT, protROT, protRWT [forkSamples]float64

// runProc is vmbench -proc.
func runProc() {
	runtime.GC()
	debug.SetGCPercent(-1)
	fmt.Printf("BENCH-START %s %s GOMAXPROCS=%d GODEBUG=%s proc\n", kernelName(), runtime.Version(),
		runtime.GOMAXPROCS(0), os.Getenv("GODEBUG"))
	// Fork first, as in the main table: what it copies besides the
	// 64 MiB is then least disturbed by the other benchmarks.
	benchForkWait()
	benchPairs("proc", sysOps, 1)
	benchPairs("proc", sysOps, 16)
	benchBig("proc", sysOps, false)
	benchProtect()
	fmt.Println("BENCH-END")
	exit(0)
}

// benchForkWait forks the process with 64 MiB touched, twice a sample:
// a child that exits at once, and one that writes every page first. Both
// are timed in the parent from before fork until wait4 returns with the
// child reaped; the second less the first, over the pages, is what a
// copy-on-write fault costs (and the freeing of its copy at the child's
// end).
func benchForkWait() {
	a := sysOps.alloc(bigSize, false)
	touch(a, bigSize, 1)
	debug.FreeOSMemory()
	for s := range forkSamples {
		fork, all := forkWait(a, false)
		procForkT[s], forkWaitT[s] = float64(fork)/1e3, float64(all)/1e3
		_, cow := forkWait(a, true)
		forkWaitCowT[s] = (float64(cow) - forkWaitT[s]*1e3) / bigPages
	}
	check(a, bigSize, 1) // the children's writes were their own
	sysOps.free(a, bigSize)
	fmt.Printf("INFO proc/fork_wait_64m wait4 answered EINTR %d times in %d calls (made again)\n", waitEINTR, 2*forkSamples)
	report("proc/fork_64m", procForkT[:], "us")
	report("proc/fork_wait_64m", forkWaitT[:], "us")
	report("proc/cow_fault", forkWaitCowT[:], "ns/page")
}

// waitStatus is wait4's status word: a global, so that passing its
// address allocates nothing.
var waitStatus uint32

// waitEINTR counts the wait4 calls that ended with EINTR, made again. The
// Go runtime's handlers (SIGCHLD's among them) are SA_RESTART, so Linux
// restarts the call and this stays 0; hurdvm at -smp 1 answered EINTR
// before its wait4 restarted as Linux's (the INFO line says how often).
var waitEINTR int

// forkWait is one fork of the process and the wait for its child: the
// guest nanoseconds until fork returned in the parent, and until wait4
// did; the child writes every page of [base, base+bigSize)
// first when write is set. Raw system calls: the parent keeps its P while
// it waits (nothing else of the program needs to run meanwhile), and the
// child runs no Go runtime code (forkExit).
func forkWait(base uintptr, write bool) (fork, all int64) {
	growStack()
	w := uintptr(0)
	if write {
		w = 1
	}
	t0 := nanos()
	pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e == 0 && pid == 0 {
		forkExit(base, w)
	}
	tf := nanos()
	if e != 0 {
		fail("fork", e)
	}
	r, _, e := syscall.RawSyscall6(syscall.SYS_WAIT4, pid, uintptr(unsafe.Pointer(&waitStatus)), 0, 0, 0, 0)
	for e == syscall.EINTR { // as os.Process.Wait: the runtime's handlers are SA_RESTART, but see waitEINTR
		waitEINTR++
		r, _, e = syscall.RawSyscall6(syscall.SYS_WAIT4, pid, uintptr(unsafe.Pointer(&waitStatus)), 0, 0, 0, 0)
	}
	t1 := nanos()
	if e != 0 || r != pid {
		fail("wait4", e)
	}
	if waitStatus != 0 {
		fmt.Printf("vmbench: forked child ended with %#x\n", waitStatus)
		exit(1)
	}
	return tf - t0, t1 - t0
}

// forkExit is the forked child: it writes every page when write is 1,
// then exits. Memory accesses and a raw system call only.
//
//go:nosplit
func forkExit(base, write uintptr) {
	if write != 0 {
		for off := uintptr(0); off < bigSize; off += pageSize {
			*(*byte)(unsafe.Add(nil, base+off)) = 2
		}
	}
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
}

// benchProtect times mprotect of a touched 64 MiB region to read-only and
// back to read-write.
func benchProtect() {
	a := sysOps.alloc(bigSize, false)
	touch(a, bigSize, 1)
	mprotect := func(prot uintptr) {
		if _, _, e := syscall.RawSyscall(syscall.SYS_MPROTECT, a, bigSize, prot); e != 0 {
			fail("mprotect", e)
		}
	}
	for s := range protROT {
		t0 := nanos()
		mprotect(protRead)
		t1 := nanos()
		mprotect(protRead | protWrite)
		t2 := nanos()
		protROT[s] = float64(t1-t0) / 1e3
		protRWT[s] = float64(t2-t1) / 1e3
	}
	touch(a, bigSize, 3) // writable again, every page still there
	check(a, bigSize, 3)
	sysOps.free(a, bigSize)
	report("proc/protect_ro_64m", protROT[:], "us")
	report("proc/protect_rw_64m", protRWT[:], "us")
}
