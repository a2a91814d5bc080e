package qemu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// The initramfs: the test's directory, packed as a newc cpio archive that
// the kernel serves read-only at the same absolute path (kernel/fs's
// read-only tree). `go test -exec` runs a test binary in its package's
// directory, so that directory is what a test can expect to read: its
// testdata above all, and its sources (a test may parse them).
//
// What is left out is what a test cannot need and would only make the
// archive large:
//   - version-control metadata (.git, .hg, .svn, .bzr: a worktree's .git
//     is a file);
//   - the directories in PackOptions.Exclude (qemuexec passes the
//     repository's build/ output directory);
//   - ELF files outside testdata directories: a test binary kept by
//     `go test -c` or -cpuprofile, programs built in place (under
//     testdata, an ELF file is a test's input: debug/elf's tests read
//     theirs);
//   - regular files over PackOptions.MaxFile (reported, since a test
//     that wanted one fails without it);
//   - devices, FIFOs and sockets (the kernel serves none from the
//     archive but /dev/null, /dev/zero and /dev/full) and what cannot be
//     read (reported).
//
// The archive's records name paths relative to / ("work/main/tests/vm/
// testdata/x"), the directory's ancestors first, as directories (an
// ancestor reached through a symbolic link is the directory it leads to).
// Modes, modification times and symbolic links are kept; hard links stay
// hard links (u-root's Recorder: the data once, the other names empty);
// owners are root's, the kernel's one user, as the host user owns its
// files.

// PackOptions bound what PackDir puts in an archive.
type PackOptions struct {
	MaxTotal int64    // the archive's largest size; past it PackDir fails (0: no limit)
	MaxFile  int64    // a regular file larger is left out (0: no limit)
	Exclude  []string // absolute paths of directories left out
	// Extra are absolute paths of files packed at their own paths (with
	// their ancestors) whatever the rules above say: qemuexec -process's
	// program, an ELF file that may lie anywhere. MaxTotal counts them.
	Extra []string
	// Trees are absolute paths of further directories packed at their
	// own paths (with their ancestors), by the rules above, each as if
	// it lay in the packed directory: a test's inputs outside its
	// directory (std's tests read ../testdata). MaxTotal counts them.
	Trees []string
}

// DefaultMaxTotal and DefaultMaxFile are qemuexec's limits: the archive
// stays in guest memory for the whole run (512 MiB by default), and a
// test's inputs are rarely above a few MiB.
const (
	DefaultMaxTotal = 64 << 20
	DefaultMaxFile  = 16 << 20
)

// PackSummary says what an archive holds and what PackDir left out.
type PackSummary struct {
	Dir        string // the directory packed, absolute
	Records    int    // records written, the trailer not counted
	Size       int64  // the archive's size in bytes
	Skipped    []Skip // files left out that a test might have wanted
	SkippedAll int    // every path left out, expected ones (.git, ELF files) included
}

// Skip is a path PackDir left out and why.
type Skip struct {
	Path   string // relative to the directory packed
	Reason string
}

// ErrPackTooLarge is returned when the archive would exceed MaxTotal.
var ErrPackTooLarge = errors.New("the directory is too large to pack")

// vcsDirs are version-control metadata directories (or files) skipped by
// name.
var vcsDirs = map[string]bool{".git": true, ".hg": true, ".svn": true, ".bzr": true}

// packEntry is one record to write: its archive size is known before any
// byte is written, so that the limit is checked up front.
type packEntry struct {
	rec  cpio.Record
	size int64 // the record's bytes in the archive: header, name, data, padding
	path string
}

