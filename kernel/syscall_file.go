//go:build hurdvm

// Which file system calls the file server answers (filecall.go) and which
// the kernel answers itself: calls on paths, and calls on descriptors of
// the server's files, go to the server; calls on the kernel's own
// descriptors (the console, eventfds, epoll instances) and on descriptors
// as such (dup, close, FD_CLOEXEC) stay here. Handler context.

package kernel

// The file system calls by number (Linux x86-64).
const (
	sysStat       = 4
	sysFstat      = 5
	sysLstat      = 6
	sysLseek      = 8
	sysPwrite64   = 18
	sysAccess     = 21
	sysPipe       = 22
	sysDup        = 32
	sysDup2       = 33
	sysFsync      = 74
	sysFdatasync  = 75
	sysTruncate   = 76
	sysFtruncate  = 77
	sysGetcwd     = 79
	sysChdir      = 80
	sysFchdir     = 81
	sysRename     = 82
	sysMkdir      = 83
	sysRmdir      = 84
	sysLink       = 86
	sysUnlink     = 87
	sysSymlink    = 88
	sysReadlink   = 89
	sysChmod      = 90
	sysFchmod     = 91
	sysUmask      = 95
	sysGetuid     = 102
	sysGetgid     = 104
	sysGeteuid    = 107
	sysGetegid    = 108
	sysGetdents64 = 217
	sysMkdirat    = 258
	sysNewfstatat = 262
	sysUnlinkat   = 263
	sysRenameat   = 264
	sysLinkat     = 265
	sysSymlinkat  = 266
	sysFchmodat   = 268
	sysFaccessat  = 269
	sysUtimensat  = 280
	sysDup3       = 292
	sysPipe2      = 293
	sysRenameat2  = 316
	sysStatx      = 332
	sysFaccessat2 = 439
)

// fileSyscall serves the file system calls; ok is false for other calls.
func fileSyscall(tf *TrapFrame, nr uint64, a [6]uint64) (r uint64, ok bool) {
	switch nr {
	// Calls on paths: the server's, when it serves.
	case sysOpen, sysStat, sysLstat, sysAccess, sysTruncate, sysChdir, sysMkdir, sysRmdir,
		sysUnlink, sysReadlink, sysChmod, sysRename, sysLink, sysSymlink, sysGetcwd:
		return pathCall(nr, a, handleCWD, handleNone), true
	case sysPipe, sysPipe2:
		return pipeCall(nr, a[0], a[1]), true
	case sysUmask:
		old := fileUmask
		fileUmask = uint32(a[0]) & 0o777
		return uint64(old), true
	case sysOpenat, sysNewfstatat, sysStatx, sysMkdirat, sysUnlinkat, sysReadlinkat,
		sysFchmodat, sysFaccessat, sysFaccessat2, sysUtimensat:
		return pathCall(nr, a, serverHandle(int32(a[0])), handleNone), true
	case sysRenameat, sysRenameat2, sysLinkat:
		return pathCall(nr, a, serverHandle(int32(a[0])), serverHandle(int32(a[2]))), true
	case sysSymlinkat:
		return pathCall(nr, a, serverHandle(int32(a[1])), handleNone), true

	// Calls on descriptors: the server's files go to the server.
	case sysRead, sysWrite, sysPread64, sysPwrite64, sysLseek, sysFstat, sysGetdents64,
		sysFtruncate, sysFsync, sysFdatasync, sysFchdir, sysFchmod:
		f := fdFile(int32(a[0]))
		if f != nil && f.kind == fileServer {
			return fileCall(nr, a, f.handle, handleNone), true
		}
		return kernelFileCall(tf, nr, a), true
	case sysFcntl:
		if f := fdFile(int32(a[0])); f != nil && f.kind == fileServer && (a[1] == fGetfl || a[1] == fSetfl) {
			if a[1] == fSetfl {
				f.flags = f.flags&^oNonblock | uint32(a[2]&oNonblock)
			}
			return fileCall(nr, a, f.handle, handleNone), true
		}
		return sysFcntlFD(int32(a[0]), a[1], a[2]), true

	// Descriptors as such.
	case sysClose:
		return closeCall(a), true
	case sysDup:
		return dupFD(int32(a[0]), 0, false), true
	case sysDup2, sysDup3:
		return dup2FD(nr, int32(a[0]), int32(a[1]), a[2]), true

	// The one user there is.
	case sysGetuid, sysGetgid, sysGeteuid, sysGetegid:
		return 0, true
	}
	return 0, false
}

