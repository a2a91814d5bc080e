package acpi

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// What each captured QEMU machine's MADT holds. QEMU 7.2 writes the same
// MADT for SeaBIOS and OVMF, i440fx and q35, qemu64 and -cpu max (the
// test checks the q35, -cpu max and OVMF ones equal -smp 4's byte for
// byte): a local APIC entry per possible CPU, UID = APIC ID = index,
// flags 1 for a present CPU and 0 for one that can be hot-added; one I/O
// APIC (ID 0, 0xfec00000, GSI base 0); overrides of ISA IRQ 0 to GSI 2 and
// of the PCI link IRQs 5, 9, 10, 11 (active high, level); a local APIC NMI
// on LINT1 for every processor; MADT revision 1, so no online-capable bit.
var captured = map[string]struct {
	enabled, notEnabled int
	root                string // the root table used: XSDT or RSDT
	scan                bool   // the BIOS-area scan finds the RSDP
	sameMADTAs          string
	x2apic              bool // QEMU 10's x2APIC machine: checkX2APICMADT, not checkQEMUMADT
}{
	"seabios-smp1":          {1, 0, "RSDT", true, "", false},
	"seabios-smp4":          {4, 0, "RSDT", true, "", false},
	"seabios-smp8":          {8, 0, "RSDT", true, "", false},
	"seabios-smp4-maxcpus8": {4, 4, "RSDT", true, "", false},
	"seabios-q35-smp4":      {4, 0, "RSDT", true, "seabios-smp4", false},
	"seabios-cpumax-smp4":   {4, 0, "RSDT", true, "seabios-smp4", false},
	"ovmf-smp4":             {4, 0, "XSDT", false, "seabios-smp4", false},
	"seabios-q35-x2apic":    {4, 508, "RSDT", true, "", true},
}

