//go:build !hurdvm

// The Linux side: fork(2) with copy-on-write through system calls, and
// powering off when the program is the initramfs's /init.

package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Linux's mmap honours MAP_POPULATE: the map_now row.
const sysPopulates = true

// forkShared is the page the parent and the forked child share
// (MAP_SHARED): the child's clock readings and the go-ahead flag.
type forkShared struct {
	goAhead atomic.Uint32
	_       uint32
	t0, t1  syscall.Timespec
}

// benchSyscallFork forks a process with 64 MiB touched (fork(2) as a raw
// system call, timed in the parent until fork returns there), and times
// in the child its writes to every page of those 64 MiB: each is a
// copy-on-write fault, since the parent still maps the page.
//
// The Go runtime is multithreaded and the child is a copy of this thread
// alone, so the child must not run Go runtime code: it touches memory and
// makes raw system calls only, in nosplit functions on a stack grown
// beforehand, with no signals coming (GODEBUG=asyncpreemptoff=1, no
// profiling) and no collection (the GC is off).
func benchSyscallFork() {
	a := sysOps.alloc(bigSize, false)
	touch(a, bigSize, 1)
	sh, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, pageSize, protRead|protWrite, mapShared|mapAnonymous, ^uintptr(0), 0)
	if e != 0 {
		fail("mmap shared page", e)
	}
	shared := (*forkShared)(unsafe.Add(nil, sh))
	// fork copies the runtime's memory too: give back what the heap does
	// not use, so that the same is copied in every boot.
	debug.FreeOSMemory()
	procInfo()
	for s := range forkSamples {
		shared.goAhead.Store(0)
		growStack()
		t0 := nanos()
		pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
		if e == 0 && pid == 0 {
			forkChild(a, shared)
		}
		t1 := nanos()
		if e != 0 {
			fail("fork", e)
		}
		// The child waits for this before its timed writes, so that the
		// parent's figure is fork alone even if the scheduler runs the
		// child first.
		shared.goAhead.Store(1)
		reap(pid)
		forkT[s] = float64(t1-t0) / 1e3
		cowT[s] = float64(shared.t1.Nano()-shared.t0.Nano()) / bigPages
	}
	check(a, bigSize, 1) // the child's writes were its own
	syscall.RawSyscall(syscall.SYS_MUNMAP, sh, pageSize, 0)
	sysOps.free(a, bigSize)
	report("syscall/fork_64m", forkT[:], "us")
	report("syscall/cow_fault", cowT[:], "ns/page")
}

// growStack makes the goroutine's stack large enough for everything the
// child does, so that it never calls morestack.
//
//go:noinline
func growStack() {
	var pad [16 << 10]byte
	use(pad[:])
}

//go:noinline
func use(b []byte) { b[0]++ }

// forkChild is the forked child: it waits for the parent's go-ahead, then
// writes every page of [base, base+bigSize) between two clock readings,
// and exits. Raw system calls and memory accesses only.
//
//go:nosplit
func forkChild(base uintptr, sh *forkShared) {
	for sh.goAhead.Load() == 0 {
		syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
	}
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&sh.t0)), 0) // CLOCK_MONOTONIC
	for off := uintptr(0); off < bigSize; off += pageSize {
		*(*byte)(unsafe.Add(nil, base+off)) = 2
	}
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&sh.t1)), 0)
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
}

// benchKernel: Linux has no in-kernel path for a program.
func benchKernel() {}

// benchKernelIdle: Linux has no in-kernel path.
func benchKernelIdle() {}

// exit ends the program; as the initramfs's /init (process 1) it powers
// the machine off instead, which ends QEMU (the kernel would panic if init
// exited).
func exit(code int) {
	if os.Getpid() != 1 {
		os.Exit(code)
	}
	if code != 0 {
		fmt.Printf("vmbench: exit status %d\n", code)
	}
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

// procInfo prints what fork will copy: the process's mappings and
// resident memory (from /proc, mounted when this is /init).
func procInfo() {
	if os.Getpid() == 1 {
		os.Mkdir("/proc", 0o555)
		syscall.Mount("proc", "/proc", "proc", 0, "")
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	status, _ := os.ReadFile("/proc/self/status")
	rss := ""
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmRSS:") || strings.HasPrefix(l, "RssAnon:") || strings.HasPrefix(l, "VmPTE:") {
			rss += " " + strings.Join(strings.Fields(l), "")
		}
	}
	fmt.Printf("INFO syscall/fork_64m process: %d mappings%s\n", strings.Count(string(maps), "\n"), rss)
}

// scaleKernel: threads are goroutines of this process (GOMAXPROCS gives
// each a thread); tasks are processes forked for each sample.
func scaleKernel(n int) {
	scaleThreads("threads", n, func(i int, f func()) { f() }, sysOps)
	scaleProcs(n)
}

// scaleShared is the page the parent and its children share.
type scaleShared struct {
	goAhead     atomic.Uint32
	ready, done atomic.Int32
	t1          atomic.Int64 // the latest child's end, CLOCK_MONOTONIC ns
}

func monotonic() int64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

