package fs

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// FS is the file system service of one process: the namespace (the
// read-only tree of the archive at /, a tmpfs at /tmp, /dev/null and
// /dev/zero), the open file descriptions (handles), the current
// directory and the umask.
//
// FS is not safe for concurrent use: one goroutine, the file server,
// makes every call. Nothing in it blocks; an operation that would wait
// returns ErrWouldBlock instead.
type FS struct {
	rootSB, tmpSB, pipeSB *superblock
	rootDir               *inode
	cwd                   *inode
	// callerCwd, when set, is the current directory of the caller being
	// served in place of cwd (UseCwd): a process's own, held by a handle.
	callerCwd *inode
	umask     uint32
	uid, gid  uint32

	handles    map[Handle]*openFile
	nextHandle Handle
	maxHandles int

	clock     func() Timespec
	notify    func(Handle, Events)
	exportDir string
	export    func(path string, data []byte)
}

// Config says how to build an FS.
type Config struct {
	// Archive is a newc cpio archive (u-root's pkg/cpio reads it): the
	// read-only tree mounted at /. Its names are relative to / ("work/x"
	// or "/work/x"); directories its paths imply are made when the
	// archive lacks their records. Files' contents are slices of Archive,
	// not copies: the caller must leave its bytes alone.
	Archive []byte
	// TmpfsLimit is how many bytes of file data the tmpfs at /tmp may
	// hold, counted in 4 KiB pages as Linux's tmpfs counts them; writes
	// past it fail with ENOSPC. Zero means no limit.
	TmpfsLimit int64
	// TmpfsInodes is how many files the tmpfs may hold (Linux's nr_inodes:
	// its root, and every name of a file, counts); creating more is
	// ENOSPC. Zero means no limit.
	TmpfsInodes int64
	// UID and GID are the process's credentials; uid 0 has root's
	// privileges over permission bits.
	UID, GID uint32
	// Umask is the process's file mode creation mask (0o022 is usual).
	Umask uint32
	// Clock gives the time for timestamps; nil means time.Now.
	Clock func() Timespec
	// Notify, when set, is called when something happens to a handle
	// that may wake its waiters: data or room in a pipe, or its other end
	// closed. ev is the handle's poll events at that moment (see Poll).
	// Waiters blocked on ErrWouldBlock and epoll instances watching the
	// handle should look again.
	Notify func(h Handle, ev Events)
	// ExportDir and Export: when a regular tmpfs file under the directory
	// ExportDir (an absolute path; "" or "/" for all of them) is settled, Export is called with its
	// path and a copy of its contents. A file is settled when the last
	// handle that could write it is closed, and when a rename brings it
	// under ExportDir while no such handle is open. A file can be exported
	// more than once (each time it settles).
	ExportDir string
	Export    func(path string, data []byte)
	// MaxHandles bounds the open handles (Linux's file-max): opening more
	// is ENFILE. Zero means 1<<16.
	MaxHandles int
}

// Device numbers of the file systems (major 0, as Linux's anonymous
// devices) and the mount IDs statx reports.
const (
	rootDev  = 1
	tmpfsDev = 2
	pipeDev  = 3
)

