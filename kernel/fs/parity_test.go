//go:build linux

package fs

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

var (
	update          = flag.Bool("update", false, "rewrite the answers in testdata/parity with the host Linux's")
	paritySequences = flag.Int("parity.sequences", 40, "random sequences TestLinuxParityRandom compares")
	paritySeed      = flag.Uint64("parity.seed", 0, "the first sequence's seed")
)

// TestLinuxParity runs the scripts of testdata/parity on this package and
// checks every answer against Linux's: the host's, run on tmpfs mounts
// laid out as New lays out its namespace, when the test may mount (as
// root), and otherwise the answers recorded in the scripts (recorded from
// Linux with -update).
func TestLinuxParity(t *testing.T) {
	scripts, err := filepath.Glob("testdata/parity/*.txt")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, script := range scripts {
		script, _ := filepath.Abs(script) // the host side changes directory
		t.Run(strings.TrimSuffix(filepath.Base(script), ".txt"), func(t *testing.T) {
			runParityScript(t, script)
		})
	}
}

func runParityScript(t *testing.T, script string) {
	text, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(text), "\n"), "\n")

	var host *scriptRunner
	if os.Getuid() == 0 {
		base := hostTreeOrSkip(t, parityEntries())
		if base != "" {
			defer atHost(t, base)()
			host = newScriptRunner(linuxSystem{base: base})
			defer host.closeAll()
		}
	}
	if host == nil && *update {
		t.Fatal("-update needs the host comparison (root)")
	}
	mine := newScriptRunner(fsSystem{parityFS(t, nil)})

	var out []string
	for i, line := range lines {
		cmd, want, recorded := strings.Cut(line, " => ")
		cmd = strings.TrimSpace(cmd)
		if cmd == "" || strings.HasPrefix(cmd, "#") {
			out = append(out, line)
			continue
		}
		want = strings.TrimSpace(want)
		if host != nil {
			linux, err := host.run(cmd)
			if err != nil {
				t.Fatalf("%s:%d: %v", script, i+1, err)
			}
			if !*update && recorded && linux != want {
				t.Errorf("%s:%d: %s\n\tLinux now answers %s, the script says %s (run with -update?)", script, i+1, cmd, linux, want)
			}
			want, recorded = linux, true
		}
		got, err := mine.run(cmd)
		if err != nil {
			t.Fatalf("%s:%d: %v", script, i+1, err)
		}
		if !recorded {
			t.Errorf("%s:%d: %s has no recorded answer", script, i+1, cmd)
		} else if got != want {
			t.Errorf("%s:%d: %s\n\tLinux: %s\n\tfs:    %s", script, i+1, cmd, want, got)
		}
		out = append(out, padCommand(cmd)+" => "+want)
	}
	if *update {
		if err := os.WriteFile(script, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// padCommand aligns the answers of a script.
func padCommand(cmd string) string {
	const width = 56
	if len(cmd) >= width {
		return cmd
	}
	return cmd + strings.Repeat(" ", width-len(cmd))
}

// hostTreeOrSkip is hostTree, or "" when mounting is not allowed here
// (a container without CAP_SYS_ADMIN): then the recorded answers are used.
func hostTreeOrSkip(t *testing.T, entries []treeEntry) string {
	probe := t.TempDir()
	if err := unix.Mount("tmpfs", probe, "tmpfs", 0, ""); err != nil {
		t.Logf("no host comparison, mount is refused (%v): checking the recorded answers", err)
		return ""
	}
	unix.Unmount(probe, unix.MNT_DETACH)
	return hostTree(t, entries)
}

// TestLinuxParityRandom runs random operation sequences (opGen) on this
// package and on the host's Linux and compares every answer. A mismatch
// is reported with the sequence that led to it, as a script to paste
// into testdata/parity.
func TestLinuxParityRandom(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("the comparison with Linux mounts tmpfs file systems: root only")
	}
	sequences, length := *paritySequences, 300
	if testing.Short() {
		sequences = 5
	}
	answers := map[string]int{} // how often each kind of answer came, for the log
	for seq := 0; seq < sequences; seq++ {
		base := hostTreeOrSkip(t, parityEntries())
		if base == "" {
			t.Skip("mount is refused")
		}
		func() {
			defer atHost(t, base)()
			host, mine := portableSides(t, base)
			defer host.closeAll()
			rng := rand.New(rand.NewPCG(*paritySeed+uint64(seq), 1))
			g := opGen{pick: rng.IntN}
			var script []string
			for i := 0; i < length; i++ {
				line := g.line()
				script = append(script, line)
				linux, err := host.run(line)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				got, err := mine.run(line)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				if got != linux {
					t.Fatalf("sequence %d, step %d:\n%s\n\tLinux: %s\n\tfs:    %s", seq, i, strings.Join(script, "\n"), linux, got)
				}
				kind, _, _ := strings.Cut(linux, " ")
				if _, isErr := errnoByName[kind]; !isErr {
					kind = "success"
				}
				answers[strings.Fields(line)[0]+" "+kind]++
			}
		}()
		unix.Unmount(filepath.Join(base, "tmp"), unix.MNT_DETACH)
		unix.Unmount(base, unix.MNT_DETACH)
		if seq%1000 == 999 {
			fds, _ := os.ReadDir("/proc/self/fd")
			t.Logf("after %d sequences: %d descriptors open", seq+1, len(fds))
		}
	}
	kinds := make([]string, 0, len(answers))
	for k, n := range answers {
		kinds = append(kinds, fmt.Sprintf("%s:%d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("%d operations, the same answers; by operation and answer: %s", sequences*length, strings.Join(kinds, " "))
}
