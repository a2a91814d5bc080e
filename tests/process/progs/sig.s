# sig MODE: signals and futexes of a process against the kernel's checks.
#   o  a SIGUSR1 handler runs and returns (rt_sigreturn): exit 0
#   r  the handler points the context's RIP into the upper half: its
#      rt_sigreturn is refused, SIGSEGV (no handler for it)
#   c  the handler gives the context the kernel's code selector: SIGSEGV
#   h  the SIGUSR1 handler itself is in the upper half: SIGSEGV
#   t  tgkill and kill of the kernel's program (pid 1, tid 1) and of a
#      thread not its own: ESRCH each (exit 0; 10+n: call n answered else)
#   f  futex_wait on its word for 1 s: ETIMEDOUT (exit 0), woken (exit 1),
#      another answer (exit 5)
#   w  futex_wake on the same address, over and over for 2 s: exit 0
#   d  descriptors 3 to 9, the kernel program's netpoller's among them in
#      the kernel's table, are none of the process's: read and close are
#      EBADF (exit 0; 20+fd: a call answered else)
.include "sys.inc"

.equ SYS_rt_sigaction, 13
.equ SYS_rt_sigreturn, 15
.equ SYS_kill, 62
.equ SYS_gettid, 186
.equ SYS_futex, 202
.equ SYS_tgkill, 234
.equ SIGUSR1, 10
.equ SA_SIGINFO, 4
.equ SA_RESTORER, 0x04000000
.equ UC_RIP, 40 + 128		# uc_mcontext.rip in the ucontext
.equ UC_CS, 40 + 144		# uc_mcontext.cs
.equ ESRCH, 3
.equ EBADF, 9
.equ SYS_read, 0
.equ SYS_close, 3
.equ ETIMEDOUT, 110

.data
.balign 8
act:	.quad 0, SA_SIGINFO | SA_RESTORER, 0, 0
hit:	.quad 0
futexw:	.long 0
	.long 0
second:	.quad 1, 0		# futex_wait's timeout
	.quad 0

.bss
ts:	.skip 16

.text
.globl _start
_start:
	cmp qword ptr [rsp], 2
	jae 1f
	exit 2
1:	mov rax, [rsp + 16]
	movzx r12d, byte ptr [rax]	# the mode
	cmp r12d, 0x74			# 't'
	je tkill
	cmp r12d, 0x66			# 'f'
	je fwait
	cmp r12d, 0x77			# 'w'
	je fwake
	cmp r12d, 0x64			# 'd'
	je fds
	lea rax, [rip + handler]
	cmp r12d, 0x68			# 'h'
	jne 2f
	mov rax, 0xffff800000001000
2:	mov [rip + act], rax
	lea rax, [rip + restorer]
	mov [rip + act + 16], rax
	mov eax, SYS_rt_sigaction
	mov edi, SIGUSR1
	lea rsi, [rip + act]
	xor edx, edx
	mov r10d, 8
	syscall
	test rax, rax
	jz 3f
	exit 3
3:	mov eax, SYS_getpid
	syscall
	mov r13, rax
	mov eax, SYS_gettid
	syscall
	mov rsi, rax
	mov rdi, r13
	mov edx, SIGUSR1
	mov eax, SYS_tgkill
	syscall				# the handler runs on the way back
	cmp qword ptr [rip + hit], 1
	je 4f
	exit 4
4:	exit 0

handler:
	mov qword ptr [rip + hit], 1
	cmp r12d, 0x72			# 'r'
	jne 5f
	mov rax, 0xffff800000001000
	mov [rdx + UC_RIP], rax
5:	cmp r12d, 0x63			# 'c'
	jne 6f
	mov word ptr [rdx + UC_CS], 0x08
6:	ret

restorer:
	mov eax, SYS_rt_sigreturn
	syscall
	ud2

# ESRCH from each of: tgkill(1, 1, SIGKILL), kill(1, SIGKILL),
# tgkill(getpid, 1, SIGKILL).
tkill:	mov eax, SYS_tgkill
	mov edi, 1
	mov esi, 1
	mov edx, 9
	syscall
	cmp rax, -ESRCH
	je 1f
	exit 11
1:	mov eax, SYS_kill
	mov edi, 1
	mov esi, 9
	syscall
	cmp rax, -ESRCH
	je 2f
	exit 12
2:	mov eax, SYS_getpid
	syscall
	mov edi, eax
	mov esi, 1
	mov edx, 9
	mov eax, SYS_tgkill
	syscall
	cmp rax, -ESRCH
	je 3f
	exit 13
3:	exit 0

fwait:	mov eax, SYS_futex
	lea rdi, [rip + futexw]
	xor esi, esi			# FUTEX_WAIT, shared: keyed by the program all the same
	xor edx, edx
	lea r10, [rip + second]
	syscall
	cmp rax, -ETIMEDOUT
	je 2f
	test rax, rax
	jnz 1f
	exit 1				# woken
1:	exit 5
2:	exit 0

fwake:	mov eax, SYS_clock_gettime
	mov edi, 1			# CLOCK_MONOTONIC
	lea rsi, [rip + ts]
	syscall
	mov r13, [rip + ts]
	add r13, 3			# 2 to 3 s from now
1:	mov eax, SYS_futex
	lea rdi, [rip + futexw]
	mov esi, 1			# FUTEX_WAKE
	mov edx, 100
	syscall
	mov eax, SYS_clock_gettime
	mov edi, 1
	lea rsi, [rip + ts]
	syscall
	cmp [rip + ts], r13
	jb 1b
	exit 0

fds:	mov r13d, 3
1:	mov eax, SYS_read
	mov edi, r13d
	lea rsi, [rip + ts]
	mov edx, 8
	syscall
	cmp rax, -EBADF
	jne 2f
	mov eax, SYS_close
	mov edi, r13d
	syscall
	cmp rax, -EBADF
	jne 2f
	inc r13d
	cmp r13d, 10
	jb 1b
	exit 0
2:	add r13d, 20
	exit r13d
