// Package multiboot2 reads the boot information a Multiboot2 loader (GRUB's
// multiboot2 command) hands the kernel: a block that starts with its
// total size and a reserved word, then tags, each an 8-byte header (type,
// size) and its body, 8-byte aligned, up to an end tag (The Multiboot2
// Specification version 2.0, section 3.6).
//
// The kernel reads it in kmain, before the Go runtime has initialised
// anything (handler context, docs/DESIGN.md): nothing here allocates,
// locks or panics but for the compiler's bounds checks; a tag's bytes are
// sub-slices of the block. It is an ordinary package so that host tests
// run it over synthetic blocks and over blocks GRUB really gave
// (testdata). kernel/multiboot.go copies what the tags say into the same
// variables the multiboot 1 information fills.
package multiboot2

import (
	"encoding/binary"

	"hurdvm/kernel/memmap"
)

const (
	// Magic is what a Multiboot2 loader leaves in EAX for the kernel
	// (a multiboot 1 loader leaves 0x2BADB002).
	Magic = 0x36d76289
	// HeaderMagic starts the kernel image's Multiboot2 header
	// (boot/boot.S).
	HeaderMagic = 0xe85250d6
)

// Tag types of the boot information (section 3.6).
const (
	TagEnd             = 0
	TagCmdline         = 1
	TagBootLoaderName  = 2
	TagModule          = 3
	TagBasicMemInfo    = 4
	TagBootDevice      = 5
	TagMemoryMap       = 6
	TagVBE             = 7
	TagFramebuffer     = 8
	TagELFSections     = 9
	TagAPM             = 10
	TagEFI32           = 11
	TagEFI64           = 12
	TagSMBIOS          = 13
	TagACPIOld         = 14 // a copy of the ACPI 1.0 RSDP (20 bytes)
	TagACPINew         = 15 // a copy of the ACPI 2.0+ RSDP (its Length bytes)
	TagNetwork         = 16
	TagEFIMemoryMap    = 17
	TagEFIBootServices = 18
	TagEFI32Image      = 19
	TagEFI64Image      = 20
	TagLoadBaseAddr    = 21
)

// headerSize is the fixed part of the block (total_size, reserved) and of
// every tag (type, size).
const headerSize = 8

// Info is a boot information block, cut to its total_size.
type Info []byte

// TotalSize reads the block's total_size from its first 4 bytes: how much
// the caller must make readable for New.
func TotalSize(head []byte) uint32 {
	if len(head) < 4 {
		return 0
	}
	return binary.LittleEndian.Uint32(head)
}

// New takes the block at the start of b: its total_size must cover the
// fixed part and fit in b. The block is cut to total_size.
func New(b []byte) (Info, bool) {
	n := TotalSize(b)
	if n < headerSize || uint64(n) > uint64(len(b)) {
		return nil, false
	}
	return Info(b[:n]), true
}

// Tag is one tag: its type and the bytes of its body (after the 8-byte
// type and size, up to its size; the alignment padding is not included).
type Tag struct {
	Type uint32
	Body []byte
}

// Next returns the tag at offset off of the block (0 for the first) and
// the offset of the one after it. ok is false at the end tag, and where
// what is left cannot be a tag: no room for a tag's header, a size below
// 8, or a tag running past total_size (a malformed block ends there, it
// is never read past). The walk always moves forward, so it ends.
//
//	for t, off, ok := info.Next(0); ok; t, off, ok = info.Next(off) { ... }
func (info Info) Next(off int) (t Tag, next int, ok bool) {
	off = max(off, headerSize)
	if off > len(info)-headerSize {
		return Tag{}, len(info), false
	}
	typ := binary.LittleEndian.Uint32(info[off:])
	size := binary.LittleEndian.Uint32(info[off+4:])
	if typ == TagEnd || size < headerSize || uint64(size) > uint64(len(info)-off) {
		return Tag{}, len(info), false
	}
	end := off + int(size)
	next = (end + 7) &^ 7 // tags start 8-byte aligned
	return Tag{Type: typ, Body: info[off+headerSize : end]}, next, true
}

// Find returns the first tag of type typ.
func (info Info) Find(typ uint32) (Tag, bool) {
	for t, off, ok := info.Next(0); ok; t, off, ok = info.Next(off) {
		if t.Type == typ {
			return t, true
		}
	}
	return Tag{}, false
}

func (t Tag) u32(off int) uint32 { return binary.LittleEndian.Uint32(t.Body[off:]) }
func (t Tag) u64(off int) uint64 { return binary.LittleEndian.Uint64(t.Body[off:]) }

