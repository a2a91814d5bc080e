// Offsets of the fields of a CPU's record (percpu.go, type cpu) that the
// assembly reads through GS; percpu.go checks that they match.
#define CPU_SELF 0
#define CPU_TRAP_STACK_TOP 8
#define CPU_USER_RSP 16
#define CPU_KERNEL_FS_BASE 24
#define CPU_FPU_AREA 32
#define CPU_FPU_NEST_TOP 40
#define CPU_FPU_NEST_BASE 48
#define CPU_FPU_NEST_LIMIT 56
#define CPU_KSTACK_LO 64
#define CPU_KSTACK_HI 72
#define CPU_KERNEL_TLS 80
#define CPU_KERNEL_G 96
