/* boot.S: the 32-bit multiboot stage of hurdvm.
 *
 * GRUB and QEMU's -kernel enter here in 32-bit protected mode with paging
 * off. The image carries two headers: multiboot 1's, for QEMU's -kernel
 * (which knows no other), and multiboot2's, for GRUB's multiboot2 command
 * (the USB image's grub.cfg): under UEFI only multiboot2's information
 * carries the ACPI RSDP (there is no BIOS area to scan for it). The entry
 * takes either loader's magic; the information it reads here (the memory
 * map, the screen) is found by the version the magic says. QEMU refuses
 * 64-bit multiboot images, so this stage is
 * linked as x86-64 code with a .code32 prologue and converted to elf32-i386.
 *
 * It does the least the Go kernel cannot do for itself:
 *   1. identity-maps the first 4 GiB with 2 MiB pages, aliases the same
 *      tables at the physmap base 0xffff800000000000, and maps the first
 *      2 GiB again in the top 2 GiB, at 0xffffffff80000000, where the Go
 *      kernel is linked (KERNEL_VIRT_OFFSET: virtual = physical + it);
 *   2. turns on PAE, long mode, NX (when the CPU has it), SSE and paging;
 *   3. checks, by the loader's memory map, that the RAM the kernel needs
 *      from 16 MiB on is there; if not, says so on COM1 and the screen and
 *      stops (exit status 1 through QEMU's isa-debug-exit);
 *   4. copies the Go kernel's PT_LOAD segments (the ELF64 embedded below
 *      with .incbin) to their virtual addresses, through that top map (so
 *      into RAM from 16 MiB on), and zeroes their bss, except the lazy BSS
 *      ranges: large arrays the kernel backs on first touch, which
 *      therefore need no RAM here;
 *   5. jumps to the kernel entry (a virtual address in the top 2 GiB) with
 *        rdi = multiboot magic (either version's), rsi = multiboot info (physical),
 *        rdx = physical end of this stage (everything below is in use),
 *        rcx = the lazy BSS table ([start, end) pairs), r8 = its length.
 *
 * qemu.BuildImage assembles this file with what it read in the kernel's
 * ELF: KERNEL_NEED_LO..KERNEL_NEED_HI is the RAM the kernel needs (its
 * image up to the last backed page, then its first page tables),
 * KERNEL_MIN_MIB the machine size to advise when it is missing, LAZY_BSS
 * the lazy ranges (qemu/bss.go says which arrays are lazy and why).
 *
 * The kernel replaces these tables with its own and gives the frames back.
 */

#if !defined(KERNEL_NEED_LO) || !defined(KERNEL_NEED_HI) || !defined(KERNEL_MIN_MIB) || !defined(TOP_PML4_SLOT) || !defined(TOP_PDPT_SLOT)
#error "boot.S is assembled by qemu.BuildImage, which defines KERNEL_NEED_LO, KERNEL_NEED_HI, KERNEL_MIN_MIB, TOP_PML4_SLOT and TOP_PDPT_SLOT"
#endif

/* The top map: PML4 slot TOP_PML4_SLOT's PDPT, entries TOP_PDPT_SLOT and
 * the next (511 and 510: the top 2 GiB, KERNEL_VIRT_OFFSET's slots, which
 * qemu.BuildImage computes) onto the first two of the four PDs, physical
 * 0 to 2 GiB. */

#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00000007      /* page-align modules, memory info, video mode */

/* Multiboot2 (The Multiboot2 Specification 2.0, section 3.1): the header
 * magic, the architecture (0: 32-bit protected mode i386), header tags. */
#define MB2_MAGIC       0xE85250D6
#define MB2_ARCH_I386   0
#define MB2_HTAG_END    0
#define MB2_HTAG_ENTRY  3               /* entry address */
#define MB2_HTAG_FB     5               /* framebuffer: the video mode wanted */
#define MB2_HTAG_MODALIGN 6             /* page-align modules */
#define MB2_HTAG_OPTIONAL 1             /* tag flag: the loader may ignore it */

