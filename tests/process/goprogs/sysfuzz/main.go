// Command sysfuzz is a system-call fuzzer that runs as a process in ring 3
// (issue 17: a program can no longer hurt the kernel or other programs).
// An ordinary Go program (make progs builds it as for Linux, only its
// link address given), it makes system calls numbered 0 to 462, a few
// outside Linux's range and hurdvm's own, with adversarial arguments:
// boundary numbers, pointers into the kernel's image, the heap window, the
// physmap, the local APIC, unmapped and non-canonical pointers, its own
// read-only pages, ranges that cross into unmapped memory, huge lengths,
// bad descriptors, odd flags, structures filled with all of those.
//
//	sysfuzz [-seed N] [-calls N] [-duration D] [-fatal exit|sigreturn|kill] [-trace N]
//
// The sequence is the seed's (printed first; -seed replays it). Every
// 10 seconds it prints the calls made, by result. At the end it prints
// "fuzz: done" with the totals and exits 0; -fatal then makes one call
// that ends it on purpose (exit_group with a status the seed picks, an
// rt_sigreturn to a garbage frame: SIGSEGV, a tgkill of itself with
// SIGKILL), saying which first. A call that does not come back within
// 30 seconds is named and the program exits with status 3.
//
// It must keep itself alive, so the arguments are shaped where a call
// would legitimately end or break the calling program (shape): exit and
// rt_sigreturn are left to -fatal, clone's child exits at once
// (rawClone), memory calls that change mappings aim only at its
// playground, signals sent to itself are harmless ones, the Go runtime's
// descriptors and signal handlers are left alone, no value names the
// program's own memory (keepOff: the Go runtime's), and calls that could
// block get short timeouts or non-blocking descriptors. Everything else
// is the kernel's to refuse.
//
// Not for a Linux host: as root, random system calls can do anything.
// It refuses to run where /proc/self exists (hurdvm has no /proc)
// unless given -linux.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"hurdvm/kernel/syscalls"
)

func rawClone(nr, a0, a1, a2, a3, a4, a5 uintptr) uintptr
func rawSigreturn(frame uintptr)

const (
	pageSize = 4096

	// The arena: read-write pages whose addresses the fuzzer hands the
	// kernel as good pointers, unmapped guard pages on both sides, and a
	// read-only page after the second guard. A fixed place, in the
	// middle of the lower half: far from the program, Go's heap (first
	// fit, low) and the stack (at the top).
	arenaBase  = 0x6000_0000_0000
	arenaPages = 16
	arenaSize  = arenaPages * pageSize
	guardLow   = arenaBase - pageSize
	guardHigh  = arenaBase + arenaSize
	roPage     = guardHigh + pageSize

	// The playground: the only part of the lower half where the calls
	// that change mappings (mmap MAP_FIXED, munmap, mprotect, madvise,
	// mremap, brk...) may land. Unmapped whole every 1,024 calls.
	playStart = 0x6000_1000_0000
	playEnd   = 0x6010_0000_0000

	// hurdvm's heap window (the kernel's Go heap, shared by every space)
	// and its image at 16 MiB: the kernel's while it sits in the lower
	// half. When it moves to the top 2 GiB (docs/DESIGN.md, section 3),
	// 0xc000000000 is where a Go program's own heap goes: this class must
	// then change.
	heapWindow    = 0x00c0_0000_0000
	heapWindowEnd = 0x0100_0000_0000

	lowerHalfEnd = 0x0000_8000_0000_0000
	taskSize     = 0x0000_7fff_ffff_f000

	maxNr = 462 // the highest x86-64 Linux call number tried
)

// Linux's signal numbers the shaping needs.
const (
	sigKILL  = 9
	sigUSR1  = 10
	sigUSR2  = 12
	sigCHLD  = 17
	sigURG   = 23
	sigWINCH = 28
)

