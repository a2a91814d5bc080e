package fs

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

func TestDirentEncoding(t *testing.T) {
	fsys := newFS(t, Config{})
	must(t, fsys.Mkdirat(AtCWD, "/tmp/d", 0o755))
	for _, n := range []int{1, 4, 5, 12, 13, 100, 255} {
		writeFile(t, fsys, "/tmp/d/"+strings.Repeat("n", n), "")
	}
	must(t, fsys.Symlinkat("x", AtCWD, "/tmp/d/l"))
	h := open(t, fsys, "/tmp/d", O_RDONLY|O_DIRECTORY, 0)
	buf := make([]byte, 4096)
	k, e := fsys.Getdents64(h, buf)
	must(t, e)
	b := buf[:k]
	types := map[string]uint8{".": 4, "..": 4, "l": 10}
	seen := 0
	for len(b) > 0 {
		reclen := int(binary.LittleEndian.Uint16(b[16:]))
		end := direntHeader
		for b[end] != 0 {
			end++
		}
		name := string(b[direntHeader:end])
		if want := (direntHeader + len(name) + 1 + 7) / 8 * 8; reclen != want {
			t.Errorf("%q: reclen %d, want %d", name[:min(len(name), 8)], reclen, want)
		}
		for _, c := range b[end:reclen] {
			if c != 0 {
				t.Errorf("%q: padding not zero", name)
			}
		}
		want, ok := types[name]
		if !ok {
			want = 8
		}
		if b[18] != want {
			t.Errorf("%q: type %d, want %d", name, b[18], want)
		}
		st, _ := fsys.Fstatat(AtCWD, "/tmp/d/"+name, AT_SYMLINK_NOFOLLOW)
		if ino := binary.LittleEndian.Uint64(b); ino != st.Ino {
			t.Errorf("%q: ino %d, stat says %d", name, ino, st.Ino)
		}
		b = b[reclen:]
		seen++
	}
	if seen != 10 {
		t.Errorf("%d records", seen)
	}
	// ".." of a file system's root is the root itself.
	root := open(t, fsys, "/tmp", O_RDONLY, 0)
	k, _ = fsys.Getdents64(root, buf)
	recs := decodeDirents(buf[:k])
	st, _ := fsys.Fstatat(AtCWD, "/tmp", 0)
	if recs[1].name != ".." || recs[1].ino != st.Ino {
		t.Errorf("/tmp's ..: %+v, root ino %d", recs[1], st.Ino)
	}
}

// listAll reads a whole directory through a buffer of size bytes.
func listAll(t *testing.T, fsys *FS, h Handle, size int) []direntRecord {
	t.Helper()
	var all []direntRecord
	buf := make([]byte, size)
	for {
		k, e := fsys.Getdents64(h, buf)
		must(t, e)
		if k == 0 {
			return all
		}
		all = append(all, decodeDirents(buf[:k])...)
	}
}

// Every buffer size that holds the longest record lists every entry
// exactly once, in the same order.
func TestDirentResume(t *testing.T) {
	fsys := newFS(t, Config{})
	must(t, fsys.Mkdirat(AtCWD, "/tmp/d", 0o755))
	for i := 0; i < 150; i++ {
		writeFile(t, fsys, fmt.Sprintf("/tmp/d/%s%d", strings.Repeat("x", i%40), i), "")
	}
	h := open(t, fsys, "/tmp/d", O_RDONLY, 0)
	want := listAll(t, fsys, h, 1<<16)
	if len(want) != 152 {
		t.Fatalf("%d entries", len(want))
	}
	for size := direntSize(strings.Repeat("x", 39) + "149"); size < 700; size += 7 {
		_, e := fsys.Lseek(h, 0, SEEK_SET)
		must(t, e)
		got := listAll(t, fsys, h, size)
		if len(got) != len(want) {
			t.Fatalf("buffer %d: %d entries", size, len(got))
		}
		for i := range got {
			if got[i].name != want[i].name {
				t.Fatalf("buffer %d: entry %d is %q, want %q", size, i, got[i].name, want[i].name)
			}
		}
	}
	// Seeking to an entry's d_off goes on after it.
	for _, i := range []int{0, 1, 2, 77, 150} {
		fsys.Lseek(h, want[i].off, SEEK_SET)
		rest := listAll(t, fsys, h, 4096)
		if len(rest) != len(want)-i-1 || len(rest) > 0 && rest[0].name != want[i+1].name {
			t.Errorf("after entry %d: %d entries", i, len(rest))
		}
	}
	// The buffer too small for the next record.
	fsys.Lseek(h, 0, SEEK_SET)
	buf := make([]byte, 60)
	k, e := fsys.Getdents64(h, buf)
	if k != 48 || e != 0 {
		t.Errorf("60 bytes: %d %v", k, e)
	}
	if _, e := fsys.Getdents64(h, buf[:direntSize(want[2].name)-1]); e != EINVAL {
		t.Errorf("too small: %v", e)
	}
}

// Names made or removed while a directory is being listed: each entry
// that stays is listed once, removed ones are not, new ones come after a
// rewind.
func TestDirentWhileChanging(t *testing.T) {
	fsys := newFS(t, Config{})
	must(t, fsys.Mkdirat(AtCWD, "/tmp/d", 0o755))
	for i := 0; i < 40; i++ {
		writeFile(t, fsys, fmt.Sprintf("/tmp/d/f%02d", i), "")
	}
	h := open(t, fsys, "/tmp/d", O_RDONLY, 0)
	buf := make([]byte, 24*12)
	k, _ := fsys.Getdents64(h, buf)
	first := decodeDirents(buf[:k])
	seen := map[string]int{}
	for _, r := range first {
		seen[r.name]++
	}
	for i := 0; i < 40; i += 3 {
		name := fmt.Sprintf("f%02d", i)
		if seen[name] == 0 {
			must(t, fsys.Unlinkat(AtCWD, "/tmp/d/"+name, 0))
			seen[name] = -1 // must not show
		}
	}
	writeFile(t, fsys, "/tmp/d/new", "")
	must(t, fsys.Renameat2(AtCWD, "/tmp/d/f01", AtCWD, "/tmp/d/renamed", 0))
	for _, r := range listAll(t, fsys, h, 100) {
		seen[r.name]++
	}
	for name, n := range seen {
		switch {
		case name == "new" || name == "renamed":
			if n != 0 {
				t.Errorf("%s, made after the listing passed, listed %d times", name, n)
			}
		case n == 0 && name != "f01":
			t.Errorf("%s listed %d times", name, n)
		case n > 1:
			t.Errorf("%s listed %d times", name, n)
		}
	}
	fsys.Lseek(h, 0, SEEK_SET)
	names := sortedNames(listAll(t, fsys, h, 4096))
	if !strings.Contains(strings.Join(names, " "), "new renamed") {
		t.Errorf("after a rewind: %v", names)
	}
}
