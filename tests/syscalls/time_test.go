package syscalls

// clock_gettime, nanosleep and clock_nanosleep. Linux's side is
// kernel/time/posix-timers.c (clockid_to_kclock: the clock is checked
// first), kernel/time/hrtimer.c and posix-cpu-timers.c.

import (
	"strconv"
	"syscall"
	"time"
)

const timerAbstime = 1

// gettime answers clock_gettime(clock) and whether the time it wrote is a
// valid timespec.
func gettime(clock uintptr) string {
	a := scratch() + scratchOther
	poke64(a+8, 1<<40)
	r, e := sys(syscall.SYS_CLOCK_GETTIME, clock, a)
	if e != 0 {
		return errnoName(e)
	}
	return join(answer(r, e), check("valid", int64(peek64(a)) >= 0 && peek64(a+8) < 1e9))
}

// sleeps answers a sleep and whether it lasted at least least.
func sleeps(least time.Duration, f func() (uintptr, syscall.Errno)) string {
	t0 := time.Now()
	r := answer(f())
	return join(r, check("slept", time.Since(t0) >= least))
}

func nanosleep(req uintptr) string { return answer(sysBlocking(syscall.SYS_NANOSLEEP, req, 0)) }

func clockNanosleep(clock, flags, req uintptr) string {
	return answer(sysBlocking(syscall.SYS_CLOCK_NANOSLEEP, clock, flags, req, 0))
}

