/* The AP trampoline: where a CPU the boot CPU wakes with INIT-SIPI-SIPI
 * starts, in real mode at TRAMPOLINE (the SIPI vector's page), and goes
 * to long mode on the kernel's page tables and to the kernel's apEntry.
 *
 * The kernel copies these bytes to TRAMPOLINE (a page of conventional
 * memory it never gives to the frame allocator), maps that page at its
 * own address while CPUs start (the jump into long mode runs from it),
 * and fills the parameter block at the end before each start: the boot
 * CPU's CR0, CR4 and CR3 (its page tables, below 4 GiB), the CPU's record,
 * its kernel stacks, and apEntry's address. The kernel's Go assembly
 * holds these bytes (kernel/trampoline_amd64.s, made by
 * `go run ./cmd/mktrampoline`, which a host test keeps in step).
 */

#define TRAMPOLINE      0x8000
#define MSR_EFER        0xc0000080
#define EFER_SCE        (1 << 0)
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)
#define CR0_PE          (1 << 0)
#define CR0_PG          (1 << 31)
#define KSTACK_SLOT     65536
#define ABS(x)          (TRAMPOLINE + (x) - start16)

        .text
        .code16
        .globl start16
start16:
        cli
        cld
        movw %cs, %ax                   /* CS = TRAMPOLINE >> 4 */
        movw %ax, %ds
        lgdtl gdt_ptr - start16
        movl %cr0, %eax
        orl $CR0_PE, %eax
        movl %eax, %cr0
        ljmpl $0x08, $ABS(start32)

        .code32
start32:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movl ABS(param_cr4), %eax       /* PAE, PGE, OSFXSR, ... as the boot CPU */
        movl %eax, %cr4
        movl ABS(param_cr3), %eax
        movl %eax, %cr3
        movl $MSR_EFER, %ecx
        rdmsr
        orl $(EFER_SCE | EFER_LME | EFER_NXE), %eax
        wrmsr
        movl ABS(param_cr0), %eax       /* PG: long mode is on */
        movl %eax, %cr0
        ljmpl $0x18, $ABS(start64)

        .code64
start64:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movq param_stacks(%rip), %rax   /* apEntry: AX its stacks, DI its record */
        movq param_cpu(%rip), %rdi
        leaq KSTACK_SLOT(%rax), %rsp    /* the trap stack's top */
        movq param_entry(%rip), %rbx
        jmp *%rbx

        .align 8
gdt:
        .quad 0
        .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
        .quad 0x00cf92000000ffff        /* 0x10: data */
        .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
gdt_ptr:
        .word gdt_ptr - gdt - 1
        .long ABS(gdt)

/* The parameter block, last, at a multiple of 8: offsets from the end are
 * the kernel's (trampolineParam* in smp.go). */
        .align 8
param_cr0:      .quad 0
param_cr4:      .quad 0
param_cr3:      .quad 0
param_cpu:      .quad 0
param_stacks:   .quad 0
param_entry:    .quad 0
