# args: writes each argv string, then each environment string, a line
# each, from the stack the kernel built; checks the auxiliary vector's
# AT_PAGESZ (4096) and AT_RANDOM (16 bytes, not all zero); exits with argc
# (99: the auxiliary vector is wrong).
.include "sys.inc"

.section .rodata
nl:	.ascii "\n"

.text
.globl _start
_start:
	mov r12, [rsp]			# argc
	lea r13, [rsp + 8]		# argv
	xor r14, r14
1:	cmp r14, r12
	jae 2f
	mov rdi, [r13 + r14*8]
	call puts
	inc r14
	jmp 1b
2:	lea r15, [r13 + r12*8 + 8]	# envp
3:	mov rdi, [r15]
	add r15, 8
	test rdi, rdi
	jz 4f
	call puts
	jmp 3b
4:	xor ebx, ebx			# r15: auxv; bit 0: AT_PAGESZ right, bit 1: AT_RANDOM right
5:	mov rax, [r15]
	test rax, rax
	jz 8f
	cmp rax, 6			# AT_PAGESZ
	jne 6f
	cmp qword ptr [r15 + 8], 4096
	jne 7f
	or ebx, 1
	jmp 7f
6:	cmp rax, 25			# AT_RANDOM
	jne 7f
	mov rsi, [r15 + 8]
	mov rax, [rsi]
	or rax, [rsi + 8]
	jz 7f
	or ebx, 2
7:	add r15, 16
	jmp 5b
8:	cmp ebx, 3
	jne 9f
	exit r12d
9:	exit 99

# puts writes the string at rdi and a newline.
puts:
	mov rsi, rdi
	xor edx, edx
1:	cmp byte ptr [rsi + rdx], 0
	je 2f
	inc rdx
	jmp 1b
2:	mov eax, SYS_write
	mov edi, 1
	syscall
	print nl, 1
	ret
