// Package kernel is the machine under hurdvm: it boots a stock Go program
// (GOOS=linux GOARCH=amd64) on bare metal by giving it a Linux personality.
//
// The Go runtime believes it runs on Linux. Its SYSCALL instructions land in
// syscallEntry (MSR_LSTAR), and the kernel serves the few system calls the
// runtime makes: memory (mmap, munmap, madvise) from the VM, threads (clone)
// from a small preemptive scheduler, futex, sleeping, epoll and eventfd for
// the runtime's timers, signals (SIGSEGV for faults, SIGURG for async
// preemption) delivered to the handlers the runtime registered, the clock
// from the TSC and output to the console. A program becomes bootable by
// importing this package; the build links it with -E hurdvm/kernel.entry.
//
// Everything runs in ring 0, on every CPU the machine has. Kernel code runs
// in handler context (traps, system calls, faults): on a kernel stack,
// interrupts off, with the kernel g installed in TLS so that ordinary Go
// functions work as long as they do not allocate, take Go locks or store Go
// pointers into the heap or globals (no write barriers). See trap_amd64.s
// and docs/DESIGN.md, "Handler context"; which locks it takes is
// docs/DESIGN.md, "Locking" (lock.go).
//
// The kernel-only files carry the build tag hurdvm: a host build of this
// package is this comment alone.
package kernel
