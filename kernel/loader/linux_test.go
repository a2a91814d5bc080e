package loader

import (
	"bytes"
	enchex "encoding/hex"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// linuxRun is what testdata/auxdump printed about itself.
type linuxRun struct {
	personality, top, brk, sp uint64
	args                      [4]uint64 // arg_start, arg_end, env_start, env_end
	auxv, data                []byte
	maps                      []string
}

func runAuxdump(t *testing.T, path string, argv, envp []string) *linuxRun {
	t.Helper()
	cmd := exec.Command(path)
	cmd.Args = argv
	cmd.Env = envp
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, out)
	}
	r := &linuxRun{}
	num := func(s string) uint64 {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			t.Fatalf("auxdump output %q: %v", s, err)
		}
		return v
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		key, val, _ := strings.Cut(line, " ")
		switch key {
		case "personality":
			r.personality = num(val)
		case "top":
			r.top = num(val)
		case "brk":
			r.brk = num(val)
		case "sp":
			r.sp = num(val)
		case "args":
			for i, f := range strings.Fields(val) {
				r.args[i] = num(f)
			}
		case "auxv":
			r.auxv, _ = enchex.DecodeString(val)
		case "data":
			r.data, _ = enchex.DecodeString(val)
		case "map":
			r.maps = append(r.maps, val)
		}
	}
	if r.top == 0 || r.sp == 0 || len(r.data) != int(r.top-r.sp) {
		t.Fatalf("auxdump said:\n%s", out)
	}
	return r
}

// TestStackMatchesLinux runs a static Go program on the host's Linux,
// which prints the stack Linux built for it, and builds the same stack
// with Stack from the plan Load made of the same file: the same
// arguments, environment and path, and the values only the host knows
// (its top, AT_RANDOM's bytes, AT_HWCAP, AT_MINSIGSTKSZ, the vDSO, the
// credentials) taken from what Linux gave. The auxiliary vector must have
// Linux 6.1's entries in its order (later kernels add entries after
// AT_PLATFORM: they are passed as Extra), AT_PHDR, AT_ENTRY and AT_PHNUM
// Linux's values, and the whole stack, from the initial RSP to the top,
// the same bytes. The program runs itself without address randomization;
// if the host refuses that, the random gap below the strings is measured
// and passed as Gap. Linux's mappings of the program and its program
// break are compared with the plan too.
func TestStackMatchesLinux(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("runs an x86-64 Linux program")
	}
	path := auxdump(t)
	plan, _ := loadFile(t, path, nil)
	long := strings.Repeat("x", 3000)
	cases := []struct {
		name       string
		argv, envp []string
	}{
		{"plain", []string{path, "one", "", "three words", "ünïcödé"}, []string{"A=1", "EMPTY=", "LONG=" + long, "PATH=/bin"}},
		{"no environment", []string{path}, []string{}},
		{"randomized", []string{path, "r"}, []string{"AUXDUMP_RANDOM=1", "Y=2"}},
		{"odd lengths", []string{path, "ab"}, []string{"X=123"}},
		{"many", append([]string{path}, strings.Fields(strings.Repeat("a bb ccc dddd ", 40))...), manyEnv(60)},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			real := runAuxdump(t, path, c.argv, c.envp)
			ps, err := ParseStack(real.data, real.sp)
			if err != nil {
				t.Fatalf("parsing Linux's stack: %v", err)
			}
			if !slices.Equal(ps.Argv, c.argv) || !slices.Equal(ps.Envp, nonNil(c.envp)) || ps.ExecFn != path || ps.Platform != "x86_64" {
				t.Fatalf("Linux's stack parsed: %+v", ps)
			}
			// /proc/self/auxv is the same vector (saved_auxv).
			var saved []Aux
			for i := 0; i+16 <= len(real.auxv); i += 16 {
				saved = append(saved, Aux{le64(real.auxv[i:]), le64(real.auxv[i+8:])})
				if saved[len(saved)-1].Type == AT_NULL {
					break
				}
			}
			if !slices.Equal(saved, ps.Auxv) {
				t.Errorf("/proc/self/auxv %v, the stack's %v", saved, ps.Auxv)
			}

			// The arguments only the host knows.
			val := func(typ uint64) uint64 { v, _ := ps.Lookup(typ); return v }
			a := &StackArgs{
				Top: real.top, Argv: c.argv, Envp: c.envp, ExecFn: path, Random: ps.Random,
				HWCap: val(AT_HWCAP), HWCap2: val(AT_HWCAP2), MinSigStkSz: val(AT_MINSIGSTKSZ),
				SysinfoEHDR: val(AT_SYSINFO_EHDR),
				UID:         val(AT_UID), EUID: val(AT_EUID), GID: val(AT_GID), EGID: val(AT_EGID),
				Secure: val(AT_SECURE) != 0,
			}
			i := slices.IndexFunc(ps.Auxv, func(e Aux) bool { return e.Type == AT_PLATFORM })
			if i < 0 {
				t.Fatal("no AT_PLATFORM from Linux")
			}
			a.Extra = ps.Auxv[i+1 : len(ps.Auxv)-1]
			for _, e := range a.Extra {
				if e.Type != AT_RSEQ_FEATURE_SIZE && e.Type != AT_RSEQ_ALIGN && e.Type != AT_EXECFD {
					t.Errorf("Linux gave an entry 6.1 does not have: %d", e.Type)
				}
			}
			if real.personality&0x0040000 == 0 {
				// Randomized: the platform string ends where the rounding
				// below the strings left it.
				p := val(AT_PLATFORM) + uint64(len("x86_64")+1)
				a.Gap = real.args[0] - p
				t.Logf("randomized: gap %d", a.Gap)
			}

			// The order of 6.1's entries, Linux's AT_PHDR, AT_PHNUM, AT_ENTRY, AT_BASE.
			var types []uint64
			for _, e := range ps.Auxv[:i+1] {
				types = append(types, e.Type)
			}
			want61 := []uint64{AT_MINSIGSTKSZ, AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE,
				AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM}
			if a.SysinfoEHDR != 0 {
				want61 = append([]uint64{AT_SYSINFO_EHDR}, want61...)
			}
			if !slices.Equal(types, want61) {
				t.Errorf("Linux's auxv types %v, 6.1's %v", types, want61)
			}
			if val(AT_PHDR) != plan.Phdr || val(AT_ENTRY) != plan.Entry || val(AT_PHNUM) != plan.Phnum || val(AT_BASE) != 0 || val(AT_PHENT) != PhentSize {
				t.Errorf("Linux: AT_PHDR %#x AT_ENTRY %#x AT_PHNUM %d AT_BASE %#x; plan %#x %#x %d", val(AT_PHDR), val(AT_ENTRY), val(AT_PHNUM), val(AT_BASE), plan.Phdr, plan.Entry, plan.Phnum)
			}

			img, err := Stack(plan, a)
			if err != nil {
				t.Fatal(err)
			}
			if img.SP != real.sp {
				t.Errorf("RSP %#x, Linux's %#x (top %#x)", img.SP, real.sp, real.top)
			}
			if got := [4]uint64{img.ArgStart, img.ArgEnd, img.EnvStart, img.EnvEnd}; got != real.args {
				t.Errorf("arg/env bounds %#x, Linux's %#x", got, real.args)
			}
			if !bytes.Equal(img.Data, real.data) {
				diffStacks(t, img, real)
			} else {
				t.Logf("%d bytes from RSP %#x to the top %#x identical to Linux's (%d auxv entries, %d from later kernels)", len(img.Data), img.SP, img.Top, len(ps.Auxv), len(a.Extra))
			}
			if real.personality&0x0040000 != 0 {
				checkMaps(t, plan, real, path)
			}
		})
	}
}

