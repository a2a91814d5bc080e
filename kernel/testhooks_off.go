//go:build hurdvm && !hurdvmtest

// A kernel booted for real has no test hooks (testhooks.go, build tag
// hurdvmtest): their system calls are unknown, ENOSYS.

package kernel

func testSyscall(tf *TrapFrame, nr, a0, a1 uint64, r *uint64) bool { return false }

func pageFaultHook(addr uint64) {}

func procTestHook(nr, a0, a1 uint64) uint64 { return errno(eNOSYS) }

func procTestSyscall(nr, a0 uint64, r *uint64) bool { return false }

func smapProbeFixup(tf *TrapFrame) bool { return false }
