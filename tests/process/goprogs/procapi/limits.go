package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

const (
	rlimitStack  = 3
	rlimitCore   = 4
	rlimitNofile = 7
)

func prlimit(pid, res int, nl, old *[2]uint64) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(res), uintptr(unsafe.Pointer(nl)), uintptr(unsafe.Pointer(old)), 0, 0)
	return rawErr(e)
}

// limits: prlimit64, getrlimit and setrlimit. It prints RLIMIT_NOFILE,
// RLIMIT_STACK and RLIMIT_CORE (the test checks hurdvm's); lowering
// RLIMIT_NOFILE's soft limit to one past the lowest free descriptor
// makes the next dup EMFILE, dup2 past it EBADF and F_DUPFD past it
// EINVAL; a forked child inherits the lowered limit; a soft limit above
// the hard one is EINVAL, RLIMIT_NOFILE past the kernel's most EPERM, an
// unknown resource EINVAL, no process ESRCH, a bad pointer EFAULT; a
// child's limit set and read through its pid.
func limits(string) error {
	var nofile, stack, core [2]uint64
	for _, l := range []struct {
		res int
		v   *[2]uint64
	}{{rlimitNofile, &nofile}, {rlimitStack, &stack}, {rlimitCore, &core}} {
		if err := prlimit(0, l.res, nil, l.v); err != nil {
			return fmt.Errorf("prlimit64(%d): %v", l.res, err)
		}
	}
	fmt.Printf("limits: nofile %d %d stack %d %d core %d %d\n", nofile[0], nofile[1], stack[0], stack[1], int64(core[0]), int64(core[1]))
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(rlimitNofile, &rl); err != nil || rl.Cur != nofile[0] || rl.Max != nofile[1] {
		return fmt.Errorf("getrlimit(RLIMIT_NOFILE): %v, %v", rl, err)
	}
	var p [2]int // for the child below, before the limit is lowered
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return err
	}
	n, err := syscall.Dup(0)
	if err != nil {
		return err
	}
	syscall.Close(n)
	low := [2]uint64{uint64(n + 1), nofile[1]}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRLIMIT, rlimitNofile, uintptr(unsafe.Pointer(&low)), 0); e != 0 {
		return fmt.Errorf("setrlimit(RLIMIT_NOFILE, %d): %v", n+1, e)
	}
	restore := func() { prlimit(0, rlimitNofile, &nofile, nil) }
	defer restore()
	m, err := syscall.Dup(0)
	if err != nil || m != n {
		return fmt.Errorf("dup under RLIMIT_NOFILE %d: %d, %v, want %d", n+1, m, err, n)
	}
	_, err = syscall.Dup(0)
	if err := errnoIs("dup past RLIMIT_NOFILE", err, syscall.EMFILE); err != nil {
		return err
	}
	if err := errnoIs("dup2 past RLIMIT_NOFILE", syscall.Dup2(0, n+3), syscall.EBADF); err != nil {
		return err
	}
	_, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, 0, syscall.F_DUPFD, uintptr(n+2))
	if err := errnoIs("F_DUPFD past RLIMIT_NOFILE", rawErr(e), syscall.EINVAL); err != nil {
		return err
	}
	syscall.Close(m)
	// A forked child has the lowered limit.
	pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e != 0 {
		return e
	}
	if pid == 0 {
		var old [2]uint64
		syscall.RawSyscall6(syscall.SYS_PRLIMIT64, 0, rlimitNofile, 0, uintptr(unsafe.Pointer(&old)), 0, 0)
		syscall.RawSyscall(syscall.SYS_WRITE, uintptr(p[1]), uintptr(unsafe.Pointer(&old[0])), 8)
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	var got [8]byte
	syscall.Read(p[0], got[:])
	syscall.Close(p[0])
	syscall.Close(p[1])
	var ws syscall.WaitStatus
	syscall.Wait4(int(pid), &ws, 0, nil)
	if v := *(*uint64)(unsafe.Pointer(&got[0])); v != uint64(n+1) {
		return fmt.Errorf("the forked child's RLIMIT_NOFILE: %d, want %d", v, n+1)
	}
	restore()
	bad := [2]uint64{10, 5}
	if err := errnoIs("a soft limit above the hard one", prlimit(0, rlimitCore, &bad, nil), syscall.EINVAL); err != nil {
		return err
	}
	huge := [2]uint64{1 << 30, 1 << 30}
	if err := errnoIs("RLIMIT_NOFILE of 2^30", prlimit(0, rlimitNofile, &huge, nil), syscall.EPERM); err != nil {
		return err
	}
	if err := errnoIs("resource 99", prlimit(0, 99, nil, &bad), syscall.EINVAL); err != nil {
		return err
	}
	if err := errnoIs("no process", prlimit(1<<22-1, rlimitCore, nil, &bad), syscall.ESRCH); err != nil {
		return err
	}
	_, _, e = syscall.RawSyscall6(syscall.SYS_PRLIMIT64, 0, rlimitCore, 0, badAddr, 0, 0)
	if err := errnoIs("old limit at a kernel address", rawErr(e), syscall.EFAULT); err != nil {
		return err
	}
	child, err := rawFork(childSpec{spin: true, fd: -1})
	if err != nil {
		return err
	}
	defer func() { syscall.Kill(child, syscall.SIGKILL); syscall.Wait4(child, &ws, 0, nil) }()
	set := [2]uint64{4096, 8192}
	var back [2]uint64
	if err := prlimit(child, rlimitCore, &set, nil); err != nil {
		return fmt.Errorf("prlimit64 of a child: %v", err)
	}
	if err := prlimit(child, rlimitCore, nil, &back); err != nil || back != set {
		return fmt.Errorf("the child's RLIMIT_CORE: %v, %v, want %v", back, err, set)
	}
	if err := prlimit(0, rlimitCore, nil, &back); err != nil || back == set {
		return fmt.Errorf("the parent's RLIMIT_CORE changed with its child's: %v, %v", back, err)
	}
	return nil
}

