package fs

// Permission checks, Linux's generic_permission for one process: the
// owner's, group's or others' bits, and for uid 0 the capabilities a root
// process has (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER).

// Access kinds (MAY_*), the bits of access(2)'s modes.
const (
	mayExec  = 1
	mayWrite = 2
	mayRead  = 4
)

func (fsys *FS) isRoot() bool { return fsys.uid == 0 }

// permission is inode_permission: may the process access n so? Writing to
// a file, directory or symlink of a read-only file system is EROFS before
// anything else.
func (fsys *FS) permission(n *inode, mask int) Errno {
	if mask&mayWrite != 0 && n.sb.readOnly {
		switch n.fileType() {
		case S_IFREG, S_IFDIR, S_IFLNK:
			return EROFS
		}
	}
	mode := n.mode
	switch {
	case n.uid == fsys.uid:
		mode >>= 6
	case n.gid == fsys.gid:
		mode >>= 3
	}
	if uint32(mask)&^mode&7 == 0 {
		return 0
	}
	if !fsys.isRoot() {
		return EACCES
	}
	// Root: directories are always readable and searchable, and writable
	// as far as the mode goes; files are readable and writable, and
	// executable when someone may execute them.
	if n.isDir() || mask&mayExec == 0 || n.mode&0o111 != 0 {
		return 0
	}
	return EACCES
}

// mayLookup: may the process search directory dir?
func (fsys *FS) mayLookup(dir *inode) Errno { return fsys.permission(dir, mayExec) }

// ownerOrCapable: the process owns n or has CAP_FOWNER.
func (fsys *FS) ownerOrCapable(n *inode) bool { return n.uid == fsys.uid || fsys.isRoot() }

// mayCreate is Linux's may_create for a name known to be free: the
// directory must still exist and be writable and searchable.
func (fsys *FS) mayCreate(dir *inode) Errno {
	if dir.dir.dead {
		return ENOENT
	}
	return fsys.permission(dir, mayWrite|mayExec)
}

// mayDelete is Linux's may_delete: may entry d of dir go, and is it of
// the kind the caller expects (isDir for rmdir)?
func (fsys *FS) mayDelete(dir *inode, d *dirent, isDir bool) Errno {
	if e := fsys.permission(dir, mayWrite|mayExec); e != 0 {
		return e
	}
	// The sticky bit: only the owner of the file or of the directory.
	if dir.mode&S_ISVTX != 0 && d.node.uid != fsys.uid && dir.uid != fsys.uid && !fsys.isRoot() {
		return EPERM
	}
	if isDir {
		if !d.node.isDir() {
			return ENOTDIR
		}
	} else if d.node.isDir() {
		return EISDIR
	}
	if dir.dir.dead {
		return ENOENT
	}
	return 0
}