/* What each loader leaves in EAX. */
#define MB1_BOOT_MAGIC  0x2BADB002
#define MB2_BOOT_MAGIC  0x36D76289

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
#define COM1_LSR        (COM1 + 5)      /* line status register */
#define LSR_THRE        0x20            /* transmit holding register empty */
#define DEBUG_EXIT_PORT 0xf4            /* QEMU's isa-debug-exit (iosize 4) */

/* Multiboot information: flags and the fields read here. */
#define MBI_FLAG_MEM    (1 << 0)        /* mem_lower, mem_upper (KiB) */
#define MBI_FLAG_MMAP   (1 << 6)        /* mmap_length, mmap_addr */
#define MBI_FLAG_FB     (1 << 12)       /* framebuffer_* */
#define MBI_MEM_UPPER   8
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR   48
#define MBI_FB_ADDR     88
#define MBI_FB_TYPE     109
#define MB_FB_EGA_TEXT  2
#define MMAP_USABLE     1

/* Multiboot2 information: tags after an 8-byte head, 8-byte aligned. */
#define MB2_TAG_MEMINFO 4               /* mem_lower, mem_upper at 8, 12 */
#define MB2_TAG_MMAP    6               /* entry_size at 8, entries from 16 */
#define MB2_TAG_FB      8               /* framebuffer_addr at 8, type at 29 */
#define MB2_MMAP_ENTRY  24              /* base, length, type, reserved */

#define VGA_TEXT        0xb8000         /* the BIOS's text screen, 80x25 */
#define VGA_CELLS       (80 * 25)
#define VGA_ATTR        0x0f00          /* white on black */

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
        .long 0, 0, 0, 0, 0             /* header_addr..entry_addr: unused (flag 16 clear, ELF) */
        .long MB_MODE_LINEAR
        .long 0, 0, 0                   /* width, height, depth: no preference */

/* The multiboot2 header, 8-byte aligned within the first 32 KiB, asking for
 * what the multiboot 1 header does. The image is an ELF, which GRUB loads
 * by its program headers either way: no address tag. Each tag starts
 * 8-byte aligned. */
        .align 8
mb2_header:
        .long MB2_MAGIC
        .long MB2_ARCH_I386
        .long mb2_header_end - mb2_header
        .long 0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
        .align 8
        .short MB2_HTAG_ENTRY, 0        /* the entry: _start, as the ELF says too */
        .long 12
        .long _start
        /* A linear framebuffer of any size, as MB_MODE_LINEAR asks: GRUB
         * sets one up under UEFI and, with gfxpayload=text, describes a
         * BIOS's text mode instead (an EGA text framebuffer tag). */
        .align 8
        .short MB2_HTAG_FB, MB2_HTAG_OPTIONAL
        .long 20
        .long 0, 0, 0                   /* width, height, depth: no preference */
        .align 8
        .short MB2_HTAG_MODALIGN, 0     /* modules page-aligned (MB_FLAGS bit 0) */
        .long 8
        .align 8
        .short MB2_HTAG_END, 0
        .long 8
mb2_header_end:

        .section .text
        .code32
        .globl _start
_start:
        cli
        cld
        movl $boot_stack_top, %esp
        movl %eax, mb_magic             /* 0x2BADB002 or 0x36D76289: the kernel */
        movl %ebx, mb_info              /* tells them apart, and refuses others */

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

        /* PML4[0] and PML4[256] -> one PDPT; PDPT[0..3] -> four PDs of 2 MiB
         * pages. PML4[511] -> the top PDPT, whose last two entries are the
         * first two PDs. */
        movl $pdpt, %eax
        orl $3, %eax
        movl %eax, pml4
        movl %eax, pml4 + 256*8
        movl $pdpt_top, %eax
        orl $3, %eax
        movl %eax, pml4 + TOP_PML4_SLOT*8
        movl $pd, %eax
        orl $3, %eax
        movl %eax, pdpt_top + TOP_PDPT_SLOT*8
        addl $4096, %eax
        movl %eax, pdpt_top + TOP_PDPT_SLOT*8 + 8
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
        movq $boot_stack_top, %rsp

        /* Is the RAM there? Copying into missing RAM loses the kernel
         * silently: check first (check_memory does not return if not). */
        call check_memory

        /* Load the Go ELF64: every PT_LOAD segment to its virtual address
         * (the top map puts it at virtual - KERNEL_VIRT_OFFSET in RAM). */
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
        movq 0x10(%r8), %rdi            /* p_vaddr */
        movq 0x20(%r8), %rcx            /* p_filesz */
        movq 0x28(%r8), %rdx            /* p_memsz */
        addq %rdi, %rdx                 /* rdx = the segment's end in memory */
        rep movsb                       /* the file's bytes; rdi = where the bss starts */
        call zero_bss                   /* the rest, lazy ranges excepted */