// Text is a string tag's text (the command line, the boot loader's name),
// without its terminating NUL; a string that has none ends with the tag.
func (t Tag) Text() []byte { return cstring(t.Body) }

func cstring(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// Module reads a module tag: the module's physical [start, end) and its
// command line (the words after the file on GRUB's module2 line).
func (t Tag) Module() (start, end uint32, cmdline []byte, ok bool) {
	if t.Type != TagModule || len(t.Body) < 8 {
		return 0, 0, nil, false
	}
	return t.u32(0), t.u32(4), cstring(t.Body[8:]), true
}

// BasicMemInfo reads the basic memory information tag: the KiB of
// conventional memory from 0 and of upper memory from 1 MiB (the first
// hole's start), multiboot 1's mem_lower and mem_upper.
func (t Tag) BasicMemInfo() (lowerKB, upperKB uint32, ok bool) {
	if t.Type != TagBasicMemInfo || len(t.Body) < 8 {
		return 0, 0, false
	}
	return t.u32(0), t.u32(4), true
}

// MemoryMap is the memory map tag's entries: base, length, type (the
// multiboot 1 and E820 numbers, memmap.Kind) and a reserved word, each
// entry_size bytes.
type MemoryMap struct {
	entries   []byte
	entrySize int
}

// mmapEntrySize is the entry's layout this package reads; the loader may
// give longer entries (a later version of the layout), read by their
// start.
const mmapEntrySize = 24

// MemoryMap reads a memory map tag.
func (t Tag) MemoryMap() (MemoryMap, bool) {
	if t.Type != TagMemoryMap || len(t.Body) < 8 {
		return MemoryMap{}, false
	}
	size := t.u32(0)
	if size < mmapEntrySize || size > 1<<16 {
		return MemoryMap{}, false
	}
	return MemoryMap{entries: t.Body[8:], entrySize: int(size)}, true
}

// Len is the number of whole entries.
func (m MemoryMap) Len() int {
	if m.entrySize == 0 {
		return 0
	}
	return len(m.entries) / m.entrySize
}

// Entry is the i-th entry (0 <= i < Len).
func (m MemoryMap) Entry(i int) memmap.Entry {
	e := m.entries[i*m.entrySize:]
	return memmap.Entry{
		Base:   binary.LittleEndian.Uint64(e),
		Length: binary.LittleEndian.Uint64(e[8:]),
		Kind:   memmap.Kind(binary.LittleEndian.Uint32(e[16:])),
	}
}

// Framebuffer types (framebuffer_type).
const (
	FramebufferIndexed = 0
	FramebufferRGB     = 1
	FramebufferEGAText = 2
)

// Framebuffer is what the framebuffer tag says.
type Framebuffer struct {
	Addr                 uint64 // physical address
	Pitch, Width, Height uint32 // bytes a line; pixels, or characters in EGA text
	BPP, Type            uint8
	// Colours are the candidate places of an RGB framebuffer's colour
	// fields (red position and mask size, green's, blue's): GRUB's,
	// after a 16-bit reserved field (the tag's byte 32), then the
	// specification's, after an 8-bit one (byte 31). The caller takes
	// the first that makes sense for BPP; both are zero where the tag
	// is too short to hold them.
	Colours [2][6]uint8
}

// Framebuffer reads a framebuffer tag.
func (t Tag) Framebuffer() (Framebuffer, bool) {
	if t.Type != TagFramebuffer || len(t.Body) < 22 {
		return Framebuffer{}, false
	}
	fb := Framebuffer{
		Addr:  t.u64(0),
		Pitch: t.u32(8), Width: t.u32(12), Height: t.u32(16),
		BPP: t.Body[20], Type: t.Body[21],
	}
	for i, off := range [...]int{24, 23} { // body offsets of the tag's bytes 32 and 31
		if len(t.Body) >= off+6 {
			copy(fb.Colours[i][:], t.Body[off:off+6])
		}
	}
	return fb, true
}

// RSDP returns the ACPI RSDP the loader copied into the block: the ACPI
// new RSDP tag's bytes when there is one (the XSDT's address is only
// there), else the old tag's; nil without either. GRUB fills them from the
// EFI system table under UEFI and from its own scan of the BIOS areas on
// a PC BIOS. hurdvm/kernel/acpi.ParseRSDP validates them.
func (info Info) RSDP() []byte {
	if t, ok := info.Find(TagACPINew); ok {
		return t.Body
	}
	if t, ok := info.Find(TagACPIOld); ok {
		return t.Body
	}
	return nil
}
