package acpi

// A Fault is a failure as the package's one walk reports it: a value with
// no pointers in it (a code, the signatures, an address, a few numbers),
// so the walk can run where nothing may be allocated or stored through a
// write barrier (the kernel's kmain, before the Go runtime runs). Its
// message is written only when asked: Format into a caller's buffer (no
// allocation), Error as a string. The exported functions of the Go API
// turn it into an *Error at their boundary, with the same message.
type Fault struct {
	code  faultCode
	sig   [4]byte // the table's signature (RSDT, XSDT, APIC, Find's)
	sigN  uint8   // its length: Find may be asked for any string
	got   [4]byte // the signature found instead
	root  [4]byte // the root table's signature (no such table in it)
	hasAt bool    // at is an address the message names
	at    uint64  // where: an RSDP's or a table's address, a skipped entry's
	i     uint64  // a MADT or root-table entry's index
	a, b  uint64  // the numbers the message gives
	c     uint64
}

type faultCode uint8

const (
	fOK faultCode = iota
	fRSDPShort
	fRSDPSignature
	fRSDPChecksum
	fRSDPShortV2
	fRSDPLength
	fRSDPExtChecksum
	fNoRSDP
	fTableShort
	fTableSignature
	fTableLengthShort
	fTableLength
	fTableChecksum
	fTableOutside
	fTablePastMemory
	fNoRoot
	fNoTable
	fMADTShort
	fEntryNoRoom
	fEntryLength
	fEntryPastEnd
	fEntryShort
	fDuplicateID
	fCodes
)

// Each code's kind (Fault.Kind), a static table: statically initialised,
// so usable before the program's initialisation runs.
const (
	kNotFound = iota + 1
	kChecksum
	kSignature
	kTruncated
	kOutsideMemory
	kBadEntry
	kDuplicateID
)

// faults is each code's kind and message: a static table (statically
// initialised, so usable before the program's initialisation runs). In a
// message, %w is " at " and the address when the Fault has one; %a, %b,
// %c and %i are those numbers in decimal, %x the address and %y b in hex;
// %s is the table's signature, %q it quoted, %g the signature found
// quoted, %r the root table's; %n is the table looked for ("MADT", or
// "XXXX table") and %k the entry passed over, when there was one.
var faults = [fCodes]struct {
	kind uint8
	text string
}{
	fRSDPShort:        {kTruncated, "RSDP%w has %a bytes, fewer than 20"},
	fRSDPSignature:    {kSignature, `RSDP%w does not start with "RSD PTR "`},
	fRSDPChecksum:     {kChecksum, "RSDP checksum mismatch%w"},
	fRSDPShortV2:      {kTruncated, "RSDP%w is revision %a but has %b bytes, fewer than 36"},
	fRSDPLength:       {kTruncated, "RSDP%w gives length %a with %b bytes at hand"},
	fRSDPExtChecksum:  {kChecksum, "RSDP extended checksum mismatch%w"},
	fNoRSDP:           {kNotFound, "no RSDP in the EBDA or at 0xe0000-0xfffff"},
	fTableShort:       {kTruncated, "%s%w has %a bytes, fewer than its 36-byte header"},
	fTableSignature:   {kSignature, "table%w has signature %g, not %q"},
	fTableLengthShort: {kTruncated, "%s%w gives length %a, shorter than its header"},
	fTableLength:      {kTruncated, "%s%w gives length %a with %b bytes at hand"},
	fTableChecksum:    {kChecksum, "%s checksum mismatch%w"},
	fTableOutside:     {kOutsideMemory, "%s%w is outside memory"},
	fTablePastMemory:  {kOutsideMemory, "%s%w runs past memory (length %a)"},
	fNoRoot:           {kNotFound, "the RSDP gives no RSDT or XSDT"},
	fNoTable:          {kNotFound, "no %n in the %r%k"},
	fMADTShort:        {kTruncated, "MADT length %a leaves no room for its local APIC address and flags"},
	fEntryNoRoom:      {kBadEntry, "MADT entry %i at offset %x has no room for its type and length"},
	fEntryLength:      {kBadEntry, "MADT entry %i at offset %x has length %a"},
	fEntryPastEnd:     {kBadEntry, "MADT entry %i at offset %x of length %a runs past the table's end at %y"},
	fEntryShort:       {kBadEntry, "MADT entry %i at offset %x (type %c) has length %a, shorter than its %b bytes"},
	fDuplicateID:      {kDuplicateID, "MADT lists APIC ID %a for two usable processors"},
}

// skippedText is %k: the first root-table entry find could not read.
const skippedText = " (entry %i at %x is outside memory)"

// Failed says the Fault is a failure; the zero Fault is success.
func (f Fault) Failed() bool { return f.code != fOK }

// Kind is the Err* value the failure is one of, nil for success. It reads
// the Err* variables, which the package's initialisation sets: not for
// kmain.
func (f Fault) Kind() error {
	if f.code == fOK || f.code >= fCodes {
		return nil
	}
	switch faults[f.code].kind {
	case kNotFound:
		return ErrNotFound
	case kChecksum:
		return ErrChecksum
	case kSignature:
		return ErrSignature
	case kTruncated:
		return ErrTruncated
	case kOutsideMemory:
		return ErrOutsideMemory
	case kBadEntry:
		return ErrBadEntry
	}
	return ErrDuplicateID
}

