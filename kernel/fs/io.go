package fs

// Reading, writing and seeking. Each follows Linux's checks in order:
// pread's negative offset is EINVAL before a bad handle, an unseekable
// file (a pipe) is ESPIPE before a handle opened the wrong way is EBADF.

// Read reads from handle h at its offset (read(2)). A pipe may answer
// ErrWouldBlock (see Pipe).
func (fsys *FS) Read(h Handle, p []byte) (int, Errno) {
	f, e := fsys.opened(h, false)
	if e != 0 {
		return 0, e
	}
	n := f.node
	switch {
	case n.pipe != nil:
		return fsys.pipeRead(f, p)
	case n.isDir():
		return 0, EISDIR
	case n.fileType() == S_IFCHR:
		return deviceRead(n, p), 0
	}
	k := n.readAt(p, f.pos)
	f.pos += int64(k)
	fsys.accessed(f)
	return k, 0
}

// accessed records a read through f.
func (fsys *FS) accessed(f *openFile) {
	if f.flags&O_NOATIME == 0 {
		fsys.touchAtime(f.node)
	}
}

// opened is handle h for reading, or writing: EBADF when it was not
// opened for that.
func (fsys *FS) opened(h Handle, write bool) (*openFile, Errno) {
	f, e := fsys.handle(h)
	if e != 0 {
		return nil, e
	}
	if write && !f.writable || !write && !f.readable {
		return nil, EBADF
	}
	return f, 0
}

// positioned is the handle of pread or pwrite at offset off, in Linux's
// order of checks: a negative offset, a bad handle, a file without
// offsets (a pipe), a handle opened without that access.
func (fsys *FS) positioned(h Handle, off int64, write bool) (*openFile, Errno) {
	if off < 0 {
		return nil, EINVAL
	}
	if f, e := fsys.handle(h); e == 0 && f.node.pipe != nil {
		return nil, ESPIPE
	}
	return fsys.opened(h, write)
}

// Pread reads from handle h at offset off, leaving its offset alone
// (pread64(2)).
func (fsys *FS) Pread(h Handle, p []byte, off int64) (int, Errno) {
	f, e := fsys.positioned(h, off, false)
	if e != 0 {
		return 0, e
	}
	n := f.node
	switch {
	case n.isDir():
		return 0, EISDIR
	case n.fileType() == S_IFCHR:
		return deviceRead(n, p), 0
	}
	k := n.readAt(p, off)
	fsys.accessed(f)
	return k, 0
}

// Write writes to handle h at its offset, or at the end with O_APPEND
// (write(2)). On a tmpfs that runs out of room it writes what fits. A
// pipe may answer ErrWouldBlock or EPIPE (see Pipe).
func (fsys *FS) Write(h Handle, p []byte) (int, Errno) {
	f, e := fsys.opened(h, true)
	if e != 0 {
		return 0, e
	}
	n := f.node
	switch {
	case n.pipe != nil:
		return fsys.pipeWrite(f, p)
	case n.fileType() == S_IFCHR:
		return deviceWrite(n, p)
	}
	off := f.pos
	if f.flags&O_APPEND != 0 {
		off = n.size
	}
	k, e := fsys.writeFile(n, p, off)
	if k > 0 {
		f.pos = off + int64(k) // only a write that wrote moves the offset
	}
	return k, e
}

// Pwrite writes to handle h at offset off, leaving its offset alone
// (pwrite64(2)). With O_APPEND it writes at the end, as Linux does.
func (fsys *FS) Pwrite(h Handle, p []byte, off int64) (int, Errno) {
	f, e := fsys.positioned(h, off, true)
	if e != 0 {
		return 0, e
	}
	n := f.node
	if n.fileType() == S_IFCHR {
		return deviceWrite(n, p)
	}
	if f.flags&O_APPEND != 0 {
		off = n.size
	}
	return fsys.writeFile(n, p, off)
}

// writeFile writes p at off in regular file n (generic_write_checks, then
// tmpfs's write): nothing happens for an empty write; a write starting at
// the largest size is EFBIG, one going past it is cut short.
func (fsys *FS) writeFile(n *inode, p []byte, off int64) (int, Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	if off >= maxFileSize {
		return 0, EFBIG
	}
	if room := maxFileSize - off; int64(len(p)) > room {
		p = p[:room]
	}
	fsys.killPrivs(n)
	fsys.touchModify(n)
	return n.writeAt(p, off)
}

// Lseek moves handle h's offset (lseek(2)) and returns the new one.
// SEEK_DATA and SEEK_HOLE see tmpfs pages. On a directory the offset is a
// position in the listing: SEEK_SET and SEEK_CUR only.
func (fsys *FS) Lseek(h Handle, off int64, whence int) (int64, Errno) {
	f, e := fsys.handle(h)
	if e != 0 {
		return 0, e
	}
	if whence < SEEK_SET || whence > SEEK_HOLE {
		return 0, EINVAL
	}
	n := f.node
	switch {
	case n.pipe != nil:
		return 0, ESPIPE
	case n.fileType() == S_IFCHR:
		f.pos = 0 // what /dev/null and /dev/zero do
		return 0, 0
	case n.isDir():
		switch whence {
		case SEEK_CUR:
			off += f.pos
		case SEEK_SET:
		default:
			return 0, EINVAL
		}
		return f.setPos(off)
	}
	switch whence {
	case SEEK_CUR:
		if off == 0 {
			return f.pos, 0
		}
		off += f.pos
	case SEEK_END:
		off += n.size
	case SEEK_DATA, SEEK_HOLE:
		var e Errno
		if off, e = n.seekData(off, whence); e != 0 {
			return 0, e
		}
	}
	return f.setPos(off)
}

func (f *openFile) setPos(off int64) (int64, Errno) {
	if off < 0 {
		return 0, EINVAL
	}
	f.pos = off
	return off, 0
}

// Ftruncate sets the size of the file of handle h (ftruncate(2)); the
// handle must be open for writing.
func (fsys *FS) Ftruncate(h Handle, size int64) Errno {
	if size < 0 {
		return EINVAL
	}
	f, e := fsys.handle(h)
	if e != 0 {
		return e
	}
	if !f.node.isRegular() || !f.writable {
		return EINVAL
	}
	fsys.setSize(f.node, size)
	return 0
}

// Truncate sets the size of the file path names (truncate(2)).
func (fsys *FS) Truncate(path string, size int64) Errno {
	if size < 0 {
		return EINVAL
	}
	n, e := fsys.lookupAt(AtCWD, path, true, false)
	if e != 0 {
		return e
	}
	switch {
	case n.isDir():
		return EISDIR
	case !n.isRegular():
		return EINVAL
	}
	if e := fsys.permission(n, mayWrite); e != 0 {
		return e
	}
	fsys.setSize(n, size)
	return 0
}

// setSize truncates regular file n, which Linux does even to its own
// size: the times change regardless.
func (fsys *FS) setSize(n *inode, size int64) {
	fsys.killPrivs(n)
	n.truncate(size)
	fsys.touchModify(n)
}

// Fsync is fsync(2) and fdatasync(2): memory is all there is, so nothing
// to do, but Linux's EINVAL for files that cannot be synced (pipes,
// character devices) is kept.
func (fsys *FS) Fsync(h Handle) Errno {
	f, e := fsys.handle(h)
	if e != 0 {
		return e
	}
	if f.node.pipe != nil || f.node.fileType() == S_IFCHR {
		return EINVAL
	}
	return 0
}