// New builds the namespace: the archive's tree at / (read-only), with
// /dev/null, /dev/zero and the directory /tmp added when the archive lacks
// them, and an empty tmpfs mounted on /tmp. The current directory is /.
func New(cfg Config) (*FS, error) {
	fsys := &FS{
		umask:      cfg.Umask & 0o777,
		uid:        cfg.UID,
		gid:        cfg.GID,
		handles:    map[Handle]*openFile{},
		nextHandle: 1,
		maxHandles: cfg.MaxHandles,
		clock:      cfg.Clock,
		notify:     cfg.Notify,
		exportDir:  path.Clean("/" + cfg.ExportDir),
		export:     cfg.Export,
	}
	if fsys.maxHandles == 0 {
		fsys.maxHandles = 1 << 16
	}
	if fsys.clock == nil {
		fsys.clock = func() Timespec {
			t := time.Now()
			return Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
		}
	}
	fsys.rootSB = &superblock{dev: rootDev, mountID: rootDev}
	fsys.rootDir = fsys.newDirInode(fsys.rootSB, 0o755)
	fsys.rootDir.uid, fsys.rootDir.gid = 0, 0 // unless the archive says
	fsys.rootSB.root = fsys.rootDir
	fsys.cwd = fsys.rootDir
	fsys.rootDir.opens++
	if err := fsys.loadArchive(cfg.Archive); err != nil {
		return nil, err
	}
	dev, err := fsys.ensureDir("dev", 0o755)
	if err != nil {
		return nil, err
	}
	fsys.ensureDevice(dev, "null", devNull)
	fsys.ensureDevice(dev, "zero", devZero)
	mnt, err := fsys.ensureDir("tmp", 0o1777)
	if err != nil {
		return nil, err
	}
	fsys.rootSB.readOnly = true

	fsys.tmpSB = &superblock{dev: tmpfsDev, mountID: tmpfsDev, inodeLimit: cfg.TmpfsInodes}
	fsys.SetTmpfsLimit(cfg.TmpfsLimit)
	tmpRoot := fsys.newDirInode(fsys.tmpSB, 0o1777)
	tmpRoot.uid, tmpRoot.gid = 0, 0 // mounted by root, as /tmp is
	fsys.tmpSB.inodesUsed = 1       // the root, as Linux counts it
	fsys.tmpSB.root = tmpRoot
	fsys.tmpSB.mountpoint = mnt
	mnt.dir.mounted = fsys.tmpSB

	fsys.pipeSB = &superblock{dev: pipeDev, mountID: pipeDev}
	return fsys, nil
}

// ensureDir is the directory name of the root, made if the archive has
// none.
func (fsys *FS) ensureDir(name string, perm uint32) (*inode, error) {
	if d := fsys.rootDir.dir.byName[name]; d != nil {
		if !d.node.isDir() {
			return nil, fmt.Errorf("fs: /%s in the archive is not a directory", name)
		}
		return d.node, nil
	}
	n := fsys.newDirInode(fsys.rootSB, perm)
	n.uid, n.gid = 0, 0
	fsys.rootDir.add(name, n)
	return n, nil
}

// newInode makes an inode of sb owned by the process, with every time now.
func (fsys *FS) newInode(sb *superblock, mode uint32) *inode {
	sb.nextIno++
	now := fsys.clock()
	return &inode{
		sb: sb, ino: sb.nextIno, mode: mode, uid: fsys.uid, gid: fsys.gid, nlink: 1,
		atime: now, mtime: now, ctime: now, btime: now,
	}
}

// newDirInode makes a directory inode (not yet linked anywhere).
func (fsys *FS) newDirInode(sb *superblock, perm uint32) *inode {
	n := fsys.newInode(sb, S_IFDIR|perm)
	n.nlink = 2
	n.size = 2 * bogoDirentSize
	n.dir = newDirectory()
	return n
}

// SetTmpfsLimit changes the bytes of file data the tmpfs may hold (whole
// pages; zero: no limit). Lowering it below what is used already makes
// only new pages fail.
func (fsys *FS) SetTmpfsLimit(bytes int64) {
	fsys.tmpSB.pageLimit = bytes / pageSize
	if bytes > 0 && fsys.tmpSB.pageLimit == 0 {
		fsys.tmpSB.pageLimit = 1
	}
}

// TmpfsUsage reports the bytes of file data the tmpfs holds (whole pages,
// files removed but still open included) and how many inodes it counts.
func (fsys *FS) TmpfsUsage() (bytes, inodes int64) {
	return fsys.tmpSB.pagesUsed * pageSize, fsys.tmpSB.inodesUsed
}

// Umask sets the file mode creation mask and returns the previous one
// (umask(2)).
func (fsys *FS) Umask(mask uint32) uint32 {
	old := fsys.umask
	fsys.umask = mask & 0o777
	return old
}

// now is the time for timestamps.
func (fsys *FS) now() Timespec { return fsys.clock() }

// ---- the current directory ----

// Chdir makes the directory path names the current directory (chdir(2)).
func (fsys *FS) Chdir(path string) Errno {
	n, e := fsys.lookupAt(AtCWD, path, true, false)
	if e != 0 {
		return e
	}
	return fsys.setCwd(n)
}

