package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"hurdvm/qemu"
)

// The throwaway packages: for a standard-library package P, a directory
// of the hurdvm module holding P's external test files (package P_test:
// they import P by its path, so they compile outside P's directory), its
// testdata, and hurdvm_test.go, which imports hurdvm/kernel under the
// hurdvm tag (so that the same directory is also a plain Linux test).
//
// External tests import std's own helpers: internal/testenv above all,
// which skips what needs a go command, exec or the network. The go
// command lets only std import internal/..., so such a package is copied
// into the tree's own internal/ (importable from every throwaway package
// beside it) with its imports rewritten, as long as it is plain Go: a
// package with assembly or go:linkname belongs to the runtime and cannot
// be copied. Any other internal package (crypto/internal/..., vendor/...)
// makes P unusable, and so does a test relying on P's internal test
// files (export_test.go's helpers): P's files are not there.

// unusable says why a package cannot be made into a throwaway package.
type unusableError struct{ reason string }

func (u *unusableError) Error() string { return u.reason }

// goPackage is what `go list -json` says of a package, the fields used.
type goPackage struct {
	Dir          string
	Root         string // GOROOT, for std
	ImportPath   string
	Name         string
	GoFiles      []string
	SFiles       []string
	Imports      []string
	XTestGoFiles []string
	XTestImports []string
	TestGoFiles  []string
}

// goList describes packages for the kernel's target (linux/amd64, no cgo),
// so that the files chosen are the ones its build compiles.
func goList(paths ...string) ([]goPackage, error) {
	cmd := exec.Command("go", append([]string{"list", "-json"}, paths...)...)
	cmd.Env = append(os.Environ(), qemu.GoBuildEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %v\n%s", strings.Join(paths, " "), err, stderr.String())
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
}

// tree is the directory of throwaway packages (build/_std: the leading
// underscore keeps them out of ./... patterns, so make test-host never
// sees them) and the module path it has.
type tree struct {
	dir        string // absolute
	importPath string // hurdvm/build/_std
	copied     map[string]error
}

// reset removes the copies of internal packages a previous run made
// (internal/trace holds internal/trace/internal/tracev1: a package's copy
// cannot be removed while its packages' copies are made).
func (t *tree) reset() error {
	return os.RemoveAll(filepath.Join(t.dir, "internal"))
}

// pkgDir is the directory of P's throwaway package: one level, its path
// with dots for slashes, so that packing one package's directory for the
// guest never takes another's with it.
func (t *tree) pkgDir(path string) string {
	return filepath.Join(t.dir, strings.ReplaceAll(path, "/", "."))
}

// generate makes P's throwaway package, or says why it cannot be made.
func (t *tree) generate(p goPackage) error {
	if len(p.XTestGoFiles) == 0 {
		return &unusableError{"no external test files for linux/amd64 without cgo"}
	}
	for _, imp := range p.XTestImports {
		if err := t.need(imp); err != nil {
			return err
		}
	}
	dir := t.pkgDir(p.ImportPath)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	for _, f := range p.XTestGoFiles {
		if err := t.copyGo(filepath.Join(p.Dir, f), filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	if err := copyTree(filepath.Join(p.Dir, "testdata"), filepath.Join(dir, "testdata")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	kernel := fmt.Sprintf(`//go:build hurdvm

package %s_test

// The test binary is a kernel: its entry point and system calls.
import _ "hurdvm/kernel"
`, p.Name)
	return os.WriteFile(filepath.Join(dir, "hurdvm_test.go"), []byte(kernel), 0o666)
}

// need makes sure an import of an external test resolves from the tree:
// std's public packages do; internal/... is copied.
func (t *tree) need(imp string) error {
	if !strings.Contains(imp, ".") && !isInternal(imp) {
		return nil // a public std package
	}
	if !strings.HasPrefix(imp, "internal/") {
		return &unusableError{fmt.Sprintf("imports %s, which only std may import", imp)}
	}
	if err, done := t.copied[imp]; done {
		return err
	}
	t.copied[imp] = nil // a cycle cannot happen among packages; this just stops repeats
	err := t.copyInternal(imp)
	t.copied[imp] = err
	return err
}

func isInternal(path string) bool {
	return strings.HasPrefix(path, "internal/") || strings.Contains(path, "/internal/") ||
		strings.HasPrefix(path, "vendor/")
}

// copyInternal copies std's internal package imp into the tree.
func (t *tree) copyInternal(imp string) error {
	pkgs, err := goList(imp)
	if err != nil {
		return err
	}
	p := pkgs[0]
	if len(p.SFiles) > 0 {
		return &unusableError{fmt.Sprintf("imports %s, which has assembly", imp)}
	}
	for _, f := range p.GoFiles {
		b, err := os.ReadFile(filepath.Join(p.Dir, f))
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("//go:linkname")) {
			return &unusableError{fmt.Sprintf("imports %s, which reaches into the runtime (go:linkname)", imp)}
		}
	}
	for _, dep := range p.Imports {
		if err := t.need(dep); err != nil {
			return err
		}
	}
	dir := filepath.Join(t.dir, filepath.FromSlash(imp))
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	for _, f := range p.GoFiles {
		if err := t.copyGo(filepath.Join(p.Dir, f), filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return nil
}

// copyGo copies a Go file, its imports of internal/... pointing into the
// tree.
func (t *tree) copyGo(from, to string) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, from, nil, parser.ParseComments)
	if err != nil {
		return err
	}
	changed := false
	for _, spec := range f.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		if strings.HasPrefix(path, "internal/") {
			spec.Path = &ast.BasicLit{ValuePos: spec.Path.Pos(), Kind: token.STRING, Value: strconv.Quote(t.importPath + "/" + path)}
			changed = true
		}
	}
	if !changed {
		return copyFile(from, to, 0o666)
	}
	var b bytes.Buffer
	if err := format.Node(&b, fset, f); err != nil {
		return err
	}
	return os.WriteFile(to, b.Bytes(), 0o666)
}

// copyTree copies a directory: files, directories and symbolic links
// (testdata's links are relative, into the same tree).
func copyTree(from, to string) error {
	if _, err := os.Stat(from); err != nil {
		return err
	}
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o777)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case d.Type().IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			return copyFile(path, dst, fi.Mode().Perm())
		}
		return nil
	})
}

func copyFile(from, to string, perm fs.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, perm|0o200)
}
