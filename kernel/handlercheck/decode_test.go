package handlercheck

import (
	"encoding/binary"
	"testing"
)

// code assembles x86-64 by hand at a known address.
type code struct {
	base  uint64
	bytes []byte
}

func (c *code) pc() uint64 { return c.base + uint64(len(c.bytes)) }

func (c *code) emit(b ...byte) *code { c.bytes = append(c.bytes, b...); return c }

// rel32 emits op followed by the 32-bit displacement from the end of the
// instruction to target.
func (c *code) rel32(target uint64, op ...byte) *code {
	c.emit(op...)
	next := c.pc() + 4
	return c.emit(binary.LittleEndian.AppendUint32(nil, uint32(int32(int64(target)-int64(next))))...)
}

func TestDecodeSites(t *testing.T) {
	const (
		text, f1, f2, f3, f4 = 0x1000, 0x1100, 0x1200, 0x1300, 0x1400
		rodata               = 0x2000 // f2·f: a func value holding f2
		global               = 0x2008 // a variable holding f3's address
		holder               = 0x2010 // a variable holding f4·f
		f4funcval            = 0x2018
	)
	c := &code{base: text}
	want := []Site{}
	at := func(kind SiteKind, target uint64) { want = append(want, Site{PC: c.pc(), Kind: kind, Target: target}) }

	at(SiteCall, f1)
	c.rel32(f1, 0xe8) // CALL f1
	at(SiteAddr, f2)
	c.rel32(rodata, 0x48, 0x8d, 0x05) // LEAQ f2·f(SB), AX
	at(SiteAddr, f4)
	c.rel32(holder, 0x48, 0x8b, 0x05) // MOVQ holder(SB), AX: the var holding f4·f
	c.emit(0x48, 0x8b, 0x0a)          // MOVQ (DX), CX
	at(SiteFuncValue, 0)
	c.emit(0xff, 0xd1)             // CALL CX
	c.emit(0x48, 0x8b, 0x48, 0x20) // MOVQ 0x20(AX), CX: itab slot 1
	c.emit(0x48, 0x89, 0xce)       // MOVQ CX, SI
	want = append(want, Site{PC: c.pc(), Kind: SiteInterface, Method: 1})
	c.emit(0xff, 0xd6)             // CALL SI
	c.emit(0x48, 0x8b, 0x0c, 0xc2) // MOVQ (DX)(AX*8), CX: a jump table
	c.emit(0xff, 0xe1)             // JMP CX: no site
	at(SiteNilCheck, 0)
	c.emit(0x84, 0x00)                // TESTB AL, (AX)
	at(SiteAddr, f3)                  // loads a code address: f3 may be called from here on
	c.rel32(global, 0x48, 0x8b, 0x05) // MOVQ global(SB), AX
	c.emit(0x48, 0x89, 0xc6)          // MOVQ AX, SI
	at(SiteCall, f3)
	c.emit(0xff, 0xd6)                   // CALL SI: through a variable
	c.emit(0x48, 0x8b, 0x4c, 0x24, 0x08) // MOVQ 8(SP), CX
	at(SiteIndirect, 0)
	c.emit(0xff, 0xd1) // CALL CX: a spilled code pointer, unknown
	c.emit(0xeb, 0x00) // JMP to the next instruction: inside, no site
	at(SiteTail, f1)
	c.rel32(f1, 0xe9) // JMP f1
	c.emit(0xc3)

	data := make([]byte, 0x20)
	binary.LittleEndian.PutUint64(data[0:], f2)
	binary.LittleEndian.PutUint64(data[8:], f3)
	binary.LittleEndian.PutUint64(data[0x10:], f4funcval)
	binary.LittleEndian.PutUint64(data[0x18:], f4)
	textBytes := make([]byte, 0x500)
	copy(textBytes, c.bytes)
	fn := &Func{Name: "f0", Addr: text, End: f1}
	img := &image{
		funcs: []*Func{fn, {Name: "f1", Addr: f1, End: f2}, {Name: "f2", Addr: f2, End: f3},
			{Name: "f3", Addr: f3, End: f4}, {Name: "f4", Addr: f4, End: 0x1500}},
		sections: []section{{addr: text, data: textBytes, text: true}, {addr: rodata, data: data}},
	}
	decode(img, fn, textBytes[:f1-text])
	if fn.DecodeErrors > 0 {
		t.Errorf("%d bytes did not decode", fn.DecodeErrors)
	}
	if len(fn.Sites) != len(want) {
		t.Fatalf("sites %+v\nwant %+v", fn.Sites, want)
	}
	for i, s := range fn.Sites {
		if s.PC != want[i].PC || s.Kind != want[i].Kind || s.Target != want[i].Target || s.Method != want[i].Method {
			t.Errorf("site %d: %+v, want %+v", i, s, want[i])
		}
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct{ name, pkg, short string }{
		{"hurdvm/mm.(*VM).release", "hurdvm/mm", "mm.(*VM).release"},
		{"golang.org/x/arch/x86/x86asm.Decode", "golang.org/x/arch/x86/x86asm", "x86asm.Decode"},
		{"runtime.morestack_noctxt.abi0", "runtime", "runtime.morestack_noctxt"},
		{"hurdvm/mm.f[go.shape.struct { hurdvm/x.T }]", "hurdvm/mm", "mm.f[go.shape.struct { hurdvm/x.T }]"},
		{"main.rootClosure.func1", "main", "main.rootClosure.func1"},
	} {
		if got := pkgPath(c.name); got != c.pkg {
			t.Errorf("pkgPath(%s) = %s, want %s", c.name, got, c.pkg)
		}
		if got := ShortName(c.name); got != c.short {
			t.Errorf("ShortName(%s) = %s, want %s", c.name, got, c.short)
		}
	}
	if c, i := splitItabName("main.T[a,b],main.I[c,d]"); c != "main.T[a,b]" || i != "main.I[c,d]" {
		t.Errorf("splitItabName: %s | %s", c, i)
	}
}
