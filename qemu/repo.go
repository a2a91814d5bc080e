package qemu

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
)

// RepoRoot finds the hurdvm checkout that dir is inside (the directory
// holding go.mod with module hurdvm), for the boot stage's sources.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module hurdvm\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the hurdvm repository (no go.mod with module hurdvm above)")
		}
		dir = parent
	}
}
