package multiboot2

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"hurdvm/kernel/acpi"
	"hurdvm/kernel/memmap"
)

// block builds a boot information block as a loader lays it out: the
// fixed part, then each tag 8-byte aligned, then the end tag; total_size
// is filled in by bytes.
type block struct{ b []byte }

func newBlock() *block { return &block{b: make([]byte, 8)} }

func (k *block) tag(typ uint32, body []byte) *block {
	for len(k.b)%8 != 0 {
		k.b = append(k.b, 0xee) // padding a reader must skip, not read
	}
	k.b = binary.LittleEndian.AppendUint32(k.b, typ)
	k.b = binary.LittleEndian.AppendUint32(k.b, uint32(8+len(body)))
	k.b = append(k.b, body...)
	return k
}

func (k *block) bytes() []byte {
	k.tag(TagEnd, nil)
	binary.LittleEndian.PutUint32(k.b, uint32(len(k.b)))
	return k.b
}

func le(vs ...any) []byte {
	var b []byte
	for _, v := range vs {
		switch v := v.(type) {
		case uint8:
			b = append(b, v)
		case uint16:
			b = binary.LittleEndian.AppendUint16(b, v)
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		case uint64:
			b = binary.LittleEndian.AppendUint64(b, v)
		case string:
			b = append(b, v...)
		default:
			panic("le: unknown type")
		}
	}
	return b
}

// rsdp1 and rsdp2 are RSDPs as QEMU's firmware has them (the bytes need
// not be valid here: this package only carries them).
var (
	rsdp1 = le("RSD PTR ", uint8(0x42), "BOCHS ", uint8(0), uint32(0x1ffe1bef))
	rsdp2 = le("RSD PTR ", uint8(0x42), "BOCHS ", uint8(2), uint32(0x1f77d074), uint32(36), uint64(0x1f77d0e8), uint8(0x99), uint8(0), uint16(0))
)

func fullBlock() []byte {
	mmap := le(uint32(24), uint32(0))
	for _, e := range []memmap.Entry{
		{Base: 0, Length: 0x9fc00, Kind: memmap.Usable},
		{Base: 0x9fc00, Length: 0x400, Kind: memmap.Reserved},
		{Base: 0x100000, Length: 0x1fee0000, Kind: memmap.Usable},
		{Base: 0x1ffe0000, Length: 0x20000, Kind: memmap.Reserved},
	} {
		mmap = append(mmap, le(e.Base, e.Length, uint32(e.Kind), uint32(0))...)
	}
	fb := le(uint64(0x80000000), uint32(3200), uint32(800), uint32(600), uint8(32), uint8(FramebufferRGB), uint16(0),
		uint8(16), uint8(8), uint8(8), uint8(8), uint8(0), uint8(8), uint16(0))
	return newBlock().
		tag(TagCmdline, le("/boot/tests/boot.test -test.v\x00")).
		tag(TagBootLoaderName, le("GRUB 2.06-13+deb12u1\x00")).
		tag(TagModule, le(uint32(0x2000000), uint32(0x2003000), "initramfs\x00")).
		tag(TagModule, le(uint32(0x2003000), uint32(0x2003801), "\x00")).
		tag(TagBasicMemInfo, le(uint32(639), uint32(523136))).
		tag(TagMemoryMap, mmap).
		tag(TagFramebuffer, fb).
		tag(TagACPIOld, rsdp1).
		tag(TagACPINew, rsdp2).
		bytes()
}

func TestWalk(t *testing.T) {
	info, ok := New(fullBlock())
	if !ok {
		t.Fatal("New refused a well-formed block")
	}
	var types []uint32
	for tg, off, ok := info.Next(0); ok; tg, off, ok = info.Next(off) {
		types = append(types, tg.Type)
		if off%8 != 0 {
			t.Errorf("tag %d: next offset %d is not 8-byte aligned", tg.Type, off)
		}
	}
	want := []uint32{TagCmdline, TagBootLoaderName, TagModule, TagModule, TagBasicMemInfo, TagMemoryMap, TagFramebuffer, TagACPIOld, TagACPINew}
	if !slices.Equal(types, want) {
		t.Errorf("tags %v, want %v", types, want)
	}
}

