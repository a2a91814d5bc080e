package fs

// Opening, the way Linux's path_openat does it: walk to the last
// component, look it up or create it (open_last_lookups, lookup_open),
// follow a symlink there unless O_NOFOLLOW (O_CREAT|O_EXCL implies it),
// then check what was found (do_open, may_open). Errors come in that
// order: a name that exists is EEXIST before a read-only file system is
// EROFS, and EROFS before EACCES.

// oTmpfileBit is __O_TMPFILE, O_TMPFILE without O_DIRECTORY.
const oTmpfileBit = O_TMPFILE &^ O_DIRECTORY

// Openat opens path relative to directory handle dir (openat(2)). mode
// (with the umask applied) is a created file's permission bits.
//
// Supported: the access modes, O_CREAT, O_EXCL, O_TRUNC, O_APPEND,
// O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_NOATIME; O_CLOEXEC is the
// descriptor's (the kernel's) business, O_SYNC and O_DSYNC change
// nothing in memory. Not supported: O_TMPFILE (EOPNOTSUPP), O_DIRECT
// (EINVAL, as on Linux 6.1's tmpfs). O_CREAT|O_DIRECTORY is EINVAL, as
// since Linux 6.4.
func (fsys *FS) Openat(dir Handle, path string, flags int, mode uint32) (Handle, Errno) {
	flags &= validOpenFlags
	var acc int // the access open asks for: mayRead, mayWrite
	if flags&O_PATH != 0 {
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW
	} else {
		switch {
		case flags&oTmpfileBit != 0:
			if flags&O_TMPFILE != O_TMPFILE || flags&O_ACCMODE == O_RDONLY {
				return 0, EINVAL
			}
			return 0, EOPNOTSUPP
		case flags&(O_CREAT|O_DIRECTORY) == O_CREAT|O_DIRECTORY:
			return 0, EINVAL
		}
		switch flags & O_ACCMODE {
		case O_RDONLY:
			acc = mayRead
		case O_WRONLY:
			acc = mayWrite
		default: // O_RDWR, and 3: no reading or writing, both checked
			acc = mayRead | mayWrite
		}
		if flags&O_TRUNC != 0 {
			acc |= mayWrite
		}
	}
	path, e := pathArg(path, false)
	if e != 0 {
		return 0, e
	}
	if fsys.tableFull() {
		return 0, ENFILE
	}
	w, e := fsys.walkFrom(dir, path)
	if e != 0 {
		return 0, e
	}
	// O_CREAT|O_EXCL never follows a symlink at the end; the flags
	// F_GETFL reports do not say so.
	w.follow = flags&O_NOFOLLOW == 0 && flags&(O_CREAT|O_EXCL) != O_CREAT|O_EXCL
	w.directory = flags&O_DIRECTORY != 0
	if flags&O_PATH != 0 {
		n, e := w.resolve()
		if e != 0 {
			return 0, e
		}
		return fsys.newHandle(&openFile{node: n, entry: entryOf(n), flags: flags}), 0
	}

	var d *dirent // what open found or made
	created := false
	e = w.walkPath(w.path)
	for e == 0 {
		var body string
		var isLink bool
		d, created, body, isLink, e = fsys.openLast(w, flags, mode)
		if e != 0 || !isLink {
			break
		}
		e = w.walkPath(body)
	}
	if e != 0 {
		return 0, e
	}
	n := w.cur
	if d == nil || mountedOn(d.node) != n {
		d = entryOf(n)
	}

	// do_open
	if flags&O_CREAT != 0 {
		if flags&O_EXCL != 0 && !created {
			return 0, EEXIST
		}
		if n.isDir() {
			return 0, EISDIR
		}
	}
	if w.directory && !n.isDir() {
		return 0, ENOTDIR
	}
	truncate := false
	if created {
		acc = 0
	} else if n.isRegular() && flags&O_TRUNC != 0 {
		if n.sb.readOnly {
			return 0, EROFS
		}
		truncate = true
	}
	if e := fsys.mayOpen(n, acc, flags); e != 0 {
		return 0, e
	}
	if flags&O_DIRECT != 0 {
		return 0, EINVAL
	}
	if truncate {
		fsys.setSize(n, 0)
	}
	f := &openFile{node: n, entry: d, flags: flags&^(O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_CLOEXEC) | O_LARGEFILE}
	switch flags & O_ACCMODE {
	case O_RDONLY:
		f.readable = true
	case O_WRONLY:
		f.writable = true
	case O_RDWR:
		f.readable, f.writable = true, true
	}
	return fsys.newHandle(f), 0
}

