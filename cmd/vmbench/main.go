// Command vmbench measures what virtual memory costs: allocate+deallocate
// pairs, first-touch (demand) faults, map_now against demand paging, fork
// with copy-on-write, and deallocation of a large touched region. It prints
// one line per figure:
//
//	BENCH name value unit
//
// where name is PATH/OPERATION, PATH being how the memory was asked for:
// "syscall" (mmap/munmap and, on Linux, fork(2): the Linux system calls)
// or "kernel" (hurdvm's in-kernel mm.VMAllocate, mm.VMDeallocate and
// Task.Fork). The same source builds two ways:
//
//   - for Linux (no build tag): a static program, run as /init of an
//     initramfs by cmd/benchreport; only the "syscall" path. As process 1 it
//     powers the machine off when done.
//   - for hurdvm (-tags hurdvm, linked as a kernel): both paths; the
//     "syscall" one goes through the kernel's Linux personality, which
//     serves mmap/munmap with its own VM.
//
// Every figure is the median of several samples; a sample of a cheap
// operation times a batch of them. Nothing is allocated and the garbage
// collector is off inside the timed loops. Times are what the guest's
// monotonic clock says: under QEMU's -icount shift=0 (how cmd/benchreport
// runs it) one nanosecond is one guest instruction.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

const (
	pageSize = 4096
	// bigSize is the large region of the first-touch, map_now, fork and
	// deallocation benchmarks.
	bigSize  = 64 << 20
	bigPages = bigSize / pageSize

	// A sample spans many of the guest kernels' timer ticks (Linux's is
	// every 4 ms), so that it carries their work and what they do on
	// behalf of the operation (Linux frees unmapped VMAs in RCU callbacks
	// at the tick) in the same proportion every time: samples of a few
	// hundred microseconds split into with-tick and without-tick ones and
	// their median jumps between the two from run to run.
	pairSamples = 11   // samples of allocate+deallocate pairs
	pairBatch   = 2048 // pairs per sample: about 40 ms on Linux
	bigSamples  = 5    // samples of the 64 MiB operations (each over 10 ms)
	// Forks take about 2 ms on Linux, so about half of them see a tick;
	// with 11 the median is a fork without one.
	forkSamples = 11
)

// memOps is one way of getting and giving back anonymous memory.
type memOps struct {
	// alloc returns a fresh region of size bytes, read/write, zero-filled;
	// now asks for it to be backed and mapped before returning.
	alloc func(size uintptr, now bool) uintptr
	free  func(addr, size uintptr)
}

// Linux's mmap constants (the syscall package has them for linux/amd64,
// but spelling them out says what both kernels are asked).
const (
	protRead     = 0x1
	protWrite    = 0x2
	mapShared    = 0x01
	mapPrivate   = 0x02
	mapAnonymous = 0x20
	mapPopulate  = 0x8000
)

// sysOps are mmap/munmap as system calls. RawSyscall, not Syscall: both
// kernels are asked the same thing without the Go runtime's
// entersyscall/exitsyscall around it, as mm.VMAllocate does too, so the
// three paths differ only in what the kernel does.
var sysOps = memOps{
	alloc: func(size uintptr, now bool) uintptr {
		flags := uintptr(mapPrivate | mapAnonymous)
		if now {
			flags |= mapPopulate
		}
		a, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, size, protRead|protWrite, flags, ^uintptr(0), 0)
		if e != 0 {
			fail("mmap", e)
		}
		return a
	},
	free: func(addr, size uintptr) {
		if _, _, e := syscall.RawSyscall(syscall.SYS_MUNMAP, addr, size, 0); e != 0 {
			fail("munmap", e)
		}
	},
}

// mem is [addr, addr+size) as bytes.
//
// Not inlined, like mm.Bytes: Go 1.26's compiler panics on some copies
// into a slice it can trace back to nil.
//
//go:noinline
func mem(addr, size uintptr) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(nil, addr)), size)
}

