package syscalls

// The rows' assembly (asm_amd64.s): calls that cannot be made from Go
// because of where they leave the thread.

// cloneExit makes clone(flags, stack, ptid, ctid, tls) as a raw system
// call and returns RAX (rawResult reads it). The child, thread or process,
// exits at once: it runs four instructions and touches no memory, not even
// a stack, so that it needs none of the Go runtime's care.
func cloneExit(flags, stack, ptid, ctid, tls uintptr) (rax uintptr)

// sigreturnInto makes rt_sigreturn on the signal frame whose ucontext is at
// uc (the frame's return-address slot is the 8 bytes below). With fill set
// it first points the frame's context at sigreturnLanding on its own stack
// (rbp, and rip and rsp where the frame holds 0), so that the restored
// context returns from sigreturnInto with rax as the result. A signal
// caught by sigCatcher meanwhile also lands there, with the signal number
// as the result; rt_sigreturn returning is the -errno it returned.
func sigreturnInto(uc, fill uintptr) (result uintptr)

// sigreturnLanding is where a context restored by sigreturnInto continues
// (never called from Go).
func sigreturnLanding()

// sigCatcher is the SIGSEGV and SIGBUS handler while a sigreturn row runs:
// it sends the thread to sigreturnLanding with the signal number as the
// result, on the stack sigreturnInto was called on, and records si_code.
func sigCatcher()

// sigCatcherReturn is sigCatcher's sa_restorer: rt_sigreturn.
func sigCatcherReturn()

// catcherAddrs returns the addresses of sigCatcher and sigCatcherReturn.
func catcherAddrs() (handler, restorer uintptr)

// syscallOnStack makes the system call nr(a0, a1) with the stack pointer
// at sp, as code running on that stack would, and returns RAX.
func syscallOnStack(sp, nr, a0, a1 uintptr) (rax uintptr)

// segments returns the code and stack segment selectors the program runs
// with.
func segments() (cs, ss uint16)

// ldmxcsr loads MXCSR.
func ldmxcsr(v uint32)

// fxsave stores the FPU and SSE state at p (512 bytes, 16-byte aligned).
func fxsave(p uintptr)

// What sigreturnInto and sigCatcher leave for the rows.
var (
	landingSP, landingBP uintptr // sigreturnInto's stack and frame pointer
	savedMXCSR           uint32  // MXCSR when sigreturnInto began: restored on landing
	landedMXCSR          uint32  // MXCSR as the restored context had it
	landedR12            uint64  // R12 as the restored context had it
	landedFlags          uint64  // RFLAGS as the restored context had it
	caughtCode           int32   // si_code of the signal sigCatcher caught
)