var (
	seedFlag  = flag.Uint64("seed", 0, "the seed (0: one from the clock, printed)")
	callsFlag = flag.Int("calls", 10000, "how many calls to make (0: until -duration)")
	durFlag   = flag.Duration("duration", 0, "how long to run (with -calls 0)")
	fatalFlag = flag.String("fatal", "", "end with one call that ends the process: exit, sigreturn or kill")
	traceFlag = flag.Int("trace", -1, "print every call from this one on (to find the one that hurts)")
	skipFlag  = flag.String("skip", "", "call numbers to leave out, comma-separated (to find which one hurts)")
	linuxFlag = flag.Bool("linux", false, "run even where /proc/self exists (Linux: do not, as root)")
	// -own-memory and -values are for TestFuzzKeepsOffItsOwnMemory.
	ownMemoryFlag = flag.Bool("own-memory", false, "let values name the program's own memory (keepOff off: what issue 17's long runs died of)")
	valuesFlag    = flag.Int("values", 0, "draw this many values, count those that name the program's own memory, and exit (1 if any)")
)

// The counters the progress goroutine reads.
var (
	made     atomic.Uint64       // calls made
	skipped  atomic.Uint64       // calls the shaping left out
	byResult [4097]atomic.Uint64 // [0] success, [e] errno e
	current  atomic.Uint64       // the call in progress: nr<<32 | index (low 32 bits)
)

func main() {
	flag.Parse()
	if _, err := os.Stat("/proc/self"); err == nil && !*linuxFlag {
		fmt.Fprintln(os.Stderr, "sysfuzz: /proc/self exists: this looks like Linux, where random system calls can do anything; -linux to run anyway")
		os.Exit(2)
	}
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	runtime.GOMAXPROCS(max(2, runtime.NumCPU()))
	runtime.LockOSThread()
	go progress()
	go watchdog()
	time.Sleep(time.Millisecond) // the runtime's netpoller opens its descriptors: newFuzzer must find them
	f := newFuzzer(seed)
	if *valuesFlag > 0 {
		if f.checkValues(*valuesFlag) > 0 {
			os.Exit(1)
		}
		os.Exit(0)
	}
	fmt.Printf("fuzz: seed %d (sysfuzz -seed %d replays it), %s; descriptors of the runtime's left alone: %v\n",
		seed, seed, f.limitString(), f.protectedList())
	start := time.Now()
	for i := 0; *callsFlag == 0 || i < *callsFlag; i++ {
		if *callsFlag == 0 && time.Since(start) >= *durFlag {
			break
		}
		f.one(i)
	}
	f.cleanup()
	fmt.Printf("fuzz: done: seed %d, %d calls tried: %s in %v; %d call numbers answered other than ENOSYS\n",
		seed, made.Load()+skipped.Load(), summary(), time.Since(start).Round(time.Millisecond), f.answered())
	switch *fatalFlag {
	case "":
	case "exit":
		status := uintptr(f.r.IntN(256))
		fmt.Printf("fuzz: fatal: exit_group(%d)\n", status)
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, status, 0, 0)
	case "sigreturn":
		fmt.Println("fuzz: fatal: rt_sigreturn to a garbage frame")
		rawSigreturn(f.garbageFrame())
	case "kill":
		fmt.Println("fuzz: fatal: tgkill(itself, SIGKILL)")
		syscall.RawSyscall(syscall.SYS_TGKILL, uintptr(os.Getpid()), uintptr(syscall.Gettid()), sigKILL)
	default:
		fmt.Fprintf(os.Stderr, "sysfuzz: no -fatal %q\n", *fatalFlag)
		os.Exit(2)
	}
	if *fatalFlag != "" {
		fmt.Println("fuzz: FAIL: the fatal call came back")
		os.Exit(4)
	}
}

// progress prints the counters every 10 seconds.
func progress() {
	start := time.Now()
	for range time.Tick(10 * time.Second) {
		fmt.Printf("fuzz: %v: %s\n", time.Since(start).Round(time.Second), summary())
	}
}

// watchdog ends the program when a call has not come back for 30
// seconds, naming it: the shaping keeps calls from blocking, so one that
// blocks is either a shape to fix here or the kernel's bug.
func watchdog() {
	last, since := current.Load(), time.Now()
	for range time.Tick(time.Second) {
		c := current.Load()
		if c != last {
			last, since = c, time.Now()
			continue
		}
		if time.Since(since) > 30*time.Second {
			nr := c >> 32
			fmt.Printf("fuzz: FAIL: call %d, %d (%s), has not come back in 30s (-trace %d shows it)\n", uint32(c), nr, name(nr), uint32(c))
			os.Exit(3)
		}
	}
}

