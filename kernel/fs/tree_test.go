package fs

import (
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

// The namespace the parity tests and FuzzFS run on: a read-only tree of
// treeEntry files and a small tmpfs. The host side of the comparison
// (hostTree, in linux_test.go) builds the same with mounts.

// treeEntry is a file of the read-only tree both sides get.
type treeEntry struct {
	path string
	kind byte // 'd' directory, 'f' file, 'l' symlink
	mode uint32
	data string // a file's contents, a symlink's target
}

// parityTree is the read-only tree of the parity tests: relative symlinks
// only, so that they mean the same under the host's mount point.
var parityTree = []treeEntry{
	{"data", 'd', 0o755, ""},
	{"data/file", 'f', 0o644, "hello, world\n"},
	{"data/empty", 'f', 0o644, ""},
	{"data/big", 'f', 0o644, strings.Repeat("0123456789abcdef", 700)},
	{"data/secret", 'f', 0o000, "s"},
	{"data/exec", 'f', 0o755, "#!/bin/sh\n"},
	{"data/noexec", 'f', 0o644, "x"},
	{"data/sub", 'd', 0o755, ""},
	{"data/sub/deep", 'f', 0o600, "deep"},
	{"data/closed", 'd', 0o000, ""},
	{"data/closed/inside", 'f', 0o644, "in"},
	{"data/link", 'l', 0o777, "file"},
	{"data/dirlink", 'l', 0o777, "sub"},
	{"data/dangling", 'l', 0o777, "nowhere"},
	{"data/loop1", 'l', 0o777, "loop2"},
	{"data/loop2", 'l', 0o777, "loop1"},
	{"data/self", 'l', 0o777, "self"},
	{"data/up", 'l', 0o777, ".."},
	{"data/tmplink", 'l', 0o777, "../tmp"},
	{"data/longlink", 'l', 0o777, strings.Repeat("x/", 100) + "end"},
}

// symlinkChain is n symlinks, prefix0 -> prefix1 -> ... -> file: opening
// prefix0 follows n links.
func symlinkChain(prefix string, n int) []treeEntry {
	var out []treeEntry
	for i := 0; i < n; i++ {
		target := "file"
		if i < n-1 {
			target = filepath.Base(prefix) + strconv.Itoa(i+1)
		}
		out = append(out, treeEntry{prefix + strconv.Itoa(i), 'l', 0o777, target})
	}
	return out
}

// parityEntries is the whole read-only tree of the parity tests.
func parityEntries() []treeEntry {
	entries := append([]treeEntry{}, parityTree...)
	entries = append(entries, symlinkChain("data/forty", MaxSymlinks)...)
	return append(entries, symlinkChain("data/fortyone", MaxSymlinks+1)...)
}

// archiveOf packs entries into a newc archive.
func archiveOf(t testing.TB, entries []treeEntry) []byte {
	var recs []cpio.Record
	for _, e := range entries {
		switch e.kind {
		case 'd':
			recs = append(recs, cpio.Directory(e.path, uint64(e.mode)))
		case 'f':
			recs = append(recs, cpio.StaticFile(e.path, e.data, uint64(e.mode)))
		case 'l':
			recs = append(recs, cpio.Symlink(e.path, e.data))
		}
	}
	return archive(t, recs...)
}

// tmpfsLimit and tmpfsInodes are the sizes of the writable tmpfs on both
// sides.
const (
	tmpfsLimit  = 256 << 10
	tmpfsInodes = 64
)

// parityArchive is archiveOf(parityEntries()), made once: FS only reads
// it, so every FS can share it.
var parityArchive = sync.OnceValue(func() []byte { return archiveOf(nil, parityEntries()) })

// parityFS is the FS side of hostTree; notify is Config.Notify.
func parityFS(t testing.TB, notify func(Handle, Events)) *FS {
	fsys, err := New(Config{
		Archive: parityArchive(), TmpfsLimit: tmpfsLimit, TmpfsInodes: tmpfsInodes, Umask: 0o022,
		Notify: notify,
	})
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}
