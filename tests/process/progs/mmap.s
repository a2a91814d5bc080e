# mmap: the memory calls, each a VMAllocate, VMDeallocate or Protect in
# the process's task. In order: 16 pages anywhere (4 touched), munmap of
# the upper 8, 1 page read-only at the hint 0x600000000000 (read), mprotect
# of the first page to read-only, brk grown by 3 pages and 100 bytes (4
# pages touched) and shrunk to one page, 2 pages MAP_FIXED into the hole
# the munmap left (touched). Writes the addresses it got (first, hint,
# break at start, break grown, break shrunk, fixed) on stdout, 8 bytes
# each, and exits with 0. With an argument, it then touches the unmapped
# page at first+12 pages, which must be SIGSEGV.
.include "sys.inc"

.bss
addrs:	.skip 8 * 6

.text
.globl _start
_start:
	lea r15, [rip + addrs]

	mov eax, SYS_mmap
	xor edi, edi
	mov esi, 16 * 4096
	mov edx, PROT_READ | PROT_WRITE
	mov r10d, MAP_PRIVATE | MAP_ANONYMOUS
	mov r8, -1
	xor r9d, r9d
	syscall
	mov [r15], rax
	mov rbx, rax			# first
	mov byte ptr [rbx], 1
	mov byte ptr [rbx + 4096], 2
	mov byte ptr [rbx + 2 * 4096], 3
	mov byte ptr [rbx + 7 * 4096], 4

	mov eax, SYS_munmap
	lea rdi, [rbx + 8 * 4096]
	mov esi, 8 * 4096
	syscall
	test rax, rax
	jnz fail

	mov eax, SYS_mmap
	mov rdi, 0x600000000000
	mov esi, 4096
	mov edx, PROT_READ
	mov r10d, MAP_PRIVATE | MAP_ANONYMOUS
	mov r8, -1
	xor r9d, r9d
	syscall
	mov [r15 + 8], rax
	cmp byte ptr [rax + 100], 0	# reads zero
	jne fail

	mov eax, SYS_mprotect
	mov rdi, rbx
	mov esi, 4096
	mov edx, PROT_READ
	syscall
	test rax, rax
	jnz fail

	mov eax, SYS_brk
	xor edi, edi
	syscall
	mov [r15 + 16], rax
	mov r12, rax			# the break at start
	mov eax, SYS_brk
	lea rdi, [r12 + 3 * 4096 + 100]
	syscall
	mov [r15 + 24], rax
	lea rcx, [r12 + 3 * 4096 + 100]
	cmp rax, rcx
	jne fail
	mov byte ptr [r12], 5
	mov byte ptr [r12 + 4096], 6
	mov byte ptr [r12 + 2 * 4096], 7
	mov byte ptr [r12 + 3 * 4096 + 99], 8
	mov eax, SYS_brk
	lea rdi, [r12 + 4096]
	syscall
	mov [r15 + 32], rax

	mov eax, SYS_mmap
	lea rdi, [rbx + 8 * 4096]
	mov esi, 2 * 4096
	mov edx, PROT_READ | PROT_WRITE
	mov r10d, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
	mov r8, -1
	xor r9d, r9d
	syscall
	mov [r15 + 40], rax
	mov byte ptr [rax], 9
	mov byte ptr [rax + 4096], 10
	cmp byte ptr [rbx + 4096], 2	# the pages kept kept their bytes
	jne fail

	print addrs, 48
	cmp qword ptr [rsp], 2
	jb 1f
	mov byte ptr [rbx + 12 * 4096], 11	# unmapped: SIGSEGV
1:	exit 0
fail:	exit 1
