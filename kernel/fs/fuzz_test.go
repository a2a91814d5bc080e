package fs

import (
	"strings"
	"testing"
)

// byteSource turns fuzz input into the generator's choices; when it runs
// dry the sequence ends.
type byteSource struct {
	b   []byte
	out bool
}

func (s *byteSource) pick(n int) int {
	if len(s.b) < 2 {
		s.out = true
		return 0
	}
	v := int(s.b[0])<<8 | int(s.b[1])
	s.b = s.b[2:]
	return v % n
}

// FuzzFS runs random operation sequences (opGen, driven by the input) on
// the namespace parityFS builds and checks after each that nothing
// panicked and the invariants hold (checkInvariants: the tmpfs's
// accounting is exact, sizes and link counts are consistent), and at the
// end that every handle closes and the tmpfs's usage is back to what the
// remaining files hold.
func FuzzFS(f *testing.F) {
	for _, seed := range [][]byte{
		[]byte("\x00\x00\x00\x01\x00\x02\x00\x03"),
		[]byte(strings.Repeat("\x00\x07\x01\x02", 64)),
		[]byte(strings.Repeat("\x13\x37\x42\x00\x09\x10", 50)),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		var fsys *FS
		notify := func(h Handle, ev Events) {
			// Only pipes wake anyone, and what they report is so.
			if !fsys.Pollable(h) {
				t.Fatalf("notified handle %d is not a pipe", h)
			}
			if now, e := fsys.Poll(h); e != 0 || now != ev {
				t.Fatalf("notified %#x for handle %d, which polls %#x %v", ev, h, now, e)
			}
		}
		fsys = parityFS(t, notify)
		src := &byteSource{b: input}
		g := opGen{pick: src.pick, blocking: true}
		r := newScriptRunner(fsSystem{fsys})
		var script []string
		for i := 0; i < 400; i++ {
			line := g.line()
			if src.out {
				break
			}
			script = append(script, line)
			if _, err := r.run(line); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if err := checkInvariants(fsys); err != nil {
				t.Fatalf("after\n%s\n%v", strings.Join(script, "\n"), err)
			}
		}
		r.closeAll()
		if n := fsys.OpenHandles(); n != 0 {
			t.Fatalf("%d handles still open after closing them all", n)
		}
		if err := checkInvariants(fsys); err != nil {
			t.Fatalf("after closing everything, after\n%s\n%v", strings.Join(script, "\n"), err)
		}
	})
}
