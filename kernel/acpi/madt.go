package acpi

// The Multiple APIC Description Table, signature "APIC" (ACPI 6.5,
// 5.2.12): the local APIC's address, then one entry per interrupt
// controller, each starting with its type and length. The parsing follows
// the spec and the decisions of Linux's arch/x86/kernel/acpi/boot.c, noted
// where they matter.

const (
	madtSignature = "APIC"
	madtEntries   = headerLength + 8 // Local Interrupt Controller Address, Flags

	// MADT flags (5.2.12, Table 5.43).
	madtPCATCompat = 1 << 0

	// Processor Local APIC and x2APIC flags (Table 5.47).
	cpuEnabled       = 1 << 0
	cpuOnlineCapable = 1 << 1
)

// Interrupt Controller Structure types (5.2.12, Table 5.45) this package
// reads; the others (SAPIC, GIC, the LoongArch PICs, the multiprocessor
// wakeup mailbox...) are skipped by their length.
const (
	typeLocalAPIC         = 0x0
	typeIOAPIC            = 0x1
	typeSourceOverride    = 0x2
	typeNMISource         = 0x3
	typeLocalAPICNMI      = 0x4
	typeLocalAPICOverride = 0x5
	typeLocalX2APIC       = 0x9
	typeLocalX2APICNMI    = 0xa
)

// minLength is each read type's structure size: a shorter entry is an
// error (Linux's BAD_MADT_ENTRY); a longer one is read, the rest being
// what a later revision added.
var minLength = [...]uint8{
	typeLocalAPIC:         8,
	typeIOAPIC:            12,
	typeSourceOverride:    10,
	typeNMISource:         8,
	typeLocalAPICNMI:      6,
	typeLocalAPICOverride: 12,
	typeLocalX2APIC:       16,
	typeLocalX2APICNMI:    12,
}

// The IDs that mean "none" and are not CPUs (Linux ignores such entries:
// 0xFF is the xAPIC broadcast ID, 0xFFFFFFFF the x2APIC one).
const (
	invalidAPICID   = 0xff
	invalidX2APICID = 0xffffffff
)

// AllProcessors is a LocalNMI's ProcessorUID when it applies to every
// processor (0xFF in a Local APIC NMI entry, 0xFFFFFFFF in a Local x2APIC
// NMI entry).
const AllProcessors = 0xffffffff

// CPU is one processor: a Processor Local APIC entry (5.2.12.2) or a
// Processor Local x2APIC entry (5.2.12.12).
type CPU struct {
	ProcessorUID uint32 // matches the processor object's _UID in the namespace
	APICID       uint32 // the local APIC ID: 8 bits in a local APIC entry, 32 in an x2APIC one
	Flags        uint32
	X2APIC       bool // listed by an x2APIC entry (APIC IDs from 255 up need one)
}

// Enabled says the processor is ready for use: the OS may start it.
func (c CPU) Enabled() bool { return c.Flags&cpuEnabled != 0 }

// OnlineCapable says the processor is not enabled now but the hardware
// can enable it while the OS runs (ACPI 6.3 on; the bit is reserved when
// Enabled is set).
func (c CPU) OnlineCapable() bool { return !c.Enabled() && c.Flags&cpuOnlineCapable != 0 }

// Usable says the OS should count the processor: it is enabled, or it is
// online-capable and may then be started. The spec says to ignore the
// others; Linux before MADT revision 5 counts them as hot-pluggable too
// (acpi_is_processor_usable), this package does not: it lists them, and
// Usable is false.
func (c CPU) Usable() bool { return c.Enabled() || c.OnlineCapable() }

// IOAPIC is an I/O APIC entry (5.2.12.3).
type IOAPIC struct {
	ID      uint8
	Address uint32 // physical address of its registers
	GSIBase uint32 // the first global system interrupt it serves
}

// InterruptOverride is an Interrupt Source Override (5.2.12.5): ISA IRQ
// Source on Bus (0, ISA) arrives at GSI, with the MPS INTI Flags' polarity
// and trigger mode (Table 5.50).
type InterruptOverride struct {
	Bus, Source uint8
	GSI         uint32
	Flags       uint16
}

