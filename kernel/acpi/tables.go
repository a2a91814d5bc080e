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
// zero. It returns the table cut to its Length. where (" at 0x...", or
// empty) is for the messages.
func checkTable(b []byte, sig, where string) ([]byte, error) {
	if len(b) < headerLength {
		return nil, newError(ErrTruncated, sig, where, " has ", dec(uint64(len(b))), " bytes, fewer than its 36-byte header")
	}
	if string(b[:4]) != sig {
		return nil, newError(ErrSignature, "table", where, " has signature ", quote(b[:4]), ", not ", quote([]byte(sig)))
	}
	n := le32(b, 4)
	if n < headerLength {
		return nil, newError(ErrTruncated, sig, where, " gives length ", dec(uint64(n)), ", shorter than its header")
	}
	if uint64(n) > uint64(len(b)) {
		return nil, newError(ErrTruncated, sig, where, " gives length ", dec(uint64(n)), " with ", dec(uint64(len(b))), " bytes at hand")
	}
	b = b[:n]
	if sum(b) != 0 {
		return nil, newError(ErrChecksum, sig, " checksum mismatch", where)
	}
	return b, nil
}

// readTable reads and validates the table with signature sig at physical
// address pa: first its header, for the Length, then the whole table,
// which must lie in memory the Memory function gives.
func readTable(mem Memory, pa uint64, sig string) ([]byte, error) {
	where := " at " + hex(pa)
	h := mem.read(pa, headerLength)
	if h == nil {
		return nil, newError(ErrOutsideMemory, sig, where, " is outside memory")
	}
	if string(h[:4]) != sig {
		return nil, newError(ErrSignature, "table", where, " has signature ", quote(h[:4]), ", not ", quote([]byte(sig)))
	}
	n := le32(h, 4)
	if n < headerLength {
		return nil, newError(ErrTruncated, sig, where, " gives length ", dec(uint64(n)), ", shorter than its header")
	}
	b := mem.read(pa, int(n))
	if b == nil {
		return nil, newError(ErrOutsideMemory, sig, where, " runs past memory (length ", dec(uint64(n)), ")")
	}
	return checkTable(b, sig, where)
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
	entries   []byte // the root table's body: 4- or 8-byte addresses
	entrySize int
}

// Tables reads the root table the RSDP gives: the XSDT when the RSDP has
// one (revision 2 on) and it is valid, the RSDT otherwise (5.2.5.3: "OSPM
// must use the XSDT" when present; Linux's ACPICA falls back to the RSDT
// when the XSDT is unusable, and so does this).
func (r RSDP) Tables(mem Memory) (*Tables, error) {
	var xsdtErr error
	if r.Revision >= 2 && r.XSDT != 0 {
		b, err := readTable(mem, r.XSDT, "XSDT")
		if err == nil {
			return newTables(mem, b, r.XSDT, 8), nil
		}
		xsdtErr = err
	}
	if r.RSDT == 0 {
		if xsdtErr != nil {
			return nil, xsdtErr
		}
		return nil, newError(ErrNotFound, "the RSDP gives no RSDT or XSDT")
	}
	b, err := readTable(mem, uint64(r.RSDT), "RSDT")
	if err != nil {
		if xsdtErr != nil {
			return nil, xsdtErr // the XSDT's problem came first
		}
		return nil, err
	}
	t := newTables(mem, b, uint64(r.RSDT), 4)
	t.XSDTError = xsdtErr
	return t, nil
}

func newTables(mem Memory, root []byte, at uint64, entrySize int) *Tables {
	body := root[headerLength:]
	// A body that is not a whole number of entries has its tail
	// ignored, as ACPICA does.
	body = body[:len(body)/entrySize*entrySize]
	return &Tables{mem: mem, Root: parseHeader(root), RootAddress: at, entries: body, entrySize: entrySize}
}

// Len is the number of tables the root table lists.
func (t *Tables) Len() int { return len(t.entries) / t.entrySize }

// Address is the physical address of the i-th table listed.
func (t *Tables) Address(i int) uint64 {
	if t.entrySize == 8 {
		return le64(t.entries, i*8)
	}
	return uint64(le32(t.entries, i*4))
}

// Find returns the first table with signature sig (e.g. "APIC" for the
// MADT), validated, and its physical address. Entries that cannot be read
// are passed over (they may be tables no one needs); if sig is not found,
// the error says the first of them.
func (t *Tables) Find(sig string) ([]byte, uint64, error) {
	var skipped error
	for i := 0; i < t.Len(); i++ {
		pa := t.Address(i)
		h := t.mem.read(pa, headerLength)
		if h == nil {
			if skipped == nil {
				skipped = newError(ErrOutsideMemory, "entry ", dec(uint64(i)), " at ", hex(pa), " is outside memory")
			}
			continue
		}
		if string(h[:4]) != sig {
			continue
		}
		b, err := readTable(t.mem, pa, sig)
		return b, pa, err
	}
	what := sig + " table"
	if sig == "APIC" {
		what = "MADT"
	}
	msg := []string{"no ", what, " in the ", printable(t.Root.Signature[:])}
	if skipped != nil {
		msg = append(msg, " (", skipped.(*Error).msg, ")")
	}
	return nil, 0, newError(ErrNotFound, msg...)
}

// quote writes a signature as Go would quote it: "APIC".
func quote(b []byte) string { return `"` + printable(b) + `"` }

// printable keeps a signature's printable ASCII and shows the rest as
// '?', so corrupt bytes never reach the console as control characters.
func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < ' ' || c > '~' {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}
