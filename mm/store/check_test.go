package store

import "fmt"

// check walks the whole store and verifies its invariants against its
// counters and against the frames m says it holds: every entry in use points
// at data of its class, the free list holds the other entries once each,
// each zspage's use count is the number of entries in it and it is on its
// class's partial list exactly when it has room, and the counters add up.
func (s *Compressed) check(m *simFrames) error {
	var pages, raw, refs, bytes, rawFrames uint64
	inZspage := map[uint64]uint32{}
	objects := map[uint64]bool{}
	for i := uint32(0); i < s.nEntries; i++ {
		e := s.entry(i)
		if e.refs() == 0 {
			continue
		}
		pages++
		refs += e.refs()
		n := e.length()
		bytes += uint64(n)
		if n == PageSize {
			raw++
			rawFrames++
			continue
		}
		if n == 0 || n > maxCompressed {
			return fmt.Errorf("entry %d: length %d", i, n)
		}
		if objects[e.loc] {
			return fmt.Errorf("entry %d: object %#x held twice", i, e.loc)
		}
		objects[e.loc] = true
		zs := e.loc &^ objMask
		h := s.header(zs)
		if int(h.class) != classFor(int(n)) {
			return fmt.Errorf("entry %d: %d bytes in a zspage of class %d", i, n, h.class)
		}
		if uint32(e.loc&objMask) >= uint32(h.fresh) {
			return fmt.Errorf("entry %d: object %d past fresh %d", i, e.loc&objMask, h.fresh)
		}
		inZspage[zs]++
	}
	freeEntries := uint32(0)
	seen := map[uint32]bool{}
	for j := s.freeHead; j != 0; j = uint32(s.entry(j - 1).loc) {
		if j > s.nEntries || seen[j] {
			return fmt.Errorf("free list: entry %d out of range or twice", j-1)
		}
		seen[j] = true
		if s.entry(j-1).refs() != 0 {
			return fmt.Errorf("free list: entry %d in use", j-1)
		}
		freeEntries++
	}
	if uint64(freeEntries)+pages != uint64(s.nEntries) {
		return fmt.Errorf("%d free entries + %d in use != %d entries", freeEntries, pages, s.nEntries)
	}

	onList := map[uint64]bool{}
	for c := 0; c < numClasses; c++ {
		prev := nilPhys
		for zs := s.partial[c]; zs != nilPhys; zs = s.header(zs).next {
			h := s.header(zs)
			if h.prev != prev || int(h.class) != c || onList[zs] {
				return fmt.Errorf("class %d: partial list broken at %#x", c, zs)
			}
			if h.inuse == 0 || uint32(h.inuse) >= classes[c].objects {
				return fmt.Errorf("class %d: zspage %#x with %d of %d objects on the partial list", c, zs, h.inuse, classes[c].objects)
			}
			onList[zs] = true
			prev = zs
		}
	}
	zsFrames := uint64(0)
	for zs, n := range inZspage {
		h := s.header(zs)
		cl := classes[h.class]
		if uint32(h.inuse) != n {
			return fmt.Errorf("zspage %#x: header says %d objects in use, entries %d", zs, h.inuse, n)
		}
		if uint32(h.inuse) < cl.objects && !onList[zs] {
			return fmt.Errorf("zspage %#x: %d of %d objects used, not on the partial list", zs, n, cl.objects)
		}
		if h.frames[0] != zs {
			return fmt.Errorf("zspage %#x: first frame %#x", zs, h.frames[0])
		}
		// Free objects: the list, then fresh ones, make up the rest.
		free := 0
		for idx := h.free; idx != noObject; idx = *s.link(h, uint64(idx)) {
			if uint32(idx) >= uint32(h.fresh) || objects[zs|uint64(idx)] || free > int(cl.objects) {
				return fmt.Errorf("zspage %#x: free list holds object %d", zs, idx)
			}
			free++
		}
		if free+int(h.inuse) != int(h.fresh) {
			return fmt.Errorf("zspage %#x: %d free + %d in use != %d handed out", zs, free, h.inuse, h.fresh)
		}
		zsFrames += uint64(cl.frames)
	}
	for zs := range onList {
		if inZspage[zs] == 0 {
			return fmt.Errorf("zspage %#x on a list holds nothing", zs)
		}
	}

	st := s.Stats()
	tables := uint64(s.nEntries / entriesPerFrame)
	tables += (tables + dirPerFrame - 1) / dirPerFrame
	switch {
	case st.Pages != pages, st.RawPages != raw, st.Refs != refs, st.CompressedBytes != bytes:
		return fmt.Errorf("stats %+v: entries say pages %d raw %d refs %d bytes %d", st, pages, raw, refs, bytes)
	case st.DataFrames != rawFrames+zsFrames:
		return fmt.Errorf("stats: %d data frames, counted %d raw + %d in zspages", st.DataFrames, rawFrames, zsFrames)
	case st.TableFrames != tables:
		return fmt.Errorf("stats: %d table frames, %d entries need %d", st.TableFrames, s.nEntries, tables)
	case m != nil && uint64(m.held) != st.Frames():
		return fmt.Errorf("frames: %d held, stats say %d", m.held, st.Frames())
	case pages == 0 && s.nEntries != 0:
		return fmt.Errorf("empty store keeps %d table entries", s.nEntries)
	}
	return nil
}