// Polarity is the MPS INTI flags' polarity: 0 conforms to the bus, 1
// active high, 3 active low.
func (o InterruptOverride) Polarity() uint8 { return uint8(o.Flags & 3) }

// Trigger is the MPS INTI flags' trigger mode: 0 conforms to the bus, 1
// edge, 3 level.
func (o InterruptOverride) Trigger() uint8 { return uint8(o.Flags >> 2 & 3) }

// NMISource is a Non-Maskable Interrupt Source entry (5.2.12.6): a GSI
// that is an NMI.
type NMISource struct {
	Flags uint16 // MPS INTI flags
	GSI   uint32
}

// LocalNMI is a Local APIC NMI (5.2.12.7) or Local x2APIC NMI (5.2.12.13)
// entry: which LINT pin of which processors' local APIC takes NMI.
type LocalNMI struct {
	ProcessorUID uint32 // AllProcessors for every processor
	Flags        uint16 // MPS INTI flags
	LINT         uint8  // 0 or 1
}

// MADT is what the Multiple APIC Description Table says.
type MADT struct {
	Header Header
	// LocalAPICAddress is the local APICs' physical address: the table's
	// 32-bit field, or the Local APIC Address Override's 64-bit one when
	// there is one (5.2.12.8: "the OS shall use" it).
	LocalAPICAddress uint64
	// PCATCompat says the machine also has the PC-AT dual 8259 PICs,
	// which the OS must mask to use the APICs.
	PCATCompat bool

	// CPUs in the table's order, which puts the boot processor first
	// (5.2.12.1), local APIC and x2APIC entries alike; entries with the
	// invalid IDs 0xFF and 0xFFFFFFFF are left out. They are slices: the
	// table's length bounds them, and this runs once at boot, where
	// allocating is fine.
	CPUs               []CPU
	IOAPICs            []IOAPIC
	InterruptOverrides []InterruptOverride
	NMISources         []NMISource
	LocalNMIs          []LocalNMI
}

// ParseMADT reads a MADT: the bytes from Tables.Find("APIC"), or any
// buffer holding one (the table is validated again, so the bytes may come
// from anywhere). It never reads past the table's Length and never loops:
// each entry must be at least 2 bytes long and end inside the table.
func ParseMADT(b []byte) (*MADT, error) {
	b, f := checkMADT(b)
	if f.Failed() {
		return nil, f.err()
	}
	m := &MADT{
		Header:           parseHeader(b),
		LocalAPICAddress: uint64(le32(b, headerLength)),
		PCATCompat:       le32(b, headerLength+4)&madtPCATCompat != 0,
	}
	// Processor entries are the smallest common ones (8 bytes): this
	// bounds the CPUs without counting them first.
	m.CPUs = make([]CPU, 0, min((len(b)-madtEntries)/8, 1024))
	for w := newEntries(b); ; {
		typ, e, ok := w.next()
		if !ok {
			break
		}
		m.add(typ, e)
	}
	return m, nil
}

// checkMADT validates a MADT held in b whole (checkTable), walks its
// entries (an entry that cannot be read is the failure) and checks the
// usable processors' APIC IDs. It returns the table cut to its Length:
// what the entries walk (newEntries) then reads without failing.
func checkMADT(b []byte) ([]byte, Fault) {
	b, f := checkTable(b, madtSignature, 0, false)
	if f.Failed() {
		return nil, f
	}
	if len(b) < madtEntries {
		return nil, Fault{code: fMADTShort, a: uint64(len(b))}
	}
	w := newEntries(b)
	for {
		if _, _, ok := w.next(); !ok {
			break
		}
	}
	if w.fault.Failed() {
		return nil, w.fault
	}
	if id, dup := duplicateID(b); dup {
		return nil, Fault{code: fDuplicateID, a: uint64(id)}
	}
	return b, Fault{}
}

// entries walks a MADT's Interrupt Controller Structures: the one walk
// every reader of the table goes through.
type entries struct {
	b     []byte
	off   int
	i     int
	fault Fault // why the walk stopped early
}

func newEntries(b []byte) entries { return entries{b: b, off: madtEntries} }

