package fs

// Metadata: access checks, permission bits and timestamps.

// Faccessat checks whether the process may access path in mode (R_OK,
// W_OK, X_OK or F_OK), as faccessat2(2) does (faccessat is flags 0):
// flags AT_EACCESS (the same here: one set of credentials),
// AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH. Write access to the read-only
// tree is EROFS.
func (fsys *FS) Faccessat(dir Handle, path string, mode uint32, flags int) Errno {
	if mode&^(R_OK|W_OK|X_OK) != 0 {
		return EINVAL
	}
	n, e := fsys.lookupAtFlags(dir, path, flags, AT_EACCESS)
	if e != 0 {
		return e
	}
	return fsys.permission(n, int(mode))
}

// Fchmodat sets the permission bits of path (fchmodat(2), and
// fchmodat2's flags: AT_SYMLINK_NOFOLLOW, where a symlink is
// EOPNOTSUPP, and AT_EMPTY_PATH).
func (fsys *FS) Fchmodat(dir Handle, path string, mode uint32, flags int) Errno {
	n, e := fsys.lookupAtFlags(dir, path, flags, 0)
	if e != 0 {
		return e
	}
	return fsys.chmod(n, mode)
}

// Fchmod sets the permission bits of handle h's file (fchmod(2)).
func (fsys *FS) Fchmod(h Handle, mode uint32) Errno {
	f, e := fsys.handle(h)
	if e != 0 {
		return e
	}
	return fsys.chmod(f.node, mode)
}

// chmod is chmod_common: the owner (or root) may, on a writable file
// system; a process outside the file's group loses set-group-ID.
func (fsys *FS) chmod(n *inode, mode uint32) Errno {
	if n.sb.readOnly {
		return EROFS
	}
	if !fsys.ownerOrCapable(n) {
		return EPERM
	}
	if n.isSymlink() {
		return EOPNOTSUPP
	}
	mode &= permBits
	if n.gid != fsys.gid && !fsys.isRoot() {
		mode &^= S_ISGID
	}
	n.mode = n.fileType() | mode
	n.ctime = fsys.now()
	return 0
}

// Utimensat sets the access and modification times of path
// (utimensat(2) with a path): times nil means now for both, a Nsec of
// UTIME_NOW now for one, UTIME_OMIT leaves one alone. flags:
// AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH.
func (fsys *FS) Utimensat(dir Handle, path string, times *[2]Timespec, flags int) Errno {
	if times != nil && times[0].Nsec == UTIME_OMIT && times[1].Nsec == UTIME_OMIT {
		return 0 // Linux does not even look at the path
	}
	if e := checkTimes(times); e != 0 {
		return e
	}
	n, e := fsys.lookupAtFlags(dir, path, flags, 0)
	if e != 0 {
		return e
	}
	return fsys.utimes(n, times)
}

// Futimens sets the times of handle h's file (utimensat(2) with a NULL
// path, futimens(3)).
func (fsys *FS) Futimens(h Handle, times *[2]Timespec) Errno {
	if times != nil && times[0].Nsec == UTIME_OMIT && times[1].Nsec == UTIME_OMIT {
		return 0
	}
	if e := checkTimes(times); e != 0 {
		return e
	}
	f, e := fsys.handle(h)
	if e != 0 {
		return e
	}
	return fsys.utimes(f.node, times)
}

func checkTimes(times *[2]Timespec) Errno {
	if times == nil {
		return 0
	}
	for _, t := range times {
		if (t.Nsec < 0 || t.Nsec >= 1e9) && t.Nsec != UTIME_NOW && t.Nsec != UTIME_OMIT {
			return EINVAL
		}
	}
	return 0
}

// utimes is vfs_utimes: setting both times to now needs ownership or
// write permission, setting an explicit time needs ownership.
func (fsys *FS) utimes(n *inode, times *[2]Timespec) Errno {
	if n.sb.readOnly {
		return EROFS
	}
	touch := times == nil || times[0].Nsec == UTIME_NOW && times[1].Nsec == UTIME_NOW
	if !fsys.ownerOrCapable(n) {
		if !touch {
			return EPERM
		}
		if e := fsys.permission(n, mayWrite); e != 0 {
			return e
		}
	}
	now := fsys.now()
	set := func(t *Timespec, want Timespec) {
		switch want.Nsec {
		case UTIME_OMIT:
		case UTIME_NOW:
			*t = now
		default:
			*t = want
		}
	}
	if times == nil {
		n.atime, n.mtime = now, now
	} else {
		set(&n.atime, times[0])
		set(&n.mtime, times[1])
	}
	n.ctime = now
	return 0
}
