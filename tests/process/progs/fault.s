# fault MODE: does what ring 3 may not, or what faults anywhere; each must
# end the process alone, with the signal Linux sends. MODE's first letter:
#   u  ud2: SIGILL          d  divide by zero: SIGFPE
#   c  cli                  h  hlt
#   i  in from a port       m  rdmsr
#   s  swapgs               k  mov from cr3
#   b  int3: SIGTRAP (its gate is ring 3's)    g  int 0x20 (the timer's vector)
#   n  jump to a non-canonical address
#   t  ret into the kernel's text at 0xffffffff81001000
# (all but u, d and b: SIGSEGV). MODE e: a call of the kernel's own program
# (0x48560070, a new process), which a process must get ENOSYS for: exit 0
# if it did.
.include "sys.inc"

.text
.globl _start
_start:
	cmp qword ptr [rsp], 2
	jae 1f
	exit 2
1:	mov rax, [rsp + 16]
	movzx eax, byte ptr [rax]
	cmp eax, 0x75			# u
	je m_u
	cmp eax, 0x64			# d
	je m_d
	cmp eax, 0x63			# c
	je m_c
	cmp eax, 0x68			# h
	je m_h
	cmp eax, 0x69			# i
	je m_i
	cmp eax, 0x6d			# m
	je m_m
	cmp eax, 0x73			# s
	je m_s
	cmp eax, 0x6b			# k
	je m_k
	cmp eax, 0x62			# b
	je m_b
	cmp eax, 0x67			# g
	je m_g
	cmp eax, 0x6e			# n
	je m_n
	cmp eax, 0x74			# t
	je m_t
	cmp eax, 0x65			# e
	je m_e
	exit 3
m_u:	ud2
m_d:	xor edx, edx
	xor eax, eax
	xor ecx, ecx
	div ecx
	jmp survived
m_c:	cli
	jmp survived
m_h:	hlt
	jmp survived
m_i:	in al, 0x60
	jmp survived
m_m:	xor ecx, ecx
	rdmsr
	jmp survived
m_s:	swapgs
	jmp survived
m_k:	mov rax, cr3
	jmp survived
m_b:	int3
	jmp survived
m_g:	int 0x20
	jmp survived
m_n:	mov rax, 0x0000800000000000
	jmp rax
m_t:	mov rax, 0xffffffff81001000
	push rax
	ret
m_e:	mov eax, 0x48560070
	xor edi, edi
	syscall
	cmp rax, -38			# ENOSYS
	jne survived
	exit 0
survived:
	exit 1
