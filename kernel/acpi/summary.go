package acpi

import (
	"slices"
	"strconv"
	"strings"
)

// String sums the MADT up for the kernel's boot line, e.g. "4 CPUs (APIC
// IDs 0-3), local APIC at 0xfee00000, 1 I/O APIC at 0xfec00000", with the
// entries that are online-capable or not enabled counted apart.
func (m *MADT) String() string {
	var enabled, capable, disabled []uint32
	x2 := 0
	for _, c := range m.CPUs {
		switch {
		case c.Enabled():
			enabled = append(enabled, c.APICID)
			if c.X2APIC {
				x2++
			}
		case c.OnlineCapable():
			capable = append(capable, c.APICID)
		default:
			disabled = append(disabled, c.APICID)
		}
	}
	var s strings.Builder
	s.WriteString(count(len(enabled), "CPU", "CPUs"))
	s.WriteString(" (")
	s.WriteString(idList(enabled))
	if x2 > 0 {
		s.WriteString(", " + dec(uint64(x2)) + " by x2APIC entries")
	}
	s.WriteString(")")
	if len(capable) > 0 {
		s.WriteString(", " + dec(uint64(len(capable))) + " more online-capable (" + idList(capable) + ")")
	}
	if len(disabled) > 0 {
		s.WriteString(", " + count(len(disabled), "entry", "entries") + " not enabled (" + idList(disabled) + ")")
	}
	s.WriteString(", local APIC at " + hex(m.LocalAPICAddress))
	s.WriteString(", " + count(len(m.IOAPICs), "I/O APIC", "I/O APICs"))
	for i, io := range m.IOAPICs {
		if i == 0 {
			s.WriteString(" at ")
		} else {
			s.WriteString(", ")
		}
		s.WriteString(hex(uint64(io.Address)))
	}
	return s.String()
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return dec(uint64(n)) + " " + many
}

// idList writes APIC IDs as sorted runs: "APIC IDs 0-3,8", "APIC ID 0".
func idList(ids []uint32) string {
	if len(ids) == 0 {
		return "no APIC IDs"
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	b := []byte("APIC IDs ")
	if len(ids) == 1 {
		b = []byte("APIC ID ")
	}
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(ids[i]), 10)
		if j > i {
			b = append(b, '-')
			b = strconv.AppendUint(b, uint64(ids[j]), 10)
		}
		i = j + 1
	}
	return string(b)
}
