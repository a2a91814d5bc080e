package fs

import "sort"

// Timespec is a time as Linux keeps it: seconds and nanoseconds since the
// epoch.
type Timespec struct {
	Sec  int64
	Nsec int64
}

// superblock is one mounted file system: the read-only tree from the
// archive, the tmpfs at /tmp, or the pseudo file system of pipes. Each is
// mounted once, so an inode's superblock also names its mount.
type superblock struct {
	dev        uint64 // st_dev: major 0, minor as Linux numbers anonymous devices
	mountID    uint64 // statx's stx_mnt_id
	readOnly   bool
	root       *inode
	mountpoint *inode // the directory this file system covers; nil for / and pipes
	nextIno    uint64

	// Accounting, tmpfs's: pages of file data (and of long symlinks) and
	// inodes, where every extra hard link counts as an inode as in
	// Linux's tmpfs. A zero limit is no limit.
	pageLimit  int64
	pagesUsed  int64
	inodeLimit int64
	inodesUsed int64
}

// chargeInode reserves one inode (or link) of the file system's budget.
func (sb *superblock) chargeInode() Errno {
	if sb.inodeLimit > 0 && sb.inodesUsed >= sb.inodeLimit {
		return ENOSPC
	}
	sb.inodesUsed++
	return 0
}

func (sb *superblock) unchargeInode() { sb.inodesUsed-- }

// chargePage reserves one page of file data.
func (sb *superblock) chargePage() bool {
	if sb.pageLimit > 0 && sb.pagesUsed >= sb.pageLimit {
		return false
	}
	sb.pagesUsed++
	return true
}

func (sb *superblock) unchargePages(n int64) { sb.pagesUsed -= n }

// inode is a file of any type.
type inode struct {
	sb       *superblock
	ino      uint64
	mode     uint32 // file type and permission bits
	uid, gid uint32
	nlink    uint32
	rdev     uint64 // device number of a character device
	size     int64  // bytes of a file or symlink; a directory's bogus size
	atime    Timespec
	mtime    Timespec
	ctime    Timespec
	btime    Timespec

	data   fileData   // regular file
	target string     // symbolic link
	dir    *directory // directory
	device device     // character device
	pipe   *pipe      // pipe

	// opens counts the handles on the inode: an inode without names
	// lives, with its data, until the last of them is closed.
	opens int
	// writers counts the handles open for writing (for exports).
	writers int
	// evicted: the inode's budget has been given back.
	evicted bool
}

func (n *inode) fileType() uint32 { return n.mode & S_IFMT }
func (n *inode) isDir() bool      { return n.fileType() == S_IFDIR }
func (n *inode) isRegular() bool  { return n.fileType() == S_IFREG }
func (n *inode) isSymlink() bool  { return n.fileType() == S_IFLNK }

// bogoDirentSize is what each entry adds to a directory's st_size in
// Linux's tmpfs (BOGO_DIRENT_SIZE); an empty directory has two.
const bogoDirentSize = 20

// longSymlink is the length from which Linux's tmpfs keeps a symlink's
// target in a page of its own (SHORT_SYMLINK_LEN counts the NUL): such a
// symlink costs a page of the budget and reports 8 blocks.
const longSymlink = 128

// directory is a directory's entries. Each entry gets a cookie, larger
// than any before in the directory; getdents64 lists the newest first, as
// Linux's tmpfs does, and a listing resumes below the cookie of the last
// entry it returned, so it stays stable while entries come and go.
type directory struct {
	byName     map[string]*dirent
	order      []*dirent // sorted by cookie, oldest first
	nextCookie int64
	// self is the entry naming the directory in its parent (directories
	// have one name); nil for the root of a file system.
	self *dirent
	// mounted is the file system mounted on the directory, if any.
	mounted *superblock
	// dead: the directory was removed. Nothing can be created in it and
	// reading it is ENOENT, as in Linux.
	dead bool
}

// Positions in a directory listing (a directory handle's offset): 0 is
// ".", 1 is "..", 2 the newest entry, a cookie c the entries older than
// c, and endOfDir the end (Linux's DIR_OFFSET_EOD).
const (
	firstEntryPos = 2
	firstCookie   = 3
	endOfDir      = 1<<31 - 1
)

// dirent is a name in a directory. Renaming moves the entry itself, so an
// open handle keeps knowing its file's current path (for exports).
type dirent struct {
	name    string
	node    *inode
	parent  *inode
	cookie  int64
	removed bool
}

func newDirectory() *directory {
	return &directory{byName: map[string]*dirent{}, nextCookie: firstCookie}
}

// add links node into directory dir under name (which must be free).
func (dir *inode) add(name string, node *inode) *dirent {
	d := &dirent{name: name, node: node, parent: dir}
	dir.insert(d)
	return d
}

// insert puts entry d (named, with its parent set to dir) into dir with a
// new cookie.
func (dir *inode) insert(d *dirent) {
	dd := dir.dir
	if dd.nextCookie >= endOfDir {
		dd.renumber()
	}
	d.cookie = dd.nextCookie
	dd.nextCookie++
	dd.byName[d.name] = d
	dd.order = append(dd.order, d)
	dir.size += bogoDirentSize
	if d.node.isDir() {
		d.node.dir.self = d
		dir.nlink++
	}
}

// index is where entry d is in the listing.
func (dd *directory) index(d *dirent) int {
	return sort.Search(len(dd.order), func(i int) bool { return dd.order[i].cookie >= d.cookie })
}

// remove takes entry d out of dir; the inode's link count is the caller's.
func (dir *inode) remove(d *dirent) {
	dd := dir.dir
	delete(dd.byName, d.name)
	i := dd.index(d)
	dd.order = append(dd.order[:i], dd.order[i+1:]...)
	if len(dd.order) == 0 {
		dd.order = nil // give the array back
	}
	dir.size -= bogoDirentSize
	if d.node.isDir() {
		dir.nlink--
	}
}

// olderThan is the entries whose cookie is below c, oldest first.
func (dd *directory) olderThan(c int64) []*dirent {
	i := sort.Search(len(dd.order), func(i int) bool { return dd.order[i].cookie >= c })
	return dd.order[:i]
}

// renumber gives the entries cookies from firstCookie again, when a
// directory has seen two billion names (listings in progress then
// restart or skip).
func (dd *directory) renumber() {
	for i, d := range dd.order {
		d.cookie = firstCookie + int64(i)
	}
	dd.nextCookie = firstCookie + int64(len(dd.order))
}

// parentDir is the directory holding dir within its file system; a file
// system's root is its own parent.
func (dir *inode) parentDir() *inode {
	if dir.dir.self == nil {
		return dir
	}
	return dir.dir.self.parent
}

// isEmpty: the directory has no entries.
func (dir *inode) isEmpty() bool { return len(dir.dir.byName) == 0 }