// touch writes one byte in every page of [addr, addr+size).
func touch(addr, size uintptr, v byte) {
	b := mem(addr, size)
	for off := 0; off < len(b); off += pageSize {
		b[off] = v
	}
}

// check reads back what touch wrote, outside any timed loop.
func check(addr, size uintptr, v byte) {
	b := mem(addr, size)
	for off := 0; off < len(b); off += pageSize {
		if b[off] != v {
			fmt.Printf("vmbench: page at %#x reads %d, not %d\n", addr+uintptr(off), b[off], v)
			exit(1)
		}
	}
}

func fail(what string, err error) {
	fmt.Printf("vmbench: %s: %v\n", what, err)
	exit(1)
}

// nanos is the monotonic clock in nanoseconds since start.
var start = time.Now()

func nanos() int64 { return int64(time.Since(start)) }

// median sorts xs in place (insertion sort: no allocation) and returns
// its middle value.
func median(xs []float64) float64 {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
	return xs[len(xs)/2]
}

// report prints the median of the samples, and the samples (sorted) on a
// line of their own for whoever wants to see the noise.
func report(name string, xs []float64, unit string) {
	m := median(xs)
	fmt.Printf("SAMPLES %s", name)
	for _, x := range xs {
		fmt.Printf(" %.1f", x)
	}
	fmt.Printf("\nBENCH %s %.1f %s\n", name, m, unit)
}

// Preallocated sample arrays: the timed loops write into these.
var (
	pairT                                [pairSamples]float64
	touchT, demandT, mapNowT, freeT, cpT [bigSamples]float64
	demandIdleT, mapNowIdleT             [bigSamples]float64
	forkT, cowT                          [forkSamples]float64
)

// benchPairs times allocate+deallocate pairs of pages pages, untouched.
func benchPairs(path string, o memOps, pages int) {
	size := uintptr(pages * pageSize)
	for range pairBatch / 8 { // warm up: the region map, the page tables
		o.free(o.alloc(size, false), size)
	}
	a := o.alloc(size, false)
	o.free(a, size)
	fmt.Printf("INFO %s/alloc_free_%dp at %#x\n", path, pages, a)
	for s := range pairT {
		t0 := nanos()
		for range pairBatch {
			o.free(o.alloc(size, false), size)
		}
		pairT[s] = float64(nanos()-t0) / pairBatch
	}
	report(fmt.Sprintf("%s/alloc_free_%dp", path, pages), pairT[:], "ns/pair")
}

// benchBig times, over fresh 64 MiB regions: the first touch of every page
// (per page), allocating and touching every page on demand, the same with
// map_now (mapNow: the path has it), and deallocating the touched region.
func benchBig(path string, o memOps, mapNow bool) {
	for s := range bigSamples {
		t0 := nanos()
		a := o.alloc(bigSize, false)
		t1 := nanos()
		touch(a, bigSize, 1)
		t2 := nanos()
		check(a, bigSize, 1)
		t3 := nanos()
		o.free(a, bigSize)
		t4 := nanos()
		touchT[s] = float64(t2-t1) / bigPages
		demandT[s] = float64(t2-t0) / 1e3
		freeT[s] = float64(t4-t3) / 1e3
		if s == 0 {
			fmt.Printf("INFO %s/first_touch at %#x\n", path, a)
		}
		if mapNow {
			t0 := nanos()
			a := o.alloc(bigSize, true)
			touch(a, bigSize, 1)
			t1 := nanos()
			check(a, bigSize, 1)
			o.free(a, bigSize)
			mapNowT[s] = float64(t1-t0) / 1e3
		}
	}
	report(path+"/first_touch", touchT[:], "ns/page")
	report(path+"/demand_64m", demandT[:], "us")
	if mapNow {
		report(path+"/map_now_64m", mapNowT[:], "us")
	}
	report(path+"/free_64m", freeT[:], "us")
}

