//go:build hurdvm

package tasks

import (
	"fmt"

	"hurdvm/mm"
)

// A task is an address space of its own: VMAllocate inside Run acts on
// it. Fork gives a child the parent's regions copy-on-write (vm.h: "The
// region is initially set to be inherited COW by its children"): both
// read the same frame until one writes, and a write is seen by its writer
// alone.
func Example_fork() {
	parent, err := mm.NewTask()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer parent.Destroy()
	var addr uintptr
	parent.Run(func() {
		if err := mm.VMAllocate(&addr, mm.PageSize, 0, true); err != nil {
			panic(err)
		}
		mm.Bytes(addr, 1)[0] = 'p'
	})

	child, err := parent.Fork()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer child.Destroy()
	child.Run(func() { mm.Bytes(addr, 1)[0] = 'c' }) // a copy-on-write fault

	var inParent, inChild byte
	parent.Run(func() { inParent = mm.Bytes(addr, 1)[0] })
	child.Run(func() { inChild = mm.Bytes(addr, 1)[0] })
	st, _ := child.Stats()
	fmt.Printf("parent %c, child %c, the child's copies %d\n", inParent, inChild, st.COWCopies)
	// Output: parent p, child c, the child's copies 1
}
