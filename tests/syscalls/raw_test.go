package syscalls

// Raw system calls and the words the table writes their results in.

import (
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Linux x86-64 numbers the syscall package lacks.
const (
	sysGetcpu    = 309
	sysGetrandom = 318
)

// sys makes a raw system call on this thread; the runtime is not told, so
// it must not block for long.
func sys(nr uintptr, args ...uintptr) (uintptr, syscall.Errno) {
	var a [6]uintptr
	copy(a[:], args)
	r, _, e := syscall.RawSyscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	return r, e
}

// sysBlocking makes a system call that may block: the runtime lets other
// goroutines run meanwhile.
func sysBlocking(nr uintptr, args ...uintptr) (uintptr, syscall.Errno) {
	var a [6]uintptr
	copy(a[:], args)
	r, _, e := syscall.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	return r, e
}

// rawResult is a system call's RAX as a result and an errno: -4095 to -1
// are errors.
func rawResult(rax uintptr) (uintptr, syscall.Errno) {
	if rax > ^uintptr(4095) {
		return ^uintptr(0), syscall.Errno(-rax)
	}
	return rax, 0
}

// answer is a result as the table writes it: the errno's name for a
// failure, the value in decimal otherwise.
func answer(r uintptr, e syscall.Errno) string {
	if e != 0 {
		return errnoName(e)
	}
	return strconv.FormatUint(uint64(r), 10)
}

// status is the errno's name, or "ok" for a success whose value varies
// from run to run (an address, a descriptor, a thread ID).
func status(r uintptr, e syscall.Errno) string {
	if e != 0 {
		return errnoName(e)
	}
	return "ok"
}

// join makes one answer of several facts.
func join(parts ...string) string { return strings.Join(parts, ",") }

func itoa(n int) string { return strconv.Itoa(n) }

// fact is name=value, for join.
func fact(name string, v uint64) string { return name + "=" + strconv.FormatUint(v, 10) }

// check is what name says when ok holds, "not-" + name otherwise.
func check(name string, ok bool) string {
	if ok {
		return name
	}
	return "not-" + name
}

var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.ESRCH: "ESRCH", syscall.EINTR: "EINTR",
	syscall.ECHILD: "ECHILD", syscall.EBADF: "EBADF", syscall.EAGAIN: "EAGAIN", syscall.ENOMEM: "ENOMEM",
	syscall.EACCES: "EACCES", syscall.EFAULT: "EFAULT", syscall.EEXIST: "EEXIST", syscall.ENODEV: "ENODEV",
	syscall.ENOTDIR: "ENOTDIR", syscall.EINVAL: "EINVAL", syscall.EMFILE: "EMFILE", syscall.ESPIPE: "ESPIPE",
	syscall.ERANGE: "ERANGE", syscall.ENAMETOOLONG: "ENAMETOOLONG", syscall.ENOSYS: "ENOSYS",
	syscall.EOVERFLOW: "EOVERFLOW", syscall.EOPNOTSUPP: "EOPNOTSUPP", syscall.ETIMEDOUT: "ETIMEDOUT",
	syscall.E2BIG: "E2BIG", syscall.ENOTTY: "ENOTTY", syscall.EBUSY: "EBUSY",
}

func errnoName(e syscall.Errno) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return "errno" + strconv.Itoa(int(e))
}

var signalNames = map[uintptr]string{4: "SIGILL", 5: "SIGTRAP", 7: "SIGBUS", 8: "SIGFPE", 11: "SIGSEGV"}

// setupError is a row's own preparation failing: the row's answer then
// says so instead of making its call.
type setupError string

// must returns r, or ends the row when the call failed.
func must(r uintptr, e syscall.Errno) uintptr {
	if e != 0 {
		panic(setupError(errnoName(e)))
	}
	return r
}

// Memory the rows point the kernel at, by address.

func mem(a uintptr) unsafe.Pointer { return unsafe.Add(nil, a) }
func peek64(a uintptr) uint64      { return *(*uint64)(mem(a)) }
func peek32(a uintptr) uint32      { return *(*uint32)(mem(a)) }
func poke64(a uintptr, v uint64)   { *(*uint64)(mem(a)) = v }
func poke32(a uintptr, v uint32)   { *(*uint32)(mem(a)) = v }
func poke16(a uintptr, v uint16)   { *(*uint16)(mem(a)) = v }

// pokeString stores s with a terminating NUL. (A loop: Go 1.26.8's
// compiler crashes on copy into a slice made from unsafe.Add(nil, a) when
// it inlines the copy, "disjointTypes: one of arguments is not a pointer".)
func pokeString(a uintptr, s string) {
	for i := 0; i < len(s); i++ {
		*(*byte)(mem(a + uintptr(i))) = s[i]
	}
	*(*byte)(mem(a + uintptr(len(s)))) = 0
}

const pageSize = 4096

// Where the helpers keep what they pass to the kernel in the scratch page,
// each its own place: one helper's data must survive another's call.
const (
	scratchCounter  = 0    // an eventfd counter
	scratchEvent    = 64   // a struct epoll_event
	scratchVec      = 128  // mincore's vector
	scratchMask     = 192  // a signal set
	scratchMask2    = 224  // another
	scratchAction   = 256  // a struct sigaction
	scratchAction2  = 320  // another
	scratchStack    = 384  // a stack_t
	scratchStack2   = 448  // another
	scratchTimespec = 512  // a struct timespec
	scratchOther    = 576  // anything else a row reads back
	scratchSaved    = 640  // the runtime's two fault handlers while sigCatcher stands in
	scratchText     = 1024 // a string
)

// mapPages maps n fresh read-write pages outside the Go heap, which never
// move: the rows hand their addresses to the kernel as integers.
func mapPages(n int) uintptr {
	return must(sys(syscall.SYS_MMAP, 0, uintptr(n)*pageSize, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS, ^uintptr(0), 0))
}

func unmapPages(a uintptr, n int) { sys(syscall.SYS_MUNMAP, a, uintptr(n)*pageSize) }

// pageBeforeHole maps a page whose next page is not mapped.
func pageBeforeHole() uintptr {
	a := mapPages(2)
	unmapPages(a+pageSize, 1)
	return a
}