func TestTags(t *testing.T) {
	info, _ := New(fullBlock())
	if tg, ok := info.Find(TagCmdline); !ok || string(tg.Text()) != "/boot/tests/boot.test -test.v" {
		t.Errorf("command line %q, %v", tg.Text(), ok)
	}
	if tg, _ := info.Find(TagBootLoaderName); string(tg.Text()) != "GRUB 2.06-13+deb12u1" {
		t.Errorf("boot loader %q", tg.Text())
	}
	var mods [][2]uint32
	var names []string
	for tg, off, ok := info.Next(0); ok; tg, off, ok = info.Next(off) {
		if s, e, name, ok := tg.Module(); ok {
			mods = append(mods, [2]uint32{s, e})
			names = append(names, string(name))
		}
	}
	if !slices.Equal(mods, [][2]uint32{{0x2000000, 0x2003000}, {0x2003000, 0x2003801}}) || !slices.Equal(names, []string{"initramfs", ""}) {
		t.Errorf("modules %#x %q", mods, names)
	}
	tg, _ := info.Find(TagBasicMemInfo)
	if lo, hi, ok := tg.BasicMemInfo(); !ok || lo != 639 || hi != 523136 {
		t.Errorf("basic memory information %d, %d, %v", lo, hi, ok)
	}
	tg, _ = info.Find(TagMemoryMap)
	m, ok := tg.MemoryMap()
	if !ok || m.Len() != 4 {
		t.Fatalf("memory map: %v, %d entries", ok, m.Len())
	}
	if e := m.Entry(2); e != (memmap.Entry{Base: 0x100000, Length: 0x1fee0000, Kind: memmap.Usable}) {
		t.Errorf("entry 2: %+v", e)
	}
	if e := m.Entry(3); e.Kind != memmap.Reserved || e.Base != 0x1ffe0000 {
		t.Errorf("entry 3: %+v", e)
	}
	tg, _ = info.Find(TagFramebuffer)
	fb, ok := tg.Framebuffer()
	if !ok || fb.Addr != 0x80000000 || fb.Pitch != 3200 || fb.Width != 800 || fb.Height != 600 || fb.BPP != 32 || fb.Type != FramebufferRGB {
		t.Errorf("framebuffer %+v, %v", fb, ok)
	}
	if fb.Colours[0] != [6]uint8{16, 8, 8, 8, 0, 8} {
		t.Errorf("GRUB's colour fields %v", fb.Colours[0])
	}
	if !bytes.Equal(info.RSDP(), rsdp2) {
		t.Errorf("RSDP % x, want the new tag's", info.RSDP())
	}
}

func TestRSDP(t *testing.T) {
	old, _ := New(newBlock().tag(TagACPIOld, rsdp1).bytes())
	if !bytes.Equal(old.RSDP(), rsdp1) {
		t.Errorf("old tag alone: % x", old.RSDP())
	}
	// The new tag wins wherever it stands.
	both, _ := New(newBlock().tag(TagACPINew, rsdp2).tag(TagACPIOld, rsdp1).bytes())
	if !bytes.Equal(both.RSDP(), rsdp2) {
		t.Errorf("both tags: % x", both.RSDP())
	}
	none, _ := New(newBlock().tag(TagCmdline, le("x\x00")).bytes())
	if none.RSDP() != nil {
		t.Errorf("no tag: % x", none.RSDP())
	}
}