func TestCapturedMachines(t *testing.T) {
	caps := loadCaptures(t)
	byName := map[string]*capture{}
	for _, c := range caps {
		byName[c.name] = c
	}
	for name := range captured {
		if byName[name] == nil {
			t.Errorf("no capture of %s in testdata/qemu", name)
		}
	}
	for _, c := range caps {
		t.Run(c.name, func(t *testing.T) {
			want, ok := captured[c.name]
			if !ok {
				t.Fatalf("testdata/qemu/%s has no expectations here", c.name)
			}
			mem := c.memory()

			// The boot loader's way: the RSDP's bytes.
			r, err := ParseRSDP(c.rsdpBytes(t))
			if err != nil {
				t.Fatal(err)
			}
			tabs, err := r.Tables(mem)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(tabs.Root.Signature[:]); got != want.root || tabs.RootAddress != c.tables[want.root] || tabs.XSDTError != nil {
				t.Errorf("root table %s at %#x (XSDT error %v), want the %s at %#x", got, tabs.RootAddress, tabs.XSDTError, want.root, c.tables[want.root])
			}
			b, at, err := tabs.Find("APIC")
			if err != nil {
				t.Fatal(err)
			}
			if at != c.tables["APIC"] || !slices.Equal(b, c.files["APIC"]) {
				t.Errorf("MADT found at %#x, the capture has it at %#x", at, c.tables["APIC"])
			}
			m, err := ParseMADT(b)
			if err != nil {
				t.Fatal(err)
			}
			if want.x2apic {
				checkX2APICMADT(t, m)
			} else {
				checkQEMUMADT(t, m, want.enabled, want.notEnabled)
			}
			checkLinuxAgrees(t, c, m)
			if want.sameMADTAs != "" {
				if other := byName[want.sameMADTAs]; other != nil && !slices.Equal(c.files["APIC"], other.files["APIC"]) {
					t.Errorf("the MADT differs from %s's", want.sameMADTAs)
				}
			}

			// The scan's way.
			found, err := FindRSDP(mem)
			if !want.scan {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("the scan found %+v, %v; want nothing in the BIOS area", found, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if found.Address != c.tables["RSDP"] {
				t.Errorf("the scan found the RSDP at %#x, Linux at %#x", found.Address, c.tables["RSDP"])
			}
			m2, err := Discover(mem, nil)
			if err != nil {
				t.Fatal(err)
			}
			if m2.String() != m.String() {
				t.Errorf("by the scan: %s\nby the RSDP's bytes: %s", m2, m)
			}
		})
	}
}

// checkQEMUMADT checks a captured MADT holds what QEMU writes (above).
func checkQEMUMADT(t *testing.T, m *MADT, enabled, notEnabled int) {
	t.Helper()
	var wantCPUs []CPU
	for i := range enabled + notEnabled {
		flags := uint32(0)
		if i < enabled {
			flags = cpuEnabled
		}
		wantCPUs = append(wantCPUs, CPU{ProcessorUID: uint32(i), APICID: uint32(i), Flags: flags})
	}
	if !slices.Equal(m.CPUs, wantCPUs) {
		t.Errorf("CPUs\n got %+v\nwant %+v", m.CPUs, wantCPUs)
	}
	checkQEMUInterrupts(t, m, 1)
	summary := count(enabled, "CPU", "CPUs") + " (APIC ID"
	if enabled == 1 {
		summary += " 0)"
	} else {
		summary += "s 0-" + strconv.Itoa(enabled-1) + ")"
	}
	if notEnabled > 0 {
		summary += ", " + strconv.Itoa(notEnabled) + " entries not enabled (APIC IDs " + strconv.Itoa(enabled) + "-" + strconv.Itoa(enabled+notEnabled-1) + ")"
	}
	summary += ", local APIC at 0xfee00000, 1 I/O APIC at 0xfec00000"
	if s := m.String(); s != summary {
		t.Errorf("String\n got %q\nwant %q", s, summary)
	}
}

// checkQEMUInterrupts checks what every captured QEMU MADT has beside its
// CPUs: the local APIC at 0xfee00000 and the PC-AT PICs, the table's
// revision, one I/O APIC, the overrides and the local APIC NMI on LINT1
// for every processor.
func checkQEMUInterrupts(t *testing.T, m *MADT, revision uint8) {
	t.Helper()
	if m.LocalAPICAddress != 0xfee00000 || !m.PCATCompat || m.Header.Revision != revision {
		t.Errorf("local APIC at %#x, PC-AT %v, revision %d", m.LocalAPICAddress, m.PCATCompat, m.Header.Revision)
	}
	if !slices.Equal(m.IOAPICs, []IOAPIC{{0, 0xfec00000, 0}}) {
		t.Errorf("I/O APICs %+v", m.IOAPICs)
	}
	const highLevel = 1 | 3<<2
	wantOverrides := []InterruptOverride{{0, 0, 2, 0}, {0, 5, 5, highLevel}, {0, 9, 9, highLevel}, {0, 10, 10, highLevel}, {0, 11, 11, highLevel}}
	if !slices.Equal(m.InterruptOverrides, wantOverrides) {
		t.Errorf("overrides %+v", m.InterruptOverrides)
	}
	if len(m.NMISources) != 0 || !slices.Equal(m.LocalNMIs, []LocalNMI{{AllProcessors, 0, 1}}) {
		t.Errorf("NMI sources %+v, local NMIs %+v", m.NMISources, m.LocalNMIs)
	}
}

// checkX2APICMADT checks the MADT QEMU 10 writes for the x2APIC machine
// of qemu/x2apic_test.go (cmd/acpidump's seabios-q35-x2apic): an entry
// per possible CPU, UID = APIC ID = index, 512 of them (4 sockets of 128
// cores), APIC IDs from 255 up in x2APIC entries, 0, 1, 256 and 389
// enabled; revision 3; the overrides of the other captures; the local
// APIC NMI on LINT1 for every processor by one x2APIC NMI entry. Linux
// (linux.txt) agrees on the entries, and shows what the machine means for
// it: without interrupt remapping it turns x2APIC off again ("x2apic: IRQ
// remapping doesn't support X2APIC mode") and cannot start CPUs 256 and
// 389 ("native_cpu_up: bad cpu 2"), where hurdvm, which routes no device
// interrupt through the I/O APIC, starts all four (qemu/x2apic_test.go).
func checkX2APICMADT(t *testing.T, m *MADT) {
	t.Helper()
	var wantCPUs []CPU
	for i := range uint32(512) {
		flags := uint32(0)
		if i == 0 || i == 1 || i == 256 || i == 389 {
			flags = cpuEnabled
		}
		wantCPUs = append(wantCPUs, CPU{ProcessorUID: i, APICID: i, Flags: flags, X2APIC: i >= 255})
	}
	if !slices.Equal(m.CPUs, wantCPUs) {
		t.Errorf("CPUs\n got %+v\nwant %+v", m.CPUs, wantCPUs)
	}
	checkQEMUInterrupts(t, m, 3)
	want := "4 CPUs (APIC IDs 0-1,256,389, 2 by x2APIC entries), 508 entries not enabled (APIC IDs 2-255,257-388,390-511), local APIC at 0xfee00000, 1 I/O APIC at 0xfec00000"
	if s := m.String(); s != want {
		t.Errorf("String\n got %q\nwant %q", s, want)
	}
}

var (
	linuxAllowing = regexp.MustCompile(`smpboot: Allowing (\d+) CPUs, (\d+) hotplug CPUs`)
	linuxIOAPIC   = regexp.MustCompile(`IOAPIC\[\d+\]: apic_id (\d+), version \d+, address (0x[0-9a-f]+), GSI (\d+)-`)
	linuxOverride = regexp.MustCompile(`INT_SRC_OVR \(bus (\d+) bus_irq (\d+) global_irq (\d+) `)
)

// checkLinuxAgrees compares with what Linux made of the same tables (its
// log, linux.txt): Linux counts every processor entry as possible and the
// ones not enabled as hot-pluggable (MADT revision 1).
func checkLinuxAgrees(t *testing.T, c *capture, m *MADT) {
	t.Helper()
	a := linuxAllowing.FindStringSubmatch(c.linux)
	if a == nil {
		t.Fatal("linux.txt has no smpboot: Allowing line")
	}
	notEnabled := 0
	for _, cpu := range m.CPUs {
		if !cpu.Enabled() {
			notEnabled++
		}
	}
	if a[1] != strconv.Itoa(len(m.CPUs)) || a[2] != strconv.Itoa(notEnabled) {
		t.Errorf("Linux: %q; here %d entries, %d not enabled", a[0], len(m.CPUs), notEnabled)
	}
	var ioapics []IOAPIC
	for _, l := range linuxIOAPIC.FindAllStringSubmatch(c.linux, -1) {
		id, _ := strconv.ParseUint(l[1], 10, 8)
		addr, _ := strconv.ParseUint(l[2], 0, 32)
		gsi, _ := strconv.ParseUint(l[3], 10, 32)
		ioapics = append(ioapics, IOAPIC{uint8(id), uint32(addr), uint32(gsi)})
	}
	if !slices.Equal(ioapics, m.IOAPICs) {
		t.Errorf("Linux's I/O APICs %+v, here %+v", ioapics, m.IOAPICs)
	}
	var overrides []string
	for _, l := range linuxOverride.FindAllStringSubmatch(c.linux, -1) {
		overrides = append(overrides, strings.Join(l[1:], " "))
	}
	var here []string
	for _, o := range m.InterruptOverrides {
		here = append(here, strconv.Itoa(int(o.Bus))+" "+strconv.Itoa(int(o.Source))+" "+strconv.Itoa(int(o.GSI)))
	}
	if !slices.Equal(overrides, here) {
		t.Errorf("Linux's overrides %q, here %q", overrides, here)
	}
}

// OVMF hands the RSDP over through the EFI system table, whose ACPI20=
// entry is the revision 2 RSDP Linux used, and ACPI= an ACPI 1.0 copy
// (as GRUB's multiboot2 new and old ACPI tags would carry) with an RSDT
// of its own: both lead to the same MADT.
func TestCapturedOVMFSystemTable(t *testing.T) {
	c := loadCapture(t, "testdata/qemu/ovmf-smp4")
	addrs := map[string]uint64{}
	for _, f := range strings.Fields(c.systab) {
		k, v, _ := strings.Cut(f, "=")
		addrs[k], _ = strconv.ParseUint(v, 0, 64)
	}
	if addrs["ACPI20"] != c.tables["RSDP"] {
		t.Errorf("systab ACPI20=%#x, Linux's RSDP at %#x", addrs["ACPI20"], c.tables["RSDP"])
	}
	if addrs["ACPI"] != c.tables["RSDP1"] {
		t.Errorf("systab ACPI=%#x, the captured ACPI 1.0 RSDP at %#x", addrs["ACPI"], c.tables["RSDP1"])
	}
	mem := c.memory()
	var summaries []string
	for _, at := range []uint64{addrs["ACPI20"], addrs["ACPI"]} {
		b := mem(at, rsdpV2Length)
		if len(b) < rsdpV1Length {
			t.Fatalf("no RSDP captured at %#x", at)
		}
		r, err := ParseRSDP(b)
		if err != nil {
			t.Fatal(err)
		}
		tabs, err := r.Tables(mem)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("RSDP at %#x: revision %d, %s at %#x", at, r.Revision, tabs.Root.Signature, tabs.RootAddress)
		m, err := tabs.ReadMADT()
		if err != nil {
			t.Fatal(err)
		}
		summaries = append(summaries, m.String())
	}
	if summaries[0] != summaries[1] {
		t.Errorf("the two RSDPs give %q and %q", summaries[0], summaries[1])
	}

	// Without its XSDT, the revision 2 RSDP's own RSDT serves.
	noXSDT := &machine{regions: slices.Clone(c.regions)}
	noXSDT.regions = slices.DeleteFunc(noXSDT.regions, func(r region) bool { return r.pa == c.tables["XSDT"] })
	m, err := Discover(noXSDT.memory(), c.rsdpBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.String() != summaries[0] {
		t.Errorf("through the RSDT: %s", m)
	}
	r, _ := ParseRSDP(c.rsdpBytes(t))
	tabs, err := r.Tables(noXSDT.memory())
	if err != nil || !errors.Is(tabs.XSDTError, ErrOutsideMemory) || tabs.RootAddress != uint64(r.RSDT) {
		t.Errorf("tables %+v, %v", tabs, err)
	}
}

// The scan reads the EBDA the BDA points to (SeaBIOS's, at 0x9fc00)
// before the BIOS area, where SeaBIOS keeps its RSDP; with the RSDP copied
// into the captured EBDA, the scan finds that one.
func TestCapturedEBDA(t *testing.T) {
	c := loadCapture(t, "testdata/qemu/seabios-smp4")
	var ebda region
	for _, r := range c.regions {
		if r.pa >= 0x80000 && r.pa < 0xa0000 {
			ebda = r
		}
	}
	if ebda.b == nil {
		t.Fatal("no EBDA in the capture")
	}
	if seg := uint64(le16(c.memory()(ebdaPointer, 2), 0)) << 4; seg != ebda.pa {
		t.Fatalf("the BDA points at %#x, the EBDA captured is at %#x", seg, ebda.pa)
	}
	var reads []uint64
	mem := func(pa uint64, n int) []byte {
		reads = append(reads, pa)
		return c.memory()(pa, n)
	}
	if _, err := FindRSDP(mem); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(reads, []uint64{ebdaPointer, ebda.pa, biosAreaBase}) {
		t.Errorf("reads at %#x, want the BDA, the EBDA, the BIOS area", reads)
	}

	withRSDP := slices.Clone(ebda.b)
	copy(withRSDP[0x40:], c.rsdpBytes(t))
	m := &machine{regions: slices.Clone(c.regions)}
	m.put(ebda.pa, withRSDP)
	r, err := FindRSDP(m.memory())
	if err != nil || r.Address != ebda.pa+0x40 {
		t.Errorf("found %+v, %v; want the copy in the EBDA at %#x", r, err, ebda.pa+0x40)
	}
}
