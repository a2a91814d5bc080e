package fs

// Operations on names: mkdir, symlink, link, unlink, rmdir, rename and
// readlink, with the checks of Linux's fs/namei.c in its order. The
// last component is never followed when it is a symlink. A name that
// exists is EEXIST before the read-only tree is EROFS; EROFS comes before
// permissions, and permissions before the kind of file.

// filenameCreate walks to the directory where path's last component is
// to be created (filename_create): "." or ".." or "/" is EEXIST, an
// existing name EEXIST, a trailing slash ENOENT unless a directory is
// made, and only then a read-only file system EROFS.
func (fsys *FS) filenameCreate(dir Handle, path string, isDir bool) (*nameWalk, Errno) {
	w, e := fsys.parentAt(dir, path)
	if e != 0 {
		return nil, e
	}
	if w.typ != lastNorm {
		return nil, EEXIST
	}
	_, e = fsys.lookup(w.cur, w.last)
	switch {
	case e == 0:
		return nil, EEXIST
	case e != ENOENT:
		return nil, e
	case w.cur.dir.dead:
		return nil, ENOENT
	case w.trailing && !isDir:
		return nil, ENOENT
	case w.cur.sb.readOnly:
		return nil, EROFS
	}
	return w, fsys.mayCreate(w.cur)
}

// Mkdirat makes directory path (mkdirat(2)) with permission bits mode,
// less the umask.
func (fsys *FS) Mkdirat(dir Handle, path string, mode uint32) Errno {
	w, e := fsys.filenameCreate(dir, path, true)
	if e != 0 {
		return e
	}
	n, e := fsys.create(w.cur, S_IFDIR|fsys.createMode(w.cur, mode, true))
	if e != 0 {
		return e
	}
	w.cur.add(w.last, n)
	fsys.touchDir(w.cur)
	return 0
}

// Symlinkat makes path a symbolic link to target (symlinkat(2)). A target
// of 128 bytes or more takes a page of the tmpfs, as in Linux.
func (fsys *FS) Symlinkat(target string, dir Handle, path string) Errno {
	switch {
	case target == "":
		return ENOENT
	case len(target) >= PathMax:
		return ENAMETOOLONG
	}
	w, e := fsys.filenameCreate(dir, path, false)
	if e != 0 {
		return e
	}
	n, e := fsys.create(w.cur, S_IFLNK|0o777)
	if e != 0 {
		return e
	}
	if len(target) >= longSymlink && !n.sb.chargePage() {
		n.sb.unchargeInode()
		return ENOSPC
	}
	n.target, n.size = target, int64(len(target))
	w.cur.add(w.last, n)
	fsys.touchDir(w.cur)
	return 0
}

// Linkat gives the file oldpath names another name, newpath
// (linkat(2)): flags AT_SYMLINK_FOLLOW (follow a symlink at oldpath's end)
// and AT_EMPTY_PATH (olddir's own file, root only).
func (fsys *FS) Linkat(olddir Handle, oldpath string, newdir Handle, newpath string, flags int) Errno {
	if flags&^(AT_SYMLINK_FOLLOW|AT_EMPTY_PATH) != 0 {
		return EINVAL
	}
	if flags&AT_EMPTY_PATH != 0 && !fsys.isRoot() {
		return ENOENT
	}
	old, e := fsys.lookupAt(olddir, oldpath, flags&AT_SYMLINK_FOLLOW != 0, flags&AT_EMPTY_PATH != 0)
	if e != 0 {
		return e
	}
	w, e := fsys.filenameCreate(newdir, newpath, false)
	if e != 0 {
		return e
	}
	if old.sb != w.cur.sb {
		return EXDEV
	}
	if e := fsys.mayLink(old); e != 0 {
		return e
	}
	switch {
	case old.isDir():
		return EPERM
	case old.nlink == 0:
		return ENOENT
	}
	if e := old.sb.chargeInode(); e != 0 {
		return e
	}
	old.nlink++
	old.ctime = fsys.now()
	w.cur.add(w.last, old)
	fsys.touchDir(w.cur)
	return 0
}

