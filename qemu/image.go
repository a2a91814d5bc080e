// Package qemu is the host side of running hurdvm: it turns a Go program
// built for the kernel into a bootable multiboot image and boots images in
// qemu-system-x86_64, streaming the serial console and reporting how the
// kernel ended (its exit status, a panic, a triple fault or a hang).
package qemu

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"hurdvm/kernel/memmap"
)

// GoBuildEnv and GoLDFlags are how a Go program is built to run on the
// kernel: a static linux/amd64 executable whose image starts in the top
// 2 GiB (memmap.KernelBase, 0xffffffff81000000: the text one page above,
// -T -0x7efff000 being 0xffffffff81001000 to the linker, which takes no
// unsigned 64-bit value; loaded at 16 MiB), whose entry point is the
// kernel's, not the runtime's, and which keeps its symbol table
// (-s=false: `go test` strips it otherwise), where BuildImage finds the
// large arrays the boot stage leaves unbacked (bss.go). The Makefile reads
// GoLDFlags from this line: every kernel, whoever builds it, is linked
// with these flags.
var (
	GoBuildEnv = []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}
	GoLDFlags  = "-T -0x7efff000 -E hurdvm/kernel.entry -s=false"
	GoTags     = "hurdvm"
	// GoTestTags adds the kernel's test hooks (kernel/testhooks.go), for
	// programs that break the kernel on purpose or inspect it.
	GoTestTags = "hurdvm,hurdvmtest"
)

// imageLimit is where the Go kernel is loaded (physical): the boot stage,
// carrying it, must end below. The kernel's image, linked at
// memmap.KernelBase, is there in RAM.
const imageLimit = memmap.KernelPhys

// topMapEnd is where the boot stage's map of the top 2 GiB ends
// (physical): the RAM the kernel needs must end below.
const topMapEnd = 2 << 30

// BuildImage makes the multiboot image out from the Go kernel ELF goELF,
// using the boot stage sources in repoRoot/boot and repoRoot/linker.ld.
// It needs objcopy, gcc (as the assembler driver) and ld from binutils.
func BuildImage(repoRoot, goELF, out string) error {
	f, err := elf.Open(goELF)
	if err != nil {
		return fmt.Errorf("kernel ELF: %w", err)
	}
	defer f.Close()
	err = checkKernelELF(f)
	var lazy []PageRange
	if err == nil {
		lazy, err = LazyBSS(f)
	}
	if err != nil {
		return fmt.Errorf("%s: %w: import hurdvm/kernel and link with -ldflags '%s'", goELF, err, GoLDFlags)
	}
	if err := checkLazyInBSS(f, lazy); err != nil {
		return fmt.Errorf("%s: %w", goELF, err)
	}
	if hi := kernelNeedHi(f, lazy); hi > topMapEnd {
		return fmt.Errorf("%s: the kernel needs RAM up to %#x, past the boot stage's map of the first 2 GiB", goELF, hi)
	}
	defines := bootDefines(f, lazy)
	// The boot modules go above what the kernel needs (linker.ld's
	// .modules_gap): the end of its backed image and first page tables.
	modulesStart := fmt.Sprintf("--defsym=_modules_start=%#x", kernelNeedHi(f, lazy))
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	stripped := filepath.Join(tmp, "kernel.stripped")
	obj := filepath.Join(tmp, "boot.o")
	boot64 := filepath.Join(tmp, "boot64.elf")
	steps := [][]string{
		// The symbols stay in goELF for gdb; the image carries what loads.
		{"objcopy", "--strip-all", goELF, stripped},
		append(append([]string{"gcc", "-c", "-x", "assembler-with-cpp", fmt.Sprintf("-DKERNEL_ELF=\"%s\"", stripped)}, defines...),
			filepath.Join(repoRoot, "boot", "boot.S"), "-o", obj),
		{"ld", "-m", "elf_x86_64", "-z", "max-page-size=0x1000", "--no-warn-rwx-segments", modulesStart,
			"-T", filepath.Join(repoRoot, "linker.ld"), "-o", boot64, obj},
		{"objcopy", "-O", "elf32-i386", boot64, out},
	}
	for _, s := range steps {
		cmd := exec.Command(s[0], s[1:]...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%v: %w\n%s", s, err, stderr.String())
		}
	}
	return checkImage(boot64)
}

// bootDefines tells the boot stage, as assembler symbols, what it checks
// and skips: the RAM the kernel needs from its load address on (the image
// up to its last backed page, then the early page tables: physical
// addresses), the machine size to advise when that RAM is missing, the
// page-table slots of its map of the top 2 GiB, and the lazy BSS ranges
// (virtual addresses, as the segments it copies).
func bootDefines(f *elf.File, lazy []PageRange) []string {
	end := (eagerEnd(f, lazy) - memmap.KernelVirtOffset + pageSize - 1) &^ (pageSize - 1)
	d := []string{
		fmt.Sprintf("-DKERNEL_NEED_LO=%#x", imageLimit),
		fmt.Sprintf("-DKERNEL_NEED_HI=%#x", kernelNeedHi(f, lazy)),
		fmt.Sprintf("-DKERNEL_MIN_MIB=%d", memmap.MinimumRAM(end)>>20),
		fmt.Sprintf("-DTOP_PML4_SLOT=%d", uint64(memmap.KernelVirtOffset)>>39&511),
		fmt.Sprintf("-DTOP_PDPT_SLOT=%d", uint64(memmap.KernelVirtOffset)>>30&511),
	}
	if len(lazy) > 0 {
		var r []string
		for _, l := range lazy {
			r = append(r, fmt.Sprintf("%#x,%#x", l.Start, l.End))
		}
		d = append(d, "-DLAZY_BSS="+strings.Join(r, ","))
	}
	return d
}

// kernelNeedHi is the end of the RAM the kernel needs from 16 MiB on
// (physical): its image up to its last backed page, then its first page
// tables.
func kernelNeedHi(f *elf.File, lazy []PageRange) uint64 {
	end := (eagerEnd(f, lazy) - memmap.KernelVirtOffset + pageSize - 1) &^ (pageSize - 1)
	return end + memmap.EarlyTables
}

// checkImage makes sure the boot stage ends below the Go kernel's load
// address, or the stage would overwrite itself while loading.
func checkImage(boot64 string) error {
	f, err := elf.Open(boot64)
	if err != nil {
		return err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return err
	}
	for _, s := range syms {
		if s.Name == "_boot_end" {
			if s.Value > imageLimit {
				return fmt.Errorf("boot image ends at %#x, past the kernel's load address %#x: the Go kernel is too large to carry", s.Value, imageLimit)
			}
			return nil
		}
	}
	return fmt.Errorf("%s: no _boot_end symbol", boot64)
}

// checkKernelELF makes sure f was linked for the kernel: at
// memmap.KernelBase and, where the symbols were kept, entered at the
// kernel's entry.
func checkKernelELF(f *elf.File) error {
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("not an x86-64 ELF64 executable")
	}
	low := ^uint64(0)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Vaddr < low {
			low = p.Vaddr
		}
	}
	if low != memmap.KernelBase {
		return fmt.Errorf("loads at %#x, not at %#x", low, uint64(memmap.KernelBase))
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil // stripped (go test links with -s): the load address must do
	}
	for _, s := range syms {
		if (s.Name == "hurdvm/kernel.entry" || s.Name == "hurdvm/kernel.entry.abi0") && s.Value == f.Entry {
			return nil
		}
	}
	return fmt.Errorf("entry point %#x is not hurdvm/kernel.entry", f.Entry)
}