// summary is the counters in words: the calls, then results by count.
func summary() string {
	type kv struct {
		e int
		n uint64
	}
	var rs []kv
	for e := range byResult {
		if n := byResult[e].Load(); n > 0 {
			rs = append(rs, kv{e, n})
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || rs[i].n == rs[j].n && rs[i].e < rs[j].e })
	var b strings.Builder
	fmt.Fprintf(&b, "%d calls (%d left out by the shaping)", made.Load(), skipped.Load())
	for _, r := range rs {
		fmt.Fprintf(&b, ", %s %d", errName(r.e), r.n)
	}
	return b.String()
}

func errName(e int) string {
	if e == 0 {
		return "ok"
	}
	if n := errnoNames[e]; n != "" {
		return n
	}
	return fmt.Sprintf("errno%d", e)
}

var errnoNames = map[int]string{
	1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 7: "E2BIG", 8: "ENOEXEC", 9: "EBADF",
	10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST",
	20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 24: "EMFILE", 25: "ENOTTY", 27: "EFBIG", 28: "ENOSPC",
	29: "ESPIPE", 30: "EROFS", 32: "EPIPE", 34: "ERANGE", 36: "ENAMETOOLONG", 38: "ENOSYS",
	39: "ENOTEMPTY", 40: "ELOOP", 61: "ENODATA", 75: "EOVERFLOW", 88: "ENOTSOCK", 95: "EOPNOTSUPP",
	97: "EAFNOSUPPORT", 110: "ETIMEDOUT",
}

func name(nr uint64) string {
	if n := syscalls.Name(nr); n != "" {
		return n
	}
	return "?"
}

// fuzzer is the generator's state.
type fuzzer struct {
	r         *rand.Rand
	pid, tid  uintptr
	protected [64]bool // descriptors open at the start: the console's and the Go runtime's
	maxProt   int
	openFDs   map[uintptr]bool // descriptors the calls made, closed every 64 calls
	answered_ [maxNr + 1]bool  // numbers that answered other than ENOSYS
	live      []uint64         // the same, in the order found
	skip      map[uint64]bool  // -skip
	text      uintptr          // the program's own (read-only) text
	keptOff   int              // values keepOff moved off the program's own memory
	console   map[uint64]bool  // descriptors the calls made that are the console's (dup of 0, 1, 2)
}

func newFuzzer(seed uint64) *fuzzer {
	f := &fuzzer{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), openFDs: map[uintptr]bool{}, console: map[uint64]bool{}}
	f.pid, f.tid = uintptr(os.Getpid()), uintptr(syscall.Gettid())
	f.skip = map[uint64]bool{}
	for _, w := range strings.Split(*skipFlag, ",") {
		if n, err := strconv.ParseUint(w, 0, 64); err == nil {
			f.skip[n] = true
		}
	}
	f.text = funcPC(main)
	kernelLow = f.text >= 0x4000_0000_0000
	for fd := range f.protected {
		if _, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); e == 0 {
			f.protected[fd] = true
			f.maxProt = fd
		}
	}
	mustMap(guardLow, pageSize, syscall.PROT_NONE) // reserved, then unmapped: nobody else lands there
	mustMap(arenaBase, arenaSize, syscall.PROT_READ|syscall.PROT_WRITE)
	mustMap(guardHigh, pageSize, syscall.PROT_NONE)
	mustMap(roPage, pageSize, syscall.PROT_READ|syscall.PROT_WRITE)
	ro := bytesAt(roPage, pageSize)
	for i, c := range []byte("sysfuzz's read-only page") {
		ro[i] = c // not copy: go1.26.8's compiler fails on a copy to a constant address ("disjointTypes")
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_MPROTECT, roPage, pageSize, syscall.PROT_READ); e != 0 {
		fail("mprotect of the read-only page: %v", e)
	}
	syscall.RawSyscall(syscall.SYS_MUNMAP, guardLow, pageSize, 0)
	syscall.RawSyscall(syscall.SYS_MUNMAP, guardHigh, pageSize, 0)
	if *valuesFlag == 0 {
		f.fillArena()
	}
	return f
}

