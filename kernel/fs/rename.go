package fs

// Renameat2 renames oldpath to newpath (renameat2(2); renameat is flags
// 0), following Linux's do_renameat2 and vfs_rename: both names must be
// in one file system (EXDEV), neither may be "." or ".." (EBUSY), a
// directory cannot move into itself (EINVAL) nor onto one of its
// ancestors (ENOTEMPTY), a directory replaces only an empty directory
// and a file only a file (EISDIR, ENOTDIR). RENAME_NOREPLACE fails with
// EEXIST when newpath exists; RENAME_EXCHANGE swaps the two names.
// RENAME_WHITEOUT (for overlay file systems) is EINVAL.
func (fsys *FS) Renameat2(olddir Handle, oldpath string, newdir Handle, newpath string, flags int) Errno {
	if flags&^(RENAME_NOREPLACE|RENAME_EXCHANGE) != 0 ||
		flags&RENAME_NOREPLACE != 0 && flags&RENAME_EXCHANGE != 0 {
		return EINVAL
	}
	exchange := flags&RENAME_EXCHANGE != 0
	ow, e := fsys.parentAt(olddir, oldpath)
	if e != 0 {
		return e
	}
	nw, e := fsys.parentAt(newdir, newpath)
	if e != 0 {
		return e
	}
	oldParent, newParent := ow.cur, nw.cur
	switch {
	case oldParent.sb != newParent.sb:
		return EXDEV
	case ow.typ != lastNorm:
		return EBUSY
	case nw.typ != lastNorm && flags&RENAME_NOREPLACE != 0:
		return EEXIST
	case nw.typ != lastNorm:
		return EBUSY
	case oldParent.sb.readOnly:
		return EROFS
	}
	od, e := fsys.lookup(oldParent, ow.last)
	if e != 0 {
		return e
	}
	nd, e := fsys.lookup(newParent, nw.last)
	switch {
	case e == ENOENT && !newParent.dir.dead:
		nd = nil // the new name is free
	case e != 0:
		return e
	}
	source := od.node
	isDir := source.isDir()
	if nd != nil && flags&RENAME_NOREPLACE != 0 {
		return EEXIST
	}
	if exchange {
		if nd == nil {
			return ENOENT
		}
		if !nd.node.isDir() && nw.trailing {
			return ENOTDIR
		}
	}
	if !isDir && (ow.trailing || !exchange && nw.trailing) {
		return ENOTDIR
	}
	if oldParent != newParent {
		if trap := childToward(oldParent, newParent); trap != nil {
			if trap == source {
				return EINVAL // the source is an ancestor of the target
			}
		} else if trap := childToward(newParent, oldParent); trap != nil && nd != nil && trap == nd.node {
			if exchange {
				return EINVAL
			}
			return ENOTEMPTY // the target is an ancestor of the source
		}
	}
	if nd != nil && nd.node == source {
		return 0 // two names of one file: nothing to do
	}

	// vfs_rename
	if e := fsys.mayDelete(oldParent, od, isDir); e != 0 {
		return e
	}
	if nd == nil {
		e = fsys.mayCreate(newParent)
	} else if exchange {
		e = fsys.mayDelete(newParent, nd, nd.node.isDir())
	} else {
		e = fsys.mayDelete(newParent, nd, isDir)
	}
	if e != 0 {
		return e
	}
	if oldParent != newParent {
		// A directory moving elsewhere has its ".." rewritten.
		if isDir {
			if e := fsys.permission(source, mayWrite); e != 0 {
				return e
			}
		}
		if exchange && nd.node.isDir() {
			if e := fsys.permission(nd.node, mayWrite); e != 0 {
				return e
			}
		}
	}
	if isDir && source.dir.mounted != nil || nd != nil && nd.node.isDir() && nd.node.dir.mounted != nil {
		return EBUSY
	}

	// tmpfs's rename
	if exchange {
		fsys.exchange(od, nd)
		return 0
	}
	if nd != nil && nd.node.isDir() && !nd.node.isEmpty() {
		return ENOTEMPTY
	}
	if nd != nil {
		fsys.removeEntry(newParent, nd)
	}
	oldParent.remove(od)
	od.name, od.parent = nw.last, newParent
	newParent.insert(od)
	fsys.touchDir(oldParent)
	fsys.touchDir(newParent)
	source.ctime = fsys.now()
	if source.isRegular() && source.writers == 0 {
		fsys.maybeExport(od)
	}
	return 0
}

// childToward is the child of directory anc on the way down to directory
// dir when anc is above dir, nil when it is not. Directories of one file
// system only, which is where renames happen.
func childToward(anc, dir *inode) *inode {
	for n := dir; n.dir.self != nil; {
		parent := n.dir.self.parent
		if parent == anc {
			return n
		}
		n = parent
	}
	return nil
}

// exchange swaps names a and b (RENAME_EXCHANGE): each entry takes the
// other's directory and name and, as Linux's d_exchange moves them, b
// then a become the newest entries of their directories.
func (fsys *FS) exchange(a, b *dirent) {
	pa, pb := a.parent, b.parent
	pa.remove(a)
	pb.remove(b)
	a.name, b.name = b.name, a.name
	a.parent, b.parent = pb, pa
	pa.insert(b)
	pb.insert(a)
	now := fsys.now()
	for _, n := range []*inode{pa, pb, a.node, b.node} {
		n.ctime = now
	}
	pa.mtime, pb.mtime = now, now
}