7:      addq %r9, %r8
        decq %r10
        jmp 6b

8:      movq 0x18(%rbx), %rax           /* e_entry */
        movl mb_magic, %edi
        movl mb_info, %esi
        movq $_boot_end, %rdx
        leaq lazy_bss(%rip), %rcx
        movq lazy_bss_count(%rip), %r8
        jmp *%rax

/* zero_bss zeroes [rdi, rdx) but for the lazy BSS ranges inside it: their
 * pages are never written here, so they need no RAM (the kernel maps them
 * on first touch). The table is sorted, so one pass skips each range. */
zero_bss:
        leaq lazy_bss(%rip), %rsi
1:      leaq lazy_bss_end(%rip), %rax
        cmpq %rax, %rsi
        jae 3f                          /* no more lazy ranges */
        movq (%rsi), %r11               /* r11 = a lazy range's start */
        movq 8(%rsi), %r12              /* r12 = its end */
        addq $16, %rsi
        cmpq %rdi, %r12
        jbe 1b                          /* it ends before rdi: not in the way */
        cmpq %rdx, %r11
        jae 3f                          /* it starts past rdx, and so do the rest */
        movq %r11, %rcx                 /* zero up to the range's start ... */
        subq %rdi, %rcx
        jbe 2f
        xorl %eax, %eax
        rep stosb
2:      movq %r12, %rdi                 /* ... and resume after its end */
        cmpq %rdx, %rdi
        jb 1b
        ret
3:      movq %rdx, %rcx                 /* zero what is left up to rdx */
        subq %rdi, %rcx
        jbe 4f
        xorl %eax, %eax
        rep stosb
4:      ret

/* check_memory returns if [KERNEL_NEED_LO, KERNEL_NEED_HI) is usable RAM
 * by the loader's memory map (or, without one, by mem_upper; without
 * either there is nothing to check). A byte is usable only if a usable
 * entry covers it and no other entry does, as the kernel reads the map
 * (kernel/memmap). Otherwise it reports what is missing and stops. */
check_memory:
        call memory_info
        testq %rsi, %rsi
        jnz 1f
        cmpq $-1, %rax
        je 9f                           /* no memory information at all */
        shlq $10, %rax                  /* usable RAM is [1 MiB, 1 MiB + mem_upper KiB) */
        addq $0x100000, %rax
        movq %rax, ram_top
        movq %rax, first_missing
        movq $KERNEL_NEED_HI, %rdx
        cmpq %rdx, %rax
        jb memory_missing
        ret

1:      movq $KERNEL_NEED_LO, %r8       /* r8 = the first byte not yet seen usable */
        xorl %r9d, %r9d                 /* r9 = the end of the highest usable entry */
        movq $KERNEL_NEED_HI, %r10      /* r10 = the first needed byte another kind covers */
        movq $KERNEL_NEED_LO, %r13
        movq $KERNEL_NEED_HI, %r14
        /* Passes over the entries: each pass moves r8 past the usable
         * entries that cover it, until r8 reaches the end of what is
         * needed or a pass finds none (entries need not be sorted). */
2:      xorl %r11d, %r11d               /* r11 = this pass moved r8 */
        movq %rsi, %rcx                 /* rcx = the entry (its base field) */