// closeCall is close(2). The last descriptor of a server file takes the
// server's handle with it, and close waits for the server to have closed
// it: a file the program leaves in the export directory is then on its
// way to the host when close returns (the runtime's coverage files are
// the last thing a test writes; exit_group, made without giving up the
// P, could not wait for the server goroutine). Every other close, and
// the closes the kernel makes itself, only post a notice.
func closeCall(a [6]uint64) uint64 {
	fd := int32(a[0])
	f := fdFile(fd)
	if f == nil || f.kind != fileServer || f.refs > 1 || !fileServerUp || !fileSlotFree() {
		return closeFD(fd)
	}
	h := f.handle
	epollForget(fd)
	fdDrop(curProg(), fd) // the descriptor is gone now, whatever the server says
	a[0] = uint64(h)
	return fileCall(fileOpRelease, a, h, handleNone)
}

// pathCall sends a call on paths to the file server. Before it serves
// (early in the program's start, or with no server at all), every path is
// checked as Linux would and then found missing.
func pathCall(nr uint64, a [6]uint64, h0, h1 int32) uint64 {
	if fileServerUp {
		return fileCall(nr, a, h0, h1)
	}
	switch nr {
	case sysOpen:
		return pathAt(atFDCWD, a[0])
	case sysOpenat:
		return pathAt(int32(a[0]), a[1])
	case sysReadlinkat:
		return readlinkAt(int32(a[0]), a[1], int32(a[3]))
	}
	return errno(eNOENT)
}

// kernelFileCall serves a descriptor call on a descriptor of the kernel's
// own.
func kernelFileCall(tf *TrapFrame, nr uint64, a [6]uint64) uint64 {
	fd := int32(a[0])
	switch nr {
	case sysRead:
		return sysReadFD(fd, a[1], a[2])
	case sysWrite:
		return sysWriteFD(tf, fd, a[1], a[2])
	case sysPread64, sysPwrite64:
		return sysPreadFD(fd, int64(a[3]))
	}
	f := fdFile(fd)
	if f == nil {
		return errno(eBADF)
	}
	switch nr {
	case sysFstat:
		return kernelFileStat(f, a[1])
	case sysLseek:
		return errno(eSPIPE)
	case sysFsync, sysFdatasync, sysFtruncate:
		return errno(eINVAL)
	case sysFchdir, sysGetdents64:
		return errno(eNOTDIR)
	}
	return errno(ePERM) // fchmod of an anonymous inode
}

// kernelFileStat is fstat of the kernel's own files: the console a
// character device (as a terminal's /dev/console), eventfds and epoll
// instances anonymous inodes (as Linux's anon_inode_fs).
func kernelFileStat(f *openFile, buf uint64) uint64 {
	var st [144]byte
	mode, rdev := uint32(0o600), uint64(0)
	if f.kind == fileConsole {
		mode, rdev = 0o20620, 5<<8|1 // S_IFCHR, major 5 minor 1: /dev/console
	}
	putLE64(st[16:], 1)    // st_nlink
	putLE32(st[24:], mode) // st_mode
	putLE64(st[40:], rdev) // st_rdev
	putLE64(st[56:], 4096) // st_blksize
	if !copyOut(buf, st[:]) {
		return errno(eFAULT)
	}
	return 0
}

// dup2FD is dup2 (the same descriptor is no change) and dup3 (flags
// O_CLOEXEC only; the same descriptor is EINVAL): newfd is closed first if
// open.
func dup2FD(nr uint64, oldfd, newfd int32, flags uint64) uint64 {
	if nr == sysDup3 && (oldfd == newfd || flags&^oCloexec != 0) {
		return errno(eINVAL)
	}
	f := fdFile(oldfd)
	if f == nil {
		return errno(eBADF)
	}
	if newfd < 0 || newfd >= fdLimit(curProg()) {
		return errno(eBADF) // past RLIMIT_NOFILE too, as Linux's
	}
	if oldfd == newfd {
		return uint64(newfd)
	}
	if fdFile(newfd) != nil {
		closeFD(newfd)
	}
	pg := curProg()
	pg.fds[newfd] = fdEntry{file: pg.fds[oldfd].file, cloexec: flags&oCloexec != 0}
	f.refs++
	return uint64(newfd)
}
