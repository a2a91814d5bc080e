package syscalls

// futex. Linux's side is kernel/futex/syscalls.c (the timeout is read and
// checked before anything else), core.c (get_futex_key: alignment, and
// for a shared futex the page behind the address) and waitwake.c.

import (
	"syscall"
	"time"
)

const (
	clockRealtime      = 0
	clockMonotonic     = 1
	clockThreadCPUTime = 3
	clockMonotonicRaw  = 4

	futexWait          = 0
	futexWake          = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivate       = 128
	futexClockRealtime = 256
	bitsetAny          = 0xffff_ffff

	// futexOpSetIfZero is FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0):
	// store 1 at the second word, wake its waiters if it was 0.
	futexOpSetIfZero = 1 << 12
)

func futex(addr, op, val, timeout, addr2, val3 uintptr) string {
	return answer(sysBlocking(syscall.SYS_FUTEX, addr, op, val, timeout, addr2, val3))
}

// timespec puts {sec, nsec} in scratch and returns where.
func timespec(sec, nsec int64) uintptr {
	a := scratch() + scratchTimespec
	poke64(a, uint64(sec))
	poke64(a+8, uint64(nsec))
	return a
}

// clockNow is clock's time in nanoseconds, by the system call.
func clockNow(clock uintptr) int64 {
	a := scratch() + scratchTimespec + 16
	must(sys(syscall.SYS_CLOCK_GETTIME, clock, a))
	return int64(peek64(a))*1e9 + int64(peek64(a+8))
}

// abstime is the timespec of now+d on clock.
func abstime(clock uintptr, d time.Duration) uintptr {
	t := clockNow(clock) + int64(d)
	return timespec(t/1e9, t%1e9)
}

// onWord runs f on a fresh futex word, 0.
func onWord(f func(w uintptr) string) func() string {
	return func() string { return onPages(1, f) }
}