// checkValues draws n values as the calls' arguments are drawn and counts
// those that name a mapped page outside what the fuzzer hands out on
// purpose (-values): with keepOff, none.
func (f *fuzzer) checkValues(n int) int {
	own, low := 0, 0
	for range n {
		v := f.value()
		if v < 1<<16 || v >= lowerHalfEnd || v >= guardLow && v < roPage+pageSize ||
			v >= playStart && v < playEnd || v >= uint64(f.text) && v < uint64(f.text)+1<<16+pageSize {
			continue
		}
		if _, _, e := syscall.RawSyscall(syscall.SYS_MADVISE, uintptr(v&^(pageSize-1)), pageSize, 0); e == 0 {
			own++
			if v < 1<<32 {
				low++
			}
		}
	}
	fmt.Printf("fuzz: values: %d of %d name the program's own memory (%d below 4 GiB), %d moved off it\n", own, n, low, f.keptOff)
	return own
}

func funcPC(fn func()) uintptr { return **(**uintptr)(unsafe.Pointer(&fn)) }

func mustMap(addr, size uintptr, prot int) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, addr, size, uintptr(prot),
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|0x100000 /* MAP_FIXED_NOREPLACE */, ^uintptr(0), 0)
	if e != 0 || r != addr {
		fail("mmap at %#x: %#x, %v", addr, r, e)
	}
}

func fail(format string, a ...any) {
	fmt.Printf("fuzz: FAIL: "+format+"\n", a...)
	os.Exit(5)
}

// ptr is the address addr of the fuzzer's own mappings (the arena,
// outside Go's heap) as a pointer.
func ptr(addr uintptr) unsafe.Pointer { return unsafe.Add(nil, addr) }

func bytesAt(addr, n uintptr) []byte { return unsafe.Slice((*byte)(ptr(addr)), n) }
func word(addr uintptr) *uint64      { return (*uint64)(ptr(addr)) }

func (f *fuzzer) limitString() string {
	if *callsFlag == 0 {
		return fmt.Sprintf("for %v", *durFlag)
	}
	return fmt.Sprintf("%d calls", *callsFlag)
}

func (f *fuzzer) answered() int {
	n := 0
	for _, a := range f.answered_ {
		if a {
			n++
		}
	}
	return n
}

// Paths the arena's strings hold besides garbage: what a file system
// would have, and what it would refuse.
var paths = []string{"/", ".", "..", "/tmp", "/tmp/sysfuzz", "/dev/null", "/dev/zero", "/proc/self/maps",
	"testdata", "/nonexistent/x", "", strings.Repeat("a/", 2100), strings.Repeat("x", 300)}

// fillArena fills the arena with words of every class (pointers good and
// bad, boundary numbers), a few strings, and at its end a string that
// runs into the guard page without a NUL.
func (f *fuzzer) fillArena() {
	for a := uintptr(arenaBase); a < guardHigh-pageSize; a += 8 {
		*word(a) = f.value()
	}
	b := bytesAt(arenaBase+4*pageSize, 4*pageSize)
	off := 0
	for off < len(b)-1 {
		p := paths[f.r.IntN(len(paths))]
		if off+len(p)+1 > len(b) {
			break
		}
		copy(b[off:], p)
		b[off+len(p)] = 0
		off += len(p) + 1 + f.r.IntN(16)
	}
	last := bytesAt(guardHigh-pageSize, pageSize)
	for i := range last {
		last[i] = 'z'
	}
}

// The classes of an argument. None names the program's own memory but
// the arena, the read-only page, its text and the playground (keepOff).
func (f *fuzzer) value() uint64 {
	var v uint64
	switch f.r.IntN(12) {
	case 0, 1:
		v = uint64(f.r.IntN(17))
	case 2:
		v = boundary[f.r.IntN(len(boundary))]
	case 3:
		v = f.r.Uint64()
	case 4:
		v = uint64(f.r.Uint32())
	case 5:
		v = -uint64(1 + f.r.IntN(4096))
	default:
		v = f.pointer()
	}
	return f.keepOff(v)
}