// TestMalformed: a block that lies about sizes is read up to where it
// stops making sense, never past its total_size, and the walk ends.
func TestMalformed(t *testing.T) {
	good := fullBlock()
	if _, ok := New(good[:len(good)-1]); ok {
		t.Error("New took a block shorter than its total_size")
	}
	if _, ok := New(le(uint32(4), uint32(0))); ok {
		t.Error("New took a total_size below 8")
	}
	if _, ok := New(nil); ok {
		t.Error("New took nothing")
	}
	count := func(info Info) int {
		n := 0
		for _, off, ok := info.Next(0); ok; _, off, ok = info.Next(off) {
			n++
		}
		return n
	}
	// A tag whose size is below its header ends the walk (it would not
	// advance); so does one that runs past total_size.
	b := newBlock().tag(TagCmdline, le("a\x00")).tag(TagModule, le(uint32(1), uint32(2))).bytes()
	binary.LittleEndian.PutUint32(b[24+4:], 4) // the module tag, at 24
	if info, _ := New(b); count(info) != 1 {
		t.Errorf("tag size 4: %d tags", count(info))
	}
	binary.LittleEndian.PutUint32(b[24+4:], uint32(len(b)))
	if info, _ := New(b); count(info) != 1 {
		t.Errorf("tag past the end: %d tags", count(info))
	}
	// No end tag: the walk stops at total_size.
	b = newBlock().tag(TagCmdline, le("a\x00")).bytes()
	b = b[:len(b)-8]
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	if info, _ := New(b); count(info) != 1 {
		t.Errorf("no end tag: %d tags", count(info))
	}
	// Tags too short for what their type holds are refused by their
	// readers.
	short, _ := New(newBlock().tag(TagModule, le(uint32(1))).tag(TagBasicMemInfo, nil).
		tag(TagMemoryMap, le(uint32(0), uint32(0))).tag(TagFramebuffer, le(uint64(0xb8000))).bytes())
	for tg, off, ok := short.Next(0); ok; tg, off, ok = short.Next(off) {
		if _, _, _, ok := tg.Module(); ok {
			t.Error("a 4-byte module tag was read")
		}
		if _, _, ok := tg.BasicMemInfo(); ok {
			t.Error("an empty memory information tag was read")
		}
		if _, ok := tg.MemoryMap(); ok {
			t.Error("a memory map with entry_size 0 was read")
		}
		if _, ok := tg.Framebuffer(); ok {
			t.Error("an 8-byte framebuffer tag was read")
		}
	}
	// A string without its NUL ends with its tag.
	s, _ := New(newBlock().tag(TagCmdline, le("abc")).bytes())
	if tg, _ := s.Find(TagCmdline); string(tg.Text()) != "abc" {
		t.Errorf("unterminated command line %q", tg.Text())
	}
	// A memory map's partial last entry is not an entry.
	mm, _ := New(newBlock().tag(TagMemoryMap, append(le(uint32(24), uint32(0)), make([]byte, 24+10)...)).bytes())
	tg, _ := mm.Find(TagMemoryMap)
	if m, _ := tg.MemoryMap(); m.Len() != 1 {
		t.Errorf("memory map with a partial entry: %d entries", m.Len())
	}
}

// TestNoAllocation: kmain reads the block before the runtime exists.
func TestNoAllocation(t *testing.T) {
	b := fullBlock()
	n := testing.AllocsPerRun(100, func() {
		info, _ := New(b)
		for tg, off, ok := info.Next(0); ok; tg, off, ok = info.Next(off) {
			tg.Module()
			tg.Text()
			if m, ok := tg.MemoryMap(); ok {
				for i := 0; i < m.Len(); i++ {
					m.Entry(i)
				}
			}
			tg.Framebuffer()
		}
		info.RSDP()
	})
	if n != 0 {
		t.Errorf("%v allocations per walk", n)
	}
}

// FuzzInfo: any bytes at all are walked to an end without a panic, every
// tag lying inside the block.
func FuzzInfo(f *testing.F) {
	f.Add(fullBlock())
	f.Add(newBlock().bytes())
	for _, name := range []string{"grub-seabios.bin", "grub-ovmf.bin"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, ok := New(b)
		if !ok {
			return
		}
		n := 0
		for tg, off, ok := info.Next(0); ok; tg, off, ok = info.Next(off) {
			if n++; n > len(info)/8 {
				t.Fatal("more tags than the block has room for")
			}
			tg.Module()
			tg.Text()
			tg.BasicMemInfo()
			tg.Framebuffer()
			if m, ok := tg.MemoryMap(); ok {
				for i := 0; i < m.Len(); i++ {
					m.Entry(i)
				}
			}
		}
		info.RSDP()
	})
}

