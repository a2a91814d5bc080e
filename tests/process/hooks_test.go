//go:build hurdvm && hurdvmtest

package process

import (
	"encoding/binary"
	"flag"
	"fmt"
	"testing"

	"hurdvm/kernel"
)

// breakUS gives the kernel's probe page U/S before the tests run: the
// mechanism that keeps processes out of the kernel's pages switched off,
// to see TestKernelMemoryIsOutOfReach fail (make test never sets it).
var breakUS = flag.Bool("process.break-us", false, "give a page of the kernel's data U/S first (TestKernelMemoryIsOutOfReach must then fail)")

func init() {
	testHooks = func(t *testing.T) {
		if *breakUS {
			if err := kernel.SetUserBit(kernel.ProbeAddress(), true); err != nil {
				t.Fatal(err)
			}
			t.Log("-process.break-us: the kernel's probe page has U/S")
		}
	}
}

// TestKernelPagesAreSupervisor is the U/S bit's own test, shown failing
// without it: a process reads the kernel's probe page and gets SIGSEGV;
// with U/S given to that page it reads the kernel's word (what the
// isolation tests would then see), and without it again, SIGSEGV.
func TestKernelPagesAreSupervisor(t *testing.T) {
	addr := fmt.Sprintf("%x", kernel.ProbeAddress())
	if s := run(t, "peek", "r", addr); s.Signal != sigSEGV {
		t.Fatalf("reading the kernel's page: %v, want SIGSEGV", s)
	}
	if err := kernel.SetUserBit(kernel.ProbeAddress(), true); err != nil {
		t.Fatal(err)
	}
	s := run(t, "peek", "r", addr)
	if err := kernel.SetUserBit(kernel.ProbeAddress(), false); err != nil {
		t.Fatal(err)
	}
	if s.Signal != 0 || len(s.Output) != 8 || binary.LittleEndian.Uint64(s.Output) != kernel.ProbeWord {
		t.Errorf("with U/S on the kernel's page, the process: %v, wrote %x; want it to read %#x", s, s.Output, uint64(kernel.ProbeWord))
	} else {
		t.Logf("with U/S on the kernel's page, a process read the kernel's word %#x: the U/S bit is what stops it", binary.LittleEndian.Uint64(s.Output))
	}
	if s := run(t, "peek", "r", addr); s.Signal != sigSEGV {
		t.Errorf("with U/S taken away again: %v, want SIGSEGV", s)
	}
}

// TestSMAPStopsTheKernel is SMAP's test, shown failing without it: the
// kernel reading a process's page without STAC (as a bug would) faults,
// and the fault path says so (in a kernel booted for real: a kernel panic
// naming SMAP); with SMAP off, the same read goes unnoticed.
func TestSMAPStopsTheKernel(t *testing.T) {
	if !kernel.HasSMAP() {
		t.Skip("the CPU has no SMAP (QEMU's -cpu max has it: make test boots this package so too)")
	}
	if s := run(t, "smap"); s.Signal != 0 || s.ExitCode != 1 {
		t.Fatalf("the kernel's unbracketed read: %v, want exit status 1 (SMAP stopped it)", s)
	}
	was, err := kernel.SetSMAP(false)
	if err != nil {
		t.Skipf("SMAP cannot be turned off here (%v): one CPU only", err)
	}
	s := run(t, "smap")
	kernel.SetSMAP(was)
	if s.Signal != 0 || s.ExitCode != 0 {
		t.Errorf("with SMAP off, the kernel's unbracketed read: %v, want exit status 0 (it went unnoticed)", s)
	} else {
		t.Log("with SMAP off, the kernel read the process's page unnoticed: SMAP is what stops it")
	}
}
