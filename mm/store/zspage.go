// Context: handler (see compressed.go).

package store

import "unsafe"

// A zspage holds the objects of one size class: classes[c].frames frames
// from Frames, not necessarily contiguous, seen as one run of bytes. The
// first frame starts with the header; object i lies at zsHeaderSize +
// i*size of the run, and may straddle two frames. Objects are multiples of
// classAlign in size and place, so the 2-byte free-list link at the start
// of a free object never straddles.
//
// Free objects: those below fresh that were freed, linked from free through
// their first 2 bytes; objects from fresh up have never been used (so a new
// zspage needs no free list built). A class's zspages with free objects are
// on its partial list, doubly linked through the headers by the physical
// address of their first frames; a zspage is found by that address, which
// is what an entry's loc holds. A full zspage is on no list; an empty one
// goes back to Frames at once.
//
// Which zspage takes the next object: the head of the list. New zspages and
// full ones that get a free object go to the head, so allocation fills the
// nearly full ones and the rest drain (zsmalloc sorts by fullness and
// compacts; the slot table's indirection leaves room for compaction).
type zspageHeader struct {
	class      uint16
	inuse      uint16 // objects in use
	free       uint16 // first freed object, noObject when none
	fresh      uint16 // objects below this one have been handed out
	prev, next uint64 // neighbors on the partial list, nilPhys at the ends
	frames     [maxZspageFrames]uint64
}

const (
	nilPhys  = ^uint64(0)
	noObject = 0xffff
	objMask  = PageSize - 1 // an entry's loc: object index in the low bits
)

var _ [zsHeaderSize - unsafe.Sizeof(zspageHeader{})]byte // the header fits its room

func (s *Compressed) header(zs uint64) *zspageHeader {
	return (*zspageHeader)(unsafe.Pointer(s.frames.Page(zs)))
}

// objectAt returns where object idx of zspage h starts: the frame (index
// into h.frames) and the offset in it.
func objectAt(h *zspageHeader, idx uint64) (k, off uint64) {
	at := zsHeaderSize + idx*uint64(classes[h.class].size)
	return at / PageSize, at % PageSize
}

// allocObject takes a free object of class c, in a new zspage if no
// zspage of the class has one, and returns its loc. It fails with nothing
// changed when a new zspage cannot get its frames.
func (s *Compressed) allocObject(c int) (uint64, bool) {
	zs := s.partial[c]
	if zs == nilPhys {
		var ok bool
		if zs, ok = s.newZspage(c); !ok {
			return 0, false
		}
	}
	h := s.header(zs)
	idx := uint64(h.free)
	if idx != noObject {
		h.free = *s.link(h, idx)
	} else {
		idx = uint64(h.fresh)
		h.fresh++
	}
	h.inuse++
	if uint32(h.inuse) == classes[c].objects {
		s.unlink(c, zs, h)
	}
	return zs | idx, true
}

// freeObject gives back the object at loc; a zspage left empty goes back
// to Frames.
func (s *Compressed) freeObject(loc uint64) {
	zs, idx := loc&^objMask, loc&objMask
	h := s.header(zs)
	c := int(h.class)
	wasFull := uint32(h.inuse) == classes[c].objects
	h.inuse--
	if h.inuse == 0 {
		if !wasFull {
			s.unlink(c, zs, h)
		}
		frames, n := h.frames, classes[c].frames
		for k := uint32(0); k < n && k < maxZspageFrames; k++ {
			s.frames.Free(frames[k])
		}
		s.st.DataFrames -= uint64(n)
		return
	}
	*s.link(h, idx) = h.free
	h.free = uint16(idx)
	if wasFull {
		s.pushPartial(c, zs, h)
	}
}

// newZspage makes an empty zspage of class c and puts it at the head of
// the class's list. With too few frames it gives back those it got.
func (s *Compressed) newZspage(c int) (uint64, bool) {
	n := classes[c].frames
	var frames [maxZspageFrames]uint64
	for k := uint32(0); k < n && k < maxZspageFrames; k++ {
		f, ok := s.frames.Alloc()
		if !ok {
			for j := uint32(0); j < k; j++ {
				s.frames.Free(frames[j])
			}
			return 0, false
		}
		frames[k] = f
	}
	zs := frames[0]
	h := s.header(zs)
	*h = zspageHeader{class: uint16(c), free: noObject, prev: nilPhys, next: nilPhys, frames: frames}
	s.st.DataFrames += uint64(n)
	s.pushPartial(c, zs, h)
	return zs, true
}

// link is the free-list link at the start of object idx.
func (s *Compressed) link(h *zspageHeader, idx uint64) *uint16 {
	k, off := objectAt(h, idx)
	return (*uint16)(unsafe.Pointer(&s.frames.Page(h.frames[k])[off]))
}

func (s *Compressed) pushPartial(c int, zs uint64, h *zspageHeader) {
	h.prev, h.next = nilPhys, s.partial[c]
	if h.next != nilPhys {
		s.header(h.next).prev = zs
	}
	s.partial[c] = zs
}

func (s *Compressed) unlink(c int, zs uint64, h *zspageHeader) {
	if h.prev != nilPhys {
		s.header(h.prev).next = h.next
	} else {
		s.partial[c] = h.next
	}
	if h.next != nilPhys {
		s.header(h.next).prev = h.prev
	}
	h.prev, h.next = nilPhys, nilPhys
}

// writeObject copies b into the object at loc.
func (s *Compressed) writeObject(loc uint64, b []byte) {
	h := s.header(loc &^ objMask)
	k, off := objectAt(h, loc&objMask)
	f := s.frames.Page(h.frames[k])
	n := copy(f[off:], b)
	if n < len(b) {
		copy(s.frames.Page(h.frames[k+1])[:], b[n:])
	}
}

// readObject returns the n bytes of the object at loc: in its frame when
// they lie in one, else gathered into s.gather.
func (s *Compressed) readObject(loc uint64, n int) []byte {
	h := s.header(loc &^ objMask)
	k, off := objectAt(h, loc&objMask)
	f := s.frames.Page(h.frames[k])
	if int(off)+n <= PageSize {
		return f[off : int(off)+n]
	}
	first := copy(s.gather[:n], f[off:])
	copy(s.gather[first:n], s.frames.Page(h.frames[k+1])[:])
	return s.gather[:n]
}
