package acpi

// The system description tables: every table after the RSDP starts with
// the same 36-byte header (ACPI 6.5, 5.2.6), and the root table, the RSDT
// (5.2.7, 32-bit physical addresses) or the XSDT (5.2.8, 64-bit), lists
// the others.

const headerLength = 36

// Header is a system description table's header (5.2.6).
type Header struct {
	Signature       [4]byte
	Length          uint32 // of the whole table, header included
	Revision        uint8
	Checksum        uint8
	OEMID           [6]byte
	OEMTableID      [8]byte
	OEMRevision     uint32
	CreatorID       [4]byte
	CreatorRevision uint32
}

func parseHeader(b []byte) Header {
	var h Header
	copy(h.Signature[:], b[0:4])
	h.Length = le32(b, 4)
	h.Revision = b[8]
	h.Checksum = b[9]
	copy(h.OEMID[:], b[10:16])
	copy(h.OEMTableID[:], b[16:24])
	h.OEMRevision = le32(b, 24)
	copy(h.CreatorID[:], b[28:32])
	h.CreatorRevision = le32(b, 32)
	return h
}

// checkTable validates a table held in b: its signature is sig, its
// Length is at least the header and at most len(b), and its bytes sum to
// zero. It returns the table cut to its Length. at (when hasAt) is where
// it is, for the messages.
func checkTable(b []byte, sig string, at uint64, hasAt bool) ([]byte, Fault) {
	if len(b) < headerLength {
		return nil, tableFault(fTableShort, sig, at, hasAt, uint64(len(b)), 0)
	}
	if string(b[:4]) != sig {
		f := tableFault(fTableSignature, sig, at, hasAt, 0, 0)
		copy(f.got[:], b[:4])
		return nil, f
	}
	n := le32(b, 4)
	if n < headerLength {
		return nil, tableFault(fTableLengthShort, sig, at, hasAt, uint64(n), 0)
	}
	if uint64(n) > uint64(len(b)) {
		return nil, tableFault(fTableLength, sig, at, hasAt, uint64(n), uint64(len(b)))
	}
	b = b[:n]
	if sum(b) != 0 {
		return nil, tableFault(fTableChecksum, sig, at, hasAt, 0, 0)
	}
	return b, Fault{}
}

// readTable reads and validates the table with signature sig at physical
// address pa: first its header, for the Length, then the whole table,
// which must lie in memory the Memory function gives.
func readTable(mem Memory, pa uint64, sig string) ([]byte, Fault) {
	h := mem.read(pa, headerLength)
	if h == nil {
		return nil, tableFault(fTableOutside, sig, pa, true, 0, 0)
	}
	if string(h[:4]) != sig {
		f := tableFault(fTableSignature, sig, pa, true, 0, 0)
		copy(f.got[:], h[:4])
		return nil, f
	}
	n := le32(h, 4)
	if n < headerLength {
		return nil, tableFault(fTableLengthShort, sig, pa, true, uint64(n), 0)
	}
	b := mem.read(pa, int(n))
	if b == nil {
		return nil, tableFault(fTablePastMemory, sig, pa, true, uint64(n), 0)
	}
	return checkTable(b, sig, pa, true)
}

// rootTable is a root table (RSDT or XSDT) as the walk keeps it, on the
// stack: Tables is its exported form.
type rootTable struct {
	header    Header
	addr      uint64
	entries   []byte // the root table's body: 4- or 8-byte addresses
	entrySize int
}