3:      cmpq %rdi, %rcx
        jae 6f
        movq (%rcx), %rax               /* rax = base */
        movq 8(%rcx), %rdx              /* rdx = end = base + length ... */
        addq %rax, %rdx
        jnc 4f
        movq $-1, %rdx                  /* ... or the top, when that wraps */
4:      cmpl $MMAP_USABLE, 16(%rcx)     /* the type */
        jne 5f
        cmpq %rdx, %r9                  /* usable: the highest end so far? */
        cmovbq %rdx, %r9
        cmpq %r8, %rax                  /* does it cover r8? */
        ja 55f
        cmpq %r8, %rdx
        jbe 55f
        movq %rdx, %r8                  /* yes: usable up to its end */
        movl $1, %r11d
        jmp 55f
5:      cmpq %r14, %rax                 /* another kind: inside what is needed? */
        jae 55f
        cmpq %r13, %rdx
        jbe 55f
        cmpq %r13, %rax                 /* then the needed RAM is missing from */
        cmovbq %r13, %rax               /* max(base, KERNEL_NEED_LO) on */
        cmpq %r10, %rax
        cmovbq %rax, %r10
55:     testq %r15, %r15                /* the next entry: multiboot2's are r15 apart, */
        jz 56f
        addq %r15, %rcx
        jmp 3b
56:     movl -4(%rcx), %eax             /* multiboot 1's size precedes each, not */
        leaq 4(%rcx,%rax), %rcx         /* counting itself */
        jmp 3b
6:      cmpq %r14, %r8
        jae 7f                          /* all of it seen usable */
        testl %r11d, %r11d
        jnz 2b                          /* progress: another pass */
7:      cmpq %r10, %r8                  /* the first needed byte that is not usable */
        cmovaq %r10, %r8
        movq %r9, ram_top
        movq %r8, first_missing
        cmpq %r14, %r8
        jb memory_missing
9:      ret

/* memory_info finds the loader's memory information, by the version the
 * magic says. With a memory map: rsi = its first entry's base field (base,
 * length and type follow at 0, 8, 16), rdi = the end of the entries, counted
 * the same way, r15 = the distance between entries (multiboot2's
 * entry_size), or 0 for multiboot 1's, where each entry's size precedes
 * it. Without a map: rsi = 0 and rax = mem_upper (KiB), or -1 when there is
 * no memory information either. */
memory_info:
        xorl %esi, %esi
        movl mb_info, %ebx
        cmpl $MB1_BOOT_MAGIC, mb_magic
        jne 2f
        movl (%rbx), %eax               /* multiboot 1: the flags */
        testl $MBI_FLAG_MMAP, %eax
        jz 1f
        movl MBI_MMAP_ADDR(%rbx), %esi
        movl MBI_MMAP_LENGTH(%rbx), %edi
        addq %rsi, %rdi
        addq $4, %rsi                   /* the base field, after the size */
        addq $4, %rdi
        xorl %r15d, %r15d
        ret
1:      testl $MBI_FLAG_MEM, %eax
        jz 4f
        movl MBI_MEM_UPPER(%rbx), %eax
        ret
2:      cmpl $MB2_BOOT_MAGIC, mb_magic
        jne 4f
        movl $MB2_TAG_MMAP, %edi
        call mb2_find_tag
        testq %rax, %rax
        jz 3f
        movl 8(%rax), %r15d             /* entry_size */
        cmpl $MB2_MMAP_ENTRY, %r15d
        jb 3f                           /* too small to be an entry: no map */
        movl 4(%rax), %edi              /* the tag's size */
        addq %rax, %rdi
        subq $(MB2_MMAP_ENTRY - 1), %rdi /* an entry starts below: it ends inside */
        leaq 16(%rax), %rsi
        ret
3:      xorl %esi, %esi
        movl $MB2_TAG_MEMINFO, %edi
        call mb2_find_tag
        testq %rax, %rax
        jz 4f
        movl 12(%rax), %eax             /* mem_upper */
        ret
