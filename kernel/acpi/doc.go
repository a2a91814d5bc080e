// Package acpi finds the machine's processors the ACPI way: the RSDP, the
// RSDT or XSDT it points to, and the MADT (signature "APIC") they list,
// which gives every processor's local APIC ID and flags, the local APIC's
// address, the I/O APICs and the ISA interrupt overrides (ACPI 6.5,
// sections 5.2.5 to 5.2.12).
//
// It is plain Go with no kernel dependency, so the same code runs in the
// kernel at boot and in host tests over tables captured from QEMU. The
// kernel reaches physical memory through a Memory function it provides
// (its physmap); the package reads through it and never writes.
//
// # Two faces, one walk
//
// The kernel reads the MADT in kmain, before the Go runtime starts (the
// runtime reads the CPU count once, at its start, and kmain starts the
// other CPUs): handler context (docs/DESIGN.md), where nothing may
// allocate, take a Go lock, store a pointer through a write barrier or
// panic, and where no package initialisation has run yet. So the walk
// itself (the RSDP, the root table, Find, the MADT's entries, the APIC ID
// check, the summary line) allocates nothing: it keeps its state on the
// stack, returns slices of what Memory gave, and reports a failure as a
// Fault, a value without pointers (a code, the signatures, an address, a
// few numbers) whose message is written only when asked, into a caller's
// buffer (Fault.Format) or as a string (Fault.Error). The kernel's entry
// points are FindMADT, MADTCPU, MADTLocalAPIC, MADTSummary and ReadCPUs;
// cmd/handlercheck proves from the kernel's machine code that they reach
// nothing forbidden. Their quadratic loops (duplicate APIC IDs, the
// summary's sorted runs) stand for the slices and the sort: a MADT lists
// a few dozen processors.
//
// The Go API (ParseRSDP, FindRSDP, RSDP.Tables, Tables.Find, ParseMADT,
// Discover, MADT.String) is the same walk with results a Go program wants:
// slices, a *Tables, and errors that are *Error (the Fault's message, and
// the Err* kind it unwraps to). Host tests check the two faces agree on
// every captured machine and in the fuzzer, and that the kernel's face
// allocates nothing (testing.AllocsPerRun).
//
// # Use
//
// In the kernel (kmain):
//
//	// rsdp: multiboot2's ACPI new (or old) RSDP tag's bytes, nil without one.
//	madt, f := acpi.FindMADT(mem, rsdp)
//	if f.Failed() {
//		n := f.Format(buf[:]) // "acpi: no RSDP in the EBDA or at 0xe0000-0xfffff"
//	}
//	for c, pos, ok := acpi.MADTCPU(madt, 0); ok; c, pos, ok = acpi.MADTCPU(madt, pos) {
//		// c.APICID, c.Enabled(): start those enabled, in the table's order.
//	}
//	lapic := acpi.MADTLocalAPIC(madt) // where the local APIC is, never assumed
//	n := acpi.MADTSummary(madt, buf[:])
//	// "4 CPUs (APIC IDs 0-3), local APIC at 0xfee00000, 1 I/O APIC at 0xfec00000"
//
// ReadCPUs does the first three at once into a caller's array. Elsewhere:
//
//	madt, err := acpi.Discover(mem, rsdp)
//	// madt.CPUs, madt.LocalAPICAddress, madt.IOAPICs...; madt.String()
//
// Step by step: ParseRSDP (bytes a loader handed over) or FindRSDP (the
// BIOS-area scan), RSDP.Tables (the XSDT when valid, else the RSDT),
// Tables.Find (any table by signature) or Tables.ReadMADT, ParseMADT.
// Every error is an *Error that says what and where ("acpi: RSDP checksum
// mismatch at 0xf5a20", "acpi: no MADT in the XSDT") and unwraps to one of
// the Err* kinds; the kernel's Fault says the same words.
//
// # Decisions
//
//   - The RSDP: from the boot loader when it gives one (GRUB's multiboot2
//     ACPI tags carry a copy, taken under UEFI from the EFI system table:
//     there is no BIOS area to scan there), else Linux's scan (ACPICA's
//     acpi_find_root_pointer): the first KiB of the EBDA, then
//     0xE0000-0xFFFFF, 16-byte aligned, signature plus checksum, plus the
//     extended checksum from revision 2 on. A candidate that fails its
//     checksum is passed over (BIOS code may hold the signature); the error
//     names it when nothing valid is found.
//   - The XSDT when the RSDP gives one and it is valid, else the RSDT
//     (ACPICA does the same); Tables.XSDTError says why the XSDT was not
//     used.
//   - Every table read is checked: its header and whole Length must lie in
//     memory the Memory function gives, the Length cover the header, the
//     bytes sum to zero. Linux refuses tables with bad checksums too.
//   - MADT entries of unknown types are skipped by their length; an entry
//     shorter than 2 bytes, running past the table or shorter than its
//     type's structure is an error, so the walk always advances and ends.
//   - A processor is usable when enabled, or online-capable (ACPI 6.3's
//     bit 1: it may be started later). Entries with neither are listed
//     but not usable, as the spec says to ignore them; Linux before MADT
//     revision 5 counts them as hot-pluggable (QEMU's -smp N,maxcpus=M
//     lists its absent CPUs so, MADT revision 1).
//   - APIC IDs 0xFF (local APIC entries) and 0xFFFFFFFF (x2APIC) are not
//     processors, as in Linux. Two usable processors with one APIC ID are
//     an error: the kernel starts and interrupts CPUs by APIC ID.
//   - The Local APIC Address Override (type 5) replaces the 32-bit address.
//
// # Test data
//
// testdata/qemu holds QEMU's real tables, one directory per machine, with
// a manifest.txt saying where each file was in guest physical memory:
// SeaBIOS with -smp 1, 4, 8 and 4,maxcpus=8, q35, -cpu max, and OVMF.
// cmd/acpidump wrote them and writes them again:
//
//	go run ./cmd/acpidump                        # every configuration (a few minutes under TCG)
//	go run ./cmd/acpidump -only ovmf-smp4        # one of them (-list lists them)
//
// It boots Debian's Linux (/boot/vmlinuz-*) in QEMU with an initramfs
// whose /init (cmd/acpidump/guest) prints the kernel log, the tables of
// /sys/firmware/acpi/tables and the EFI system table on the serial
// console; then it reads each table at the address Linux's log gives, the
// RSDPs and the first MiB of memory through QEMU's QMP (pmemsave), and
// checks the bytes against sysfs's. The fuzz seeds are testdata/fuzz/FuzzMADT
// and every captured MADT:
//
//	go test -fuzz FuzzMADT -fuzztime 5m ./kernel/acpi
package acpi