// Fchdir makes the directory of handle h the current directory.
func (fsys *FS) Fchdir(h Handle) Errno {
	f := fsys.handles[h]
	if f == nil {
		return EBADF
	}
	if f.node == nil {
		return ENOTDIR
	}
	return fsys.setCwd(f.node)
}

func (fsys *FS) setCwd(n *inode) Errno {
	if !n.isDir() {
		return ENOTDIR
	}
	if e := fsys.permission(n, mayExec); e != 0 {
		return e
	}
	n.opens++ // the current directory keeps its inode, as an open would
	old := fsys.cwd
	fsys.cwd = n
	old.opens--
	fsys.maybeEvict(old)
	return 0
}

// curDir is the directory relative paths start from: the caller's
// (UseCwd), else the FS's own.
func (fsys *FS) curDir() *inode {
	if fsys.callerCwd != nil {
		return fsys.callerCwd
	}
	return fsys.cwd
}

// A caller may keep a current directory of its own, as each Linux process
// does, held as a handle (CwdHandle, CwdHandleOf): the calls made for it
// run between UseCwd(its handle) and UseCwd(0), and resolve its relative
// paths (AtCWD) and answer Getcwd from that directory. Chdir and Fchdir
// stay the FS's own directory's.

// CwdHandle is chdir(path) for a caller with a directory of its own: path
// resolved from dir (AtCWD: the caller's current one), checked as Chdir
// checks it (ENOTDIR, EACCES without search permission), and a handle
// (O_PATH) that keeps it: the caller's new current directory.
func (fsys *FS) CwdHandle(dir Handle, path string) (Handle, Errno) {
	n, e := fsys.lookupAt(dir, path, true, false)
	if e != 0 {
		return 0, e
	}
	return fsys.cwdHandle(n)
}

// CwdHandleOf is fchdir(fd): a handle as CwdHandle's for the directory of
// handle h.
func (fsys *FS) CwdHandleOf(h Handle) (Handle, Errno) {
	f := fsys.handles[h]
	if f == nil {
		return 0, EBADF
	}
	if f.node == nil {
		return 0, ENOTDIR
	}
	return fsys.cwdHandle(f.node)
}

func (fsys *FS) cwdHandle(n *inode) (Handle, Errno) {
	if !n.isDir() {
		return 0, ENOTDIR
	}
	if e := fsys.permission(n, mayExec); e != 0 {
		return 0, e
	}
	if fsys.tableFull() {
		return 0, ENFILE
	}
	return fsys.newHandle(&openFile{node: n, entry: entryOf(n), flags: O_PATH | O_DIRECTORY}), 0
}

// UseCwd makes the directory of handle h (a CwdHandle) the current one
// for the calls that follow, until UseCwd(0) gives back the FS's own.
func (fsys *FS) UseCwd(h Handle) Errno {
	fsys.callerCwd = nil
	if h == 0 {
		return 0
	}
	f := fsys.handles[h]
	if f == nil || f.node == nil || !f.node.isDir() {
		return EBADF
	}
	fsys.callerCwd = f.node
	return 0
}

// Getcwd writes the current directory's absolute path, NUL-terminated,
// into buf and returns its length with the NUL (getcwd(2)): ERANGE when
// buf is too small, ENOENT when the directory has been removed.
func (fsys *FS) Getcwd(buf []byte) (int, Errno) {
	cwd := fsys.curDir()
	if cwd.dir.dead {
		return 0, ENOENT
	}
	p := fsys.dirPath(cwd)
	if len(p)+1 > len(buf) {
		return 0, ERANGE
	}
	copy(buf, p)
	buf[len(p)] = 0
	return len(p) + 1, 0
}

// dirPath is the absolute path of directory dir.
func (fsys *FS) dirPath(dir *inode) string {
	var names []string
	for dir != fsys.rootDir {
		if dir == dir.sb.root {
			dir = dir.sb.mountpoint
			continue
		}
		names = append(names, dir.dir.self.name)
		dir = dir.dir.self.parent
	}
	if len(names) == 0 {
		return "/"
	}
	var b strings.Builder
	for i := len(names) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(names[i])
	}
	return b.String()
}
