package syscalls

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

func TestName(t *testing.T) {
	for nr, want := range map[uint64]string{
		0:       "read",
		1:       "write",
		9:       "mmap",
		56:      "clone",
		156:     "_sysctl",
		202:     "futex",
		231:     "exit_group",
		258:     "mkdirat",
		262:     "newfstatat",
		318:     "getrandom",
		334:     "rseq",
		335:     "uretprobe",
		337:     "", // 337..423 are not used on x86-64
		423:     "",
		424:     "pidfd_send_signal",
		435:     "clone3",
		512:     "", // the x32 ABI's numbers are not x86-64 calls
		1 << 40: "",
	} {
		if got := Name(nr); got != want {
			t.Errorf("Name(%d) = %q, want %q", nr, got, want)
		}
	}
	n := 0
	for _, s := range names {
		if s != "" {
			n++
		}
	}
	if n < 370 {
		t.Errorf("%d system calls named, want the whole table", n)
	}
}

func TestNameAllocatesNothing(t *testing.T) {
	if a := testing.AllocsPerRun(100, func() { _ = Name(258) }); a != 0 {
		t.Errorf("%v allocations per lookup", a)
	}
}

// TestTableIsGenerated: names.go is what the generator makes from the
// golang.org/x/sys go.mod requires.
func TestTableIsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	out, err := exec.Command("go", "run", "./gen").Output()
	if err != nil {
		t.Skipf("the generator cannot run here: %v", err)
	}
	committed, err := os.ReadFile("names.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, committed) {
		t.Error("names.go is not what go generate makes: run go generate ./kernel/syscalls")
	}
}