func futexRows() []row {
	const priv = futexPrivate
	waitPriv := uintptr(futexWait | priv)
	rows := []row{
		{name: "futex/wake-private", want: "0", call: onWord(func(w uintptr) string { return futex(w, futexWake|priv, 1, 0, 0, 0) })},
		{name: "futex/wake-shared", want: "0", call: onWord(func(w uintptr) string { return futex(w, futexWake, 1, 0, 0, 0) })},
		{name: "futex/wake-unaligned", want: "EINVAL", call: onWord(func(w uintptr) string { return futex(w+1, futexWake|priv, 1, 0, 0, 0) })},
		{name: "futex/wake-bitset-0", want: "EINVAL", call: onWord(func(w uintptr) string { return futex(w, futexWakeBitset|priv, 1, 0, 0, 0) })},
		{name: "futex/wait-mismatch", want: "EAGAIN", call: onWord(func(w uintptr) string { return futex(w, waitPriv, 1, timespec(1, 0), 0, 0) })},
		{name: "futex/wait-timeout-0", want: "ETIMEDOUT", call: onWord(func(w uintptr) string { return futex(w, waitPriv, 0, timespec(0, 0), 0, 0) })},
		{name: "futex/wait-timeout-20ms", want: "ETIMEDOUT,waited", call: onWord(func(w uintptr) string {
			t0 := time.Now()
			r := futex(w, waitPriv, 0, timespec(0, 20e6), 0, 0)
			return join(r, check("waited", time.Since(t0) >= 20*time.Millisecond))
		})},
		// futex_init_timeout: the timespec must be valid.
		{name: "futex/wait-timeout-minus-1s", want: "EINVAL", call: onWord(func(w uintptr) string { return futex(w, waitPriv, 0, timespec(-1, 0), 0, 0) })},
		{name: "futex/wait-timeout-nsec-1e9", want: "EINVAL", call: onWord(func(w uintptr) string { return futex(w, waitPriv, 0, timespec(0, 1e9), 0, 0) })},
		{name: "futex/wait-timeout-nsec-minus-1", want: "EINVAL", call: onWord(func(w uintptr) string { return futex(w, waitPriv, 0, timespec(0, -1), 0, 0) })},
		// The rows below that Linux refuses before looking at the word
		// give hurdvm a word that differs, so that it cannot sleep.
		{name: "futex/wait-unaligned", want: "EINVAL", call: onWord(func(w uintptr) string { return futex(w+1, waitPriv, 1, timespec(0, 10e6), 0, 0) })},
		{name: "futex/wait-bitset-0", want: "EINVAL", call: onWord(func(w uintptr) string {
			return futex(w, futexWaitBitset|priv, 1, abstime(clockMonotonic, 10*time.Millisecond), 0, 0)
		})},
		// Absolute deadlines: 1 ns after the clock's start is past on
		// both clocks (and on a kernel that took the realtime one for
		// the monotonic one).
		{name: "futex/wait-bitset-past", want: "ETIMEDOUT", call: onWord(func(w uintptr) string {
			return futex(w, futexWaitBitset|priv, 0, timespec(0, 1), 0, bitsetAny)
		})},
		{name: "futex/wait-bitset-realtime-past", want: "ETIMEDOUT", call: onWord(func(w uintptr) string {
			return futex(w, futexWaitBitset|priv|futexClockRealtime, 0, timespec(0, 1), 0, bitsetAny)
		})},
		// do_futex: FUTEX_CLOCK_REALTIME only goes with the bitset wait
		// (and PI operations).
		{name: "futex/wait-realtime-flag", want: "ENOSYS", call: onWord(func(w uintptr) string { return futex(w, waitPriv|futexClockRealtime, 1, 0, 0, 0) })},
		{name: "futex/unknown-op", want: "ENOSYS", call: onWord(func(w uintptr) string { return futex(w, 99|priv, 0, 0, 0, 0) })},
		{name: "futex/woken", want: "0,early", call: onWord(func(w uintptr) string {
			go func() {
				time.Sleep(100 * time.Millisecond) // the waiter is in futex
				poke32(w, 1)
				sys(syscall.SYS_FUTEX, w, futexWake|priv, 1)
			}()
			t0 := time.Now()
			r := futex(w, waitPriv, 0, timespec(5, 0), 0, 0)
			return join(r, check("early", time.Since(t0) < 4*time.Second))
		})},
		// The waker tries until the waiter is there to be counted.
		{name: "futex/wake-counts-waiters", want: "1,then=0", call: onWord(func(w uintptr) string {
			waiter := make(chan string)
			go func() { waiter <- futex(w, waitPriv, 0, timespec(5, 0), 0, 0) }()
			woken := futex(w, futexWake|priv, 10, 0, 0, 0)
			for t0 := time.Now(); woken == "0" && time.Since(t0) < 2*time.Second; woken = futex(w, futexWake|priv, 10, 0, 0, 0) {
				time.Sleep(10 * time.Millisecond)
			}
			return join(woken, "then="+<-waiter)
		})},
		// FUTEX_WAKE_OP: the count of the second word's waiters comes in
		// the timeout's place.
		{name: "futex/wake-op", want: "0,second=1", call: onWord(func(w uintptr) string {
			r := futex(w, futexWakeOp|priv, 1, 1, w+4, futexOpSetIfZero)
			return join(r, fact("second", uint64(peek32(w+4))))
		})},
		{name: "futex/wake-op-unaligned-second", want: "EINVAL", call: onWord(func(w uintptr) string {
			return futex(w, futexWakeOp|priv, 1, 1, w+5, futexOpSetIfZero)
		})},
		{name: "futex/requeue", want: "0", call: onWord(func(w uintptr) string { return futex(w, futexRequeue|priv, 1, 1, w+4, 0) })},
		{name: "futex/cmp-requeue", want: "0", call: onWord(func(w uintptr) string { return futex(w, futexCmpRequeue|priv, 1, 1, w+4, 0) })},
		{name: "futex/cmp-requeue-mismatch", want: "EAGAIN", call: onWord(func(w uintptr) string { return futex(w, futexCmpRequeue|priv, 1, 1, w+4, 5) })},
	}
	// A private futex's wake needs no page behind the address
	// (get_futex_key), only an address below the kernel.
	rows = append(rows, pointerRows("futex/wake-private", reads, answers{"null": "0", "unmapped": "0", "lapic": "0", "": "EFAULT"}, func(p uintptr) string {
		return futex(p, futexWake|priv, 1, 0, 0, 0)
	})...)
	rows = append(rows, pointerRows("futex/wake-shared", reads, efault, func(p uintptr) string { return futex(p, futexWake, 1, 0, 0, 0) })...)
	rows = append(rows, pointerRows("futex/wait", reads, efault, func(p uintptr) string { return futex(p, waitPriv, 0, timespec(0, 10e6), 0, 0) })...)
	rows = append(rows, pointerRows("futex/wait/timeout", reads, absentIf(efault, "EAGAIN"), func(p uintptr) string {
		return onWord(func(w uintptr) string { return futex(w, waitPriv, 1, p, 0, 0) })()
	})...)
	return rows
}
