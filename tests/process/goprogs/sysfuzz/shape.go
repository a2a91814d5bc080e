package main

// shape makes call nr's arguments ones that cannot legitimately end or
// break the fuzzer (the kernel must survive every call; the fuzzer must
// survive the ones Linux would let a careful program survive), and says
// whether the call is made at all and whether it is one of the clone
// family, whose child must exit at once (rawClone). The numbers are
// x86-64 Linux's; a call hurdvm does not serve is ENOSYS whatever its
// arguments, and the rules are there for when it does.
func (f *fuzzer) shape(nr uint64, a *[6]uint64) (clone, ok bool) {
	switch nr {
	case 60, 231, 15: // exit, exit_group, rt_sigreturn: -fatal's, or rawClone's child
		return false, false
	case 34, 130: // pause, rt_sigsuspend: wait for a signal that may never come
		return false, false
	case 317: // seccomp: strict mode kills at the next call
		return false, false
	case 334: // rseq: a registered area with garbage in it is a SIGSEGV at the next preemption
		a[0] = f.badPointer()
	case 0, 17, 19, 295, 327: // read, pread64, readv, preadv, preadv2: the console would block
		if uint32(a[0]) <= 2 || f.console[uint64(uint32(a[0]))] {
			return false, false
		}
	case 1, 18, 20, 296, 328: // write and friends: nothing readable to the console
		if uint32(a[0]) <= 2 {
			a[1] = f.badPointer()
		}
	case 3: // close
		if f.isProtected(a[0]) {
			a[0] += 100
		}
	case 33, 292: // dup2, dup3: not over a descriptor of the runtime's or the console
		if f.isProtected(a[1]) {
			a[1] += 100
		}
	case 436: // close_range
		if uint32(a[0]) <= uint32(f.maxProt) {
			a[0] = uint64(f.maxProt) + 1 + a[0]%8
		}
	case 72: // fcntl
		switch a[1] {
		case 4: // F_SETFL: stays non-blocking
			a[2] |= 0x800
		case 10: // F_SETSIG
			a[2] = f.harmlessToSelf()
		case 8: // F_SETOWN: not the kernel's program
			a[2] = uint64(f.pid)
		}
	case 16: // ioctl: FIONBIO could make a descriptor blocking
		if a[1] == 0x5421 {
			return false, false
		}
	case 2, 257, 437: // open, openat, openat2: never blocking
		if nr == 2 {
			a[1] |= 0x800
		} else if nr == 257 {
			a[2] |= 0x800
		}
	case 290, 283, 289, 294, 323: // eventfd2, timerfd_create, signalfd4, inotify_init1, userfaultfd (pipe2 below)
		i := 1
		if nr == 323 || nr == 294 {
			i = 0
		}
		if nr == 289 {
			i = 3
		}
		a[i] |= 0x800 // O_NONBLOCK, EFD_, TFD_, SFD_, IN_NONBLOCK
	case 284, 282, 253: // eventfd, signalfd, inotify_init: blocking descriptors, their 2 variants instead
		return false, false
	case 22, 293: // pipe, pipe2: descriptors the fuzzer learns (after: non-blocking, closed) or none
		// A pipe whose descriptors went elsewhere (the playground) stays
		// blocking and open: a later read of it waits for ever, on Linux
		// as here (issue 17's run that ended "read has not come back").
		if a[0] >= playStart && a[0] < playEnd { // the only other memory it may write (keepOff)
			a[0] = f.arenaPtr(8)
		}
		if nr == 293 {
			a[1] |= 0x800
		}
	case 41, 53: // socket, socketpair
		a[1] |= 0x800
		if nr == 53 && a[3] >= playStart && a[3] < playEnd {
			a[3] = f.arenaPtr(8)
		}
	case 43, 288: // accept, accept4: wait for a connection
		return false, false

	// Timeouts: a few milliseconds at most.
	case 7: // poll
		a[2] = uint64(f.r.IntN(3))
	case 23: // select
		a[4] = f.shortTimeval()
	case 270: // pselect6
		a[4] = f.shortTimespec()
	case 271: // ppoll
		a[2] = f.shortTimespec()
	case 232, 281: // epoll_wait, epoll_pwait
		a[3] = uint64(f.r.IntN(3))
	case 441: // epoll_pwait2
		a[3] = f.shortTimespec()
	case 35: // nanosleep
		a[0] = f.shortTimespec()
	case 230: // clock_nanosleep
		a[2] = f.shortTimespec()
	case 128: // rt_sigtimedwait
		a[2] = f.shortTimespec()
	case 202: // futex: every waiting operation with a timeout
		switch a[1] & 0x7f {
		case 0, 9, 11, 6, 13: // WAIT, WAIT_BITSET, WAIT_REQUEUE_PI, LOCK_PI, LOCK_PI2
			a[3] = f.shortTimespec()
		}
	case 449: // futex_waitv
		a[3] = f.shortTimespec()
	case 208, 333: // io_getevents, io_pgetevents
		a[4] = f.shortTimespec()
	case 299: // recvmmsg
		a[4] = f.shortTimespec()
	case 243: // mq_timedreceive
		a[4] = f.shortTimespec()
	case 220: // semtimedop
		a[3] = f.shortTimespec()
	case 65, 70: // semop, msgrcv: can wait forever
		return false, false
	case 69: // msgsnd
		a[3] |= 0x800 // IPC_NOWAIT
	case 61: // wait4
		a[2] |= 1 // WNOHANG
	case 247: // waitid
		a[3] |= 1
	case 73: // flock: never waits
		a[1] |= 4 // LOCK_NB

	// Signals: to itself only harmless ones; its handlers, mask and
	// signal stack are the Go runtime's.
	case 62: // kill
		if f.selfTarget(a[0]) {
			a[1] = f.harmlessToSelf()
		}
	case 200: // tkill
		if f.selfTarget(a[0]) {
			a[1] = f.harmlessToSelf()
		}
	case 234: // tgkill
		if f.selfTarget(a[0]) || f.selfTarget(a[1]) {
			a[2] = f.harmlessToSelf()
		}
	case 129: // rt_sigqueueinfo
		if f.selfTarget(a[0]) {
			a[1] = f.harmlessToSelf()
		}
	case 297: // rt_tgsigqueueinfo
		if f.selfTarget(a[0]) || f.selfTarget(a[1]) {
			a[2] = f.harmlessToSelf()
		}
	case 424: // pidfd_send_signal
		a[1] = f.harmlessToSelf()
	case 13: // rt_sigaction: a new action only for signals nobody sends it
		if !certainlyBad(a[1]) {
			a[0] = f.mayHandle()
		}
	case 14: // rt_sigprocmask: a new mask only of signals Go does without
		if inArena(a[1]) {
			*word(uintptr(a[1] &^ 7)) = f.safeMask()
			a[1] &^= 7
		} else if !certainlyBad(a[1]) {
			a[1] = f.badPointer()
		}
	case 131: // sigaltstack: never a new stack
		a[0] = f.badPointer()
	case 222: // timer_create: SIGALRM (NULL) or a sigevent the kernel must refuse
		a[1] = f.badPointer()
	case 157: // prctl
		switch a[0] {
		case 22, 26, 35, 59: // SET_SECCOMP, SET_TSC, SET_MM, SET_SYSCALL_USER_DISPATCH
			return false, false
		}
	case 160: // setrlimit
		a[1] = f.badPointer()
	case 302: // prlimit64
		if f.selfTarget(a[0]) {
			a[2] = f.badPointer()
		}
	case 158: // arch_prctl: the FS base is the Go runtime's TLS
		if a[0] == 0x1002 { // ARCH_SET_FS: only where it cannot be
			a[1] = []uint64{0xffff_8000_0000_0000, 0xffff_ffff_8000_0000, 0x0000_8000_0000_0000,
				0x8000_0000_0000_0000, ^uint64(0)}[f.r.IntN(5)]
		}
	case 218: // set_tid_address: cleared at the thread's exit: the arena's
		if !inArena(a[0]) {
			a[0] = f.badPointer()
		}

	// Threads and processes: the child exits at once.
	case 56: // clone: no exit signal but SIGCHLD
		a[0] = a[0]&^0xff | []uint64{0, sigCHLD}[f.r.IntN(2)]
		return true, true
	case 57, 58: // fork, vfork
		return true, true
	case 435: // clone3: clone_args in the arena, exit_signal 0 or SIGCHLD
		if inArena(a[0]) && inArena(a[0]+88) {
			p := uintptr(a[0] &^ 7)
			a[0] = uint64(p)
			*word(p + 32) = []uint64{0, sigCHLD}[f.r.IntN(2)]
		}
		return true, true
	case 59, 322: // execve, execveat: the arena names no program (paths)
	case 101: // ptrace: not its own threads
		if f.selfTarget(a[1]) {
			a[1] = 1 << 30
		}
	case 310, 311: // process_vm_readv, process_vm_writev: into itself only the arena (its iovecs' pointers are)

	// Mappings: only the playground (memRange).
	case 9: // mmap
		if a[3]&(0x10|0x100000) != 0 { // MAP_FIXED, MAP_FIXED_NOREPLACE
			f.memRange(&a[0], &a[1])
		}
		if a[3]&0x8000 != 0 && a[1] > 16<<20 { // MAP_POPULATE: not the machine's memory
			a[3] &^= 0x8000
		}
		a[3] &^= 0x4000 // MAP_GROWSDOWN: a region that grows into the program's
	case 10, 11, 216, 329, 237, 26, 149, 150, 325: // mprotect, munmap, remap_file_pages, pkey_mprotect, mbind, msync, mlock, munlock, mlock2
		f.memRange(&a[0], &a[1])
	case 28: // madvise: into the playground however far the range reaches
		// Linux's madvise does not refuse a range that runs past the
		// lower half: it gives the advice to every mapping in it,
		// skipping the holes, and answers ENOMEM at the end; so
		// madvise(0, 1<<63, MADV_DONTNEED) empties a program's heap
		// and stacks on Linux too (and MADV_FREE may). memRange leaves
		// such a range alone (the other calls refuse it), so it is cut
		// to the lower half first. (On hurdvm the fuzzer's text went to
		// zeros once this way: madvise(0, 0xffffffff8dde9cd4,
		// MADV_FREE) discarded it, where Linux, whose text is the
		// file's, answers EINVAL for MADV_FREE there.)
		if a[0] < lowerHalfEnd && (a[0]+a[1] < a[0] || a[0]+a[1] > taskSize) {
			a[1] = taskSize - a[0]
		}
		f.memRange(&a[0], &a[1])
	case 25: // mremap: the old range and, with MREMAP_FIXED, the new
		f.memRange(&a[0], &a[1])
		if a[3]&2 != 0 {
			f.memRange(&a[4], &a[2])
		}
	case 30: // shmat: a segment's size is not known here; 1 GiB covers any the fuzzer can make
		n := uint64(1 << 30)
		f.memRange(&a[1], &n)
	case 12: // brk: the break's area is above the program's data; moving it cannot reach another region
	case 440: // process_madvise: its own memory through iovecs: not the runtime's
		return false, false
	case 448: // process_mrelease
	case 462: // mseal
		f.memRange(&a[0], &a[1])
	}
	return false, true
}
