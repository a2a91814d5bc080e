package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The kernel's copy of the trampoline is what its source assembles to.
func TestGeneratedIsCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	t.Chdir(root)
	want, err := generate(source)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what %s assembles to: run go run ./cmd/mktrampoline", output, source)
	}
}
