package loader_test

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"

	"hurdvm/kernel/loader"
)

// program is a tiny static x86-64 ELF program: its text (with the
// headers) at 0x400000, its data with a bss at 0x401100, as a linker
// would lay them out.
func program() []byte {
	b := make([]byte, 0x180)
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	le := binary.LittleEndian
	le.PutUint16(b[16:], uint16(elf.ET_EXEC))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], 0x400100) // e_entry
	le.PutUint64(b[32:], 64)       // e_phoff
	le.PutUint16(b[54:], 56)       // e_phentsize
	le.PutUint16(b[56:], 2)        // e_phnum
	ph := func(i int, flags elf.ProgFlag, off, vaddr, filesz, memsz uint64) {
		q := b[64+56*i:]
		le.PutUint32(q[0:], uint32(elf.PT_LOAD))
		le.PutUint32(q[4:], uint32(flags))
		le.PutUint64(q[8:], off)
		le.PutUint64(q[16:], vaddr)
		le.PutUint64(q[32:], filesz)
		le.PutUint64(q[40:], memsz)
		le.PutUint64(q[48:], 0x1000)
	}
	ph(0, elf.PF_R|elf.PF_X, 0, 0x400000, 0x110, 0x110)
	ph(1, elf.PF_R|elf.PF_W, 0x110, 0x401110, 0x20, 0x3000)
	return b
}

// mapMemory is a Memory for the example: it prints what is asked.
type mapMemory struct{}

func (mapMemory) Allocate(addr, size uint64, prot loader.Prot) error {
	fmt.Printf("allocate %#x-%#x %q\n", addr, addr+size, prot)
	return nil
}

func (mapMemory) Write(addr uint64, b []byte) error {
	fmt.Printf("write %#x-%#x\n", addr, addr+uint64(len(b)))
	return nil
}

func ExampleLoad() {
	file := bytes.NewReader(program())
	plan, err := loader.Load(file, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range plan.Segments {
		bss, end := s.BSS()
		fmt.Printf("%#x-%#x %s file %#x+%#x bss %#x-%#x\n", s.Start, s.End, s.Prot, s.Offset, s.Filesz, bss, end)
	}
	fmt.Printf("entry %#x AT_PHDR %#x brk %#x\n", plan.Entry, plan.Phdr, plan.Brk)
	if err := plan.Apply(file, mapMemory{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 0x400000-0x401000 R E file 0x0+0x110 bss 0x400110-0x400110
	// 0x401000-0x405000 RW  file 0x110+0x20 bss 0x401130-0x404110
	// entry 0x400100 AT_PHDR 0x400040 brk 0x405000
	// allocate 0x400000-0x401000 "R E"
	// write 0x400000-0x400180
	// allocate 0x401000-0x405000 "RW "
	// write 0x401000-0x401130
}

func ExampleLoad_refused() {
	b := program()
	b[18] = byte(elf.EM_AARCH64)
	_, err := loader.Load(bytes.NewReader(b), nil)
	fmt.Println(err)
	fmt.Println(errors.Is(err, loader.ErrMachine))
	// Output:
	// loader: e_machine EM_AARCH64: only x86-64 (EM_X86_64) programs are supported
	// true
}

func ExampleStack() {
	plan, err := loader.Load(bytes.NewReader(program()), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	img, err := loader.Stack(plan, &loader.StackArgs{
		Top:    loader.DefaultStackTop,
		Argv:   []string{"/bin/hello", "world"},
		Envp:   []string{"HOME=/"},
		Random: [16]byte{0x5e, 0xed},
		HWCap:  0x178bfbff,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("RSP %#x, %d bytes below the top\n", img.SP, len(img.Data))
	ps, err := loader.ParseStack(img.Data, img.SP)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ps.Argc, ps.Argv, ps.Envp, ps.ExecFn, ps.Platform)
	entry, _ := ps.Lookup(loader.AT_ENTRY)
	phdr, _ := ps.Lookup(loader.AT_PHDR)
	fmt.Printf("AT_ENTRY %#x AT_PHDR %#x, %d auxv entries\n", entry, phdr, len(ps.Auxv))
	// Output:
	// RSP 0x7fffffffee40, 448 bytes below the top
	// 2 [/bin/hello world] [HOME=/] /bin/hello x86_64
	// AT_ENTRY 0x400100 AT_PHDR 0x400040, 20 auxv entries
}
