package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

// simMemory is a sparse simulated address space: regions with their
// protection, and the pages written, so that a plan of terabytes costs
// nothing.
type simMemory struct {
	regions []simRegion
	pages   map[uint64]*[PageSize]byte
	written uint64 // bytes Write copied
}

type simRegion struct {
	start, end uint64
	prot       Prot
}

func newSimMemory() *simMemory { return &simMemory{pages: map[uint64]*[PageSize]byte{}} }

func (m *simMemory) Allocate(addr, size uint64, prot Prot) error {
	if addr%PageSize != 0 || size%PageSize != 0 || size == 0 || addr+size < addr {
		return errors.New("sim: misaligned allocation")
	}
	if addr < DefaultMinAddr || addr+size > DefaultMaxAddr {
		return errors.New("sim: allocation out of range")
	}
	for _, r := range m.regions {
		if addr < r.end && r.start < addr+size {
			return errors.New("sim: allocation over a region")
		}
	}
	m.regions = append(m.regions, simRegion{addr, addr + size, prot})
	sort.Slice(m.regions, func(i, j int) bool { return m.regions[i].start < m.regions[j].start })
	return nil
}

func (m *simMemory) region(addr uint64) *simRegion {
	for i := range m.regions {
		if r := &m.regions[i]; r.start <= addr && addr < r.end {
			return r
		}
	}
	return nil
}

func (m *simMemory) Write(addr uint64, b []byte) error {
	for len(b) > 0 {
		if m.region(addr) == nil {
			return errors.New("sim: write outside the regions")
		}
		pg := addr &^ (PageSize - 1)
		p := m.pages[pg]
		if p == nil {
			p = new([PageSize]byte)
			m.pages[pg] = p
		}
		n := copy(p[addr-pg:], b)
		b, addr = b[n:], addr+uint64(n)
		m.written += uint64(n)
	}
	return nil
}

// read returns n bytes at addr, zeros where nothing was written; it
// fails the test outside the regions.
func (m *simMemory) read(t testing.TB, addr, n uint64) []byte {
	t.Helper()
	out := make([]byte, n)
	for i := uint64(0); i < n; {
		a := addr + i
		if m.region(a) == nil {
			t.Fatalf("read of %#x: not allocated", a)
		}
		pg := a &^ (PageSize - 1)
		k := min(n-i, pg+PageSize-a)
		if p := m.pages[pg]; p != nil {
			copy(out[i:i+k], p[a-pg:])
		}
		i += k
	}
	return out
}

// mkELF builds a small ELF64 x86-64 file: the header, the program
// headers at 64, then bytes of a pattern (never zero) up to size.
func mkELF(typ elf.Type, entry uint64, progs []elf.Prog64, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7%251 + 1)
	}
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	b[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	for i := 7; i < 16; i++ {
		b[i] = 0
	}
	le := binary.LittleEndian
	le.PutUint16(b[16:], uint16(typ))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], entry)
	le.PutUint64(b[32:], 64)
	le.PutUint64(b[40:], 0)
	le.PutUint32(b[48:], 0)
	le.PutUint16(b[52:], 64)
	le.PutUint16(b[54:], PhentSize)
	le.PutUint16(b[56:], uint16(len(progs)))
	le.PutUint16(b[58:], 64)
	le.PutUint16(b[60:], 0)
	le.PutUint16(b[62:], 0)
	for i, p := range progs {
		q := b[64+i*PhentSize:]
		le.PutUint32(q[0:], p.Type)
		le.PutUint32(q[4:], p.Flags)
		le.PutUint64(q[8:], p.Off)
		le.PutUint64(q[16:], p.Vaddr)
		le.PutUint64(q[24:], p.Paddr)
		le.PutUint64(q[32:], p.Filesz)
		le.PutUint64(q[40:], p.Memsz)
		le.PutUint64(q[48:], p.Align)
	}
	return b
}

// The small program of the table tests: text with the headers, data with
// a bss starting mid-page, TLS, a non-executable stack.
const (
	smallEntry = 0x401000
	smallSize  = 0x2000
)

func smallProgs() []elf.Prog64 {
	return []elf.Prog64{
		{Type: uint32(elf.PT_PHDR), Flags: uint32(elf.PF_R), Off: 64, Vaddr: 0x400040, Paddr: 0x400040, Filesz: 5 * PhentSize, Memsz: 5 * PhentSize, Align: 8},
		{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Off: 0, Vaddr: 0x400000, Paddr: 0x400000, Filesz: 0x1800, Memsz: 0x1800, Align: 0x1000},
		{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: 0x1800, Vaddr: 0x402800, Paddr: 0x402800, Filesz: 0x300, Memsz: 0x2000, Align: 0x1000},
		{Type: uint32(elf.PT_GNU_STACK), Flags: uint32(elf.PF_R | elf.PF_W), Align: 16},
		{Type: uint32(elf.PT_TLS), Flags: uint32(elf.PF_R), Off: 0x1800, Vaddr: 0x402800, Paddr: 0x402800, Filesz: 0x10, Memsz: 0x20, Align: 8},
	}
}

func smallELF() []byte { return mkELF(elf.ET_EXEC, smallEntry, smallProgs(), smallSize) }

// Programs built once per test run with the host's Go, CGO_ENABLED=0.
var (
	buildMu  sync.Mutex
	built    = map[string]string{}
	buildDir string
)

// goBuild builds the Go program (args after "go") once and returns its
// path; name keys the cache.
func goBuild(t testing.TB, name string, args ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds Go programs: not in -short")
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "loadertest")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	out := filepath.Join(buildDir, name)
	args = append(args[:1:1], append([]string{"-o", out}, args[1:]...)...)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, msg)
	}
	built[name] = out
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// auxdump is testdata/auxdump built as a static Go program.
func auxdump(t testing.TB) string {
	return goBuild(t, "auxdump", "build", "./testdata/auxdump")
}

// loadFile loads a file from disk, returning its bytes too.
func loadFile(t testing.TB, path string, opts *Options) (*Plan, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Load(bytes.NewReader(b), opts)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return plan, b
}
