# smap: writes a word into a page of its own and asks the test kernel
# (0x4856007a, proc_testhooks.go) to read it without STAC, as a kernel bug
# would; exits with the answer: 1 when SMAP stopped the kernel's read, 0
# when the kernel read it (SMAP off, or a CPU without it).
.include "sys.inc"

.bss
page:	.skip 8

.text
.globl _start
_start:
	lea rbx, [rip + page]
	mov qword ptr [rbx], 0x1234
	mov eax, 0x4856007a
	mov rdi, rbx
	syscall
	exit eax
