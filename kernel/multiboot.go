//go:build hurdvm

// The multiboot (version 1) information the loader hands over. Everything
// the kernel needs from it is copied into kernel globals first thing, since
// the loader leaves it in memory the frame allocator will hand out.

package kernel

import "unsafe"

const multibootMagic = 0x2BADB002

const (
	mbFlagMem     = 1 << 0
	mbFlagCmdline = 1 << 2
	mbFlagMods    = 1 << 3
	mbFlagMmap    = 1 << 6
)

// Memory map entry types.
const (
	memUsable   = 1
	memReserved = 2
	memACPI     = 3
	memNVS      = 4
	memBad      = 5
)

type memRange struct {
	base, length uint64
	kind         uint32
}

var (
	bootMagic, bootInfo, bootEnd uint64

	memMap     [128]memRange
	memMapLen  int
	memLowerKB uint64
	memUpperKB uint64
	cmdline    [2048]byte
	cmdlineLen int
	modules    [16][2]uint64 // [start, end) of each multiboot module
	moduleLen  int
)

func rd32(pa uint64) uint32 { return *(*uint32)(unsafe.Pointer(uintptr(pa))) }
func rd64(pa uint64) uint64 { return *(*uint64)(unsafe.Pointer(uintptr(pa))) }

// readMultiboot copies the memory map, command line and module list out of
// the loader's structures (identity-mapped by boot/ at this point).
func readMultiboot() bool {
	if bootMagic != multibootMagic {
		return false
	}
	mbi := bootInfo
	flags := rd32(mbi)
	if flags&mbFlagMem != 0 {
		memLowerKB = uint64(rd32(mbi + 4))
		memUpperKB = uint64(rd32(mbi + 8))
	}
	if flags&mbFlagCmdline != 0 {
		p := uint64(rd32(mbi + 16))
		for cmdlineLen < len(cmdline)-1 {
			c := *(*byte)(unsafe.Pointer(uintptr(p + uint64(cmdlineLen))))
			if c == 0 {
				break
			}
			cmdline[cmdlineLen] = c
			cmdlineLen++
		}
	}
	if flags&mbFlagMods != 0 {
		n := rd32(mbi + 20)
		p := uint64(rd32(mbi + 24))
		for i := uint32(0); i < n && moduleLen < len(modules); i++ {
			modules[moduleLen] = [2]uint64{uint64(rd32(p)), uint64(rd32(p + 4))}
			moduleLen++
			p += 16
		}
	}
	if flags&mbFlagMmap != 0 {
		length := uint64(rd32(mbi + 44))
		p := uint64(rd32(mbi + 48))
		end := p + length
		for p < end && memMapLen < len(memMap) {
			size := uint64(rd32(p))
			memMap[memMapLen] = memRange{base: rd64(p + 4), length: rd64(p + 12), kind: rd32(p + 20)}
			memMapLen++
			p += size + 4
		}
	} else if flags&mbFlagMem != 0 {
		// No map: trust the two classic fields.
		memMap[0] = memRange{0, memLowerKB << 10, memUsable}
		memMap[1] = memRange{1 << 20, memUpperKB << 10, memUsable}
		memMapLen = 2
	}
	return true
}

func memKindName(k uint32) string {
	switch k {
	case memUsable:
		return "usable"
	case memReserved:
		return "reserved"
	case memACPI:
		return "ACPI reclaimable"
	case memNVS:
		return "ACPI NVS"
	case memBad:
		return "bad"
	}
	return "unknown"
}
