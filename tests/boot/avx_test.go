//go:build hurdvm

package boot

import (
	"flag"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/cpu"
)

var needAVX2 = flag.Bool("boot.avx2", false, "fail, rather than skip, where the CPU has no AVX2 (make test boots -cpu max with it)")

func ymmHold(seed, spins uint64) (bad uint64)

// Goroutines holding values in all of YMM0-14 while the kernel switches
// their threads (XSAVE/XRSTOR of the whole AVX state) and the runtime's
// SIGURG interrupts them (the state goes through a signal frame and
// rt_sigreturn): each finds its own values when it looks again.
func TestAVXStateAcrossSwitchesAndSignals(t *testing.T) {
	if !cpu.X86.HasAVX2 {
		if *needAVX2 {
			t.Fatal("no AVX2 (or the kernel did not enable the AVX state in XCR0)")
		}
		t.Skip("the CPU has no AVX2: boot with -cpu max")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var wg sync.WaitGroup
	bad := make([]uint64, 4)
	start := time.Now()
	for g := range bad {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := uint64(0); round < 4; round++ {
				bad[g] += ymmHold(uint64(g)<<32|round<<16, 5_000_000)
			}
		}()
	}
	wg.Wait()
	for g, b := range bad {
		if b != 0 {
			t.Errorf("goroutine %d: %d YMM registers lost their value", g, b)
		}
	}
	t.Logf("4 goroutines, 16 rounds of 5M spins with YMM0-14 live, in %v", time.Since(start))
}
