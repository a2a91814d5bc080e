package syscalls

// Pointers the program may not hand the kernel. Each row with a buffer is
// tried with every class; the class is the last word of the row's name.
//
//	null      0
//	unmapped  a user-range page mapped on neither kernel (unmappedPage)
//	kernel    the kernel's memory: for a buffer the kernel writes, its text
//	          (kernelText: on hurdvm the image's read-only text, which is
//	          also the program's code); for one it reads, the start of the
//	          top 2 GiB (kernelHalf: on Linux the kernel's map of physical
//	          0, below its image; on hurdvm unmapped, below the image),
//	          since on hurdvm reading the program's own code is no fault
//	physmap   0xffff800000000000: hurdvm's map of all RAM; on Linux a
//	          kernel address like any other
//	lapic     0xfee00000: the local APIC's registers, which hurdvm kept
//	          identity-mapped until the kernel left the lower half; on
//	          Linux and now on hurdvm an ordinary unmapped user address.
//	          These rows are TestKillLAPIC's: writing there reprogrammed
//	          the interrupt controller hurdvm's clock runs on

import (
	"sync"
	"syscall"
)

const (
	kernelHalf  = 0xffff_ffff_8000_0000
	physmapBase = 0xffff_8000_0000_0000
	lapicBase   = 0xfee0_0000
)

// direction says whether the kernel reads a buffer or writes it.
type direction int

const (
	reads direction = iota
	writes
)

type pointer struct {
	class string
	addr  uintptr
}

func badPointers(d direction) []pointer {
	kernel := uintptr(kernelHalf)
	if d == writes {
		kernel = kernelText
	}
	return []pointer{{"null", 0}, {"unmapped", unmappedPage()}, {"kernel", kernel},
		{"physmap", physmapBase}, {"lapic", lapicBase}}
}

// answers is the expected answer by pointer class; "" is every other class.
type answers map[string]string

func (a answers) of(class string) string {
	if w, ok := a[class]; ok {
		return w
	}
	return a[""]
}

// efault is the answer of most rows: every bad pointer is EFAULT.
var efault = answers{"": "EFAULT"}

// absentIf is want for an optional pointer, where NULL means "none" and
// the call answers absent.
func absentIf(want answers, absent string) answers {
	a := answers{"null": absent}
	for class, w := range want {
		if class != "null" {
			a[class] = w
		}
	}
	return a
}

// pointerRows makes one row per bad pointer: name/class, calling call with
// the pointer. The lapic row is TestKillLAPIC's.
func pointerRows(name string, d direction, want answers, call func(p uintptr) string) []row {
	var rows []row
	for _, p := range badPointers(d) {
		killer := ""
		if p.class == "lapic" {
			killer = "LAPIC"
		}
		rows = append(rows, row{name: name + "/" + p.class, want: want.of(p.class), killer: killer,
			call: func() string {
				if p.class == "lapic" {
					lapicPageFree()
				}
				return call(p.addr)
			}})
	}
	return rows
}

// lapicPageFree ends a row about to use the APIC's address when, on Linux,
// something is mapped there (the address is the program's to map): its
// call would overwrite it.
func lapicPageFree() {
	if !onHurdvm && mapped(lapicBase) {
		panic(setupError("lapic-page-mapped"))
	}
}

var (
	unmappedOnce sync.Once
	unmappedAddr uintptr
)

// unmappedPage is a page in the user half that nothing maps: the first
// of a few far from where either kernel puts anything (hurdvm's heap
// window ends at 1 TiB and its task window starts at 64 TiB) that mincore
// finds unmapped. Go's heap may land anywhere on Linux (its base is
// random), hence the check; on a kernel without mincore (hurdvm today)
// the first one is taken, which is outside hurdvm's windows.
func unmappedPage() uintptr {
	unmappedOnce.Do(func() {
		for _, a := range []uintptr{0x1000_0000_0000, 0x1234_5670_0000, 0x2000_0000_0000, 0x3000_0000_0000} {
			if !mapped(a) {
				unmappedAddr = a
				return
			}
		}
		panic(setupError("no-unmapped-page"))
	})
	return unmappedAddr
}

// mapped reports whether mincore finds the page at a mapped (a kernel
// without mincore says no).
func mapped(a uintptr) bool {
	_, e := sys(syscall.SYS_MINCORE, a, pageSize, scratch()+scratchVec)
	return e != syscall.ENOMEM && e != syscall.ENOSYS
}

var (
	scratchOnce sync.Once
	scratchAddr uintptr
)

// scratch is a page for the rows' helpers (not for the buffers under test):
// a struct to pass, a byte vector.
func scratch() uintptr {
	scratchOnce.Do(func() { scratchAddr = mapPages(1) })
	return scratchAddr
}
