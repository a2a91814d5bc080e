// Package vmmodel is a model of vm.h small enough to be obviously right:
// tasks, their regions and the bytes written into them, with the errors
// hurd_vm_allocate and hurd_vm_deallocate must give. Copy-on-write is
// modelled as what it must look like: a plain copy at fork. The
// differential testers (mm's FuzzVM on the host, tests/stress in the
// kernel) run the same operations on the real VM and on a Model and
// compare every result, every error and every byte read.
//
// The model follows the decisions hurdvm documents where vm.h is silent:
// unknown flags and size 0 are EINVAL for allocate; size 0 is a no-op for
// deallocate; without VM_HERE the region goes at the lowest free address
// of the window (2 MiB aligned for map_now regions of 2 MiB or more, when
// such a hole exists); ENOMEM is never modelled (the real VM may return
// it; the tester then checks that nothing changed).
package vmmodel

import "sort"

// vm.h's constants. The model does not import package mm (mm's own tests
// use the model); mm's tests check that these agree with mm's.
const (
	page     = 4096
	huge     = 2 << 20
	VMHere   = 1 << 0 // VM_HERE
	ZeroFill = 1 << 1 // VM_ZEROFILL
)

// Errors are the values the model returns for vm.h's errors: the tester
// passes mm's, so that results compare with ==. NoMem is Protect's answer
// for a range not wholly allocated (mprotect's ENOMEM).
type Errors struct{ Inval, Exist, NoSpace, NoMem error }

// Protections Protect takes (mm's Prot bits): none, read, read and write.
const (
	ProtNone  = 0
	ProtRead  = 1
	ProtWrite = 2
)

// Region is [Start, End).
type Region struct{ Start, End uintptr }

// Task is one modelled address space.
type Task struct {
	Regions []Region         // sorted, non-overlapping (merged or not: only coverage matters)
	Bytes   map[uintptr]byte // written bytes; every other byte of a region reads 0
	Prot    map[uintptr]int  // pages Protect took access from (ProtNone or ProtRead); others read and write
}

// Model is the state of every task, by the tester's task number.
type Model struct {
	WindowStart, WindowEnd uintptr
	Tasks                  map[int]*Task
	Err                    Errors
}

// New makes an empty model for tasks whose window is [start, end).
func New(start, end uintptr, errs Errors) *Model {
	return &Model{WindowStart: start, WindowEnd: end, Tasks: map[int]*Task{}, Err: errs}
}

// NewTask adds an empty task.
func (m *Model) NewTask(id int) {
	m.Tasks[id] = &Task{Bytes: map[uintptr]byte{}, Prot: map[uintptr]int{}}
}

// Fork makes child a copy of parent: regions and contents.
func (m *Model) Fork(parent, child int) {
	p := m.Tasks[parent]
	c := &Task{Regions: append([]Region(nil), p.Regions...), Bytes: make(map[uintptr]byte, len(p.Bytes)), Prot: make(map[uintptr]int, len(p.Prot))}
	for a, b := range p.Bytes {
		c.Bytes[a] = b
	}
	for a, p := range p.Prot {
		c.Prot[a] = p
	}
	m.Tasks[child] = c
}

// Destroy forgets a task.
func (m *Model) Destroy(id int) { delete(m.Tasks, id) }

func (t *Task) covered(a uintptr) bool {
	i := sort.Search(len(t.Regions), func(i int) bool { return t.Regions[i].End > a })
	return i < len(t.Regions) && t.Regions[i].Start <= a
}

func (t *Task) overlaps(s, e uintptr) bool {
	for _, r := range t.Regions {
		if r.Start < e && s < r.End {
			return true
		}
	}
	return false
}

func (m *Model) inWindow(s, size uintptr) bool {
	e := s + size
	return e > s && s >= m.WindowStart && e <= m.WindowEnd
}

