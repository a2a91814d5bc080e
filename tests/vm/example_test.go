//go:build hurdvm

package vm

import (
	"errors"
	"fmt"

	"hurdvm/mm"
)

// hurd_vm_allocate without VM_HERE finds room for the region itself; its
// pages get frames when first touched, zeroed (VM_ZEROFILL asks for that;
// hurdvm zeroes every page it gives). Part of a region can be given back.
func Example_vmAllocate() {
	var addr uintptr
	if err := mm.VMAllocate(&addr, 4*mm.PageSize, mm.VM_ZEROFILL, false); err != nil {
		fmt.Println(err)
		return
	}
	b := mm.Bytes(addr, 4*mm.PageSize)
	fmt.Println("page-aligned:", addr%mm.PageSize == 0, "zero-filled:", b[0] == 0 && b[len(b)-1] == 0)
	b[mm.PageSize] = 42 // the first touch of page 1: a fault, a zeroed frame
	fmt.Println("page 1 holds", b[mm.PageSize])

	// The same range again, exactly there: in use.
	here := addr
	err := mm.VMAllocate(&here, mm.PageSize, mm.VM_HERE, false)
	fmt.Println("VM_HERE over the region:", errors.Is(err, mm.EEXIST))

	// Give back the last two pages, then the rest; a part that is not
	// mapped is ignored.
	fmt.Println(mm.VMDeallocate(addr+2*mm.PageSize, 2*mm.PageSize), mm.VMDeallocate(addr, 4*mm.PageSize))
	// Output:
	// page-aligned: true zero-filled: true
	// page 1 holds 42
	// VM_HERE over the region: true
	// <nil> <nil>
}

// A size that is not a multiple of the page size is EINVAL.
func Example_vmAllocateBadSize() {
	var addr uintptr
	err := mm.VMAllocate(&addr, 100, 0, false)
	fmt.Println(errors.Is(err, mm.EINVAL))
	// Output: true
}
