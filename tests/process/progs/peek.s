# peek MODE ADDRESS: touches ADDRESS (hexadecimal, no 0x) and, if it
# survives, writes the 8 bytes it read there on stdout and exits with 0.
# MODE r reads a word, w writes one (0x42), x calls the address. A process
# may only touch its own memory: everything else is SIGSEGV.
.include "sys.inc"

.bss
got:	.skip 8

.text
.globl _start
_start:
	cmp qword ptr [rsp], 3
	jae 1f
	exit 2
1:	mov rax, [rsp + 16]
	movzx r12d, byte ptr [rax]	# the mode
	mov rsi, [rsp + 24]
	xor ebx, ebx			# the address
2:	movzx eax, byte ptr [rsi]
	test eax, eax
	jz 5f
	cmp eax, 0x61			# 'a'
	jae 3f
	sub eax, 0x30			# '0'
	jmp 4f
3:	sub eax, 0x61 - 10
4:	shl rbx, 4
	or rbx, rax
	inc rsi
	jmp 2b
5:	cmp r12d, 0x72			# 'r'
	je read
	cmp r12d, 0x77			# 'w'
	je write
	cmp r12d, 0x78			# 'x'
	je call
	exit 3
read:	mov rax, [rbx]
	mov [rip + got], rax
	jmp done
write:	mov qword ptr [rbx], 0x42
	jmp done
call:	call rbx
done:	print got, 8
	exit 0