4:      movq $-1, %rax
        ret

/* mb2_find_tag returns in rax the first tag of type edi in the multiboot2
 * information, or 0. It stops at the end tag, at total_size, and at a tag
 * whose size is below its header. Clobbers rcx, rdx. */
mb2_find_tag:
        movl mb_info, %eax
        movl (%rax), %edx               /* total_size */
        addq %rax, %rdx                 /* rdx = the end */
        addq $8, %rax                   /* the first tag */
1:      leaq 8(%rax), %rcx
        cmpq %rdx, %rcx
        ja 3f                           /* no room for a tag's header */
        movl (%rax), %ecx               /* type */
        testl %ecx, %ecx
        jz 3f                           /* the end tag */
        cmpl %edi, %ecx
        je 2f
        movl 4(%rax), %ecx              /* size */
        cmpl $8, %ecx
        jb 3f
        addq $7, %rcx                   /* tags start 8-byte aligned */
        andq $~7, %rcx
        addq %rcx, %rax
        jmp 1b
2:      ret
3:      xorl %eax, %eax
        ret

/* memory_missing tells what the kernel needs and what the machine has,
 * then stops: exit status 1 for QEMU's runner, a halt on a PC. */
memory_missing:
        call screen_init
        leaq msg_need(%rip), %rsi
        call puts
        movq $KERNEL_NEED_LO, %rax
        shrq $20, %rax
        call putdec
        leaq msg_to(%rip), %rsi
        call puts
        movq $KERNEL_NEED_HI, %rax
        addq $0xfffff, %rax             /* rounded up to a whole MiB */
        shrq $20, %rax
        call putdec
        leaq msg_what(%rip), %rsi
        call puts
        movq ram_top, %rax
        movq $KERNEL_NEED_HI, %rdx
        cmpq %rdx, %rax
        jae 1f
        /* The RAM ends too low: the machine is too small. */
        leaq msg_top(%rip), %rsi
        call puts
        movq ram_top, %rax
        shrq $20, %rax
        call putdec
        leaq msg_give(%rip), %rsi
        call puts
        movq $KERNEL_MIN_MIB, %rax
        call putdec
        leaq msg_mib(%rip), %rsi
        call puts
        jmp 2f
        /* There is RAM above, but not at the kernel's fixed place. */
1:      leaq msg_hole(%rip), %rsi
        call puts
        movq first_missing, %rax
        shrq $20, %rax
        call putdec
        leaq msg_hole2(%rip), %rsi
        call puts
2:      leaq msg_exit(%rip), %rsi
        call puts
        movw $DEBUG_EXIT_PORT, %dx      /* QEMU exits here, with status 1*2+1 */
        movl $1, %eax
        outl %eax, %dx
        leaq msg_stop(%rip), %rsi       /* a PC goes on: say so and halt */
        call puts
3:      cli
        hlt
        jmp 3b

/* screen_init picks the text screen to write to, as the kernel does: the
 * loader's EGA text buffer, the BIOS's when the loader describes no screen
 * (QEMU's -kernel), none under a graphics framebuffer (UEFI); and clears it. */
screen_init:
        movq $VGA_TEXT, %r8             /* r8 = the screen */
        cmpl $MB2_BOOT_MAGIC, mb_magic
        je 2f
        movl mb_info, %ebx              /* multiboot 1 */
        testl $MBI_FLAG_FB, (%rbx)
        jz 4f
        movq MBI_FB_ADDR(%rbx), %r8
        cmpb $MB_FB_EGA_TEXT, MBI_FB_TYPE(%rbx)
        je 4f
        jmp 3f
2:      movl $MB2_TAG_FB, %edi          /* multiboot2 */
        call mb2_find_tag
        testq %rax, %rax
        jz 4f
        movq 8(%rax), %r8
        cmpb $MB_FB_EGA_TEXT, 29(%rax)
        je 4f