// keepOff moves a value that names a page of the program's own memory
// (other than the arena, its guards, the read-only page, the text the
// pointer classes name and the playground) into the unmapped guard page,
// keeping its offset in the page: a pointer the kernel must refuse. Any
// word the fuzzer hands the kernel may be taken for a pointer, and a call
// that writes there (clock_gettime's timespec, getrandom's buffer, pipe's
// descriptors, sigaltstack's old stack_t, fstat, wait4's status, getcwd)
// writes into the Go runtime's own data, which ends or corrupts the
// fuzzer legitimately: Linux would do the same writes, and break the
// fuzzer the same way wherever its runtime's memory is. Where that is
// differs: Linux puts mmap(NULL) at the top of the lower half, below the
// stack, where the fuzzer's values seldom land (but a uint32 may name
// the program's .data and .bss above 0x400000 there too); hurdvm's first
// fit puts the runtime's first mappings at 64 KiB, 0x10000, one of the
// boundary values, with its mcache and spans (issue 17: the long runs'
// SIGSEGV at sigtramp's entry, "bad flushGen", "bad prune"). Whether a
// page is mapped is asked with madvise(MADV_NORMAL), ENOMEM for a page
// that is not, as on Linux; below 64 KiB nothing can be.
func (f *fuzzer) keepOff(v uint64) uint64 {
	if *ownMemoryFlag || v < 1<<16 || v >= lowerHalfEnd || v >= guardLow && v < roPage+pageSize ||
		v >= playStart && v < playEnd || v >= uint64(f.text) && v < uint64(f.text)+1<<16+pageSize {
		return v
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_MADVISE, uintptr(v&^(pageSize-1)), pageSize, 0); e != 0 {
		return v // not mapped (ENOMEM)
	}
	f.keptOff++
	return guardLow + v%pageSize
}

var boundary = []uint64{0, 1, 2, 3, 7, 8, 15, 16, 63, 64, 255, 256, 4095, 4096, 4097, 8191, 65535, 65536,
	1 << 20, 1<<31 - 1, 1 << 31, 1<<32 - 1, 1 << 32, 1 << 46, 1 << 47, 1<<47 - 1, 1 << 48, 1<<63 - 1, 1 << 63,
	^uint64(0), ^uint64(0) - 4095, 0x7fff_ffff_f000, 0x8000_0000_0000, 0xffff_8000_0000_0000}

// pointer is a pointer of one of the classes: good ones in the arena,
// and every kind the kernel must refuse.
func (f *fuzzer) pointer() uint64 {
	switch f.r.IntN(16) {
	case 0, 1, 2, 3:
		return arenaBase + uint64(f.r.IntN(arenaSize/8))*8 // good, aligned
	case 4:
		return arenaBase + uint64(f.r.IntN(arenaSize)) // good, unaligned
	case 5:
		return guardHigh - uint64(1+f.r.IntN(64)) // runs into the guard page
	case 6:
		return guardLow + uint64(f.r.IntN(pageSize)) // its own unmapped page
	case 7:
		if f.r.IntN(2) == 0 {
			return roPage + uint64(f.r.IntN(pageSize)) // its own read-only page
		}
		return uint64(f.text) + uint64(f.r.IntN(1<<16)) // its own text
	case 8:
		if !kernelLow {
			return 0xffff_ffff_8000_0000 + uint64(f.r.IntN(64<<20)) // the kernel's image, at the top
		}
		return 0x0100_0000 + uint64(f.r.IntN(16<<20)) // the kernel's image
	case 9:
		return 0xffff_ffff_8000_0000 + uint64(f.r.IntN(1<<30)) // the top 2 GiB
	case 10:
		if !kernelLow {
			return 0xffff_c000_0000_0000 + uint64(f.r.Int64N(1<<36)) // the upper half's other parts
		}
		return heapWindow + uint64(f.r.Int64N(1<<36)) // the heap window
	case 11:
		return 0xffff_8000_0000_0000 + uint64(f.r.Int64N(1<<32)) // the physmap
	case 12:
		if !kernelLow {
			return 0xffff_8000_fee0_0000 + uint64(f.r.IntN(pageSize)) // the local APIC in the physmap
		}
		return 0xfee0_0000 + uint64(f.r.IntN(pageSize)) // the local APIC
	case 13: // non-canonical, or at the lower half's end
		return []uint64{0x0000_8000_0000_0000, 0x8000_0000_0000_0000, 0xdead_beef_0000_0000,
			0x0000_7fff_ffff_fff8, 0x0000_7fff_ffff_f000, 0xffff_7fff_ffff_fff0}[f.r.IntN(6)]
	case 14:
		return 0
	default:
		return playStart + uint64(f.r.Int64N(1<<28))&^(pageSize-1) // the playground: mapped or not
	}
}

