package qemu

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A recipe of the README: the files it tells a newcomer to write, and the
// commands to run, in order.
type recipe struct {
	files    map[string]string
	commands []string
}

var recipeMark = regexp.MustCompile(`^<!-- recipe: (\S+) -->$`)

// readRecipes reads the README's recipes: a line `<!-- recipe: PATH -->`
// before a fenced block makes the block the file PATH; `<!-- recipe: run
// -->` makes its lines commands.
func readRecipes(t *testing.T, readme string) recipe {
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := recipe{files: map[string]string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := recipeMark.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if !sc.Scan() || !strings.HasPrefix(sc.Text(), "```") {
			t.Fatalf("README: %s is not followed by a fenced block", m[0])
		}
		var body []string
		for sc.Scan() && sc.Text() != "```" {
			body = append(body, sc.Text())
		}
		if m[1] == "run" {
			r.commands = append(r.commands, body...)
		} else {
			r.files[m[1]] = strings.Join(body, "\n") + "\n"
		}
	}
	return r
}

// TestREADMERecipes does what the README's "Your own code" section tells a
// newcomer to do, as written, in a copy of the repository: writes its
// files, runs its commands. A recipe that rots fails here.
func TestREADMERecipes(t *testing.T) {
	if err := Available(); err != nil {
		t.Fatal(err)
	}
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	r := readRecipes(t, filepath.Join(root, "README.md"))
	if len(r.files) < 2 || len(r.commands) < 3 {
		t.Fatalf("README has %d recipe files and %d commands; the section lost its markers?", len(r.files), len(r.commands))
	}
	copyDir := copyRepo(t, root, "recipe-")
	for name, body := range r.files {
		dst := filepath.Join(copyDir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range r.commands {
		cmd := exec.Command("sh", "-c", c)
		cmd.Dir = copyDir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c, err, Tail(out, 30))
		}
		t.Logf("%s: ok\n%s", c, Tail(out, 3))
		for _, want := range []string{"hurdvm: exit status 0"} {
			if strings.Contains(c, "qemuexec") || strings.Contains(c, "test-qemu") {
				if !strings.Contains(string(out), want) {
					t.Errorf("%s: no %q in its output", c, want)
				}
			}
		}
	}
}

// copyRepo copies the repository's files (tracked and untracked, not
// ignored) into a new directory under its build/ and returns it. The
// copy is made in build/, not in the host's /tmp: the guest has its tmpfs
// there, which would hide a recipe's testdata from its test.
func copyRepo(t *testing.T, root, prefix string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, "build"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyDir, err := os.MkdirTemp(filepath.Join(root, "build"), prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(copyDir) })
	ls, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, name := range strings.Fields(string(ls)) {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the working tree
		}
		dst := filepath.Join(copyDir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return copyDir
}
