package qemu

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

var randomLine = regexp.MustCompile(`(?m)^hurdvm: random: .*$`)

// TestRandomSeedSources: the kernel says what it seeded its generator
// from. QEMU's default CPU has neither RDRAND nor RDSEED: a warning that
// names the weaker sources (testdata/console's boot). Its "max" CPU has
// RDRAND, and RDSEED on QEMUs that emulate it: those are named.
func TestRandomSeedSources(t *testing.T) {
	t.Parallel()
	weak := regexp.MustCompile(`^hurdvm: random: warning: no RDRAND or RDSEED: seeded from TSC jitter \(\d+ samples, about \d+ bits\), the boot loader's data and the clock, which are not secret`)
	if line := randomLine.FindString(bootConsole(t)); !weak.MatchString(line) {
		t.Errorf("the default CPU: the kernel said %q", line)
	}

	res, err := Run(context.Background(), Config{Image: buildKernel(t, "exit3"), Timeout: time.Minute, Extra: []string{"-cpu", "max"}})
	if err != nil {
		t.Fatal(err)
	}
	strong := regexp.MustCompile(`^hurdvm: random: seeded from (RDSEED, RDRAND|RDRAND|RDSEED) and TSC jitter \(\d+ samples, about \d+ bits\), the boot loader's data and the clock$`)
	out := string(res.Output)
	line := randomLine.FindString(out)
	if !strong.MatchString(line) {
		t.Errorf("-cpu max: the kernel said %q", line)
	}
	if strings.Contains(out, ", RDSEED\n") && !strings.Contains(line, "RDSEED") {
		t.Errorf("the CPU has RDSEED, the seed line does not name it: %q", line)
	}
	t.Log(line)
}