// badPointer is a pointer the kernel must refuse, never a good one.
func (f *fuzzer) badPointer() uint64 {
	for {
		if p := f.pointer(); certainlyBad(p) {
			return p
		}
	}
}

// certainlyBad: nothing of the process's own can be at p.
func certainlyBad(p uint64) bool {
	if p == 0 || p >= lowerHalfEnd || p >= guardLow && p < guardLow+pageSize {
		return true
	}
	return kernelLow && (p >= 0x0100_0000 && p < 0x0200_0000 ||
		p >= heapWindow && p < heapWindowEnd || p >= 0xfee0_0000 && p < 0xfee0_1000)
}

// kernelLow: the kernel sits in the lower half (its image at 16 MiB, its
// heap window at 0xc000000000, the local APIC identity-mapped), as it
// did while programs were linked in the task window (at 0x400000400000
// and up). Once it moved to the top 2 GiB and programs link at 0x400000,
// those addresses are the program's own (Go's heap at 0xc000000000):
// the fuzzer then leaves them alone.
var kernelLow bool

func inArena(p uint64) bool { return p >= arenaBase && p < guardHigh }

// arenaPtr is a good pointer to n bytes in the arena, 8-aligned.
func (f *fuzzer) arenaPtr(n int) uint64 {
	return arenaBase + uint64(f.r.IntN((arenaSize-n)/8))*8
}

// shortTimespec writes a timespec of at most 2 ms (now and then an
// invalid one) into the arena and returns its address.
func (f *fuzzer) shortTimespec() uint64 {
	p := f.arenaPtr(16)
	ns := uint64(f.r.IntN(2_000_000))
	switch f.r.IntN(16) {
	case 0:
		ns = 1_000_000_000 // invalid
	case 1:
		ns = ^uint64(0) // negative: invalid
	}
	*word(uintptr(p)), *word(uintptr(p) + 8) = 0, ns
	return p
}

// shortTimeval is shortTimespec's timeval (microseconds).
func (f *fuzzer) shortTimeval() uint64 {
	p := f.arenaPtr(16)
	*word(uintptr(p)), *word(uintptr(p) + 8) = 0, uint64(f.r.IntN(2000))
	return p
}

// harmlessToSelf is a signal the fuzzer may send itself: Go ignores it
// or takes it for a preemption request.
func (f *fuzzer) harmlessToSelf() uint64 {
	return []uint64{0, sigURG, sigWINCH, sigCHLD}[f.r.IntN(4)]
}

// mayHandle: a signal whose handler the fuzzer may replace with garbage,
// since nothing sends it one (harmlessToSelf never picks it).
func (f *fuzzer) mayHandle() uint64 {
	switch f.r.IntN(4) {
	case 0:
		return sigUSR1
	case 1:
		return sigUSR2
	case 2:
		return uint64(34 + f.r.IntN(31))
	}
	return []uint64{0, 9, 19, 65, 1 << 31, ^uint64(0)}[f.r.IntN(6)] // refused
}

// safeMask is a signal set without the signals Go needs.
func (f *fuzzer) safeMask() uint64 {
	ok := []uint{sigUSR1, sigUSR2, sigWINCH}
	var m uint64
	for _, s := range ok {
		if f.r.IntN(2) == 0 {
			m |= 1 << (s - 1)
		}
	}
	for s := uint(34); s <= 64; s++ {
		if f.r.IntN(4) == 0 {
			m |= 1 << (s - 1)
		}
	}
	return m
}

// selfTarget: a pid or tid that may be the fuzzer or one of its threads
// (the calls take a pid_t: the low 32 bits; 0 and -pid are its group, -1
// every process, small numbers may be its threads').
func (f *fuzzer) selfTarget(id uint64) bool {
	i := int32(id)
	return i == 0 || i == -1 || i == int32(f.pid) || i == -int32(f.pid) || (i > 0 && i < 4096)
}