// scaleProcs times n processes, each faulting in a region of its own.
// The parent sleeps in wait4 while they run.
func scaleProcs(n int) {
	sh, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, pageSize, protRead|protWrite, mapShared|mapAnonymous, ^uintptr(0), 0)
	if e != 0 {
		fail("mmap shared page", e)
	}
	shared := (*scaleShared)(unsafe.Add(nil, sh))
	pids := make([]uintptr, n)
	for s := range scaleT {
		shared.goAhead.Store(0)
		shared.ready.Store(0)
		shared.done.Store(0)
		shared.t1.Store(0)
		growStack()
		for i := range n {
			pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
			if e == 0 && pid == 0 {
				scaleChild(i, shared)
			}
			if e != 0 {
				fail("fork", e)
			}
			pids[i] = pid
		}
		for shared.ready.Load() != int32(n) {
			syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
		}
		t0 := monotonic()
		shared.goAhead.Store(1)
		for _, pid := range pids {
			reap(pid)
		}
		scaleT[s] = float64(n*scalePages) / (float64(shared.t1.Load()-t0) / 1e9)
	}
	syscall.RawSyscall(syscall.SYS_MUNMAP, sh, pageSize, 0)
	report("scale/tasks_faults_per_s", scaleT[:], "faults/s")
}

// reap waits for the forked child pid, which must have exited with 0.
func reap(pid uintptr) {
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(int(pid), &ws, 0, nil); err != nil {
		fail("wait4", err)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		fmt.Printf("vmbench: forked child ended with %#x\n", uint32(ws))
		exit(1)
	}
}

// scaleChild is a forked child: only raw system calls and plain loops (the
// Go runtime does not survive fork).
func scaleChild(i int, sh *scaleShared) {
	a, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, scaleSize, protRead|protWrite, mapPrivate|mapAnonymous, ^uintptr(0), 0)
	if e != 0 {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 3, 0, 0)
	}
	sh.ready.Add(1)
	for sh.goAhead.Load() == 0 {
	}
	touch(a, scaleSize, byte(i+1))
	end := monotonic()
	for {
		old := sh.t1.Load()
		if end <= old || sh.t1.CompareAndSwap(old, end) {
			break
		}
	}
	b := mem(a, scaleSize)
	status := uintptr(0)
	for off := 0; off < len(b); off += pageSize {
		if b[off] != byte(i+1) {
			status = 4
		}
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, status, 0, 0)
}

// pagerPath: on Linux the pager's figures are through mmap.
const pagerPath = "syscall"

// runPager runs the pager's benchmarks on mmap's memory.
func runPager() { benchPager(sysOps) }

// pagerStats reads /proc/vmstat (mounted by cmd/zraminit): pages written
// to swap, and major faults.
func pagerStats() pagerCounts {
	b, err := os.ReadFile("/proc/vmstat")
	if err != nil {
		fail("/proc/vmstat", err)
	}
	var c pagerCounts
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseUint(f[1], 10, 64)
		switch f[0] {
		case "pswpout":
			c.evictions = v
		case "pgmajfault":
			c.majors = v
		}
		for i, n := range pagerExtra {
			if f[0] == n {
				c.extra[i] = v
			}
		}
	}
	return c
}

// pagerExtra are more of /proc/vmstat's counters, for the INFO lines:
// pages swapped in, anonymous pages reclaimed (freed) and scanned, and
// refaults of anonymous pages that had been evicted recently.
var pagerExtra = [...]string{"pswpin", "pgsteal_anon", "pgscan_anon", "workingset_refault_anon"}

// freeMemory is MemFree.
func freeMemory() uint64 {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemFree:" {
			v, _ := strconv.ParseUint(f[1], 10, 64)
			return v << 10
		}
	}
	fail("/proc/meminfo", errors.New("no MemFree"))
	return 0
}

// pin takes size bytes out of what the program may evict: an mlock'd
// mapping, its pages touched.
func pin(size uintptr) (release func()) {
	size = size &^ (pageSize - 1)
	a := sysOps.alloc(size, false)
	touch(a, size, 1)
	if _, _, e := syscall.RawSyscall(syscall.SYS_MLOCK, a, size, 0); e != 0 {
		fail("mlock", e)
	}
	return func() { sysOps.free(a, size) }
}

// pagerMemInfo is the memory the program starts with, and the LRU.
func pagerMemInfo() string {
	var out []string
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && (f[0] == "MemTotal:" || f[0] == "MemFree:" || f[0] == "MemAvailable:" || f[0] == "SwapTotal:") {
			out = append(out, f[0]+" "+f[1]+" kB")
		}
	}
	lru, err := os.ReadFile("/sys/kernel/mm/lru_gen/enabled")
	if err == nil {
		out = append(out, "lru_gen/enabled "+strings.TrimSpace(string(lru)))
	}
	return strings.Join(out, ", ")
}

// storeInfo is zram's state: /sys/block/zram0/mm_stat's first three
// fields (the pages' bytes, compressed, and the memory zram uses).
func storeInfo() string {
	b, err := os.ReadFile("/sys/block/zram0/mm_stat")
	if err != nil {
		return err.Error()
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return string(b)
	}
	n := func(s string) uint64 { v, _ := strconv.ParseUint(s, 10, 64); return v >> 20 }
	return fmt.Sprintf("%d MiB of pages in %d MiB compressed, %d MiB of memory (zram mm_stat)", n(f[0]), n(f[1]), n(f[2]))
}