// PackDir writes dir as a newc archive to w (see the comment above for
// what goes in).
func PackDir(w io.Writer, dir string, opt PackOptions) (PackSummary, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return PackSummary{}, err
	}
	sum := PackSummary{Dir: abs}
	rec := cpio.NewRecorder()
	var entries []packEntry
	packed := map[string]bool{}
	add := func(r cpio.Record, path string) {
		packed[path] = true
		r.UID, r.GID = 0, 0
		r.Name = strings.TrimPrefix(filepath.ToSlash(path), "/")
		if r.ReaderAt == nil {
			r.FileSize = 0
		}
		entries = append(entries, packEntry{rec: r, size: recordSize(r.Name, int64(r.FileSize)), path: path})
	}
	// The ancestors, as directories, so that the tree has their modes and
	// times rather than ones the kernel makes up.
	addAncestors := func(path string) error {
		for _, a := range ancestors(path) {
			if packed[a] {
				continue
			}
			fi, err := os.Stat(a)
			if err != nil {
				return err
			}
			r := cpio.Directory(a, uint64(fi.Mode().Perm()))
			r.MTime = uint64(fi.ModTime().Unix())
			add(r, a)
		}
		return nil
	}
	if err := addAncestors(abs); err != nil {
		return sum, err
	}
	excluded := map[string]bool{}
	for _, e := range opt.Exclude {
		excluded[filepath.Clean(e)] = true
	}
	skip := func(path, reason string, report bool) {
		sum.SkippedAll++
		if report {
			rel, _ := filepath.Rel(abs, path)
			sum.Skipped = append(sum.Skipped, Skip{rel, reason})
		}
	}
	var visit func(top, inside, path string, d fs.DirEntry, err error) error
	// walk packs the tree at top; an ELF file is an input under a
	// testdata directory below inside.
	walk := func(top, inside string) error {
		return filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
			return visit(top, inside, path, d, err)
		})
	}
	visit = func(top, inside, path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == top {
				return err
			}
			skip(path, err.Error(), true)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if packed[path] {
			return nil // in a tree packed before
		}
		if path != top && (vcsDirs[d.Name()] || excluded[path]) {
			skip(path, "not a test's input", false)
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		t := d.Type()
		if t&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeIrregular) != 0 {
			skip(path, "a special file", true)
			return nil
		}
		if t.IsRegular() {
			fi, err := d.Info()
			if err != nil {
				skip(path, err.Error(), true)
				return nil
			}
			if opt.MaxFile > 0 && fi.Size() > opt.MaxFile {
				skip(path, fmt.Sprintf("%s, over the %s limit for a file", sizeString(fi.Size()), sizeString(opt.MaxFile)), true)
				return nil
			}
			elf, err := isELF(path)
			if err != nil {
				skip(path, err.Error(), true)
				return nil
			}
			if elf && !inTestdata(inside, path) {
				skip(path, "an ELF file outside testdata", false)
				return nil
			}
		}
		r, err := rec.GetRecord(path)
		if err != nil {
			skip(path, err.Error(), true)
			return nil
		}
		add(r, path)
		return nil
	}
	if err := walk(abs, abs); err != nil {
		return sum, err
	}
	for _, t := range opt.Trees {
		t = filepath.Clean(t)
		if !filepath.IsAbs(t) {
			return sum, fmt.Errorf("packing %s: a further tree's path must be absolute", t)
		}
		if rel, err := filepath.Rel(abs, t); err == nil && filepath.IsLocal(rel) {
			continue // inside the directory: packed already
		}
		if err := addAncestors(t); err != nil {
			return sum, err
		}
		if err := walk(t, filepath.Dir(t)); err != nil {
			return sum, err
		}
	}
	for _, x := range opt.Extra {
		x = filepath.Clean(x)
		if !filepath.IsAbs(x) {
			return sum, fmt.Errorf("packing %s: an extra file's path must be absolute", x)
		}
		if packed[x] {
			continue
		}
		if err := addAncestors(x); err != nil {
			return sum, err
		}
		r, err := rec.GetRecord(x)
		if err != nil {
			return sum, fmt.Errorf("packing %s: %w", x, err)
		}
		add(r, x)
	}
	total := recordSize(cpio.Trailer, 0)
	for _, e := range entries {
		total += e.size
	}
	sum.Size = total
	if opt.MaxTotal > 0 && total > opt.MaxTotal {
		return sum, fmt.Errorf("%w: %s packs into %s, over the limit of %s; the largest files:\n%s",
			ErrPackTooLarge, abs, sizeString(total), sizeString(opt.MaxTotal), largest(entries, abs, 5))
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := cpio.Newc.Writer(bw)
	for _, e := range entries {
		if err := cw.WriteRecord(e.rec); err != nil {
			return sum, fmt.Errorf("packing %s: %w", e.path, err)
		}
		sum.Records++
	}
	if err := cpio.WriteTrailer(cw); err != nil {
		return sum, err
	}
	return sum, bw.Flush()
}

// recordSize is the size of a newc record: the 110-byte header and the
// name with its NUL, padded to 4 bytes, then the data, padded to 4.
func recordSize(name string, data int64) int64 {
	return (110+int64(len(name))+1+3)&^3 + (data+3)&^3
}

// ancestors lists the directories above abs, from the top: /a/b/c gives
// /a, /a/b.
func ancestors(abs string) []string {
	var out []string
	for p := filepath.Dir(abs); p != "/" && p != "."; p = filepath.Dir(p) {
		out = append([]string{p}, out...)
	}
	return out
}

// inTestdata: path lies in a directory named testdata below root.
func inTestdata(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return false
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	for _, p := range parts[:len(parts)-1] {
		if p == "testdata" {
			return true
		}
	}
	return false
}

func isELF(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	return n == 4 && bytes.Equal(magic[:], []byte("\x7fELF")), nil
}

// largest lists the n largest entries, for the message saying the
// archive is too large.
func largest(entries []packEntry, root string, n int) string {
	var sorted []packEntry
	for _, e := range entries {
		if e.rec.Mode&cpio.S_IFMT == cpio.S_IFREG {
			sorted = append(sorted, e)
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].size > sorted[j].size })
	var b strings.Builder
	for i := 0; i < n && i < len(sorted); i++ {
		rel, _ := filepath.Rel(root, sorted[i].path)
		fmt.Fprintf(&b, "  %s %s\n", sizeString(sorted[i].size), rel)
	}
	return strings.TrimRight(b.String(), "\n")
}

// sizeString writes n bytes as people read sizes: 1.5 MiB, 300 KiB.
func sizeString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