// Allocate is what hurd_vm_allocate must do: the address the region gets,
// or the error.
func (m *Model) Allocate(id int, addr, size, flags uintptr, mapNow bool) (uintptr, error) {
	t := m.Tasks[id]
	if flags&^(VMHere|ZeroFill) != 0 || size == 0 || size%page != 0 {
		return 0, m.Err.Inval
	}
	if flags&VMHere != 0 {
		if addr%page != 0 || !m.inWindow(addr, size) {
			return 0, m.Err.Inval
		}
		if t.overlaps(addr, addr+size) {
			return 0, m.Err.Exist
		}
	} else {
		var ok bool
		if mapNow && size >= huge {
			addr, ok = m.firstFit(t, size, huge)
		}
		if !ok {
			addr, ok = m.firstFit(t, size, page)
		}
		if !ok {
			return 0, m.Err.NoSpace
		}
	}
	m.insert(t, Region{addr, addr + size})
	return addr, nil
}

func (m *Model) firstFit(t *Task, size, align uintptr) (uintptr, bool) {
	a := (m.WindowStart + align - 1) &^ (align - 1)
	for _, r := range t.Regions {
		if a+size <= r.Start {
			break
		}
		if r.End > a {
			a = (r.End + align - 1) &^ (align - 1)
		}
	}
	if a+size < a || a+size > m.WindowEnd {
		return 0, false
	}
	return a, true
}

func (m *Model) insert(t *Task, r Region) {
	i := sort.Search(len(t.Regions), func(i int) bool { return t.Regions[i].Start >= r.Start })
	t.Regions = append(t.Regions, Region{})
	copy(t.Regions[i+1:], t.Regions[i:])
	t.Regions[i] = r
}

// Deallocate is what hurd_vm_deallocate must do.
func (m *Model) Deallocate(id int, addr, size uintptr) error {
	t := m.Tasks[id]
	if addr%page != 0 || size%page != 0 {
		return m.Err.Inval
	}
	if size == 0 {
		return nil
	}
	if !m.inWindow(addr, size) {
		return m.Err.Inval
	}
	end := addr + size
	var out []Region
	for _, r := range t.Regions {
		if r.End <= addr || r.Start >= end {
			out = append(out, r)
			continue
		}
		if r.Start < addr {
			out = append(out, Region{r.Start, addr})
		}
		if r.End > end {
			out = append(out, Region{end, r.End})
		}
	}
	t.Regions = out
	for a := range t.Bytes {
		if a >= addr && a < end {
			delete(t.Bytes, a)
		}
	}
	for a := range t.Prot {
		if a >= addr && a < end {
			delete(t.Prot, a)
		}
	}
	return nil
}

// Protect is mprotect on [addr, addr+size) as hurdvm's VM does it
// (AddressSpace.Protect): EINVAL unaligned, ENOMEM (NoMem) unless every
// page is allocated, and then every page gets prot: none, read, or read
// and write. The bytes stay.
func (m *Model) Protect(id int, addr, size uintptr, prot int) error {
	t := m.Tasks[id]
	if addr%page != 0 || size%page != 0 {
		return m.Err.Inval
	}
	end := addr + size
	if end < addr {
		return m.Err.NoMem
	}
	for a := addr; a < end; a += page {
		if !t.covered(a) {
			return m.Err.NoMem
		}
	}
	for a := addr; a < end; a += page {
		if prot == ProtRead|ProtWrite {
			delete(t.Prot, a)
		} else {
			t.Prot[a] = prot
		}
	}
	return nil
}

// Read is the byte at a, or fault when a is in no region or its page
// was made PROT_NONE.
func (m *Model) Read(id int, a uintptr) (v byte, fault bool) {
	t := m.Tasks[id]
	if p, ok := t.Prot[a&^(page-1)]; !t.covered(a) || ok && p == ProtNone {
		return 0, true
	}
	return t.Bytes[a], false
}

// Write stores b at a, or reports the fault: no region, or a page
// Protect left without write access.
func (m *Model) Write(id int, a uintptr, b byte) (fault bool) {
	t := m.Tasks[id]
	if _, limited := t.Prot[a&^(page-1)]; !t.covered(a) || limited {
		return true
	}
	if b == 0 {
		delete(t.Bytes, a)
	} else {
		t.Bytes[a] = b
	}
	return false
}
