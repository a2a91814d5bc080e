package store

import "testing"

// FuzzStore runs random sequences of Put, Get, Dup, Free, failing frame
// allocations and capacity changes on a store and on a reference model (a
// map from slot to the page's recipe and its reference count), and checks:
// every Get returns what was Put; a freed slot is stale; ErrFull comes
// exactly when the model holds the capacity; a failed Put changes nothing;
// the store's invariants (Compressed.check) hold along the way; and once
// every reference is dropped the store holds no frame.
//
// Input: byte 0 the capacity (1 to 256 pages), byte 1 the frames the store
// may hold (8 to 263), then operations of 3 bytes: opcode, two arguments.
func FuzzStore(f *testing.F) {
	f.Add([]byte{16, 40, 0, 0, 1, 0, 1, 2, 0, 3, 4, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0})
	f.Add([]byte{255, 255, 0, 0, 0, 0, 1, 1, 0, 1, 2, 0, 3, 3, 0, 0, 3, 0, 4, 0, 0, 5, 0, 0, 6, 1, 0, 7, 2, 0})
	f.Add([]byte{2, 0, 0, 1, 1, 0, 1, 2, 0, 1, 3, 0, 1, 4, 5, 0, 0, 0, 0, 0, 0, 1})
	var seed []byte
	seed = append(seed, 200, 8)
	for i := range 120 {
		seed = append(seed, byte(i%4), byte(i), byte(i*7))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) { runStore(t, data) })
}

// putFrames is the most frames one Put takes: a 4-frame zspage, a table
// frame and a directory frame.
const putFrames = maxZspageFrames + 2

// modelPage is a slot's expected contents (made by fillKind) and references.
type modelPage struct {
	kind int
	seed uint64
	refs uint32
}

func runStore(t *testing.T, data []byte) {
	in := fuzzInput(data)
	capPages := uint64(in.u8()) + 1
	m := newSimFrames(8 + 256)
	m.limit = 8 + in.u8()
	s := New(m, capPages*PageSize)
	model := map[Slot]*modelPage{}
	var live []Slot // the model's slots, in Put order
	var stale []Slot
	var p, q [PageSize]byte

	pick := func(b int) (Slot, bool) {
		if len(live) == 0 {
			return 0, false
		}
		return live[b%len(live)], true
	}
	for op := 0; len(in) > 0; op++ {
		code, a, b := in.u8(), in.u8(), in.u8()
		switch code % 8 {
		case 0, 1: // Put: a picks the kind, b the seed
			kind := a % numKinds
			fillKind(&p, kind, uint64(b)|uint64(a)<<8)
			before, held, armed := s.Stats(), m.held, m.failAt > 0
			sl, err := s.Put(&p)
			full := uint64(len(live)) >= capPages
			switch {
			case kind == kindZero:
				if sl != ZeroSlot || err != nil {
					t.Fatalf("op %d: Put(zero page) = %#x, %v", op, sl, err)
				}
				continue
			case err == ErrFull && full, err == ErrNoFrames && !full && (armed || held+putFrames > m.limit):
				before.Puts++
				if err == ErrFull {
					before.FullPuts++
				} else {
					before.FramePuts++
				}
				if s.Stats() != before || m.held != held {
					t.Fatalf("op %d: failed Put (%v) changed the store: %+v, was %+v; %d frames, was %d",
						op, err, s.Stats(), before, m.held, held)
				}
				continue
			case err != nil || full:
				t.Fatalf("op %d: Put with %d of %d pages held = %#x, %v", op, len(live), capPages, sl, err)
			}
			if sl == ZeroSlot || sl > MaxSlot || model[sl] != nil {
				t.Fatalf("op %d: Put returned slot %#x, in use or invalid", op, sl)
			}
			model[sl] = &modelPage{kind: kind, seed: uint64(b) | uint64(a)<<8, refs: 1}
			live = append(live, sl)
		case 2: // Get a live slot
			sl, ok := pick(a)
			if !ok {
				continue
			}
			mp := model[sl]
			fillKind(&p, mp.kind, mp.seed)
			fillRandom(&q, uint64(op))
			if err := s.Get(sl, &q); err != nil || q != p {
				t.Fatalf("op %d: Get(%#x) = %v, page intact %v", op, sl, err, q == p)
			}
		case 3: // Dup a live slot
			sl, ok := pick(a)
			if !ok {
				continue
			}
			if err := s.Dup(sl); err != nil {
				t.Fatalf("op %d: Dup(%#x) = %v", op, sl, err)
			}
			model[sl].refs++
		case 4, 5: // Free a live slot
			sl, ok := pick(a)
			if !ok {
				continue
			}
			if err := s.Free(sl); err != nil {
				t.Fatalf("op %d: Free(%#x) = %v", op, sl, err)
			}
			mp := model[sl]
			if mp.refs--; mp.refs == 0 {
				delete(model, sl)
				i := a % len(live)
				live = append(live[:i], live[i+1:]...)
				stale = append(stale, sl)
			}
		case 6: // a stale slot is refused
			if len(stale) == 0 {
				continue
			}
			sl := stale[a%len(stale)]
			if model[sl] != nil {
				continue // reissued: an entry's generation wrapped (not in short runs)
			}
			if err := s.Get(sl, &q); err != ErrBadSlot {
				t.Fatalf("op %d: Get of freed slot %#x = %v", op, sl, err)
			}
			if s.Free(sl) != ErrBadSlot || s.Dup(sl) != ErrBadSlot || s.Refs(sl) != 0 {
				t.Fatalf("op %d: freed slot %#x accepted", op, sl)
			}
		case 7: // the b-th Alloc from now fails; or the capacity changes
			if a%2 == 0 {
				m.failAt = b%8 + 1
			} else {
				capPages = uint64(b) + 1
				s.SetCapacity(capPages * PageSize)
			}
		}
		for sl, mp := range model {
			if s.Refs(sl) != mp.refs {
				t.Fatalf("op %d: Refs(%#x) = %d, model %d", op, sl, s.Refs(sl), mp.refs)
			}
			break // one per op: map order spreads them
		}
		if op%16 == 0 {
			mustCheck(t, s, m)
		}
	}
	mustCheck(t, s, m)
	m.failAt = 0
	for _, sl := range live {
		mp := model[sl]
		fillKind(&p, mp.kind, mp.seed)
		if err := s.Get(sl, &q); err != nil || q != p {
			t.Fatalf("end: Get(%#x) = %v, intact %v", sl, err, q == p)
		}
		for ; mp.refs > 0; mp.refs-- {
			if err := s.Free(sl); err != nil {
				t.Fatalf("end: Free(%#x) = %v", sl, err)
			}
		}
	}
	mustCheck(t, s, m)
	if st := s.Stats(); m.held != 0 || st.Frames() != 0 || st.Pages != 0 || st.Refs != 0 || st.CompressedBytes != 0 {
		t.Fatalf("everything freed, yet %d frames held: %+v", m.held, st)
	}
}

// fuzzInput hands out the fuzz input a byte at a time, zeros past its end.
type fuzzInput []byte

func (in *fuzzInput) u8() int {
	if len(*in) == 0 {
		return 0
	}
	b := (*in)[0]
	*in = (*in)[1:]
	return int(b)
}
