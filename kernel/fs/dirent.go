package fs

import "encoding/binary"

// Directory listings: getdents64's struct linux_dirent64 records, as many
// as fit in the caller's buffer, ".", "..", then the entries newest
// first, as Linux's tmpfs lists them. A handle's offset in a directory is
// a position (see firstEntryPos): each record's d_off is the position
// after it, so lseek to any d_off (or reading on) continues the listing
// after that entry, whatever was created or removed meanwhile. Once a
// listing has reached its end it stays there until the handle is
// rewound: names made later are not seen, as in Linux.

// direntHeader is the size of linux_dirent64 before d_name: d_ino (8),
// d_off (8), d_reclen (2), d_type (1).
const direntHeader = 19

// direntSize is the record length of a name: header, name, NUL, padded
// to 8 bytes.
func direntSize(name string) int { return (direntHeader + len(name) + 1 + 7) &^ 7 }

// direntType is d_type of a file of mode mode (DT_REG, DT_DIR...), which
// Linux derives from the file type bits the same way.
func direntType(mode uint32) uint8 { return uint8(mode >> 12 & 0xf) }

// Getdents64 fills buf with directory entries of handle h from its
// offset (getdents64(2)) and returns the bytes written: 0 at the end,
// EINVAL when the next entry does not fit in buf at all, ENOENT when the
// directory has been removed.
func (fsys *FS) Getdents64(h Handle, buf []byte) (int, Errno) {
	f, e := fsys.handle(h)
	if e != 0 {
		return 0, e
	}
	dir := f.node
	if !dir.isDir() {
		return 0, ENOTDIR
	}
	if dir.dir.dead {
		return 0, ENOENT
	}
	done, last := 0, -1
	put := func(ino uint64, next int64, mode uint32, name string) bool {
		size := direntSize(name)
		if done+size > len(buf) {
			return false
		}
		rec := buf[done : done+size]
		binary.LittleEndian.PutUint64(rec[0:], ino)
		binary.LittleEndian.PutUint64(rec[8:], uint64(next))
		binary.LittleEndian.PutUint16(rec[16:], uint16(size))
		rec[18] = direntType(mode)
		n := copy(rec[direntHeader:], name)
		clear(rec[direntHeader+n:])
		last = done
		done += size
		f.pos = next
		return true
	}
	full := false
	if f.pos == 0 {
		full = !put(dir.ino, 1, S_IFDIR, ".")
	}
	if !full && f.pos == 1 {
		full = !put(dir.parentDir().ino, firstEntryPos, S_IFDIR, "..")
	}
	if !full && f.pos < endOfDir {
		entries := dir.dir.order
		if f.pos > firstEntryPos {
			entries = dir.dir.olderThan(f.pos)
		}
		for i := len(entries) - 1; i >= 0 && !full; i-- {
			d := entries[i]
			if full = !put(d.node.ino, d.cookie, d.node.mode, d.name); full {
				// Resume at this entry, even when only "." and ".."
				// fit, as Linux does since 6.6 (6.1 would start again
				// from the newest entry).
				f.pos = d.cookie + 1
			}
		}
		if !full {
			// The end: the last record says so too, as Linux's does.
			f.pos = endOfDir
			if last >= 0 {
				binary.LittleEndian.PutUint64(buf[last+8:], endOfDir)
			}
		}
	}
	if full && done == 0 {
		return 0, EINVAL
	}
	fsys.accessed(f)
	return done, 0
}