func timeRows() []row {
	rows := []row{
		{name: "clock_gettime/clock-10", want: "EINVAL", call: func() string { return gettime(10) }},
		{name: "clock_gettime/clock-12", want: "EINVAL", call: func() string { return gettime(12) }},
		{name: "clock_gettime/clock-12345", want: "EINVAL", call: func() string { return gettime(12345) }},
		{name: "clock_gettime/clock-minus-1", want: "EINVAL", call: func() string { return gettime(neg(-1)) }},
		// The clock is looked up before the buffer.
		{name: "clock_gettime/bad-clock-null-buffer", want: "EINVAL", call: func() string { return answer(sys(syscall.SYS_CLOCK_GETTIME, 12345, 0)) }},
		{name: "clock_gettime/monotonic-advances", want: "advances", call: func() string {
			t0 := clockNow(clockMonotonic)
			time.Sleep(2 * time.Millisecond)
			return check("advances", clockNow(clockMonotonic) > t0)
		}},
		{name: "clock_gettime/realtime-after-2020", want: "after-2020", call: func() string {
			return check("after-2020", clockNow(clockRealtime) > time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
		}},

		{name: "nanosleep/0", want: "0", call: func() string { return nanosleep(timespec(0, 0)) }},
		{name: "nanosleep/20ms", want: "0,slept", call: func() string {
			return sleeps(20*time.Millisecond, func() (uintptr, syscall.Errno) { return sysBlocking(syscall.SYS_NANOSLEEP, timespec(0, 20e6), 0) })
		}},
		// The remainder is only written when the sleep is interrupted.
		{name: "nanosleep/bad-remainder", want: "0", call: func() string { return answer(sysBlocking(syscall.SYS_NANOSLEEP, timespec(0, 0), kernelHalf)) }},
		{name: "nanosleep/sec-minus-1", want: "EINVAL", call: func() string { return nanosleep(timespec(-1, 0)) }},
		{name: "nanosleep/nsec-1e9", want: "EINVAL", call: func() string { return nanosleep(timespec(0, 1e9)) }},
		{name: "nanosleep/nsec-minus-1", want: "EINVAL", call: func() string { return nanosleep(timespec(0, -1)) }},

		{name: "clock_nanosleep/monotonic", want: "0", call: func() string { return clockNanosleep(clockMonotonic, 0, timespec(0, 0)) }},
		{name: "clock_nanosleep/monotonic-20ms", want: "0,slept", call: func() string {
			return sleeps(20*time.Millisecond, func() (uintptr, syscall.Errno) {
				return sysBlocking(syscall.SYS_CLOCK_NANOSLEEP, clockMonotonic, 0, timespec(0, 20e6), 0)
			})
		}},
		{name: "clock_nanosleep/abstime-past", want: "0", call: func() string {
			return clockNanosleep(clockMonotonic, timerAbstime, timespec(0, 1))
		}},
		{name: "clock_nanosleep/abstime-20ms", want: "0,slept", call: func() string {
			return sleeps(15*time.Millisecond, func() (uintptr, syscall.Errno) {
				return sysBlocking(syscall.SYS_CLOCK_NANOSLEEP, clockMonotonic, timerAbstime, abstime(clockMonotonic, 20*time.Millisecond), 0)
			})
		}},
		{name: "clock_nanosleep/realtime-abstime-past", want: "0", call: func() string {
			return clockNanosleep(clockRealtime, timerAbstime, timespec(1, 0))
		}},
		// Only TIMER_ABSTIME means anything in flags.
		{name: "clock_nanosleep/unknown-flags", want: "0", call: func() string { return clockNanosleep(clockMonotonic, 2, timespec(0, 0)) }},
		{name: "clock_nanosleep/clock-12345", want: "EINVAL", call: func() string { return clockNanosleep(12345, 0, timespec(0, 0)) }},
		// The clock is looked up before the time is read.
		{name: "clock_nanosleep/bad-clock-null-time", want: "EINVAL", call: func() string { return clockNanosleep(12345, 0, 0) }},
		// Clocks that cannot be slept on (their k_clock has no nsleep,
		// posix-timers.c): EOPNOTSUPP. The calling thread's CPU clock is
		// one of them.
		{name: "clock_nanosleep/monotonic-raw", want: "EOPNOTSUPP", call: func() string { return clockNanosleep(clockMonotonicRaw, 0, timespec(0, 0)) }},
		{name: "clock_nanosleep/realtime-coarse", want: "EOPNOTSUPP", call: func() string { return clockNanosleep(5, 0, timespec(0, 0)) }},
		{name: "clock_nanosleep/thread-cputime", want: "EOPNOTSUPP", call: func() string { return clockNanosleep(clockThreadCPUTime, 0, timespec(0, 0)) }},
		{name: "clock_nanosleep/sec-minus-1", want: "EINVAL", call: func() string { return clockNanosleep(clockMonotonic, 0, timespec(-1, 0)) }},
		{name: "clock_nanosleep/nsec-1e9", want: "EINVAL", call: func() string { return clockNanosleep(clockMonotonic, 0, timespec(0, 1e9)) }},
		{name: "clock_nanosleep/nsec-2e9", want: "EINVAL", call: func() string { return clockNanosleep(clockMonotonic, 0, timespec(0, 2e9)) }},
	}
	for _, clock := range []uintptr{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11} {
		want := "0,valid"
		rows = append(rows, row{name: "clock_gettime/clock-" + strconv.Itoa(int(clock)), want: want, call: func() string { return gettime(clock) }})
	}
	for _, clock := range []struct {
		name string
		id   uintptr
	}{{"realtime", 0}, {"boottime", 7}, {"tai", 11}, {"process-cputime", 2}} {
		rows = append(rows, row{name: "clock_nanosleep/" + clock.name, want: "0", call: func() string { return clockNanosleep(clock.id, 0, timespec(0, 0)) }})
	}
	rows = append(rows, pointerRows("clock_gettime/buffer", writes, efault, func(p uintptr) string {
		return answer(sys(syscall.SYS_CLOCK_GETTIME, clockMonotonic, p))
	})...)
	rows = append(rows, pointerRows("nanosleep/request", reads, efault, func(p uintptr) string { return nanosleep(p) })...)
	rows = append(rows, pointerRows("clock_nanosleep/request", reads, efault, func(p uintptr) string {
		return clockNanosleep(clockMonotonic, 0, p)
	})...)
	return rows
}