// memRange keeps a range that a mapping call would change inside the
// playground, unless the kernel must refuse it whatever it holds (it
// wraps, or leaves the lower half), or it lies wholly in the upper half
// or at the kernel's image or the local APIC (nothing of the program's
// there). So the calls that change mappings cannot take the program's own
// memory, the arena or the read-only page away.
func (f *fuzzer) memRange(addr, length *uint64) {
	a, n := *addr, *length
	end := a + n
	switch {
	case end < a || end > taskSize:
		return // refused
	case a >= lowerHalfEnd:
		return // the upper half or non-canonical
	case kernelLow && (a >= 0x0100_0000 && end <= 0x0200_0000 || a >= 0xfee0_0000 && end <= 0xfee0_1000):
		return
	}
	if a < playStart || a >= playEnd {
		a = playStart + (a % (playEnd - playStart))
		if f.r.IntN(8) != 0 {
			a &^= pageSize - 1
		}
	}
	if a+n > playEnd || a+n < a {
		n = playEnd - a
	}
	*addr, *length = a, n
}

// one makes call i.
func (f *fuzzer) one(i int) {
	if i%256 == 0 && i > 0 {
		f.fillArena()
	}
	if i%64 == 0 {
		f.closeOpened()
	}
	if i%1024 == 0 {
		syscall.RawSyscall(syscall.SYS_MUNMAP, playStart, playEnd-playStart, 0)
	}
	var nr uint64
	switch k := f.r.IntN(100); {
	case k < 75 && len(f.live) > 0:
		// Three calls in four among the numbers that answered other
		// than ENOSYS so far: the code the kernel has.
		nr = f.live[f.r.IntN(len(f.live))]
	case k < 96:
		nr = uint64(f.r.IntN(maxNr + 1))
	case k < 97:
		nr = uint64(f.r.IntN(maxNr+1)) | 1<<32 // the high half, which Linux ignores
	case k < 98:
		nr = uint64(f.r.IntN(maxNr+1)) | 0x4000_0000 // x32's numbers
	case k < 99:
		nr = 0x4856_0000 + uint64(f.r.IntN(256)) // hurdvm's own calls
	default:
		nr = f.r.Uint64()
	}
	var a [6]uint64
	for j := range a {
		a[j] = f.value()
		if f.isProtected(a[j]) && uint32(a[j]) > 2 {
			a[j] += 100 // never the Go runtime's own descriptors
		}
	}
	sub := uint64(uint32(nr)) &^ 0x4000_0000 // the call Linux would take it for (high half ignored, x32's bit off)
	clone, ok := f.shape(sub, &a)
	if !ok || f.skip[sub] {
		skipped.Add(1)
		return
	}
	current.Store(nr<<32 | uint64(uint32(i)))
	if *traceFlag >= 0 && i >= *traceFlag {
		fmt.Printf("fuzz: call %d: %d (%s) %#x %#x %#x %#x %#x %#x\n", i, nr, name(sub), a[0], a[1], a[2], a[3], a[4], a[5])
	}
	var r uint64
	var e syscall.Errno
	if clone {
		// The child starts with every signal blocked (it inherits the
		// mask): none can reach it before it exits.
		var all, old uint64 = ^uint64(0), 0
		syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0)
		r = uint64(rawClone(uintptr(nr), uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5])))
		syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
		if r > ^uint64(4095) {
			e, r = syscall.Errno(-r), ^uint64(0)
		}
	} else {
		r1, _, err := syscall.Syscall6(uintptr(nr), uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
		r, e = uint64(r1), err
	}
	made.Add(1)
	byResult[min(int(e), len(byResult)-1)].Add(1)
	if sub <= maxNr && nr == sub && e != syscall.ENOSYS && !f.answered_[sub] {
		f.answered_[sub] = true
		f.live = append(f.live, sub)
	}
	if *traceFlag >= 0 && i >= *traceFlag {
		fmt.Printf("fuzz: call %d: %#x, %v\n", i, r, e)
	}
	if e == 0 {
		f.after(sub, a, r)
	}
}