// Format writes "acpi: " and the failure's message into buf, as much of
// it as fits, and returns how many bytes it wrote. It allocates nothing.
func (f Fault) Format(buf []byte) int {
	t := text{buf: buf}
	t.str("acpi: ")
	f.message(&t, "")
	return t.len()
}

// Error is Format's message as a string ("" for success).
func (f Fault) Error() string {
	if f.code == fOK {
		return ""
	}
	return "acpi: " + f.messageString("")
}

// Unwrap gives the failure's kind, for errors.Is.
func (f Fault) Unwrap() error { return f.Kind() }

// err is the exported API's error for f: nil for success, else an *Error
// with f's message.
func (f Fault) err() error { return f.errNamed("") }

// errNamed is err with name for the signature Find was asked for when it
// is longer than the 4 bytes a Fault keeps.
func (f Fault) errNamed(name string) error {
	if f.code == fOK {
		return nil
	}
	return &Error{Kind: f.Kind(), msg: f.messageString(name)}
}

func (f Fault) messageString(name string) string {
	var t text
	f.message(&t, name) // counts
	t = text{buf: make([]byte, t.n)}
	f.message(&t, name)
	return string(t.buf)
}

// message writes the message (without "acpi: "). name, when not empty,
// is the signature fNoTable names in full (longer than 4 bytes).
func (f *Fault) message(t *text, name string) {
	if f.code == fOK || f.code >= fCodes {
		t.str("unknown failure")
		return
	}
	f.expand(t, faults[f.code].text, name)
}

// expand writes a message template (faults) with f's values.
func (f *Fault) expand(t *text, tmpl, name string) {
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '%' || i+1 == len(tmpl) {
			t.byte(tmpl[i])
			continue
		}
		i++
		switch tmpl[i] {
		case 'w':
			if f.hasAt {
				t.str(" at ")
				t.hex(f.at)
			}
		case 'a':
			t.dec(f.a)
		case 'b':
			t.dec(f.b)
		case 'c':
			t.dec(f.c)
		case 'i':
			t.dec(f.i)
		case 'x':
			t.hex(f.at)
		case 'y':
			t.hex(f.b)
		case 's':
			t.bytes(f.sigBytes())
		case 'q':
			t.quote(f.sigBytes())
		case 'g':
			t.quote(f.got[:])
		case 'r':
			t.printable(f.root[:])
		case 'n':
			switch sig := f.sigBytes(); {
			case name != "":
				t.str(name)
				t.str(" table")
			case string(sig) == madtSignature:
				t.str("MADT")
			default:
				t.bytes(sig)
				t.str(" table")
			}
		case 'k':
			if f.hasAt {
				f.expand(t, skippedText, "")
			}
		}
	}
}

// where writes " at 0x..." when the Fault has an address to name.
func (f *Fault) where(t *text) {
	if f.hasAt {
		t.str(" at ")
		t.hex(f.at)
	}
}

// text writes into a fixed buffer, dropping what does not fit, and counts
// every byte (n), so a first pass without a buffer sizes the second. It
// never allocates.
type text struct {
	buf []byte
	n   uint
}

func (t *text) len() int { return int(min(t.n, uint(len(t.buf)))) }

func (t *text) byte(c byte) {
	if t.n < uint(len(t.buf)) {
		t.buf[t.n] = c
	}
	t.n++
}

func (t *text) str(s string) {
	for i := 0; i < len(s); i++ {
		t.byte(s[i])
	}
}

func (t *text) bytes(b []byte) {
	for _, c := range b {
		t.byte(c)
	}
}

// printable writes a signature's printable ASCII and the rest as '?', so
// corrupt bytes never reach the console as control characters.
func (t *text) printable(b []byte) {
	for _, c := range b {
		if c < ' ' || c > '~' {
			c = '?'
		}
		t.byte(c)
	}
}

// quote writes a signature as Go would quote it: "APIC".
func (t *text) quote(b []byte) {
	t.byte('"')
	t.printable(b)
	t.byte('"')
}

func (t *text) dec(v uint64) { t.digits(v, 10) }

// hex writes v as 0x..., as addresses are written in the ACPI and Intel
// manuals and in Linux's log.
func (t *text) hex(v uint64) {
	t.str("0x")
	t.digits(v, 16)
}

func (t *text) digits(v, base uint64) {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = "0123456789abcdef"[v%base]
		v /= base
		if v == 0 || i == 0 {
			break
		}
	}
	t.bytes(d[i:])
}

// hex and dec are text's numbers as strings, for the exported API.
func hex(v uint64) string {
	var b [24]byte
	t := text{buf: b[:]}
	t.hex(v)
	return string(b[:t.len()])
}

func dec(v uint64) string {
	var b [24]byte
	t := text{buf: b[:]}
	t.dec(v)
	return string(b[:t.len()])
}

func (f *Fault) sigBytes() []byte { return f.sig[:min(f.sigN, 4)] }

// tableFault is a failure of the table with signature sig, at (when hasAt).
func tableFault(code faultCode, sig string, at uint64, hasAt bool, a, b uint64) Fault {
	f := Fault{code: code, at: at, hasAt: hasAt, a: a, b: b}
	f.sigN = uint8(copy(f.sig[:], sig))
	return f
}
