package fs

// Handles: open file descriptions. Linux's struct file holds what an open
// made (the file, the offset, the status flags); descriptors point at it
// and dup shares it. Here the kernel keeps the descriptors and a Handle
// stands for the struct file: Dup adds a reference for each descriptor
// (or fork) that shares it, Close drops one, and the last Close releases
// the file (and, for a file without names, its data).

// Handle names an open file description. Handles are positive and not
// reused until the numbers wrap. The numbers from ChosenHandles up are the
// caller's to choose (PipeAt); FS never hands them out itself.
type Handle int32

// ChosenHandles is the first handle number the caller chooses: a kernel
// that makes a pipe at once, without waiting for the file server, names
// its ends from here up (PipeAt).
const ChosenHandles Handle = 1 << 30

type openFile struct {
	refs     int
	node     *inode
	entry    *dirent // the name it was opened by: its path for exports
	flags    int     // status flags, as F_GETFL reports them
	readable bool    // FMODE_READ
	writable bool    // FMODE_WRITE
	pos      int64   // offset; for a directory, the cookie to list from
}

// validOpenFlags are the bits open(2) looks at (VALID_OPEN_FLAGS).
const validOpenFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |
	O_NONBLOCK | O_SYNC | O_DSYNC | fAsync | O_DIRECT | O_LARGEFILE | O_DIRECTORY |
	O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | O_TMPFILE

// fAsync is FASYNC (O_ASYNC).
const fAsync = 0x2000

// setflMask are the flags F_SETFL changes (SETFL_MASK).
const setflMask = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | fAsync

// newHandle enters f into the table with one reference.
func (fsys *FS) newHandle(f *openFile) Handle {
	for fsys.handles[fsys.nextHandle] != nil || fsys.nextHandle <= 0 || fsys.nextHandle >= ChosenHandles {
		fsys.nextHandle++
		if fsys.nextHandle <= 0 || fsys.nextHandle >= ChosenHandles {
			fsys.nextHandle = 1
		}
	}
	h := fsys.nextHandle
	fsys.nextHandle++
	fsys.enter(h, f)
	return h
}

// enter puts f into the table as h, with one reference.
func (fsys *FS) enter(h Handle, f *openFile) {
	f.refs = 1
	fsys.handles[h] = f
	f.node.opens++
	if f.writable {
		f.node.writers++
	}
}

// tableFull: opening another file is ENFILE.
func (fsys *FS) tableFull() bool { return len(fsys.handles) >= fsys.maxHandles }

// Dup adds a reference to handle h: one more descriptor shares it.
func (fsys *FS) Dup(h Handle) Errno {
	f := fsys.handles[h]
	if f == nil {
		return EBADF
	}
	f.refs++
	return 0
}

// Close drops a reference to handle h. The last one releases the open
// file: a pipe end's closing wakes the other end, a file written through
// it may be exported, and a file without names gives its data back.
func (fsys *FS) Close(h Handle) Errno {
	f := fsys.handles[h]
	if f == nil {
		return EBADF
	}
	f.refs--
	if f.refs > 0 {
		return 0
	}
	delete(fsys.handles, h)
	n := f.node
	n.opens--
	if n.pipe != nil {
		fsys.pipeRelease(n.pipe, f)
	}
	if f.writable {
		n.writers--
		if n.writers == 0 && f.entry != nil && !f.entry.removed {
			fsys.maybeExport(f.entry)
		}
	}
	fsys.maybeEvict(n)
	return 0
}

// OpenHandles is how many handles are open (for leak checks).
func (fsys *FS) OpenHandles() int { return len(fsys.handles) }

// StatusFlags is F_GETFL: the access mode and status flags of handle h.
func (fsys *FS) StatusFlags(h Handle) (int, Errno) {
	f := fsys.handles[h]
	if f == nil {
		return 0, EBADF
	}
	return f.flags, 0
}

// SetStatusFlags is F_SETFL: it changes O_APPEND, O_NONBLOCK, O_NOATIME
// and O_ASYNC of handle h and ignores the other bits. O_DIRECT is EINVAL:
// no file here does direct I/O (as on Linux 6.1's tmpfs), and pipes have
// no packet mode.
func (fsys *FS) SetStatusFlags(h Handle, flags int) Errno {
	f := fsys.handles[h]
	if f == nil || f.flags&O_PATH != 0 {
		return EBADF
	}
	if flags&O_NOATIME != 0 && !fsys.ownerOrCapable(f.node) {
		return EPERM
	}
	if flags&O_DIRECT != 0 {
		return EINVAL
	}
	f.flags = f.flags&^setflMask | flags&setflMask
	return 0
}

// handle is the open file h for an operation that needs a real open
// (Linux's fdget): O_PATH handles are EBADF.
func (fsys *FS) handle(h Handle) (*openFile, Errno) {
	f := fsys.handles[h]
	if f == nil || f.flags&O_PATH != 0 {
		return nil, EBADF
	}
	return f, 0
}

// dropLink takes one name away from n (unlink, rmdir, rename over it).
// Linux's tmpfs counts every extra name of a file as an inode: that one
// is given back at once, the inode's own when it is evicted.
func (fsys *FS) dropLink(n *inode) {
	if n.nlink > 1 && !n.isDir() {
		n.sb.unchargeInode()
	}
	n.nlink--
	if n.isDir() {
		n.nlink = 0
		n.dir.dead = true
	}
	n.ctime = fsys.now()
	fsys.maybeEvict(n)
}

// maybeEvict frees an inode nothing refers to any more: no name, no
// handle, not the current directory. Its data goes back to the heap and
// its pages and inode to the file system's budget.
func (fsys *FS) maybeEvict(n *inode) {
	if n.nlink > 0 || n.opens > 0 || n.sb != fsys.tmpSB || n.evicted {
		return
	}
	n.evicted = true
	n.truncate(0)
	if n.isSymlink() && len(n.target) >= longSymlink {
		n.sb.unchargePages(1)
	}
	n.sb.unchargeInode()
}
