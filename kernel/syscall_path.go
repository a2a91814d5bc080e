//go:build hurdvm

// The file-system system calls before the file server serves (early in
// the program's start, or in a program without it), as far as the paths
// they take: read from the program (Linux's getname: EFAULT,
// ENAMETOOLONG) and resolved against a directory descriptor (EBADF,
// ENOTDIR); every path is then ENOENT. Handler context.

package kernel

const (
	pathMax = 4096 // PATH_MAX, with its NUL
	atFDCWD = -100 // AT_FDCWD
)

// readPath reads the NUL-terminated path at p into buf and returns its
// length, or the errno: EFAULT for memory it cannot read before the NUL,
// ENAMETOOLONG when there is no NUL within PATH_MAX, ENOENT for "".
func readPath(p uint64, buf *[pathMax]byte) (int, uint64) {
	for n := 0; n < pathMax; {
		got := userCopyPartial(buf[n:min(n+256, pathMax)], p+uint64(n))
		if got == 0 {
			return 0, errno(eFAULT)
		}
		for i := n; i < n+int(got); i++ {
			if buf[i] == 0 {
				if i == 0 {
					return 0, errno(eNOENT)
				}
				return i, 0
			}
		}
		n += int(got)
	}
	return 0, errno(eNAMETOOLONG)
}

// pathAt checks openat-style arguments (dirfd, path) as Linux's
// path_init does: the path first, then, for a relative one, the directory
// descriptor.
func pathAt(dirfd int32, p uint64) uint64 {
	var buf [pathMax]byte
	n, e := readPath(p, &buf)
	if e != 0 {
		return e
	}
	if buf[0] != '/' && dirfd != atFDCWD {
		if fdFile(dirfd) == nil {
			return errno(eBADF)
		}
		return errno(eNOTDIR) // no descriptor here names a directory
	}
	_ = n
	return errno(eNOENT)
}

// readlinkAt is readlinkat(dirfd, path, buf, bufsiz): a size of zero or
// less is EINVAL before the path is looked at, as in Linux.
func readlinkAt(dirfd int32, p uint64, size int32) uint64 {
	if size <= 0 {
		return errno(eINVAL)
	}
	return pathAt(dirfd, p)
}
