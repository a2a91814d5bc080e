# efault: system calls with pointers a process may not pass: the kernel's
# image, its heap window, the physmap, non-canonical addresses, ranges that
# wrap or leave the lower half, NULL, its own unmapped page, a PROT_NONE
# page (write(2) reads them: copy-in), its own read-only text, the kernel's
# image and the physmap for getrandom(2) and clock_gettime(2) (copy-out).
# Writes the 8-byte result of each call on stdout, in order, then the result
# of a clock_gettime(2) into its own memory (0), and exits with 0. Every
# other result must be -14 (EFAULT), and the kernel must go on.
.include "sys.inc"

.section .rodata
# (address, length) for write(1, address, length)
table:
	.quad 0xffffffff81001000, 8	# the kernel's image (its text)
	.quad 0xffffff4000000000, 8	# the heap window (the kernel's Go heap)
	.quad 0xffff800000000000, 8	# the physmap
	.quad 0x0000800000000000, 8	# non-canonical, just above the lower half
	.quad 0x8000000000000000, 8	# non-canonical
	.quad 0x7ffffffffff8, 16	# leaves the lower half
	.quad 0xfffffffffffffff8, 16	# wraps
	.quad 0, 8			# NULL
	.quad 0x8000, 8			# below its window (the first 64 KiB)
	.quad 0x500000000000, 8		# its own task window, unmapped
.equ entries, (. - table) / 16

.bss
results: .skip 8 * 32
ts:	.skip 16

.text
.globl _start
_start:
	lea r12, [rip + results]
	lea r13, [rip + table]
	mov r14, entries
1:	mov eax, SYS_write
	mov edi, 1
	mov rsi, [r13]
	mov rdx, [r13 + 8]
	syscall
	mov [r12], rax
	add r12, 8
	add r13, 16
	dec r14
	jnz 1b

	# a PROT_NONE page of its own
	mov eax, SYS_mmap
	xor edi, edi
	mov esi, 4096
	mov edx, PROT_NONE
	mov r10d, MAP_PRIVATE | MAP_ANONYMOUS
	mov r8, -1
	xor r9d, r9d
	syscall
	mov rsi, rax
	mov eax, SYS_write
	mov edi, 1
	mov edx, 8
	syscall
	mov [r12], rax
	add r12, 8

	# copy-out: its own text (read-only), the kernel's image, the physmap
	mov eax, SYS_getrandom
	lea rdi, [rip + _start]
	mov esi, 8
	xor edx, edx
	syscall
	mov [r12], rax
	add r12, 8
	mov eax, SYS_getrandom
	mov rdi, 0xffffffff81001000
	mov esi, 8
	xor edx, edx
	syscall
	mov [r12], rax
	add r12, 8
	mov eax, SYS_clock_gettime
	mov edi, 1
	mov rsi, 0xffff800000001000
	syscall
	mov [r12], rax
	add r12, 8
	mov eax, SYS_clock_gettime
	mov edi, 1
	mov rsi, 0x8000000000000000
	syscall
	mov [r12], rax
	add r12, 8

	# and one that is right
	mov eax, SYS_clock_gettime
	mov edi, 1
	lea rsi, [rip + ts]
	syscall
	mov [r12], rax
	add r12, 8

	mov eax, SYS_write
	mov edi, 1
	lea rsi, [rip + results]
	mov rdx, r12
	sub rdx, rsi
	syscall
	exit 0