// mayLink is the protected_hardlinks rule Linux applies by default: only
// the owner (or root) may link a file it could not read and write, or a
// special or set-ID file.
func (fsys *FS) mayLink(n *inode) Errno {
	if fsys.ownerOrCapable(n) {
		return 0
	}
	safe := n.isRegular() && n.mode&S_ISUID == 0 && n.mode&(S_ISGID|S_IXGRP) != S_ISGID|S_IXGRP &&
		fsys.permission(n, mayRead|mayWrite) == 0
	if !safe {
		return EPERM
	}
	return 0
}

// Unlinkat removes name path (unlinkat(2)), a directory with
// AT_REMOVEDIR.
func (fsys *FS) Unlinkat(dir Handle, path string, flags int) Errno {
	if flags&^AT_REMOVEDIR != 0 {
		return EINVAL
	}
	if flags&AT_REMOVEDIR != 0 {
		return fsys.rmdir(dir, path)
	}
	w, d, e := fsys.victim(dir, path, func(lastType) Errno { return EISDIR })
	if e != 0 {
		return e
	}
	if w.trailing {
		if d.node.isDir() {
			return EISDIR
		}
		return ENOTDIR
	}
	if e := fsys.mayDelete(w.cur, d, false); e != 0 {
		return e
	}
	fsys.removeEntry(w.cur, d)
	return 0
}

// victim finds the name unlink or rmdir is to remove (do_unlinkat's
// and do_rmdir's first steps): a last component that is not a name
// ("." "..", "/") is the error dots says, then a read-only file system is
// EROFS, then the name must exist.
func (fsys *FS) victim(dir Handle, path string, dots func(lastType) Errno) (*nameWalk, *dirent, Errno) {
	w, e := fsys.parentAt(dir, path)
	if e != 0 {
		return nil, nil, e
	}
	if w.typ != lastNorm {
		return nil, nil, dots(w.typ)
	}
	if w.cur.sb.readOnly {
		return nil, nil, EROFS
	}
	d, e := fsys.lookup(w.cur, w.last)
	if e != 0 {
		return nil, nil, e
	}
	return w, d, 0
}

// rmdir removes directory path (do_rmdir).
func (fsys *FS) rmdir(dir Handle, path string) Errno {
	w, d, e := fsys.victim(dir, path, func(t lastType) Errno {
		switch t {
		case lastDotDot:
			return ENOTEMPTY
		case lastDot:
			return EINVAL
		}
		return EBUSY // the root
	})
	if e != 0 {
		return e
	}
	if e := fsys.mayDelete(w.cur, d, true); e != 0 {
		return e
	}
	if d.node.dir.mounted != nil {
		return EBUSY
	}
	if !d.node.isEmpty() {
		return ENOTEMPTY
	}
	fsys.removeEntry(w.cur, d)
	return 0
}

// removeEntry takes name d out of dir and a link from its file.
func (fsys *FS) removeEntry(dir *inode, d *dirent) {
	dir.remove(d)
	d.removed = true
	fsys.touchDir(dir)
	fsys.dropLink(d.node)
}

// Readlinkat reads the target of symlink path into buf (readlinkat(2)),
// cut to buf's length, without a NUL. An empty path reads the symlink of
// handle dir (opened with O_PATH|O_NOFOLLOW).
func (fsys *FS) Readlinkat(dir Handle, path string, buf []byte) (int, Errno) {
	if len(buf) == 0 {
		return 0, EINVAL
	}
	n, e := fsys.lookupAt(dir, path, false, true)
	if e != 0 {
		return 0, e
	}
	if !n.isSymlink() {
		if path == "" {
			return 0, ENOENT
		}
		return 0, EINVAL
	}
	fsys.touchAtime(n)
	return copy(buf, n.target), 0
}