func prctl(op, arg uintptr) (uintptr, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, op, arg, 0)
	return r, rawErr(e)
}

// prctlCheck: PR_SET_NAME and PR_GET_NAME (15 bytes kept), PR_SET_PDEATHSIG
// and PR_GET_PDEATHSIG, EINVAL for a bad signal and an unknown option;
// a grandchild whose parent-death signal is SIGKILL dies when its
// parent exits (its pipe's end closes).
func prctlCheck(string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	name := []byte("procapi-a-long-name\x00")
	if _, err := prctl(syscall.PR_SET_NAME, uintptr(unsafe.Pointer(&name[0]))); err != nil {
		return fmt.Errorf("PR_SET_NAME: %v", err)
	}
	var got [16]byte
	if _, err := prctl(syscall.PR_GET_NAME, uintptr(unsafe.Pointer(&got[0]))); err != nil || string(got[:]) != "procapi-a-long-\x00" {
		return fmt.Errorf("PR_GET_NAME: %q, %v", got, err)
	}
	if _, err := prctl(syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGUSR1)); err != nil {
		return fmt.Errorf("PR_SET_PDEATHSIG: %v", err)
	}
	var sig int32
	if _, err := prctl(syscall.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&sig))); err != nil || sig != int32(syscall.SIGUSR1) {
		return fmt.Errorf("PR_GET_PDEATHSIG: %d, %v", sig, err)
	}
	prctl(syscall.PR_SET_PDEATHSIG, 0)
	if _, err := prctl(syscall.PR_SET_PDEATHSIG, 65); err != syscall.EINVAL {
		return fmt.Errorf("PR_SET_PDEATHSIG 65: %v, want EINVAL", err)
	}
	if _, err := prctl(0x12345, 0); err != syscall.EINVAL {
		return fmt.Errorf("prctl 0x12345: %v, want EINVAL", err)
	}
	// The parent-death signal.
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	var ready [2]int
	if err := syscall.Pipe2(ready[:], syscall.O_CLOEXEC); err != nil {
		return err
	}
	wfd := int(w.Fd())
	a, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e != 0 {
		return e
	}
	if a == 0 {
		b, _, _ := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
		if b == 0 {
			syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0)
			one := [1]byte{'b'}
			syscall.RawSyscall(syscall.SYS_WRITE, uintptr(ready[1]), uintptr(unsafe.Pointer(&one[0])), 1)
			for {
				syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
			}
		}
		var one [1]byte
		syscall.RawSyscall(syscall.SYS_READ, uintptr(ready[0]), uintptr(unsafe.Pointer(&one[0])), 1)
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	_ = wfd
	w.Close()
	syscall.Close(ready[0])
	syscall.Close(ready[1])
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(int(a), &ws, 0, nil); err != nil {
		return err
	}
	r.SetReadDeadline(time.Now().Add(20 * time.Second))
	var b [1]byte
	n, err := r.Read(b[:])
	r.Close()
	if n != 0 || err == nil || os.IsTimeout(err) {
		return fmt.Errorf("the grandchild with PR_SET_PDEATHSIG(SIGKILL) after its parent's end: read %d, %v, want the end of its pipe", n, err)
	}
	return nil
}

const (
	clockProcessCPU = 2
	clockThreadCPU  = 3
)

func clockNS(id int) (int64, error) {
	var ts syscall.Timespec
	_, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, uintptr(id), uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano(), rawErr(e)
}

// burn uses d of the calling thread's CPU time (the wall time it takes
// depends on the machine's load).
func burn(d time.Duration) {
	start, _ := clockNS(clockThreadCPU)
	for now := start; now-start < int64(d); now, _ = clockNS(clockThreadCPU) {
	}
}