// entryOf is the name of directory n, nil for another file (whose name
// the walk did not keep) or a root.
func entryOf(n *inode) *dirent {
	if n.isDir() {
		return n.dir.self
	}
	return nil
}

// openLast looks up (or creates) the last component for open
// (open_last_lookups). It moves the walk onto the file, or returns the
// body of a symlink to follow (isLink).
func (fsys *FS) openLast(w *nameWalk, flags int, mode uint32) (d *dirent, created bool, body string, isLink bool, e Errno) {
	if w.typ != lastNorm {
		_, _, e = w.step(false)
		return nil, false, "", false, e
	}
	dir := w.cur
	if flags&O_CREAT == 0 {
		if w.trailing {
			w.follow, w.directory = true, true
		}
		if d, e = fsys.lookup(dir, w.last); e != 0 {
			return nil, false, "", false, e
		}
	} else {
		if w.trailing {
			return nil, false, "", false, EISDIR
		}
		if dir.dir.dead {
			return nil, false, "", false, ENOENT
		}
		d, e = fsys.lookup(dir, w.last)
		if e == ENOENT {
			// lookup_open: the name is free, create it.
			if dir.sb.readOnly {
				return nil, false, "", false, EROFS
			}
			if e := fsys.permission(dir, mayWrite|mayExec); e != 0 {
				return nil, false, "", false, e
			}
			n, e := fsys.create(dir, S_IFREG|fsys.createMode(dir, mode, false))
			if e != 0 {
				return nil, false, "", false, e
			}
			d = dir.add(w.last, n)
			fsys.touchDir(dir)
			w.cur = n
			return d, true, "", false, 0
		}
		if e != 0 {
			return nil, false, "", false, e
		}
	}
	body, isLink, e = w.step(w.follow)
	return d, false, body, isLink, e
}

// mayOpen is Linux's may_open: may the process open n with access acc?
func (fsys *FS) mayOpen(n *inode, acc int, flags int) Errno {
	switch n.fileType() {
	case S_IFLNK:
		return ELOOP
	case S_IFDIR:
		if acc&mayWrite != 0 {
			return EISDIR
		}
	}
	if e := fsys.permission(n, acc); e != 0 {
		return e
	}
	if flags&O_NOATIME != 0 && !fsys.ownerOrCapable(n) {
		return EPERM
	}
	switch n.fileType() {
	case S_IFCHR:
		if n.device == devNone {
			return ENXIO
		}
	case S_IFBLK, S_IFIFO, S_IFSOCK:
		return ENXIO
	}
	return 0
}

// createMode is the permission bits of a new file or directory: what the
// program asked, without the umask, without set-group-ID when the process
// may not have it (Linux's vfs_prepare_mode), and with set-group-ID for a
// directory made in a set-group-ID directory.
func (fsys *FS) createMode(dir *inode, mode uint32, isDir bool) uint32 {
	if isDir {
		mode &= 0o777 | S_ISVTX
	} else {
		mode &= permBits
	}
	if !isDir && mode&(S_ISGID|S_IXGRP) == S_ISGID|S_IXGRP && dir.mode&S_ISGID != 0 &&
		dir.gid != fsys.gid && !fsys.isRoot() {
		mode &^= S_ISGID
	}
	mode &^= fsys.umask
	if isDir && dir.mode&S_ISGID != 0 {
		mode |= S_ISGID
	}
	return mode
}

// create makes a new inode in dir's file system for a name about to be
// added, owned by the process (its group is dir's when dir is
// set-group-ID). A tmpfs out of inodes is ENOSPC.
func (fsys *FS) create(dir *inode, mode uint32) (*inode, Errno) {
	if e := dir.sb.chargeInode(); e != 0 {
		return nil, e
	}
	var n *inode
	if mode&S_IFMT == S_IFDIR {
		n = fsys.newDirInode(dir.sb, mode&^S_IFMT)
	} else {
		n = fsys.newInode(dir.sb, mode)
	}
	if dir.mode&S_ISGID != 0 {
		n.gid = dir.gid
	}
	return n, 0
}
