// Package fs is the file system of hurdvm's file server: a small
// POSIX-like service, in memory, with Linux's semantics and Linux's errno
// values, for one process. The kernel's file server (a goroutine, the
// Hurd way: outside the VM core) owns one FS and makes every call; the
// package is plain Go, tested on the host.
//
// # The namespace
//
//   - / is the read-only tree of a newc cpio archive (Config.Archive): the
//     test's directory with its testdata, at the same absolute path as on
//     the host. Files read their bytes where the archive holds them.
//     Writing there is EROFS, as on a read-only mount.
//   - /tmp is a tmpfs: files, directories, symlinks and hard links whose
//     data are pages on the Go heap, counted in 4 KiB pages against
//     Config.TmpfsLimit (ENOSPC past it, a write writing what fits, as
//     Linux's tmpfs) and given back when files are truncated or removed
//     and closed (TmpfsUsage reports what is used).
//   - /dev/null and /dev/zero. Nothing else: /proc, /sys and /etc are
//     absent, so /proc/self/exe (os.Executable: the kernel answers a
//     process's readlink of it itself, kernel/procexe.go), the runtime's cgroup
//     and huge-page files and /etc/localtime (time.Local is then UTC) are
//     ENOENT, which their readers take in stride.
//
// # Calls
//
// Each system call is a method; arguments and results are Go values (the
// server copies between them and the program's memory): path arguments
// are strings (the bytes before the NUL; a path of PathMax bytes or more
// is ENAMETOOLONG, so the server passes at most PathMax bytes), buffers
// are byte slices sized as the program asked. Directory arguments are
// Handles, AtCWD for AT_FDCWD.
//
//	read, pread64, write, pwrite64    Read, Pread, Write, Pwrite
//	lseek                             Lseek
//	open, openat                      Openat
//	close; dup*, F_DUPFD*, fork       Close; Dup
//	fcntl F_GETFL, F_SETFL            StatusFlags, SetStatusFlags
//	fstat; stat, lstat, newfstatat    Fstat; Fstatat, then Stat.Linux
//	statx                             Statx, then Stat.Statx
//	getdents64                        Getdents64
//	readlink, readlinkat              Readlinkat
//	symlink(at), mkdir(at), link(at)  Symlinkat, Mkdirat, Linkat
//	unlink, rmdir, unlinkat           Unlinkat
//	rename, renameat, renameat2       Renameat2
//	chdir, fchdir, getcwd             Chdir, Fchdir, Getcwd
//	access, faccessat, faccessat2     Faccessat
//	chmod, fchmodat(2), fchmod        Fchmodat, Fchmod
//	utimensat                         Utimensat (Futimens for a NULL path)
//	truncate, ftruncate               Truncate, Ftruncate
//	fsync, fdatasync                  Fsync
//	pipe, pipe2                       Pipe
//	umask                             Umask
//	epoll_ctl, readiness              Pollable, Poll, Config.Notify
//
// Descriptors stay the kernel's: a Handle is an open file description
// (Linux's struct file: the file, its offset and status flags). The
// kernel maps descriptors to handles, calls Dup for each further
// descriptor or process sharing one and Close when one goes; O_CLOEXEC,
// FD_CLOEXEC and EMFILE are its business. A descriptor that is not a
// handle (an eventfd, an epoll instance) used as a directory argument
// with a relative path is ENOTDIR, as in Linux.
//
// Operations that would wait return ErrWouldBlock (only pipes, see Pipe);
// nothing in the package blocks.
//
// # Readiness
//
// Pollable says which handles epoll can watch: pipes. For the others
// epoll_ctl must answer EPERM, which is how Go's os package learns to
// read files directly rather than through its poller. Poll gives a
// handle's events now; Config.Notify is called whenever a pipe's end may
// have become ready, with its events, so that the server can wake blocked
// readers and writers and epoll waiters.
//
// # Semantics
//
// Linux 6.1's, checked against the host's Linux (testdata/parity and
// TestLinuxParityRandom): the order in which errors are found (path walk,
// then the last component, then the file system being read-only, then
// permissions, then the file's type), symlinks (40 in a resolution),
// trailing slashes, ".." across the /tmp mount, getdents64 records,
// directory and file sizes, link counts and blocks as tmpfs reports them,
// tmpfs limits, pipe capacity and atomicity. Credentials are one uid and
// gid (Config.UID, Config.GID); uid 0 has root's capabilities over
// permission bits. Deliberate differences: O_CREAT|O_DIRECTORY is EINVAL
// (as since Linux 6.4); O_TMPFILE (EOPNOTSUPP), O_DIRECT (EINVAL, as on
// 6.1's tmpfs), RENAME_WHITEOUT and pipes' packet mode (EINVAL) are not
// provided; special files from the archive other than /dev/null,
// /dev/zero and /dev/full are ENXIO to open.
//
// # Concurrency
//
// An FS is not safe for concurrent use: one goroutine makes all the calls.
package fs
