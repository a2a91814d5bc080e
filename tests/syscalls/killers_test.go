package syscalls

// The rows that killed hurdvm before its fixes: each group is a test of
// its own, skipped unless -syscalls.killers is given, so that it can be
// run alone (-test.run=^TestKillLAPIC$) and a crash hides nothing else.
// cmd/parity boots each on hurdvm by itself (make test-linux-parity
// KILLERS=1); Linux runs them all in one boot.

import "testing"

// killerGroups are the groups rows may name, by their tests below.
var killerGroups = map[string]bool{
	"EpollUnmappedBuffer": true, "LAPIC": true, "ArchPrctlFS": true, "CloneTLS": true,
	"SigreturnRIP": true, "SigreturnRSP": true, "SigreturnMXCSR": true, "SigreturnFrame": true,
}

func TestKillEpollUnmappedBuffer(t *testing.T) {
	killerRows(t, "EpollUnmappedBuffer", "an eventfd write wrote the epoll_pwait waiter's events into its unmapped buffer: kernel page fault")
}

func TestKillLAPIC(t *testing.T) {
	killerRows(t, "LAPIC", "system calls read and wrote buffers at the local APIC's identity-mapped registers: the clock stops")
}

func TestKillArchPrctlFS(t *testing.T) {
	killerRows(t, "ArchPrctlFS", "arch_prctl(ARCH_SET_FS) took a non-canonical or kernel FS base: #GP on WRMSR in the kernel")
}

func TestKillCloneTLS(t *testing.T) {
	killerRows(t, "CloneTLS", "clone(CLONE_SETTLS) took a non-canonical FS base for the new thread: #GP on WRMSR in the kernel")
}

func TestKillSigreturnRIP(t *testing.T) {
	killerRows(t, "SigreturnRIP", "rt_sigreturn restored a non-canonical RIP: #GP on the kernel's IRETQ")
}

func TestKillSigreturnRSP(t *testing.T) {
	killerRows(t, "SigreturnRSP", "rt_sigreturn restored a non-canonical RSP")
}

func TestKillSigreturnMXCSR(t *testing.T) {
	killerRows(t, "SigreturnMXCSR", "rt_sigreturn loaded reserved MXCSR bits: #GP on the kernel's FXRSTOR")
}

func TestKillSigreturnFrame(t *testing.T) {
	killerRows(t, "SigreturnFrame", "rt_sigreturn on an unmapped frame ended the whole program instead of sending SIGSEGV")
}