// next returns the next entry, already checked to be long enough for its
// type; ok is false at the table's end, or when the entry is bad (fault).
func (w *entries) next() (typ byte, e []byte, ok bool) {
	b, off := w.b, w.off
	if off >= len(b) || w.fault.Failed() {
		return 0, nil, false
	}
	bad := func(code faultCode, a, b, c uint64) (byte, []byte, bool) {
		w.fault = Fault{code: code, i: uint64(w.i), at: uint64(off), a: a, b: b, c: c}
		return 0, nil, false
	}
	if off+2 > len(b) {
		return bad(fEntryNoRoom, 0, 0, 0)
	}
	typ, n := b[off], int(b[off+1])
	if n < 2 {
		return bad(fEntryLength, uint64(n), 0, 0)
	}
	if off+n > len(b) {
		return bad(fEntryPastEnd, uint64(n), uint64(len(b)), 0)
	}
	if int(typ) < len(minLength) && minLength[typ] != 0 && n < int(minLength[typ]) {
		return bad(fEntryShort, uint64(n), uint64(minLength[typ]), uint64(typ))
	}
	w.off += n
	w.i++
	return typ, b[off : off+n], true
}

// nextCPU returns the next processor entry's CPU (the invalid IDs 0xFF
// and 0xFFFFFFFF are no processors).
func (w *entries) nextCPU() (CPU, bool) {
	for {
		typ, e, ok := w.next()
		if !ok {
			return CPU{}, false
		}
		if c, ok := entryCPU(typ, e); ok {
			return c, true
		}
	}
}

// entryCPU is the CPU a processor entry gives.
func entryCPU(typ byte, e []byte) (CPU, bool) {
	switch typ {
	case typeLocalAPIC:
		if e[3] != invalidAPICID {
			return CPU{ProcessorUID: uint32(e[2]), APICID: uint32(e[3]), Flags: le32(e, 4)}, true
		}
	case typeLocalX2APIC:
		if id := le32(e, 4); id != invalidX2APICID {
			return CPU{ProcessorUID: le32(e, 12), APICID: id, Flags: le32(e, 8), X2APIC: true}, true
		}
	}
	return CPU{}, false
}

// add records one entry, already checked to be long enough for its type.
func (m *MADT) add(typ byte, e []byte) {
	if c, ok := entryCPU(typ, e); ok {
		m.CPUs = append(m.CPUs, c)
	}
	switch typ {
	case typeIOAPIC:
		m.IOAPICs = append(m.IOAPICs, IOAPIC{ID: e[2], Address: le32(e, 4), GSIBase: le32(e, 8)})
	case typeSourceOverride:
		m.InterruptOverrides = append(m.InterruptOverrides, InterruptOverride{Bus: e[2], Source: e[3], GSI: le32(e, 4), Flags: le16(e, 8)})
	case typeNMISource:
		m.NMISources = append(m.NMISources, NMISource{Flags: le16(e, 2), GSI: le32(e, 4)})
	case typeLocalAPICNMI:
		uid := uint32(e[2])
		if uid == 0xff {
			uid = AllProcessors
		}
		m.LocalNMIs = append(m.LocalNMIs, LocalNMI{ProcessorUID: uid, Flags: le16(e, 3), LINT: e[5]})
	case typeLocalX2APICNMI:
		m.LocalNMIs = append(m.LocalNMIs, LocalNMI{ProcessorUID: le32(e, 4), Flags: le16(e, 2), LINT: e[8]})
	case typeLocalAPICOverride:
		// The spec allows one; Linux takes the last it sees, so does this.
		m.LocalAPICAddress = le64(e, 4)
	}
}

// duplicateID finds the smallest APIC ID a table gives two usable
// processors: the kernel addresses a CPU by its APIC ID (the INIT-SIPI
// sequence, IPIs), so two of them would be started, or interrupted, as
// one. Unusable entries are ignored, as the spec says of them. It compares
// each usable processor with those after it in the table, allocating
// nothing: quadratic, over tables of a few dozen processors.
func duplicateID(b []byte) (id uint32, dup bool) {
	for w := newEntries(b); ; {
		c, ok := w.nextCPU()
		if !ok {
			return id, dup
		}
		if !c.Usable() || (dup && c.APICID >= id) {
			continue
		}
		for rest := w; ; {
			d, ok := rest.nextCPU()
			if !ok {
				break
			}
			if d.Usable() && d.APICID == c.APICID {
				id, dup = c.APICID, true
				break
			}
		}
	}
}

