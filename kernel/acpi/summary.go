package acpi

// String sums the MADT up for the kernel's boot line, e.g. "4 CPUs (APIC
// IDs 0-3), local APIC at 0xfee00000, 1 I/O APIC at 0xfec00000", with the
// entries that are online-capable or not enabled counted apart.
func (m *MADT) String() string {
	s := summary{cpus: m.CPUs, ioapics: m.IOAPICs, lapic: m.LocalAPICAddress}
	var t text
	s.write(&t) // counts
	t = text{buf: make([]byte, t.n)}
	s.write(&t)
	return string(t.buf)
}

// MADTSummary writes what MADT.String says of the MADT FindMADT gave into
// buf, as much as fits, and returns how many bytes it wrote. It allocates
// nothing: it reads the table where it is.
func MADTSummary(madt []byte, buf []byte) int {
	s := summary{table: madt, lapic: localAPICAddress(madt)}
	t := text{buf: buf}
	s.write(&t)
	return t.len()
}

// summary is what the line is made of: the MADT's slices, or the table
// itself when table is not nil (the kernel's, which has no slices).
type summary struct {
	table   []byte
	cpus    []CPU
	ioapics []IOAPIC
	lapic   uint64
}

// The three kinds of processor entry the line counts apart.
const (
	cpuKindEnabled = iota
	cpuKindCapable
	cpuKindDisabled
)

func cpuKind(c CPU) int {
	switch {
	case c.Enabled():
		return cpuKindEnabled
	case c.OnlineCapable():
		return cpuKindCapable
	}
	return cpuKindDisabled
}

// cpu returns the processor at position pos and the next position: an
// index into cpus, or an offset into the table.
func (s *summary) cpu(pos int) (CPU, int, bool) {
	if s.table == nil {
		if pos < len(s.cpus) {
			return s.cpus[pos], pos + 1, true
		}
		return CPU{}, pos, false
	}
	return MADTCPU(s.table, pos)
}

// ioapic is cpu for the I/O APICs' addresses.
func (s *summary) ioapic(pos int) (uint32, int, bool) {
	if s.table == nil {
		if pos < len(s.ioapics) {
			return s.ioapics[pos].Address, pos + 1, true
		}
		return 0, pos, false
	}
	w := newEntries(s.table)
	w.off = max(w.off, pos)
	for {
		typ, e, ok := w.next()
		if !ok {
			return 0, w.off, false
		}
		if typ == typeIOAPIC {
			return le32(e, 4), w.off, true
		}
	}
}

func (s *summary) write(t *text) {
	var n [3]int
	x2 := 0
	for c, pos, ok := s.cpu(0); ok; c, pos, ok = s.cpu(pos) {
		k := cpuKind(c)
		n[k]++
		if k == cpuKindEnabled && c.X2APIC {
			x2++
		}
	}
	t.count(n[cpuKindEnabled], "CPU", "CPUs")
	t.str(" (")
	s.ids(t, cpuKindEnabled, n[cpuKindEnabled])
	if x2 > 0 {
		t.str(", ")
		t.dec(uint64(x2))
		t.str(" by x2APIC entries")
	}
	t.str(")")
	if n[cpuKindCapable] > 0 {
		t.str(", ")
		t.dec(uint64(n[cpuKindCapable]))
		t.str(" more online-capable (")
		s.ids(t, cpuKindCapable, n[cpuKindCapable])
		t.str(")")
	}
	if n[cpuKindDisabled] > 0 {
		t.str(", ")
		t.count(n[cpuKindDisabled], "entry", "entries")
		t.str(" not enabled (")
		s.ids(t, cpuKindDisabled, n[cpuKindDisabled])
		t.str(")")
	}
	t.str(", local APIC at ")
	t.hex(s.lapic)
	io := 0
	for _, pos, ok := s.ioapic(0); ok; _, pos, ok = s.ioapic(pos) {
		io++
	}
	t.str(", ")
	t.count(io, "I/O APIC", "I/O APICs")
	i := 0
	for a, pos, ok := s.ioapic(0); ok; a, pos, ok = s.ioapic(pos) {
		if i == 0 {
			t.str(" at ")
		} else {
			t.str(", ")
		}
		t.hex(uint64(a))
		i++
	}
}

// ids writes the APIC IDs of the n processors of kind k as sorted runs:
// "APIC IDs 0-3,8", "APIC ID 0". It walks them in sorted order without
// sorting them into memory of its own: each step looks for the next ID
// among them all (quadratic, as duplicateID). An ID may repeat among the
// processors that are not enabled: the walk is over (ID, copy) pairs, and
// a repeated ID ends a run, as in a sorted list.
func (s *summary) ids(t *text, k, n int) {
	if n == 0 {
		t.str("no APIC IDs")
		return
	}
	if n == 1 {
		t.str("APIC ID ")
	} else {
		t.str("APIC IDs ")
	}
	v, r := s.least(k), 0
	for done := 0; ; {
		if done > 0 {
			t.byte(',')
		}
		first := v
		done++
		var nv uint32
		var nr int
		for done < n {
			nv, nr = s.succ(k, v, r)
			if nv != v+1 {
				break
			}
			v, r = nv, nr
			done++
		}
		t.dec(uint64(first))
		if v != first {
			t.byte('-')
			t.dec(uint64(v))
		}
		if done >= n {
			return
		}
		v, r = nv, nr
	}
}

// succ is the element after (v, its copy r) in the sorted list of the
// APIC IDs of kind k: one pass counts v's copies and finds the next ID.
func (s *summary) succ(k int, v uint32, r int) (uint32, int) {
	copies, next, found := 0, uint32(0), false
	for c, pos, ok := s.cpu(0); ok; c, pos, ok = s.cpu(pos) {
		switch {
		case cpuKind(c) != k:
		case c.APICID == v:
			copies++
		case c.APICID > v && (!found || c.APICID < next):
			next, found = c.APICID, true
		}
	}
	if r+1 < copies {
		return v, r + 1
	}
	return next, 0
}

// least is the smallest APIC ID of kind k.
func (s *summary) least(k int) uint32 {
	best, found := uint32(0), false
	for c, pos, ok := s.cpu(0); ok; c, pos, ok = s.cpu(pos) {
		if cpuKind(c) == k && (!found || c.APICID < best) {
			best, found = c.APICID, true
		}
	}
	return best
}

func (t *text) count(n int, one, many string) {
	if n == 1 {
		t.str("1 ")
		t.str(one)
		return
	}
	t.dec(uint64(n))
	t.byte(' ')
	t.str(many)
}

// count is text.count as a string.
func count(n int, one, many string) string {
	var t text
	t.count(n, one, many) // counts
	t = text{buf: make([]byte, t.n)}
	t.count(n, one, many)
	return string(t.buf)
}
