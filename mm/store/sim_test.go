package store

import (
	"fmt"
	"unsafe"
)

// simFrames is Frames over a simulated physical memory: an arena of frames
// starting at physical address 0 (a frame like any other). It checks its
// callers: Page of a frame not allocated, a double free and a foreign
// address panic (failing the test); a freed frame is filled with a poison
// byte, so data read after its release shows.
//
// failAt makes the failAt-th Alloc from now fail (1 the next), once;
// limit caps the frames held; noPoison (for benchmarks) leaves freed frames
// as they are.
type simFrames struct {
	mem      []byte
	used     []bool
	free     []uint64 // a stack of free frames, the lowest on top
	held     int
	limit    int
	failAt   int
	allocs   int // successful Allocs so far
	noPoison bool
}

const poison = 0xa5

func newSimFrames(n int) *simFrames {
	buf := make([]byte, (n+1)*PageSize)
	off := int(-uintptr(unsafe.Pointer(&buf[0])) & (PageSize - 1))
	m := &simFrames{mem: buf[off : off+n*PageSize], used: make([]bool, n), limit: n}
	for i := n - 1; i >= 0; i-- {
		m.free = append(m.free, uint64(i)*PageSize)
	}
	for i := range m.mem {
		m.mem[i] = poison
	}
	return m
}

func (m *simFrames) Alloc() (uint64, bool) {
	if m.failAt > 0 {
		m.failAt--
		if m.failAt == 0 {
			return 0, false
		}
	}
	if len(m.free) == 0 || m.held >= m.limit {
		return 0, false
	}
	pa := m.free[len(m.free)-1]
	m.free = m.free[:len(m.free)-1]
	m.used[pa/PageSize] = true
	m.held++
	m.allocs++
	return pa, true
}

func (m *simFrames) Free(pa uint64) {
	m.check(pa)
	m.used[pa/PageSize] = false
	m.held--
	if !m.noPoison {
		p := m.page(pa)
		for i := range p {
			p[i] = poison
		}
	}
	m.free = append(m.free, pa)
}

func (m *simFrames) Page(pa uint64) *[PageSize]byte {
	m.check(pa)
	return m.page(pa)
}

func (m *simFrames) page(pa uint64) *[PageSize]byte {
	return (*[PageSize]byte)(m.mem[pa : pa+PageSize])
}

func (m *simFrames) check(pa uint64) {
	if pa%PageSize != 0 || pa/PageSize >= uint64(len(m.used)) || !m.used[pa/PageSize] {
		panic(fmt.Sprintf("simFrames: frame %#x is not allocated", pa))
	}
}

// newTestStore returns a store of the given capacity over a new simFrames
// of the given number of frames.
func newTestStore(frames int, capacity uint64) (*simFrames, *Compressed) {
	m := newSimFrames(frames)
	return m, New(m, capacity)
}
