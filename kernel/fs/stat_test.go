//go:build linux

package fs

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Stat.Linux and Stat.Statx lay the structures out as Linux does: the
// host's answer, decoded into a Stat and encoded again, gives the host's
// bytes back.
func TestStatLayout(t *testing.T) {
	if unsafe.Sizeof(unix.Stat_t{}) != StatSize || unsafe.Sizeof(unix.Statx_t{}) != StatxSize {
		t.Fatal("struct sizes differ")
	}
	var st unix.Stat_t
	if err := unix.Stat("/dev/null", &st); err != nil {
		t.Skip(err)
	}
	s := statFromHost(&st)
	got := s.Linux()
	want := unsafe.Slice((*byte)(unsafe.Pointer(&st)), StatSize)
	if string(got[:]) != string(want) {
		t.Errorf("struct stat:\n got %x\nwant %x", got, want)
	}

	var sx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, "/dev/null", 0, unix.STATX_BASIC_STATS|unix.STATX_BTIME|unix.STATX_MNT_ID, &sx); err != nil {
		t.Skip(err)
	}
	s = Stat{
		Ino: sx.Ino, Nlink: uint64(sx.Nlink), Mode: uint32(sx.Mode), UID: sx.Uid, GID: sx.Gid,
		Size: int64(sx.Size), Blksize: int64(sx.Blksize), Blocks: int64(sx.Blocks),
		Rdev:  makedev(uint64(sx.Rdev_major), uint64(sx.Rdev_minor)),
		Dev:   makedev(uint64(sx.Dev_major), uint64(sx.Dev_minor)),
		Atime: Timespec{sx.Atime.Sec, int64(sx.Atime.Nsec)}, Btime: Timespec{sx.Btime.Sec, int64(sx.Btime.Nsec)},
		Ctime: Timespec{sx.Ctime.Sec, int64(sx.Ctime.Nsec)}, Mtime: Timespec{sx.Mtime.Sec, int64(sx.Mtime.Nsec)},
		MntID: sx.Mnt_id, MountRoot: sx.Attributes&statxAttrMountRoot != 0,
	}
	// Compare what Statx fills in: the host's own attributes and the
	// fields past stx_mnt_id may differ.
	gotx := s.Statx(sx.Mask & (STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID))
	wantx := unsafe.Slice((*byte)(unsafe.Pointer(&sx)), StatxSize)
	for _, r := range [][2]int{{0, 8}, {16, 56}, {64, 152}} {
		if string(gotx[r[0]:r[1]]) != string(wantx[r[0]:r[1]]) {
			t.Errorf("struct statx bytes %d-%d:\n got %x\nwant %x", r[0], r[1], gotx[r[0]:r[1]], wantx[r[0]:r[1]])
		}
	}
}

// What statx answers on tmpfs, as the host's tmpfs does.
func TestStatxAgainstHost(t *testing.T) {
	fsys := newFS(t, Config{})
	writeFile(t, fsys, "/tmp/f", "x")
	for _, c := range []struct {
		path string
		mask uint32
		root bool
	}{
		{"/tmp/f", STATX_BASIC_STATS, false},
		{"/tmp/f", STATX_BASIC_STATS | STATX_BTIME, false},
		{"/tmp", STATX_BASIC_STATS | STATX_BTIME, true},
	} {
		st, mask, e := fsys.Statx(AtCWD, c.path, 0, c.mask)
		must(t, e)
		if want := uint32(STATX_BASIC_STATS|STATX_MNT_ID) | c.mask&STATX_BTIME; mask != want {
			t.Errorf("%s: mask %#x, want %#x", c.path, mask, want)
		}
		if st.MountRoot != c.root {
			t.Errorf("%s: mount root %v", c.path, st.MountRoot)
		}
		b := st.Statx(mask)
		if attrs := le64(b[56:]); attrs != 0x203070 {
			t.Errorf("attributes mask %#x, Linux's tmpfs says 0x203070", attrs)
		}
	}
	_, _, e := fsys.Statx(AtCWD, "/tmp/f", AT_STATX_SYNC_TYPE, STATX_BASIC_STATS)
	wantErr(t, "both sync types", e, EINVAL)
	_, _, e = fsys.Statx(AtCWD, "/tmp/f", 0, 0x80000000)
	wantErr(t, "reserved mask bit", e, EINVAL)
	_, _, e = fsys.Statx(AtCWD, "/tmp/f", 0x1, 0)
	wantErr(t, "unknown flag", e, EINVAL)
}
