package loader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
)

func smallPlan(t testing.TB) *Plan {
	t.Helper()
	plan, err := Load(bytes.NewReader(smallELF()), nil)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestStackRoundTrip builds stacks and parses them back: argc, argv,
// envp, the auxiliary vector and the strings are the inputs, and the
// layout keeps Linux's rules.
func TestStackRoundTrip(t *testing.T) {
	plan := smallPlan(t)
	random := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	cases := []StackArgs{
		{Top: DefaultStackTop, Argv: []string{"/bin/prog", "-v", "x"}, Envp: []string{"HOME=/", "TERM=vt100"}, Random: random, HWCap: 0x178bfbff, HWCap2: 2, MinSigStkSz: 3376},
		{Top: DefaultStackTop, ExecFn: "/init"},                                       // no arguments: {""}
		{Top: 0x7fff00000000, Argv: []string{""}, Envp: []string{""}, ExecFn: "/a/b"}, // empty strings
		{Top: 0x1000000, Argv: []string{"ünï", strings.Repeat("y", 5000)}, SysinfoEHDR: 0x7ffff7ffd000, UID: 1000, EUID: 1001, GID: 100, EGID: 101, Secure: true},
		{Top: DefaultStackTop, Argv: []string{"p"}, Gap: 4095, Platform: "i686", Extra: []Aux{{AT_RSEQ_FEATURE_SIZE, 28}, {AT_RSEQ_ALIGN, 32}}},
	}
	for i := range 40 { // every rounding case
		cases = append(cases, StackArgs{Top: DefaultStackTop, Argv: slices.Repeat([]string{"a"}, i%5+1), Envp: slices.Repeat([]string{strings.Repeat("e", i)}, i%3), Gap: uint64(i * 3)})
	}
	for n, a := range cases {
		img, err := Stack(plan, &a)
		if err != nil {
			t.Fatalf("case %d: %v", n, err)
		}
		checkStack(t, plan, &a, img)
	}
}

func checkStack(t testing.TB, plan *Plan, a *StackArgs, img *StackImage) {
	t.Helper()
	if img.SP%16 != 0 || img.SP+uint64(len(img.Data)) != a.Top || img.Top != a.Top {
		t.Fatalf("RSP %#x, %d bytes, top %#x", img.SP, len(img.Data), a.Top)
	}
	ps, err := ParseStack(img.Data, img.SP)
	if err != nil {
		t.Fatal(err)
	}
	argv, execfn, platform := a.resolved()
	if ps.Argc != uint64(len(argv)) || !slices.Equal(ps.Argv, argv) || !slices.Equal(ps.Envp, a.Envp) && len(a.Envp)+len(ps.Envp) > 0 {
		t.Errorf("argv %q envp %q, want %q %q", ps.Argv, ps.Envp, argv, a.Envp)
	}
	if ps.ExecFn != execfn || ps.Platform != platform || ps.Random != a.Random {
		t.Errorf("execfn %q platform %q random %x", ps.ExecFn, ps.Platform, ps.Random)
	}
	secure := uint64(0)
	if a.Secure {
		secure = 1
	}
	var want []Aux
	if a.SysinfoEHDR != 0 {
		want = append(want, Aux{AT_SYSINFO_EHDR, a.SysinfoEHDR})
	}
	want = append(want, Aux{AT_MINSIGSTKSZ, a.MinSigStkSz}, Aux{AT_HWCAP, a.HWCap}, Aux{AT_PAGESZ, 4096}, Aux{AT_CLKTCK, 100},
		Aux{AT_PHDR, plan.Phdr}, Aux{AT_PHENT, 56}, Aux{AT_PHNUM, plan.Phnum}, Aux{AT_BASE, 0}, Aux{AT_FLAGS, 0},
		Aux{AT_ENTRY, plan.Entry}, Aux{AT_UID, a.UID}, Aux{AT_EUID, a.EUID}, Aux{AT_GID, a.GID}, Aux{AT_EGID, a.EGID},
		Aux{AT_SECURE, secure}, Aux{AT_RANDOM, img.Random}, Aux{AT_HWCAP2, a.HWCap2}, Aux{AT_EXECFN, img.ExecFn},
		Aux{AT_PLATFORM, img.Platform})
	want = append(want, a.Extra...)
	want = append(want, Aux{AT_NULL, 0})
	if !slices.Equal(ps.Auxv, want) || !slices.Equal(img.AuxvEntries, want) {
		t.Errorf("auxv %v\nwant %v", ps.Auxv, want)
	}
	// Linux's layout: 8 zero bytes at the top, execfn under them, then
	// the environment and argument strings packed below, argv[0]'s lowest.
	if img.ExecFn != a.Top-8-uint64(len(execfn)+1) || img.EnvEnd != img.ExecFn || img.ArgEnd != img.EnvStart {
		t.Errorf("strings: execfn %#x env %#x-%#x args %#x-%#x top %#x", img.ExecFn, img.EnvStart, img.EnvEnd, img.ArgStart, img.ArgEnd, a.Top)
	}
	if !bytes.Equal(img.Data[len(img.Data)-8:], make([]byte, 8)) {
		t.Errorf("the top 8 bytes are not zero")
	}
	next := img.ArgStart
	for i, p := range ps.ArgvAddrs {
		if p != next {
			t.Errorf("argv[%d] at %#x, want %#x", i, p, next)
		}
		next += uint64(len(argv[i]) + 1)
	}
	for i, p := range ps.EnvpAddrs {
		if p != next {
			t.Errorf("envp[%d] at %#x, want %#x", i, p, next)
		}
		next += uint64(len(a.Envp[i]) + 1)
	}
	if next != img.ExecFn {
		t.Errorf("strings end at %#x, execfn at %#x", next, img.ExecFn)
	}
	// The platform string ends at the 16-byte boundary below the strings
	// and the gap; the random bytes are right below it.
	if p := img.Platform + uint64(len(platform)+1); p != (img.ArgStart-a.Gap)&^15 || img.Random != img.Platform-16 {
		t.Errorf("platform at %#x, random at %#x, strings at %#x", img.Platform, img.Random, img.ArgStart)
	}
	if img.Argv != img.SP+8 || img.Envp != img.Argv+uint64(len(argv)+1)*8 || img.Auxv != img.Envp+uint64(len(a.Envp)+1)*8 {
		t.Errorf("argv %#x envp %#x auxv %#x sp %#x", img.Argv, img.Envp, img.Auxv, img.SP)
	}
	// RSP is the highest 16-aligned address below the vectors: the slack
	// between the auxv's end and the random bytes is under 16 bytes.
	if end := img.Auxv + uint64(len(want))*16; end > img.Random || img.Random-end >= 16 {
		t.Errorf("auxv ends at %#x, random bytes at %#x", end, img.Random)
	}
	if binary.LittleEndian.Uint64(img.Data) != uint64(len(argv)) {
		t.Errorf("argc word")
	}
}

// TestStackApply writes a stack into a simulated memory.
func TestStackApply(t *testing.T) {
	plan := smallPlan(t)
	img, err := Stack(plan, &StackArgs{Top: DefaultStackTop, Argv: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	mem := newSimMemory()
	if err := img.Apply(mem, 8<<20, ProtRead|ProtWrite); err != nil {
		t.Fatal(err)
	}
	if r := mem.regions[0]; r.start != DefaultStackTop-8<<20 || r.end != DefaultStackTop || r.prot != ProtRead|ProtWrite {
		t.Errorf("region %+v", r)
	}
	if !bytes.Equal(mem.read(t, img.SP, uint64(len(img.Data))), img.Data) {
		t.Errorf("stack not written")
	}
	for _, size := range []uint64{100, PageSize / 2, 0, DefaultStackTop} {
		if err := img.Apply(newSimMemory(), size, ProtRead|ProtWrite); !errors.Is(err, ErrStack) {
			t.Errorf("size %#x: %v", size, err)
		}
	}
	if err := img.Apply(mem, PageSize, ProtRead); !errors.Is(err, ErrMemory) {
		t.Errorf("over a region: %v", err)
	}
}

// TestStackRefusals: Linux's E2BIG and EFAULT cases and misplaced tops.
func TestStackRefusals(t *testing.T) {
	plan := smallPlan(t)
	big := strings.Repeat("z", MaxArgStrlen-1)
	cases := []struct {
		name string
		a    StackArgs
		kind error
	}{
		{"NUL in an argument", StackArgs{Argv: []string{"a\x00b"}, ExecFn: "/a"}, ErrArgs},
		{"NUL in the environment", StackArgs{Envp: []string{"A=\x00"}}, ErrArgs},
		{"NUL in the path", StackArgs{ExecFn: "/x\x00"}, ErrArgs},
		{"MAX_ARG_STRLEN", StackArgs{Argv: []string{"a", big + "z"}}, ErrArgs},
		{"past the limit", StackArgs{Argv: slices.Repeat([]string{big}, 17)}, ErrArgs},
		{"custom limit", StackArgs{Argv: []string{"abc"}, ArgLimit: 15}, ErrArgs},
		{"pointers past the limit", StackArgs{Argv: make([]string, 3), ArgLimit: 24}, ErrArgs},
		{"top misaligned", StackArgs{Top: DefaultStackTop - 8}, ErrStack},
		{"top in the kernel half", StackArgs{Top: 1 << 63}, ErrStack},
		{"top past 128 TiB", StackArgs{Top: 1 << 47}, ErrStack},
		{"top too low", StackArgs{Top: 0x10100}, ErrStack},
		{"over the program", StackArgs{Top: 0x403000}, ErrStack},
		{"gap", StackArgs{Gap: 1 << 30}, ErrStack},
	}
	for _, c := range cases {
		if c.a.Top == 0 {
			c.a.Top = DefaultStackTop
		}
		_, err := Stack(plan, &c.a)
		if !errors.Is(err, c.kind) {
			t.Errorf("%s: %v, want %v", c.name, err, c.kind)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
	// Just under Linux's limit: accepted.
	if _, err := Stack(plan, &StackArgs{Top: DefaultStackTop, Argv: slices.Repeat([]string{big}, 14)}); err != nil {
		t.Errorf("15 strings of MAX_ARG_STRLEN (path included): %v", err)
	}
}

// TestParseStackRefusals: ParseStack reads only what it was given.
func TestParseStackRefusals(t *testing.T) {
	plan := smallPlan(t)
	img, err := Stack(plan, &StackArgs{Top: DefaultStackTop, Argv: []string{"a", "b"}, Envp: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut < len(img.Data)-8; cut += 8 {
		if _, err := ParseStack(img.Data[:cut], img.SP); !errors.Is(err, ErrStack) {
			t.Fatalf("%d bytes: %v", cut, err)
		}
	}
	bad := slices.Clone(img.Data)
	binary.LittleEndian.PutUint64(bad, 1<<40)
	if _, err := ParseStack(bad, img.SP); !errors.Is(err, ErrStack) {
		t.Errorf("huge argc: %v", err)
	}
	bad = slices.Clone(img.Data)
	binary.LittleEndian.PutUint64(bad[8:], 0x1234)
	if _, err := ParseStack(bad, img.SP); !errors.Is(err, ErrStack) {
		t.Errorf("wild argv pointer: %v", err)
	}
}
