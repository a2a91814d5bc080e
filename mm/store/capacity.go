// Context: handler (kmain reads the command line before the runtime starts):
// nothing here allocates or panics.

package store

// CmdlineOption is the kernel command-line option that sets the store's
// capacity: hurdvm.store=SIZE, SIZE one of
//
//	N        bytes (rounded down to pages)
//	NK, NM, NG, NT  kibibytes, mebibytes, gibibytes, tebibytes (k, m, g, t too)
//	N%       percent of the machine's RAM (more than 100 is allowed: it is
//	         uncompressed capacity)
//	0, off   no store: nothing is evicted but zero pages
//
// Capacity is uncompressed bytes, as zram's disksize is: how many bytes of
// pages the store accepts, whatever they compress to. Without the option
// the capacity is DefaultCapacity. The last occurrence wins; a value above
// MaxCapacity is taken as MaxCapacity.
const CmdlineOption = "hurdvm.store"

// DefaultCapacity is the capacity of a store on a machine with ram bytes of
// RAM: half of it, at most 4 GiB, as Linux's zram-generator sizes its zram
// swap (zram-size = min(ram / 2, 4096) MiB).
func DefaultCapacity(ram uint64) uint64 {
	return min(ram/2, 4<<30) &^ (PageSize - 1)
}

// ParseCapacity parses an option value (see CmdlineOption) into a capacity
// in bytes, for a machine with ram bytes of RAM. It fails with ErrOption.
func ParseCapacity(v []byte, ram uint64) (uint64, error) {
	if equal(v, "off") {
		return 0, nil
	}
	var n uint64
	i := 0
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		if n >= 1<<59 { // 18 digits and more: not a size
			return 0, ErrOption
		}
		n = n*10 + uint64(v[i]-'0')
	}
	if i == 0 || i < len(v)-1 {
		return 0, ErrOption
	}
	shift := uint(0)
	if i == len(v)-1 {
		switch v[i] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		case 't', 'T':
			shift = 40
		case '%':
			// n% of ram, without overflow: ram splits into its
			// hundredths and the rest.
			n = min(n, 1<<32)
			if h := ram / 100; n != 0 && h > MaxCapacity/n {
				return MaxCapacity, nil
			}
			return clampCapacity(ram/100*n + ram%100*n/100), nil
		default:
			return 0, ErrOption
		}
	}
	if n > MaxCapacity>>shift {
		return MaxCapacity, nil
	}
	return clampCapacity(n << shift), nil
}

func clampCapacity(n uint64) uint64 {
	return min(n, MaxCapacity) &^ (PageSize - 1)
}

// CapacityFromCmdline returns the capacity the kernel command line sets
// with CmdlineOption, for a machine with ram bytes of RAM; without the
// option, or with a value that does not parse (err is then ErrOption, for
// the kernel to report), DefaultCapacity.
func CapacityFromCmdline(cmdline []byte, ram uint64) (capacity uint64, err error) {
	var value []byte
	found := false
	for i := 0; i < len(cmdline); {
		for i < len(cmdline) && (cmdline[i] == ' ' || cmdline[i] == '\t') {
			i++
		}
		j := i
		for j < len(cmdline) && cmdline[j] != ' ' && cmdline[j] != '\t' {
			j++
		}
		w := cmdline[i:j]
		if len(w) > len(CmdlineOption) && w[len(CmdlineOption)] == '=' && equal(w[:len(CmdlineOption)], CmdlineOption) {
			value, found = w[len(CmdlineOption)+1:], true
		}
		i = j
	}
	if !found {
		return DefaultCapacity(ram), nil
	}
	c, err := ParseCapacity(value, ram)
	if err != nil {
		return DefaultCapacity(ram), err
	}
	return c, nil
}

// equal is string(b) == s, spelled out so that no conversion is ever made.
func equal(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if b[i] != s[i] {
			return false
		}
	}
	return true
}