// benchBigIdle is benchBig's allocate-and-touch after the machine idled: a
// kernel may use idle time to prepare memory (hurdvm clears free blocks
// then; Linux does not). It runs after every other benchmark, so that
// those see no memory prepared by its pauses.
func benchBigIdle(path string, o memOps, mapNow bool) {
	for s := range bigSamples {
		time.Sleep(idlePause)
		t0 := nanos()
		a := o.alloc(bigSize, false)
		touch(a, bigSize, 1)
		demandIdleT[s] = float64(nanos()-t0) / 1e3
		o.free(a, bigSize)
		if mapNow {
			time.Sleep(idlePause)
			t0 := nanos()
			a := o.alloc(bigSize, true)
			touch(a, bigSize, 1)
			mapNowIdleT[s] = float64(nanos()-t0) / 1e3
			o.free(a, bigSize)
		}
	}
	report(path+"/demand_64m_idle", demandIdleT[:], "us")
	if mapNow {
		report(path+"/map_now_64m_idle", mapNowIdleT[:], "us")
	}
}

// idlePause is how long the machine idles before each "after idle" sample.
const idlePause = 200 * time.Millisecond

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-h" || os.Args[1] == "-help") {
		fmt.Fprintln(os.Stderr, "usage: vmbench [-scale N | -pager MiB | -proc] (see the package doc and pager.go)")
		os.Exit(2)
	}
	// -scale N, wherever it stands (a multiboot command line may carry
	// the image's name first).
	for i := 1; i+1 < len(os.Args); i++ {
		if os.Args[i] != "-scale" {
			continue
		}
		n, err := strconv.Atoi(os.Args[i+1])
		if err != nil || n < 1 {
			fail("-scale", fmt.Errorf("not a number of CPUs: %q", os.Args[i+1]))
		}
		runtime.GC()
		debug.SetGCPercent(-1)
		fmt.Printf("BENCH-START %s %s GOMAXPROCS=%d scale\n", kernelName(), runtime.Version(), n+1)
		benchScale(n)
		fmt.Println("BENCH-END")
		exit(0)
	}
	// -proc, wherever it stands: the process table (proc.go), of the
	// Linux build only.
	for _, a := range os.Args[1:] {
		if a == "-proc" {
			runProc()
		}
	}
	if n, ok := pagerArgs(os.Args); ok {
		pagerMiB = n
		runtime.GC()
		debug.SetGCPercent(-1)
		fmt.Printf("BENCH-START %s %s GOMAXPROCS=%d pager %d MiB\n", kernelName(), runtime.Version(), runtime.GOMAXPROCS(0), n)
		runPager()
		fmt.Println("BENCH-END")
		exit(0)
	}
	// No collection from here on: the timed loops allocate nothing, and
	// what the reporting allocates is small.
	runtime.GC()
	debug.SetGCPercent(-1)
	fmt.Printf("BENCH-START %s %s GOMAXPROCS=%d GODEBUG=%s\n", kernelName(), runtime.Version(),
		runtime.GOMAXPROCS(0), os.Getenv("GODEBUG"))

	// Fork first: what it copies besides the 64 MiB (the runtime's
	// memory, its page tables) is then least disturbed by what the other
	// benchmarks allocated and freed.
	benchSyscallFork()
	benchPairs("syscall", sysOps, 1)
	benchPairs("syscall", sysOps, 4)
	benchPairs("syscall", sysOps, 16)
	benchBig("syscall", sysOps, sysPopulates)
	benchKernel()
	benchBigIdle("syscall", sysOps, sysPopulates)
	benchKernelIdle()

	fmt.Println("BENCH-END")
	exit(0)
}

// kernelName is uname's sysname and release.
func kernelName() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "unknown"
	}
	str := func(b []int8) string {
		var sb strings.Builder
		for _, c := range b {
			if c == 0 {
				break
			}
			sb.WriteByte(byte(c))
		}
		return sb.String()
	}
	return str(u.Sysname[:]) + "-" + str(u.Release[:])
}
