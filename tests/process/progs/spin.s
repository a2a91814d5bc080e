# spin: maps a page at 0x500000000000 (MAP_FIXED), writes a word there,
# says "ready" and spins for ever without a system call: only the timer
# takes the CPU from it, and only a kill ends it.
.include "sys.inc"

.section .rodata
msg:	.ascii "ready\n"
.equ msglen, . - msg

.text
.globl _start
_start:
	mov eax, SYS_mmap
	mov rdi, 0x500000000000
	mov esi, 4096
	mov edx, PROT_READ | PROT_WRITE
	mov r10d, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
	mov r8, -1
	xor r9d, r9d
	syscall
	mov rbx, rax
	mov rax, 0x4e495053		# "SPIN"
	mov [rbx], rax
	print msg, msglen
1:	inc rax
	jmp 1b
