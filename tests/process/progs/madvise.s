# madvise: madvise over the whole process window, as Linux's. Two pages
# from mmap anywhere (first fit: low in the window, below the old task
# window at 0x400000000000), the first written; then, each a step whose
# number is the exit status if it fails: 1 MADV_NORMAL of both pages is
# 0; 2 MADV_DONTNEED of the first is 0; 3 the first page reads zero
# again (a private anonymous page given back); 4 MADV_NORMAL of the
# program's own data page (at 0x400000 and up) is 0; 5 after munmap of
# the second page, MADV_NORMAL of it is ENOMEM; 6 so is one of both
# pages (a range with a hole); then its own image, which Linux maps from
# the program's file: 7 MADV_DONTNEED of its text page is 0, and the
# code there still runs (the next step is on that page); 8 MADV_FREE of
# its text page is EINVAL (Linux frees anonymous pages only). Exits 0
# (as on Linux).
.include "sys.inc"

.equ MADV_NORMAL, 0
.equ MADV_DONTNEED, 4
.equ MADV_FREE, 8
.equ ENOMEM, 12
.equ EINVAL, 22

.data
word:	.quad 1

.text
.globl _start
_start:
	mov eax, SYS_mmap
	xor edi, edi
	mov esi, 2 * 4096
	mov edx, PROT_READ | PROT_WRITE
	mov r10d, MAP_PRIVATE | MAP_ANONYMOUS
	mov r8, -1
	xor r9d, r9d
	syscall
	mov rbx, rax
	mov byte ptr [rbx + 100], 42

	mov eax, SYS_madvise
	mov rdi, rbx
	mov esi, 2 * 4096
	mov edx, MADV_NORMAL
	syscall
	test rax, rax
	jz 1f
	exit 1
1:
	mov eax, SYS_madvise
	mov rdi, rbx
	mov esi, 4096
	mov edx, MADV_DONTNEED
	syscall
	test rax, rax
	jz 1f
	exit 2
1:
	cmp byte ptr [rbx + 100], 0
	je 1f
	exit 3
1:
	mov eax, SYS_madvise
	lea rdi, [rip + word]
	and rdi, -4096
	mov esi, 4096
	mov edx, MADV_NORMAL
	syscall
	test rax, rax
	jz 1f
	exit 4
1:
	mov eax, SYS_munmap
	lea rdi, [rbx + 4096]
	mov esi, 4096
	syscall

	mov eax, SYS_madvise
	lea rdi, [rbx + 4096]
	mov esi, 4096
	mov edx, MADV_NORMAL
	syscall
	cmp rax, -ENOMEM
	je 1f
	exit 5
1:
	mov eax, SYS_madvise
	mov rdi, rbx
	mov esi, 2 * 4096
	mov edx, MADV_NORMAL
	syscall
	cmp rax, -ENOMEM
	je 1f
	exit 6
1:
	mov eax, SYS_madvise
	lea rdi, [rip + _start]
	and rdi, -4096
	mov esi, 4096
	mov edx, MADV_DONTNEED
	syscall
	test rax, rax
	jz 1f
	exit 7
1:
	mov eax, SYS_madvise
	lea rdi, [rip + _start]
	and rdi, -4096
	mov esi, 4096
	mov edx, MADV_FREE
	syscall
	cmp rax, -EINVAL
	je 1f
	exit 8
1:	exit 0