// localAPICAddress is the MADT's local APIC address: its 32-bit field, or
// the Local APIC Address Override's (the last one, as Linux takes it).
func localAPICAddress(b []byte) uint64 {
	if len(b) < madtEntries {
		return 0 // no MADT
	}
	a := uint64(le32(b, headerLength))
	for w := newEntries(b); ; {
		typ, e, ok := w.next()
		if !ok {
			return a
		}
		if typ == typeLocalAPICOverride {
			a = le64(e, 4)
		}
	}
}

// ReadMADT finds and parses the MADT the tables list.
func (t *Tables) ReadMADT() (*MADT, error) {
	b, _, err := t.Find(madtSignature)
	if err != nil {
		return nil, err
	}
	return ParseMADT(b)
}

// Discover finds the MADT the way the kernel boots: from the RSDP the
// boot loader handed over when it gave one (rsdp holds its bytes, e.g.
// multiboot2's ACPI new or old RSDP tag), by the BIOS-area scan otherwise
// (rsdp nil).
func Discover(mem Memory, rsdp []byte) (*MADT, error) {
	b, f := FindMADT(mem, rsdp)
	if f.Failed() {
		return nil, f.err()
	}
	return ParseMADT(b)
}

// The functions below are the kernel's: they allocate nothing, take no
// lock, store no pointer outside their stack and panic on no table, so
// they run in handler context (kmain, before the Go runtime).

// FindMADT finds the MADT as Discover does (the RSDP from rsdp, the boot
// loader's copy, when not nil, else by the BIOS-area scan; the XSDT or the
// RSDT; the table signed "APIC") and validates it as ParseMADT does. It
// returns the table's bytes, as mem gave them, for MADTCPU,
// MADTLocalAPIC and MADTSummary.
func FindMADT(mem Memory, rsdp []byte) ([]byte, Fault) {
	var r RSDP
	var f Fault
	if rsdp != nil {
		r, f = parseRSDP(rsdp, 0, false)
	} else {
		r, f = findRSDP(mem)
	}
	if f.Failed() {
		return nil, f
	}
	root, _, f := readRoot(mem, r)
	if f.Failed() {
		return nil, f
	}
	b, _, f := root.find(mem, madtSignature)
	if f.Failed() {
		return nil, f
	}
	return checkMADT(b)
}

// MADTCPU returns the processor after position pos in a MADT FindMADT
// gave (pos 0 is the table's start) and the position to pass next; ok is
// false after the last. Processors come in the table's order, the boot
// processor's first, local APIC and x2APIC entries alike; entries with the
// invalid IDs 0xFF and 0xFFFFFFFF are left out, as in MADT.CPUs.
func MADTCPU(madt []byte, pos int) (c CPU, next int, ok bool) {
	w := newEntries(madt)
	if pos > w.off {
		w.off = pos
	}
	c, ok = w.nextCPU()
	return c, w.off, ok
}

// MADTLocalAPIC is a MADT's local APIC address (MADT.LocalAPICAddress).
func MADTLocalAPIC(madt []byte) uint64 { return localAPICAddress(madt) }

// ReadCPUs finds and validates the MADT (FindMADT) and copies its
// processors into cpus, in the table's order, as many as fit. n is how
// many the table lists (more than len(cpus) when they did not fit); lapic
// is the local APIC's address.
func ReadCPUs(mem Memory, rsdp []byte, cpus []CPU) (n int, lapic uint64, f Fault) {
	madt, f := FindMADT(mem, rsdp)
	if f.Failed() {
		return 0, 0, f
	}
	for c, pos, ok := MADTCPU(madt, 0); ok; c, pos, ok = MADTCPU(madt, pos) {
		if n < len(cpus) {
			cpus[n] = c
		}
		n++
	}
	return n, MADTLocalAPIC(madt), Fault{}
}
