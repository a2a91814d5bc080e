package handlercheck

import (
	"golang.org/x/arch/x86/x86asm"
)

// defSearch is how many instructions back from an indirect call decode
// looks for the load of its target. The Go compiler loads it just before
// the call, after the arguments at most.
const defSearch = 48

// decode fills fn.Sites from its machine code, a linear sweep from its
// entry (Go puts no data in text; padding decodes as INT3).
func decode(img *image, fn *Func, code []byte) {
	var insts []decoded
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil || inst.Len == 0 {
			fn.DecodeErrors++
			off++
			continue
		}
		pc := fn.Addr + uint64(off)
		off += inst.Len
		next := pc + uint64(inst.Len)
		insts = append(insts, decoded{pc, inst})

		switch inst.Op {
		case x86asm.CALL, x86asm.JMP:
			switch a := inst.Args[0].(type) {
			case x86asm.Rel:
				target := uint64(int64(next) + int64(a))
				if inst.Op == x86asm.CALL || target < fn.Addr || target >= fn.End {
					fn.addJump(img, pc, inst.Op == x86asm.CALL, target)
				}
			case x86asm.Reg:
				fn.addIndirect(img, pc, inst.Op == x86asm.CALL, loadOf(insts[:len(insts)-1], a))
			case x86asm.Mem:
				fn.addIndirect(img, pc, inst.Op == x86asm.CALL, &loaded{mem: a, next: next})
			}
			continue
		case x86asm.TEST:
			if m, ok := inst.Args[0].(x86asm.Mem); ok && inst.Args[1] == x86asm.AL && inst.MemBytes == 1 && m.Index == 0 && m.Base != x86asm.RIP {
				fn.Sites = append(fn.Sites, Site{PC: pc, Kind: SiteNilCheck})
				continue
			}
		}
		if isJcc(inst.Op) {
			if a, ok := inst.Args[0].(x86asm.Rel); ok {
				if target := uint64(int64(next) + int64(a)); target < fn.Addr || target >= fn.End {
					fn.addJump(img, pc, false, target)
				}
			}
			continue
		}
		for _, arg := range inst.Args {
			if target, ok := img.funcRef(arg, next); ok && target != fn.Addr {
				fn.Sites = append(fn.Sites, Site{PC: pc, Kind: SiteAddr, Target: target})
			}
		}
	}
}

type decoded struct {
	pc   uint64
	inst x86asm.Inst
}

// loaded is where an indirect call's target came from: a memory operand,
// or nothing known.
type loaded struct {
	mem  x86asm.Mem
	next uint64 // the loading instruction's end, for RIP-relative operands
}

// loadOf finds the instruction that last wrote reg before the call,
// following register copies: the load of the call's target when it is a
// MOV from memory.
func loadOf(before []decoded, reg x86asm.Reg) *loaded {
	for i := len(before) - 1; i >= 0 && i >= len(before)-defSearch; i-- {
		d := before[i].inst
		if d.Op == x86asm.CALL {
			return nil // clobbers every register: the load is not in sight
		}
		if d.Args[0] != reg || !writesFirst(d.Op) {
			continue
		}
		if d.Op != x86asm.MOV {
			return nil
		}
		switch src := d.Args[1].(type) {
		case x86asm.Mem:
			return &loaded{mem: src, next: before[i].pc + uint64(d.Len)}
		case x86asm.Reg:
			reg = src
			continue
		}
		return nil
	}
	return nil
}

// writesFirst reports whether op writes its first operand (most do; these
// only read it).
func writesFirst(op x86asm.Op) bool {
	switch op {
	case x86asm.CMP, x86asm.TEST, x86asm.PUSH, x86asm.BT, x86asm.UCOMISD, x86asm.UCOMISS, x86asm.NOP:
		return false
	}
	return true
}

// addJump records a direct CALL or a jump out of the function.
func (fn *Func) addJump(img *image, pc uint64, call bool, target uint64) {
	callee := img.funcAt(target)
	if callee == nil {
		fn.Sites = append(fn.Sites, Site{PC: pc, Kind: SiteIndirect})
		return
	}
	kind := SiteTail
	if call {
		kind = SiteCall
	}
	fn.Sites = append(fn.Sites, Site{PC: pc, Kind: kind, Target: callee.Addr})
}

// addIndirect classifies an indirect CALL or JMP by where its target was
// loaded from. Go code calls a func value as MOVQ (F), R; MOVQ F, DX;
// CALL R (the funcval's code pointer is its first word; ABIInternal passes
// the closure context in DX), a static func value as MOVQ f·f(SB), R, and
// an interface method as MOVQ 24+8k(ITAB), R; CALL R; it switches through
// a jump table as MOVQ (TABLE)(IDX*8), R; JMP R, whose targets stay in the
// function.
func (fn *Func) addIndirect(img *image, pc uint64, call bool, from *loaded) {
	site := Site{PC: pc, Kind: SiteIndirect}
	if from != nil {
		m := from.mem
		switch {
		case m.Base == x86asm.RIP && m.Index == 0:
			// Through a variable holding a code address (assembly).
			addr := uint64(int64(from.next) + m.Disp)
			if w, ok := img.word(addr); ok && img.funcAt(w) != nil && img.funcAt(w).Addr == w {
				site.Kind, site.Target = SiteCall, w
				if !call {
					site.Kind = SiteTail
				}
			}
		case !call && m.Index != 0 && m.Scale == 8:
			return // a jump table: the switch's cases are in this function
		case m.Index == 0 && m.Base != x86asm.RSP && m.Base != x86asm.RBP && m.Disp == 0:
			site.Kind = SiteFuncValue
		case m.Index == 0 && m.Base != x86asm.RSP && m.Base != x86asm.RBP && m.Disp >= itabFun && (m.Disp-itabFun)%8 == 0:
			site.Kind, site.Method = SiteInterface, int(m.Disp-itabFun)/8
		}
	}
	fn.Sites = append(fn.Sites, site)
}

// funcRef returns the function an operand refers to: its entry as an
// address (LEAQ f(SB), MOVQ $f(SB)), or a func value in data holding it,
// directly or through one variable (LEAQ f·f(SB); MOVQ v(SB) where v holds
// f·f).
func (img *image) funcRef(arg x86asm.Arg, next uint64) (uint64, bool) {
	var addr uint64
	switch a := arg.(type) {
	case x86asm.Mem:
		if a.Base != x86asm.RIP || a.Index != 0 {
			return 0, false
		}
		addr = uint64(int64(next) + a.Disp)
	case x86asm.Imm:
		addr = uint64(a)
	default:
		return 0, false
	}
	if img.markers[addr] {
		return 0, false
	}
	if fn := img.funcAt(addr); fn != nil {
		return fn.Addr, fn.Addr == addr
	}
	for depth := 0; depth < 2 && img.isData(addr); depth++ {
		w, ok := img.word(addr)
		if !ok {
			return 0, false
		}
		if fn := img.funcAt(w); fn != nil {
			return fn.Addr, fn.Addr == w
		}
		addr = w
	}
	return 0, false
}

func isJcc(op x86asm.Op) bool {
	switch op {
	case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JG, x86asm.JGE,
		x86asm.JL, x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP, x86asm.JNS, x86asm.JO,
		x86asm.JP, x86asm.JS, x86asm.JCXZ, x86asm.JECXZ, x86asm.JRCXZ:
		return true
	}
	return false
}