// TestGRUB reads the blocks GRUB really gave (testdata/README.md) under
// SeaBIOS and OVMF: every tag up to the end tag at total_size, and what
// the kernel takes from them.
func TestGRUB(t *testing.T) {
	for _, c := range []struct {
		file        string
		mapEntries  int
		upperKB     uint32
		fb          Framebuffer
		rsdpRev     uint8
		rsdt        uint32
		xsdt        uint64
		hasNewRSDP  bool
		firstUsable memmap.Entry
	}{
		{"grub-seabios.bin", 7, 523136,
			Framebuffer{Addr: 0xb8000, Pitch: 160, Width: 80, Height: 25, BPP: 16, Type: FramebufferEGAText},
			0, 0x1ffe1bef, 0, false, memmap.Entry{Base: 0, Length: 0x9fc00, Kind: memmap.Usable}},
		// Under UEFI mem_upper stops at the first hole (8 MiB): the map
		// has the rest.
		{"grub-ovmf.bin", 18, 7168,
			Framebuffer{Addr: 0x80000000, Pitch: 2400, Width: 800, Height: 600, BPP: 24, Type: FramebufferRGB,
				Colours: [2][6]uint8{{16, 8, 8, 8, 0, 8}, {0, 16, 8, 8, 8, 0}}},
			2, 0x1f77d074, 0x1f77d0e8, true, memmap.Entry{Base: 0, Length: 0xa0000, Kind: memmap.Usable}},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			info, ok := New(b)
			if !ok || len(info) != len(b) {
				t.Fatalf("New: %v, %d of %d bytes", ok, len(info), len(b))
			}
			last := 0
			for _, off, ok := info.Next(0); ok; _, off, ok = info.Next(off) {
				last = off
			}
			if last != len(info)-8 || binary.LittleEndian.Uint32(info[last:]) != TagEnd {
				t.Errorf("the walk ended at %d, not at the end tag at %d", last, len(info)-8)
			}
			if tg, _ := info.Find(TagCmdline); string(tg.Text()) != "/boot/hurdvm.elf" {
				t.Errorf("command line %q", tg.Text())
			}
			if tg, _ := info.Find(TagBootLoaderName); !bytes.HasPrefix(tg.Text(), []byte("GRUB 2.06")) {
				t.Errorf("boot loader %q", tg.Text())
			}
			tg, _ := info.Find(TagBasicMemInfo)
			if _, hi, ok := tg.BasicMemInfo(); !ok || hi != c.upperKB {
				t.Errorf("mem_upper %d KiB, want %d", hi, c.upperKB)
			}
			tg, _ = info.Find(TagMemoryMap)
			m, ok := tg.MemoryMap()
			if !ok || m.Len() != c.mapEntries || m.Entry(0) != c.firstUsable {
				t.Errorf("memory map: %v, %d entries, the first %+v", ok, m.Len(), m.Entry(0))
			}
			// The whole map, sanitized as the kernel does, holds the
			// 512 MiB machine's RAM.
			raw := make([]memmap.Entry, m.Len())
			for i := range raw {
				raw[i] = m.Entry(i)
			}
			ranges := make([]memmap.Range, 2*len(raw))
			var ram uint64
			for _, r := range ranges[:memmap.Sanitize(ranges, raw)] {
				if r.Kind.IsRAM() {
					ram += r.Len()
				}
			}
			if ram < 500<<20 || ram > 512<<20 {
				t.Errorf("%d MiB of RAM in the map", ram>>20)
			}
			tg, _ = info.Find(TagFramebuffer)
			if fb, ok := tg.Framebuffer(); !ok || fb != c.fb {
				t.Errorf("framebuffer %+v, want %+v", fb, c.fb)
			}
			_, hasNew := info.Find(TagACPINew)
			r, err := acpi.ParseRSDP(info.RSDP())
			if err != nil || hasNew != c.hasNewRSDP || r.Revision != c.rsdpRev || r.RSDT != c.rsdt || r.XSDT != c.xsdt {
				t.Errorf("RSDP %+v, %v (new tag: %v)", r, err, hasNew)
			}
		})
	}
}