// cpuClocks: CLOCK_PROCESS_CPUTIME_ID sums every thread's CPU time (four
// threads burning 100 ms each while the main one sleeps: the process's clock moves,
// the main thread's does not), CLOCK_THREAD_CPUTIME_ID, the clocks made
// from its pid and tid (glibc's clock_getcpuclockid and
// pthread_getcpuclockid) and from a child's pid; EINVAL for a clock of
// no process and for CPUCLOCK_WHICH 3; clock_getres 1 ns; times and
// getrusage (self, thread, children) and wait4's rusage count the CPU
// time burned.
func cpuClocks(string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p0, err := clockNS(clockProcessCPU)
	if err != nil {
		return fmt.Errorf("CLOCK_PROCESS_CPUTIME_ID: %v", err)
	}
	t0, err := clockNS(clockThreadCPU)
	if err != nil {
		return fmt.Errorf("CLOCK_THREAD_CPUTIME_ID: %v", err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			runtime.LockOSThread()
			defer wg.Done()
			burn(100 * time.Millisecond)
		}()
	}
	wg.Wait()
	p1, _ := clockNS(clockProcessCPU)
	t1, _ := clockNS(clockThreadCPU)
	if p1-p0 < 400e6 || t1-t0 > (p1-p0)/2 {
		return fmt.Errorf("four threads burning 100 ms each: the process's CPU clock moved %v, the sleeping main thread's %v", time.Duration(p1-p0), time.Duration(t1-t0))
	}
	pid, tid := syscall.Getpid(), syscall.Gettid()
	pidClock := cpuClockOf(pid, 2)
	tidClock := cpuClockOf(tid, 6)
	if v, err := clockNS(pidClock); err != nil || v < p1 {
		return fmt.Errorf("the clock of its pid: %v, %v, want at least %v", time.Duration(v), err, time.Duration(p1))
	}
	burn(50 * time.Millisecond)
	if v, err := clockNS(tidClock); err != nil || v < t1+40e6 {
		return fmt.Errorf("the clock of its tid: %v, %v, want at least %v", time.Duration(v), err, time.Duration(t1+40e6))
	}
	if _, err := clockNS(cpuClockOf(1<<22-1, 2)); err != syscall.EINVAL {
		return fmt.Errorf("the clock of no process: %v, want EINVAL", err)
	}
	if _, err := clockNS(cpuClockOf(pid, 3)); err != syscall.EINVAL {
		return fmt.Errorf("CPUCLOCK_WHICH 3: %v, want EINVAL", err)
	}
	var res syscall.Timespec
	for _, id := range []int{clockProcessCPU, clockThreadCPU, pidClock} {
		if _, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETRES, uintptr(id), uintptr(unsafe.Pointer(&res)), 0); e != 0 || res.Nano() != 1 {
			return fmt.Errorf("clock_getres(%d): %v, %v, want 1 ns", id, res, e)
		}
	}
	// A child's clock by its pid, its rusage, the children's times.
	child, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e != 0 {
		return e
	}
	if child == 0 {
		var ts syscall.Timespec
		for ts.Nano() < 300e6 {
			syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPU, uintptr(unsafe.Pointer(&ts)), 0)
		}
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := clockNS(cpuClockOf(int(child), 2)); err != nil {
		return fmt.Errorf("the clock of a child's pid: %v", err)
	}
	var ru syscall.Rusage
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(int(child), &ws, 0, &ru); err != nil {
		return err
	}
	if d := time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)); d < 250*time.Millisecond {
		return fmt.Errorf("wait4's rusage of a child that burned 300 ms: %v", d)
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return err
	}
	if d := time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)); d < 250*time.Millisecond {
		return fmt.Errorf("getrusage(RUSAGE_CHILDREN): %v", d)
	}
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	if d := time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)); d < time.Duration(p1-p0) {
		return fmt.Errorf("getrusage(RUSAGE_SELF): %v, less than the %v burned", d, time.Duration(p1-p0))
	}
	if err := syscall.Getrusage(1, &ru); err != nil {
		return fmt.Errorf("getrusage(RUSAGE_THREAD): %v", err)
	}
	if err := errnoIs("getrusage(5)", syscall.Getrusage(5, &ru), syscall.EINVAL); err != nil {
		return err
	}
	var tms syscall.Tms
	if _, err := syscall.Times(&tms); err != nil {
		return err
	}
	if tms.Utime+tms.Stime < 15 || tms.Cutime+tms.Cstime < 25 {
		return fmt.Errorf("times: %+v, want 15 ticks of its own and 25 of its children's at least", tms)
	}
	return nil
}

// cpuClockOf is Linux's CPU-time clock id for pid (or tid) and which
// (CPUCLOCK_SCHED 2, with CPUCLOCK_PERTHREAD 4 for a thread's).
func cpuClockOf(pid, which int) int {
	return int(int32(^uint32(pid))<<3 | int32(which))
}