// readRoot reads the root table the RSDP gives (RSDP.Tables); xsdt is why
// the XSDT was not used, when the RSDP gives one.
func readRoot(mem Memory, r RSDP) (t rootTable, xsdt, f Fault) {
	if r.Revision >= 2 && r.XSDT != 0 {
		b, f := readTable(mem, r.XSDT, "XSDT")
		if !f.Failed() {
			return newRoot(b, r.XSDT, 8), Fault{}, Fault{}
		}
		xsdt = f
	}
	if r.RSDT == 0 {
		if xsdt.Failed() {
			return rootTable{}, Fault{}, xsdt
		}
		return rootTable{}, Fault{}, Fault{code: fNoRoot}
	}
	b, f := readTable(mem, uint64(r.RSDT), "RSDT")
	if f.Failed() {
		if xsdt.Failed() {
			return rootTable{}, Fault{}, xsdt // the XSDT's problem came first
		}
		return rootTable{}, Fault{}, f
	}
	return newRoot(b, uint64(r.RSDT), 4), xsdt, Fault{}
}

func newRoot(root []byte, at uint64, entrySize int) rootTable {
	body := root[headerLength:]
	// A body that is not a whole number of entries has its tail
	// ignored, as ACPICA does.
	body = body[:len(body)/entrySize*entrySize]
	return rootTable{header: parseHeader(root), addr: at, entries: body, entrySize: entrySize}
}

func (t *rootTable) len() int { return len(t.entries) / t.entrySize }

func (t *rootTable) address(i int) uint64 {
	if t.entrySize == 8 {
		return le64(t.entries, i*8)
	}
	return uint64(le32(t.entries, i*4))
}

// find is Tables.Find.
func (t *rootTable) find(mem Memory, sig string) ([]byte, uint64, Fault) {
	var skipped Fault
	for i := 0; i < t.len(); i++ {
		pa := t.address(i)
		h := mem.read(pa, headerLength)
		if h == nil {
			if !skipped.hasAt {
				skipped.hasAt, skipped.at, skipped.i = true, pa, uint64(i)
			}
			continue
		}
		if string(h[:4]) != sig {
			continue
		}
		b, f := readTable(mem, pa, sig)
		return b, pa, f
	}
	f := tableFault(fNoTable, sig, 0, false, 0, 0)
	f.hasAt, f.at, f.i = skipped.hasAt, skipped.at, skipped.i
	f.root = t.header.Signature
	return nil, 0, f
}

// Tables is the list of tables a root table (RSDT or XSDT) gives.
type Tables struct {
	mem Memory
	// Root is the root table's header; its signature says which it is.
	Root Header
	// RootAddress is the root table's physical address.
	RootAddress uint64
	// XSDTError says why the XSDT was not used when the RSDP gives one
	// (nil when it is used, or when there is none): firmware that gets
	// the XSDT wrong and the RSDT right is why the RSDT is the fallback.
	XSDTError error
	root      rootTable
}

// Tables reads the root table the RSDP gives: the XSDT when the RSDP has
// one (revision 2 on) and it is valid, the RSDT otherwise (5.2.5.3: "OSPM
// must use the XSDT" when present; Linux's ACPICA falls back to the RSDT
// when the XSDT is unusable, and so does this).
func (r RSDP) Tables(mem Memory) (*Tables, error) {
	root, xsdt, f := readRoot(mem, r)
	if f.Failed() {
		return nil, f.err()
	}
	return &Tables{mem: mem, Root: root.header, RootAddress: root.addr, XSDTError: xsdt.err(), root: root}, nil
}

// Len is the number of tables the root table lists.
func (t *Tables) Len() int { return t.root.len() }

// Address is the physical address of the i-th table listed.
func (t *Tables) Address(i int) uint64 { return t.root.address(i) }

// Find returns the first table with signature sig (e.g. "APIC" for the
// MADT), validated, and its physical address. Entries that cannot be read
// are passed over (they may be tables no one needs); if sig is not found,
// the error says the first of them.
func (t *Tables) Find(sig string) ([]byte, uint64, error) {
	b, pa, f := t.root.find(t.mem, sig)
	if f.Failed() {
		name := ""
		if len(sig) > len(f.sig) {
			name = sig
		}
		return nil, pa, f.errNamed(name)
	}
	return b, pa, nil
}
