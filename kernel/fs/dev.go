package fs

// Character devices: /dev/null and /dev/zero, which the namespace always
// has, and /dev/full when the archive brings one. Other special files
// (block devices, FIFOs, sockets) can be listed and stat'ed but opening
// them is ENXIO: nothing drives them.

type device uint8

const (
	devNone device = iota
	devNull        // 1:3 reads end of file, writes vanish
	devZero        // 1:5 reads zeros, writes vanish
	devFull        // 1:7 reads zeros, writes are ENOSPC
)

// makedev is the device number in the encoding of struct stat's st_rdev
// (Linux's new_encode_dev, also glibc's makedev for small numbers).
func makedev(major, minor uint64) uint64 {
	return minor&0xff | (major&0xfff)<<8 | (minor&^0xff)<<12 | (major&^0xfff)<<32
}

func devMajor(dev uint64) uint32 { return uint32(dev>>8&0xfff | dev>>32&^0xfff) }
func devMinor(dev uint64) uint32 { return uint32(dev&0xff | dev>>12&^0xff) }

func deviceOf(rdev uint64) device {
	switch rdev {
	case makedev(1, 3):
		return devNull
	case makedev(1, 5):
		return devZero
	case makedev(1, 7):
		return devFull
	}
	return devNone
}

// ensureDevice adds character device name to directory dir unless the
// archive brought that name.
func (fsys *FS) ensureDevice(dir *inode, name string, kind device) {
	if dir.dir.byName[name] != nil {
		return
	}
	n := fsys.newInode(fsys.rootSB, S_IFCHR|0o666)
	n.uid, n.gid = 0, 0
	n.device = kind
	switch kind {
	case devNull:
		n.rdev = makedev(1, 3)
	case devZero:
		n.rdev = makedev(1, 5)
	}
	dir.add(name, n)
}

// deviceRead reads from a character device.
func deviceRead(n *inode, p []byte) int {
	if n.device == devNull {
		return 0
	}
	clear(p)
	return len(p)
}

// deviceWrite writes to a character device.
func deviceWrite(n *inode, p []byte) (int, Errno) {
	if n.device == devFull && len(p) > 0 {
		return 0, ENOSPC
	}
	return len(p), 0
}
