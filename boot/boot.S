/* boot.S: the 32-bit multiboot stage of hurdvm.
 *
 * GRUB and QEMU's -kernel enter here in 32-bit protected mode with paging
 * off (multiboot 1). QEMU refuses 64-bit multiboot images, so this stage is
 * linked as x86-64 code with a .code32 prologue and converted to elf32-i386.
 *
 * It does the least the Go kernel cannot do for itself:
 *   1. identity-maps the first 4 GiB with 2 MiB pages (and aliases the same
 *      tables at the physmap base 0xffff800000000000);
 *   2. turns on PAE, long mode, NX (when the CPU has it), SSE and paging;
 *   3. copies the Go kernel's PT_LOAD segments (the ELF64 embedded below
 *      with .incbin) to their physical addresses and zeroes their bss;
 *   4. jumps to the kernel entry with
 *        rdi = multiboot magic, rsi = multiboot info (physical),
 *        rdx = physical end of this stage (everything below is in use).
 *
 * The kernel replaces these tables with its own and gives the frames back.
 */

#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00000007      /* page-align modules, memory info, video mode */

/* The video mode wanted (multiboot header fields mode_type, width, height,
 * depth): a linear framebuffer of any size ("auto"), which GRUB sets up
 * under UEFI, where there is no text mode. Under BIOS, grub.cfg sets
 * gfxpayload=text after the multiboot command, which GRUB honours: the
 * kernel then gets the EGA text buffer. QEMU's -kernel loader ignores the
 * request (it prints "multiboot knows VBE. we don't." on stderr) and
 * passes no framebuffer; the BIOS's text mode is left as it is. */
#define MB_MODE_LINEAR  0

#define CR0_PE          (1 << 0)
#define CR0_MP          (1 << 1)
#define CR0_EM          (1 << 2)
#define CR0_WP          (1 << 16)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define CR4_OSFXSR      (1 << 9)
#define CR4_OSXMMEXCPT  (1 << 10)
#define MSR_EFER        0xC0000080
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)

#define COM1            0x3f8

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
        .long 0, 0, 0, 0, 0             /* header_addr..entry_addr: unused (flag 16 clear, ELF) */
        .long MB_MODE_LINEAR
        .long 0, 0, 0                   /* width, height, depth: no preference */

        .section .text
        .code32
        .globl _start
_start:
        cli
        cld
        movl $boot_stack_top, %esp
        movl %eax, mb_magic
        movl %ebx, mb_info

        /* Long mode needs CPUID leaf 0x80000001 and its LM bit. */
        movl $0x80000000, %eax
        cpuid
        cmpl $0x80000001, %eax
        jb no_long_mode
        movl $0x80000001, %eax
        cpuid
        testl $(1 << 29), %edx
        jz no_long_mode
        movl %edx, ext_features

        /* PML4[0] and PML4[256] -> one PDPT; PDPT[0..3] -> four PDs of 2 MiB pages. */
        movl $pdpt, %eax
        orl $3, %eax
        movl %eax, pml4
        movl %eax, pml4 + 256*8
        movl $pd, %eax
        orl $3, %eax
        movl $pdpt, %edi
        movl $4, %ecx
1:      movl %eax, (%edi)
        addl $4096, %eax
        addl $8, %edi
        loop 1b
        movl $pd, %edi
        movl $0x83, %eax                /* present, writable, 2 MiB */
        xorl %edx, %edx                 /* high half of the address */
        movl $2048, %ecx
2:      movl %eax, (%edi)
        movl %edx, 4(%edi)
        addl $0x200000, %eax
        adcl $0, %edx
        addl $8, %edi
        loop 2b

        movl $pml4, %eax
        movl %eax, %cr3
        movl %cr4, %eax
        orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
        movl %eax, %cr4
        movl $MSR_EFER, %ecx
        rdmsr
        orl $EFER_LME, %eax
        testl $(1 << 20), ext_features  /* NX */
        jz 3f
        orl $EFER_NXE, %eax
3:      wrmsr
        movl %cr0, %eax
        andl $~CR0_EM, %eax
        orl $(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
        movl %eax, %cr0
        lgdt gdt_ptr
        ljmp $0x08, $long_mode

no_long_mode:
        movl $msg_no_lm, %esi
4:      lodsb
        testb %al, %al
        jz 5f
        movw $COM1, %dx
        outb %al, %dx
        jmp 4b
5:      hlt
        jmp 5b

        .code64
long_mode:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        xorw %ax, %ax
        movw %ax, %fs
        movw %ax, %gs
        fninit

        /* Load the Go ELF64: every PT_LOAD segment to its physical address. */
        leaq kernel_elf(%rip), %rbx
        movq 0x20(%rbx), %r8            /* e_phoff */
        addq %rbx, %r8
        movzwq 0x36(%rbx), %r9          /* e_phentsize */
        movzwq 0x38(%rbx), %r10         /* e_phnum */
6:      testq %r10, %r10
        jz 8f
        cmpl $1, (%r8)                  /* p_type == PT_LOAD */
        jne 7f
        movq 0x08(%r8), %rsi            /* p_offset */
        addq %rbx, %rsi
        movq 0x18(%r8), %rdi            /* p_paddr */
        movq 0x20(%r8), %rcx            /* p_filesz */
        movq 0x28(%r8), %rdx            /* p_memsz */
        subq %rcx, %rdx
        rep movsb
        movq %rdx, %rcx
        xorl %eax, %eax
        rep stosb
7:      addq %r9, %r8
        decq %r10
        jmp 6b

8:      movq 0x18(%rbx), %rax           /* e_entry */
        movl mb_magic, %edi
        movl mb_info, %esi
        movq $_boot_end, %rdx
        jmp *%rax

        .section .rodata
        .align 8
gdt:
        .quad 0
        .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
        .quad 0x00cf92000000ffff        /* 0x10: data */
gdt_ptr:
        .word gdt_ptr - gdt - 1
        .long gdt
msg_no_lm:
        .asciz "hurdvm: this CPU has no long mode (x86-64); cannot boot\r\n"

        .align 4096
kernel_elf:
        .incbin KERNEL_ELF

        .section .data
mb_magic:       .long 0
mb_info:        .long 0
ext_features:   .long 0

        .section .bss
        .align 4096
pml4:           .skip 4096
pdpt:           .skip 4096
pd:             .skip 4 * 4096
boot_stack:     .skip 16384
boot_stack_top:
