package store

import "testing"

func TestDefaultCapacity(t *testing.T) {
	for _, c := range []struct{ ram, want uint64 }{
		{128 << 20, 64 << 20},
		{1 << 30, 512 << 20},
		{8 << 30, 4 << 30},
		{64 << 30, 4 << 30},
		{100<<20 + 12345, (50<<20 + 6172) &^ (PageSize - 1)},
		{0, 0},
	} {
		if got := DefaultCapacity(c.ram); got != c.want {
			t.Errorf("DefaultCapacity(%d) = %d, want %d", c.ram, got, c.want)
		}
	}
}

func TestParseCapacity(t *testing.T) {
	const ram = 1 << 30
	for _, c := range []struct {
		in   string
		want uint64
		err  bool
	}{
		{"512M", 512 << 20, false},
		{"512m", 512 << 20, false},
		{"4G", 4 << 30, false},
		{"64K", 64 << 10, false},
		{"1T", MaxCapacity, false},
		{"128G", 128 << 30, false},
		{"1048576", 1 << 20, false},
		{"1000", 0, false}, // rounded down to pages
		{"5000", PageSize, false},
		{"0", 0, false},
		{"off", 0, false},
		{"25%", 256 << 20, false},
		{"150%", 1536 << 20, false},
		{"0%", 0, false},
		{"300T", MaxCapacity, false},
		{"99999999999999999K", MaxCapacity, false},
		{"4294967296%", MaxCapacity, false},
		{"", 0, true},
		{"M", 0, true},
		{"12Q", 0, true},
		{"12MB", 0, true},
		{"-1", 0, true},
		{"1.5G", 0, true},
		{"999999999999999999999", 0, true},
		{"on", 0, true},
		{" 1G", 0, true},
	} {
		got, err := ParseCapacity([]byte(c.in), ram)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseCapacity(%q) = %d, %v; want %d, error %v", c.in, got, err, c.want, c.err)
		}
		if err != nil && err != ErrOption {
			t.Errorf("ParseCapacity(%q): error %v, want ErrOption", c.in, err)
		}
	}
	// Percentages of any RAM, without overflow.
	if got, _ := ParseCapacity([]byte("50%"), 1<<63); got != MaxCapacity {
		t.Errorf("50%% of 2^63 = %d", got)
	}
	if got, _ := ParseCapacity([]byte("99%"), 99); got != 0 {
		t.Errorf("99%% of 99 bytes = %d", got)
	}
}

func TestCapacityFromCmdline(t *testing.T) {
	const ram = 2 << 30
	def := DefaultCapacity(ram)
	for _, c := range []struct {
		line string
		want uint64
		err  bool
	}{
		{"", def, false},
		{"/prog -test.v", def, false},
		{"/prog hurdvm.store=256M", 256 << 20, false},
		{"hurdvm.store=1G /prog", 1 << 30, false},
		{"/prog\thurdvm.store=off\t-x", 0, false},
		{"/prog hurdvm.store=1G hurdvm.store=2G", 2 << 30, false}, // the last one wins
		{"/prog hurdvm.store=10%", (ram / 10) &^ (PageSize - 1), false},
		{"/prog hurdvm.store=", def, true},
		{"/prog hurdvm.store=lots", def, true},
		{"/prog hurdvm.storex=1G", def, false},
		{"/prog xhurdvm.store=1G", def, false},
		{"/prog hurdvm.store", def, false},
		{"/prog HURDVM.STORE=1G", def, false},
	} {
		got, err := CapacityFromCmdline([]byte(c.line), ram)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("CapacityFromCmdline(%q) = %d, %v; want %d, error %v", c.line, got, err, c.want, c.err)
		}
	}
	if a := testing.AllocsPerRun(100, func() { CapacityFromCmdline([]byte("/prog hurdvm.store=25% x"), ram) }); a != 0 {
		t.Errorf("CapacityFromCmdline: %v allocations", a)
	}
}
