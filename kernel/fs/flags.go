package fs

// Linux x86-64's values for the flags and modes the operations take. The
// server passes the program's arguments through unchanged.

// Open flags (open(2)), also the status flags of F_GETFL and F_SETFL.
const (
	O_ACCMODE   = 0x3
	O_RDONLY    = 0x0
	O_WRONLY    = 0x1
	O_RDWR      = 0x2
	O_CREAT     = 0x40
	O_EXCL      = 0x80
	O_NOCTTY    = 0x100
	O_TRUNC     = 0x200
	O_APPEND    = 0x400
	O_NONBLOCK  = 0x800
	O_DSYNC     = 0x1000
	O_DIRECT    = 0x4000
	O_LARGEFILE = 0x8000
	O_DIRECTORY = 0x10000
	O_NOFOLLOW  = 0x20000
	O_NOATIME   = 0x40000
	O_CLOEXEC   = 0x80000
	O_SYNC      = 0x101000
	O_PATH      = 0x200000
	O_TMPFILE   = 0x410000 // includes O_DIRECTORY
)

// Directory handle meaning "the current directory" (AT_FDCWD).
const AtCWD Handle = -100

// *at flags.
const (
	AT_SYMLINK_NOFOLLOW = 0x100
	AT_REMOVEDIR        = 0x200
	AT_EACCESS          = 0x200 // faccessat: the same bit as AT_REMOVEDIR
	AT_SYMLINK_FOLLOW   = 0x400
	AT_NO_AUTOMOUNT     = 0x800
	AT_EMPTY_PATH       = 0x1000
	AT_STATX_SYNC_TYPE  = 0x6000
)

// renameat2 flags.
const (
	RENAME_NOREPLACE = 1 << 0
	RENAME_EXCHANGE  = 1 << 1
	RENAME_WHITEOUT  = 1 << 2
)

// lseek whence values.
const (
	SEEK_SET  = 0
	SEEK_CUR  = 1
	SEEK_END  = 2
	SEEK_DATA = 3
	SEEK_HOLE = 4
)

// access(2) modes.
const (
	F_OK = 0
	X_OK = 1
	W_OK = 2
	R_OK = 4
)

// File types and permission bits of a mode.
const (
	S_IFMT   = 0o170000
	S_IFSOCK = 0o140000
	S_IFLNK  = 0o120000
	S_IFREG  = 0o100000
	S_IFBLK  = 0o060000
	S_IFDIR  = 0o040000
	S_IFCHR  = 0o020000
	S_IFIFO  = 0o010000
	S_ISUID  = 0o4000
	S_ISGID  = 0o2000
	S_ISVTX  = 0o1000
	S_IXGRP  = 0o010

	permBits = 0o7777 // S_IALLUGO
)

// utimensat's special nanosecond values.
const (
	UTIME_NOW  = (1 << 30) - 1
	UTIME_OMIT = (1 << 30) - 2
)

// Limits, Linux's.
const (
	// NameMax is the longest name of a directory entry (NAME_MAX).
	NameMax = 255
	// PathMax is PATH_MAX: a path (and a symlink's target) must be
	// shorter, as it counts the terminating NUL.
	PathMax = 4096
	// MaxSymlinks is how many symbolic links one path resolution follows
	// (MAXSYMLINKS) before ELOOP.
	MaxSymlinks = 40
	// PipeBuf is PIPE_BUF: pipe writes up to this size are atomic.
	PipeBuf = 4096
	// PipeCapacity is a pipe's default capacity: 16 pages.
	PipeCapacity = pipeSlots * pageSize
	// maxFileSize is the largest file size and offset (MAX_LFS_FILESIZE).
	maxFileSize = 1<<63 - 1
)

// Poll events (EPOLL*, the same bits as POLL*).
type Events uint32

const (
	EPOLLIN     Events = 0x1
	EPOLLPRI    Events = 0x2
	EPOLLOUT    Events = 0x4
	EPOLLERR    Events = 0x8
	EPOLLHUP    Events = 0x10
	EPOLLRDNORM Events = 0x40
	EPOLLWRNORM Events = 0x100
	EPOLLRDHUP  Events = 0x2000
)
