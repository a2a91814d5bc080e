package syscalls

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

var killers = flag.Bool("syscalls.killers", false,
	"also run the TestKill* tests: calls that killed hurdvm before the kernel's fixes (each best run alone, -test.run=^TestKillX$)")

// A row is one system call with its arguments, and the answer Linux 6.1
// gives to it.
type row struct {
	name   string        // the call and what is tried: "read/eventfd/null"; one word
	want   string        // Linux 6.1's answer, in the words of answer and status
	call   func() string // makes the call; returns its answer
	killer string        // the TestKill* function running the row; "" for TestSyscalls
}

// table is every row, in the order they run.
func table() []row {
	var rows []row
	for _, part := range [][]row{
		fdRows(), epollRows(), memoryRows(), signalRows(), sigreturnRows(),
		threadRows(), futexRows(), timeRows(), processRows(), restartRows(),
	} {
		rows = append(rows, part...)
	}
	return rows
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	finish()
	os.Exit(code)
}

// TestSyscalls runs every row that is no killer.
func TestSyscalls(t *testing.T) { runRows(t, "") }

// TestTableIsWellFormed: names are unique words, answers single words.
func TestTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range table() {
		if seen[r.name] {
			t.Errorf("row %s twice", r.name)
		}
		seen[r.name] = true
		if strings.ContainsAny(r.name+r.want, " \t\n") || r.name == "" || r.want == "" {
			t.Errorf("row %q: name and answer must be single words (%q)", r.name, r.want)
		}
		if r.killer != "" && !killerGroups[r.killer] {
			t.Errorf("row %s: no TestKill%s runs its group", r.name, r.killer)
		}
	}
	diffs, err := Differences()
	if err != nil {
		t.Fatal(err)
	}
	for name := range diffs {
		if !seen[name] {
			t.Errorf("differences.txt lists %s, which is no row", name)
		}
	}
}

// runRows runs the rows of the killer group (or TestSyscalls's, ""), each
// as a subtest on a locked thread, prints each row's line and checks its
// answer: Linux's, or on hurdvm the one differences.txt gives.
func runRows(t *testing.T, killer string) {
	diffs, err := Differences()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range table() {
		if r.killer != killer {
			continue
		}
		n++
		t.Run(r.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			got := answerOf(r)
			fmt.Println(FormatRow(r.name, got))
			want := r.want
			if d, ok := diffs[r.name]; ok && onHurdvm {
				want = d.Answer
			}
			if got != want {
				t.Errorf("%s: got %s, want %s", r.name, got, want)
			}
		})
	}
	if n == 0 {
		t.Fatalf("no rows for %q", killer)
	}
}

// answerOf makes the row's call. A setup that failed, or a panic, is the
// answer too, so that one row cannot stop the others.
func answerOf(r row) (got string) {
	defer func() {
		if p := recover(); p != nil {
			if s, ok := p.(setupError); ok {
				got = "setup-failed:" + string(s)
				return
			}
			got = "panic:" + strings.Join(strings.Fields(fmt.Sprint(p)), "_")
		}
	}()
	got = r.call()
	return strings.Join(strings.Fields(got), "_")
}

// killerRows runs a killer group, when -syscalls.killers asks for it.
func killerRows(t *testing.T, group, why string) {
	if !*killers {
		t.Skipf("killed hurdvm before its fix (%s); -syscalls.killers runs it", why)
	}
	runRows(t, group)
}