3:      xorl %r8d, %r8d                 /* graphics: serial only */
4:      movq %r8, screen
        testq %r8, %r8
        jz 5f
        movq %r8, %rdi
        movl $VGA_CELLS, %ecx
        movw $(VGA_ATTR | 0x20), %ax  /* blank cells */
        rep stosw
5:      ret

/* puts writes the NUL-terminated string at rsi. */
puts:
        lodsb
        testb %al, %al
        jz 1f
        call putc
        jmp puts
1:      ret

/* putdec writes rax in decimal. */
putdec:
        leaq decbuf_end(%rip), %rsi
        movb $0, (%rsi)
        movl $10, %ecx
1:      xorl %edx, %edx
        divq %rcx                       /* rax = rax / 10, rdx = the digit */
        addb $0x30, %dl                 /* ASCII '0' + the digit */
        decq %rsi
        movb %dl, (%rsi)
        testq %rax, %rax
        jnz 1b
        jmp puts

/* putc writes al to COM1 (waiting, a bounded while, for the transmitter:
 * a missing UART reads 0xff and never holds it up) and to the screen. */
putc:
        movb %al, %r8b
        movw $COM1_LSR, %dx
        movl $100000, %ecx
1:      inb %dx, %al
        testb $LSR_THRE, %al
        jnz 2f
        loop 1b
2:      movw $COM1, %dx
        movb %r8b, %al
        outb %al, %dx
        movq screen, %rdi
        testq %rdi, %rdi
        jz 5f
        movq screen_pos, %rcx
        cmpb $0x0d, %r8b                /* carriage return: nothing on screen */
        je 5f
        cmpb $0x0a, %r8b                /* newline */
        jne 3f
        movq %rcx, %rax                 /* newline: the next line's first cell */
        xorl %edx, %edx
        movl $80, %r9d
        divq %r9
        incq %rax
        imulq $80, %rax
        movq %rax, screen_pos
        ret
3:      cmpq $VGA_CELLS, %rcx
        jae 5f                          /* the screen is full */
        movzbw %r8b, %ax
        orw $VGA_ATTR, %ax
        movw %ax, (%rdi,%rcx,2)
        incq screen_pos
5:      ret

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
msg_need:
        .asciz "\r\nhurdvm: the kernel needs RAM from "
msg_to:
        .asciz " MiB to "
msg_what:
        .asciz " MiB (its image and first page tables); "
msg_top:
        .asciz "this machine's memory map has usable RAM only up to "
msg_give:
        .asciz " MiB: give it at least "
msg_mib:
        .asciz " MiB\r\n"
msg_hole:
        .asciz "this machine's memory map has no usable RAM at "
msg_hole2:
        .asciz " MiB (reserved, or a hole): hurdvm cannot load on this machine\r\n"
msg_exit:
        .asciz "hurdvm: exit status 1\r\n"
msg_stop:
        .asciz "hurdvm: stopped; power off or reset the machine.\r\n"

/* The kernel's lazy BSS ranges, [start, end) pairs sorted by address
 * (qemu.BuildImage's LAZY_BSS): nobody zeroes or backs them at boot. */
        .align 8
lazy_bss:
#ifdef LAZY_BSS
        .quad LAZY_BSS
#endif
lazy_bss_end:
lazy_bss_count:
        .quad (lazy_bss_end - lazy_bss) / 16

        .align 4096
kernel_elf:
        .incbin KERNEL_ELF

        .section .data
mb_magic:       .long 0
mb_info:        .long 0
ext_features:   .long 0
        .align 8
ram_top:        .quad 0                 /* check_memory: end of the highest usable RAM */
first_missing:  .quad 0                 /* check_memory: first needed byte not usable */
screen:         .quad 0                 /* the text screen (0: none) */
screen_pos:     .quad 0                 /* its next cell */
decbuf:         .skip 24                /* putdec's digits, written backwards */
decbuf_end:     .byte 0

        .section .bss
        .align 4096
pml4:           .skip 4096
pdpt:           .skip 4096
pdpt_top:       .skip 4096
pd:             .skip 4 * 4096
boot_stack:     .skip 16384
boot_stack_top:
