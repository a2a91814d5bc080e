# regs: every general register and xmm1-xmm15 set to a value, then 20,000
# system calls (getpid, clock_gettime) with a spin of 1,000 turns between
# them, through which timer interrupts and other threads come: the
# registers must come back as they were (but rax, rcx and r11 across
# SYSCALL, as Linux documents). Exits with 0, or with a number saying
# which register changed (10-20 the general ones, 30 an xmm register).
.include "sys.inc"

.bss
ts:	.skip 16

.text
.globl _start
_start:
	mov rbx, 0x1111111111111111
	mov rdx, 0x2222222222222222
	mov rsi, 0x3333333333333333
	mov rdi, 0x4444444444444444
	mov rbp, 0x5555555555555555
	mov r8, 0x6666666666666666
	mov r9, 0x7777777777777777
	mov r10, 0x8888888888888888
	mov r12, 0x9999999999999999
	mov r13, 0xaaaaaaaaaaaaaaaa
	mov r14, 0xbbbbbbbbbbbbbbbb
	mov rax, 0x0102030405060708
	movq xmm0, rax
	pshufd xmm0, xmm0, 0x44
	.irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	movdqa xmm\n, xmm0
	paddb xmm\n, xmm\n
	.endr
	mov r15, 10000			# rounds
1:	mov eax, SYS_getpid
	syscall
	push rdi
	push rsi
	mov eax, SYS_clock_gettime
	mov edi, 1
	lea rsi, [rip + ts]
	syscall
	pop rsi
	pop rdi
	mov ecx, 1000			# a spin, where the timer may land
2:	dec ecx
	jnz 2b
	dec r15
	jnz 1b
	mov rcx, 0x1111111111111111
	cmp rbx, rcx
	jne bad_rbx
	mov rcx, 0x2222222222222222
	cmp rdx, rcx
	jne bad_rdx
	mov rcx, 0x3333333333333333
	cmp rsi, rcx
	jne bad_rsi
	mov rcx, 0x4444444444444444
	cmp rdi, rcx
	jne bad_rdi
	mov rcx, 0x5555555555555555
	cmp rbp, rcx
	jne bad_rbp
	mov rcx, 0x6666666666666666
	cmp r8, rcx
	jne bad_r8
	mov rcx, 0x7777777777777777
	cmp r9, rcx
	jne bad_r9
	mov rcx, 0x8888888888888888
	cmp r10, rcx
	jne bad_r10
	mov rcx, 0x9999999999999999
	cmp r12, rcx
	jne bad_r12
	mov rcx, 0xaaaaaaaaaaaaaaaa
	cmp r13, rcx
	jne bad_r13
	mov rcx, 0xbbbbbbbbbbbbbbbb
	cmp r14, rcx
	jne bad_r14
	# xmm1..15 each hold the pattern doubled bytewise
	mov rax, 0x0102030405060708
	movq xmm0, rax
	pshufd xmm0, xmm0, 0x44
	paddb xmm0, xmm0
	.irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	pcmpeqb xmm\n, xmm0
	pmovmskb eax, xmm\n
	cmp eax, 0xffff
	jne bad_xmm
	.endr
	exit 0
bad_xmm: exit 30
bad_rbx: exit 10
bad_rdx: exit 11
bad_rsi: exit 12
bad_rdi: exit 13
bad_rbp: exit 14
bad_r8: exit 15
bad_r9: exit 16
bad_r10: exit 17
bad_r12: exit 18
bad_r13: exit 19
bad_r14: exit 20
