# hello: writes "hello\n" on stdout and exits with status 42.
.include "sys.inc"

.section .rodata
msg:	.ascii "hello\n"
.equ msglen, . - msg

.text
.globl _start
_start:
	print msg, msglen
	cmp rax, msglen
	jne 1f
	exit 42
1:	exit 1
