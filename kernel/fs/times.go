package fs

// Timestamps, as Linux's tmpfs keeps them: a write or truncate sets the
// file's mtime and ctime, a new or removed name sets its directory's, a
// change of metadata sets ctime, and reading sets atime the "relatime"
// way (only when atime is not later than mtime or ctime, or a day old).
// Nothing changes on the read-only tree.

const day = 24 * 60 * 60

func (t Timespec) before(u Timespec) bool {
	return t.Sec < u.Sec || t.Sec == u.Sec && t.Nsec < u.Nsec
}

// touchAtime records an access of n.
func (fsys *FS) touchAtime(n *inode) {
	if n.sb.readOnly {
		return
	}
	now := fsys.now()
	if !n.mtime.before(n.atime) || !n.ctime.before(n.atime) || now.Sec-n.atime.Sec >= day {
		n.atime = now
	}
}

// touchModify records a change of n's contents.
func (fsys *FS) touchModify(n *inode) {
	now := fsys.now()
	n.mtime, n.ctime = now, now
}

// touchDir records a change of directory dir's entries.
func (fsys *FS) touchDir(dir *inode) { fsys.touchModify(dir) }

// killPrivs drops the set-user-ID bit (and set-group-ID with group
// execute) of a file a process without CAP_FSETID changes.
func (fsys *FS) killPrivs(n *inode) {
	if fsys.isRoot() || !n.isRegular() {
		return
	}
	kill := uint32(S_ISUID)
	if n.mode&S_IXGRP != 0 {
		kill |= S_ISGID
	}
	if n.mode&kill != 0 {
		n.mode &^= kill
		n.ctime = fsys.now()
	}
}
