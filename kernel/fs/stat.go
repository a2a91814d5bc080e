package fs

import "encoding/binary"

// File status: fstat, newfstatat and statx, with the struct layouts of
// Linux x86-64 to copy to the program.

// Stat is a file's status, the fields of struct stat and struct statx.
type Stat struct {
	Dev     uint64 // st_dev, encoded as struct stat has it
	Ino     uint64
	Nlink   uint64
	Mode    uint32 // file type and permission bits
	UID     uint32
	GID     uint32
	Rdev    uint64 // st_rdev, encoded as struct stat has it
	Size    int64
	Blksize int64
	Blocks  int64 // 512-byte blocks
	Atime   Timespec
	Mtime   Timespec
	Ctime   Timespec
	Btime   Timespec // creation time (statx only)
	// MntID is statx's stx_mnt_id; MountRoot says the file is the root
	// of its file system (STATX_ATTR_MOUNT_ROOT).
	MntID     uint64
	MountRoot bool
}

// statx mask bits.
const (
	STATX_TYPE        = 0x1
	STATX_MODE        = 0x2
	STATX_NLINK       = 0x4
	STATX_UID         = 0x8
	STATX_GID         = 0x10
	STATX_ATIME       = 0x20
	STATX_MTIME       = 0x40
	STATX_CTIME       = 0x80
	STATX_INO         = 0x100
	STATX_SIZE        = 0x200
	STATX_BLOCKS      = 0x400
	STATX_BASIC_STATS = 0x7ff
	STATX_BTIME       = 0x800
	STATX_MNT_ID      = 0x1000
	statxReserved     = 0x80000000
)

// statx attribute bits: the ones Linux's tmpfs says it knows of
// (immutable, append, nodump), plus automount, DAX and mount-root, which
// every Linux file system reports in stx_attributes_mask.
const (
	statxAttrMountRoot = 0x2000
	statxAttrsKnown    = 0x10 | 0x20 | 0x40 | 0x1000 | statxAttrMountRoot | 0x200000
)

// StatSize and StatxSize are the sizes of struct stat and struct statx.
const (
	StatSize  = 144
	StatxSize = 256
)

func (fsys *FS) stat(n *inode) Stat {
	blocks := n.pageCount() * (pageSize / 512)
	if n.isSymlink() && len(n.target) >= longSymlink {
		blocks = pageSize / 512
	}
	return Stat{
		Dev: makedev(0, n.sb.dev), Ino: n.ino, Nlink: uint64(n.nlink), Mode: n.mode,
		UID: n.uid, GID: n.gid, Rdev: n.rdev, Size: n.size, Blksize: pageSize, Blocks: blocks,
		Atime: n.atime, Mtime: n.mtime, Ctime: n.ctime, Btime: n.btime,
		MntID: n.sb.mountID, MountRoot: n == n.sb.root,
	}
}

// Fstat is the status of the file of handle h (fstat(2)); O_PATH handles
// and pipes too.
func (fsys *FS) Fstat(h Handle) (Stat, Errno) {
	f := fsys.handles[h]
	if f == nil {
		return Stat{}, EBADF
	}
	return fsys.stat(f.node), 0
}

// Fstatat is newfstatat(2): flags AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH and
// AT_NO_AUTOMOUNT (which changes nothing).
func (fsys *FS) Fstatat(dir Handle, path string, flags int) (Stat, Errno) {
	n, e := fsys.lookupAtFlags(dir, path, flags, AT_NO_AUTOMOUNT)
	if e != 0 {
		return Stat{}, e
	}
	return fsys.stat(n), 0
}

// Statx is statx(2): the status and the mask of the fields filled in
// (every basic field, the mount ID, and the creation time when asked
// for, except for pipes). flags also take the AT_STATX_SYNC_* bits, which
// change nothing here.
func (fsys *FS) Statx(dir Handle, path string, flags int, mask uint32) (Stat, uint32, Errno) {
	if flags&AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE || mask&statxReserved != 0 {
		return Stat{}, 0, EINVAL
	}
	n, e := fsys.lookupAtFlags(dir, path, flags, AT_NO_AUTOMOUNT|AT_STATX_SYNC_TYPE)
	if e != 0 {
		return Stat{}, 0, e
	}
	got := uint32(STATX_BASIC_STATS | STATX_MNT_ID)
	if mask&STATX_BTIME != 0 && n.pipe == nil {
		got |= STATX_BTIME
	}
	return fsys.stat(n), got, 0
}

// Linux encodes struct stat for x86-64 so (cp_new_stat).
func (s *Stat) Linux() [StatSize]byte {
	var b [StatSize]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], s.Dev)
	le.PutUint64(b[8:], s.Ino)
	le.PutUint64(b[16:], s.Nlink)
	le.PutUint32(b[24:], s.Mode)
	le.PutUint32(b[28:], s.UID)
	le.PutUint32(b[32:], s.GID)
	le.PutUint64(b[40:], s.Rdev)
	le.PutUint64(b[48:], uint64(s.Size))
	le.PutUint64(b[56:], uint64(s.Blksize))
	le.PutUint64(b[64:], uint64(s.Blocks))
	for i, t := range []Timespec{s.Atime, s.Mtime, s.Ctime} {
		le.PutUint64(b[72+16*i:], uint64(t.Sec))
		le.PutUint64(b[80+16*i:], uint64(t.Nsec))
	}
	return b
}

// Statx encodes struct statx with the fields of mask (what Statx
// returned) filled in.
func (s *Stat) Statx(mask uint32) [StatxSize]byte {
	var b [StatxSize]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], mask)
	le.PutUint32(b[4:], uint32(s.Blksize))
	if s.MountRoot {
		le.PutUint64(b[8:], statxAttrMountRoot)
	}
	le.PutUint32(b[16:], uint32(s.Nlink))
	le.PutUint32(b[20:], s.UID)
	le.PutUint32(b[24:], s.GID)
	le.PutUint16(b[28:], uint16(s.Mode))
	le.PutUint64(b[32:], s.Ino)
	le.PutUint64(b[40:], uint64(s.Size))
	le.PutUint64(b[48:], uint64(s.Blocks))
	le.PutUint64(b[56:], statxAttrsKnown)
	putTime := func(off int, t Timespec) {
		le.PutUint64(b[off:], uint64(t.Sec))
		le.PutUint32(b[off+8:], uint32(t.Nsec))
	}
	putTime(64, s.Atime)
	if mask&STATX_BTIME != 0 {
		putTime(80, s.Btime)
	}
	putTime(96, s.Ctime)
	putTime(112, s.Mtime)
	le.PutUint32(b[128:], devMajor(s.Rdev))
	le.PutUint32(b[132:], devMinor(s.Rdev))
	le.PutUint32(b[136:], devMajor(s.Dev))
	le.PutUint32(b[140:], devMinor(s.Dev))
	le.PutUint64(b[144:], s.MntID)
	return b
}