// after tidies up after a call that succeeded: a mapping outside the
// playground goes again, a descriptor is noted to be closed, a pipe's
// descriptors are made non-blocking.
func (f *fuzzer) after(nr uint64, a [6]uint64, r uint64) {
	switch nr {
	case syscall.SYS_MMAP:
		if r < playStart || r >= playEnd {
			syscall.RawSyscall(syscall.SYS_MUNMAP, uintptr(r), uintptr(a[1]), 0)
		}
	case syscall.SYS_PIPE, syscall.SYS_PIPE2, syscall.SYS_SOCKETPAIR:
		p := a[0]
		if nr == syscall.SYS_SOCKETPAIR {
			p = a[3]
		}
		if inArena(p) && inArena(p+7) {
			for _, fd := range []uint32{*(*uint32)(ptr(uintptr(p))), *(*uint32)(ptr(uintptr(p + 4)))} {
				syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFL, syscall.O_NONBLOCK)
				f.noteFD(uint64(fd))
			}
		}
	default:
		if r < 1024 && createsFD[nr] {
			f.noteFD(r)
			if (nr == syscall.SYS_DUP || nr == syscall.SYS_DUP2 || nr == syscall.SYS_DUP3 || nr == syscall.SYS_FCNTL) &&
				(uint32(a[0]) <= 2 || f.console[uint64(uint32(a[0]))]) && r > 2 {
				f.console[r] = true // a dup of the console: reading it waits for input that never comes
			}
		}
	}
}

// isProtected: v, as the int a descriptor argument is (its low 32
// bits), is a descriptor open at the start.
func (f *fuzzer) isProtected(v uint64) bool {
	return uint32(v) < uint32(len(f.protected)) && f.protected[uint32(v)]
}

func (f *fuzzer) protectedList() []int {
	var l []int
	for fd, p := range f.protected {
		if p {
			l = append(l, fd)
		}
	}
	return l
}

func (f *fuzzer) noteFD(fd uint64) {
	if f.isProtected(fd) {
		return
	}
	f.openFDs[uintptr(fd)] = true
}

// closeOpened closes the descriptors the calls made.
func (f *fuzzer) closeOpened() {
	for fd := range f.openFDs {
		syscall.RawSyscall(syscall.SYS_CLOSE, fd, 0, 0)
		delete(f.openFDs, fd)
	}
	clear(f.console)
}

// The calls whose result is a new descriptor.
var createsFD = map[uint64]bool{
	2: true, 32: true, 33: true, 41: true, 43: true, 72: true, 85: true, 213: true, 253: true, 257: true,
	282: true, 283: true, 284: true, 288: true, 289: true, 290: true, 291: true, 292: true, 294: true,
	298: true, 300: true, 304: true, 319: true, 321: true, 323: true, 425: true, 428: true, 430: true,
	431: true, 432: true, 434: true, 437: true, 438: true, 447: true,
}

// cleanup leaves the process as it found it: its descriptors, its signal
// mask, the playground.
func (f *fuzzer) cleanup() {
	f.closeOpened()
	var none uint64
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, uintptr(unsafe.Pointer(&none)), 0, 8, 0, 0)
	syscall.RawSyscall(syscall.SYS_MUNMAP, playStart, playEnd-playStart, 0)
	current.Store(^uint64(0))
}

// garbageFrame is a ucontext of garbage in the arena for -fatal
// sigreturn, every signal blocked in its mask (so that whatever the
// kernel does with it, the fault that follows ends the process with
// SIGSEGV rather than entering Go's handler) and its RIP one the process
// cannot run.
func (f *fuzzer) garbageFrame() uintptr {
	fr := uintptr(arenaBase + 2*pageSize)
	for o := uintptr(0); o < 1024; o += 8 {
		*word(fr + o) = f.value()
	}
	const mcontext = 40                       // uc_flags, uc_link, uc_stack
	*word(fr + mcontext + 16*8) = f.nonExec() // rip
	*word(fr + mcontext + 32*8) = ^uint64(0)  // uc_sigmask
	return fr
}

// nonExec is an address the process cannot execute.
func (f *fuzzer) nonExec() uint64 {
	return []uint64{0, guardLow, 0xffff_ffff_8100_0000, 0xffff_ffff_8000_0000,
		0xffff_8000_0000_0000, 0xffff_8000_fee0_0000, 0x0000_8000_0000_0000, 0xdead_beef_0000_0000}[f.r.IntN(8)]
}