// checkMaps compares Linux's mappings of the program (file-backed pages,
// then the anonymous bss pages) and its break with the plan.
func checkMaps(t *testing.T, plan *Plan, real *linuxRun, path string) {
	t.Helper()
	if real.brk != plan.Brk {
		t.Errorf("Linux's brk %#x, the plan's %#x", real.brk, plan.Brk)
	}
	type m struct {
		start, end uint64
		perm       string
		file       bool
	}
	var maps []m
	for _, line := range real.maps {
		f := strings.Fields(line)
		lo, hi, _ := strings.Cut(f[0], "-")
		s, _ := strconv.ParseUint(lo, 16, 64)
		e, _ := strconv.ParseUint(hi, 16, 64)
		maps = append(maps, m{s, e, f[1], len(f) > 5 && f[5] == path})
	}
	for _, s := range plan.Segments {
		fileEnd := pageAlign(s.Vaddr + s.Filesz)
		perm := strings.ToLower(strings.ReplaceAll(s.Prot.String(), " ", "-"))
		perm = strings.Replace(perm, "e", "x", 1) + "p"
		i := slices.IndexFunc(maps, func(x m) bool { return x.start == s.Start })
		if i < 0 || maps[i].end != fileEnd || !maps[i].file || maps[i].perm != perm {
			t.Errorf("segment %#x-%#x %s (file to %#x): no such mapping of the file in %q", s.Start, s.End, perm, fileEnd, real.maps)
			continue
		}
		if fileEnd < s.End {
			j := slices.IndexFunc(maps, func(x m) bool { return x.start == fileEnd })
			if j < 0 || maps[j].end != s.End || maps[j].file {
				t.Errorf("segment %#x-%#x: no anonymous mapping %#x-%#x in %q", s.Start, s.End, fileEnd, s.End, real.maps)
			}
		}
	}
}

func diffStacks(t *testing.T, img *StackImage, real *linuxRun) {
	t.Helper()
	// Align the two at the top and show the first difference.
	a, b := img.Data, real.data
	n := min(len(a), len(b))
	for i := 1; i <= n; i++ {
		if a[len(a)-i] != b[len(b)-i] {
			at := img.Top - uint64(i)
			lo := max(0, len(a)-i-32)
			lob := max(0, len(b)-i-32)
			t.Errorf("stacks differ at %#x (top-%d): ours % x, Linux's % x", at, i, a[lo:len(a)-i+1], b[lob:len(b)-i+1])
			return
		}
	}
	t.Errorf("stacks differ in length: ours %d bytes, Linux's %d", len(a), len(b))
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// manyEnv is n environment strings of distinct keys (os/exec keeps one
// string per key).
func manyEnv(n int) []string {
	var env []string
	for i := range n {
		env = append(env, "K"+strconv.Itoa(i)+"="+strings.Repeat("v", i%7))
	}
	return env
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
