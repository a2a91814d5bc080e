package handlercheck

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
)

// Itab is one interface table the binary carries (a go:itab.<concrete>,<iface>
// symbol): what an interface call through a value of that concrete type
// lands on.
type Itab struct {
	Concrete, Iface string
	// Methods are the interface's methods in itab order (abi.InterfaceType
	// sorts them by name), Funcs the concrete type's code for each: an
	// interface call loading Fun[k] calls Funcs[k]. 0 means the linker
	// dropped the method as unreachable.
	Methods []string
	Funcs   []uint64
}

// The layout of internal/abi in Go 1.26 (iface.go, type.go) on amd64:
//
//	type ITab struct { Inter *InterfaceType; Type *Type; Hash uint32; Fun [1]uintptr }
//	type InterfaceType struct { Type; PkgPath Name; Methods []Imethod }
//	type Imethod struct { Name NameOff; Typ TypeOff }
//
// abi.Type is 48 bytes, so Methods is the slice header at 56.
const (
	itabFun             = 24 // offset of ITab.Fun[0]
	interfaceMethods    = 56 // offset of InterfaceType.Methods
	imethodSize         = 8
	maxInterfaceMethods = 1 << 12 // larger is not an interface type: the layout changed
)

// readItabs reads every go:itab symbol's table from the data.
func readItabs(img *image, syms []elf.Symbol) ([]Itab, error) {
	var out []Itab
	for _, s := range syms {
		rest, ok := strings.CutPrefix(s.Name, "go:itab.")
		if !ok {
			continue
		}
		concrete, iface := splitItabName(rest)
		it, err := img.itab(s.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", s.Name, err)
		}
		it.Concrete, it.Iface = concrete, iface
		out = append(out, it)
	}
	return out, nil
}

func (img *image) itab(addr uint64) (Itab, error) {
	inter, ok := img.word(addr)
	if !ok {
		return Itab{}, fmt.Errorf("itab at %#x unreadable", addr)
	}
	methods, ok1 := img.word(inter + interfaceMethods)
	n, ok2 := img.word(inter + interfaceMethods + 8)
	if !ok1 || !ok2 || n == 0 || n > maxInterfaceMethods {
		return Itab{}, fmt.Errorf("interface type at %#x does not look like Go 1.26's abi.InterfaceType", inter)
	}
	var it Itab
	for k := uint64(0); k < n; k++ {
		fn, ok := img.word(addr + itabFun + 8*k)
		if !ok || fn != 0 && img.funcAt(fn) == nil {
			return Itab{}, fmt.Errorf("method %d's code %#x is not a function", k, fn)
		}
		it.Funcs = append(it.Funcs, fn)
		name := ""
		if b := img.bytes(methods+imethodSize*k, 4); b != nil && img.types != 0 {
			name = img.name(img.types + uint64(int32(binary.LittleEndian.Uint32(b))))
		}
		it.Methods = append(it.Methods, name)
	}
	return it, nil
}

// splitItabName splits "<concrete>,<iface>" at the comma outside brackets
// (type arguments may hold commas).
func splitItabName(s string) (concrete, iface string) {
	depth := 0
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ']':
			depth++
		case '[':
			depth--
		case ',':
			if depth == 0 {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}
