package fs

import (
	"io/fs"
	"strconv"
)

// Errno is a Linux error number (x86-64 values). Every operation of the
// package reports its failure as one, so that the file server hands it to
// the program unchanged (negated in RAX). The zero Errno means success.
type Errno uint32

// The Linux error numbers the package returns.
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	EINTR        Errno = 4
	EIO          Errno = 5
	ENXIO        Errno = 6
	EBADF        Errno = 9
	EAGAIN       Errno = 11
	ENOMEM       Errno = 12
	EACCES       Errno = 13
	EFAULT       Errno = 14
	EBUSY        Errno = 16
	EEXIST       Errno = 17
	EXDEV        Errno = 18
	ENODEV       Errno = 19
	ENOTDIR      Errno = 20
	EISDIR       Errno = 21
	EINVAL       Errno = 22
	ENFILE       Errno = 23
	EMFILE       Errno = 24
	ENOTTY       Errno = 25
	EFBIG        Errno = 27
	ENOSPC       Errno = 28
	ESPIPE       Errno = 29
	EROFS        Errno = 30
	EMLINK       Errno = 31
	EPIPE        Errno = 32
	ERANGE       Errno = 34
	ENAMETOOLONG Errno = 36
	ENOSYS       Errno = 38
	ENOTEMPTY    Errno = 39
	ELOOP        Errno = 40
	EOVERFLOW    Errno = 75
	EOPNOTSUPP   Errno = 95
)

// ErrWouldBlock is not a Linux error: a read or write on a pipe opened
// without O_NONBLOCK found the pipe empty (or full). The server makes the
// caller wait until Poll reports the handle ready (Config.Notify says when
// that may have happened) and then repeats the call; it never reaches the
// program. With O_NONBLOCK the same situation is EAGAIN.
const ErrWouldBlock Errno = 1 << 16

var errnoText = map[Errno]string{
	EPERM:         "operation not permitted",
	ENOENT:        "no such file or directory",
	EINTR:         "interrupted system call",
	EIO:           "input/output error",
	ENXIO:         "no such device or address",
	EBADF:         "bad file descriptor",
	EAGAIN:        "resource temporarily unavailable",
	ENOMEM:        "cannot allocate memory",
	EACCES:        "permission denied",
	EFAULT:        "bad address",
	EBUSY:         "device or resource busy",
	EEXIST:        "file exists",
	EXDEV:         "invalid cross-device link",
	ENODEV:        "no such device",
	ENOTDIR:       "not a directory",
	EISDIR:        "is a directory",
	EINVAL:        "invalid argument",
	ENFILE:        "too many open files in system",
	EMFILE:        "too many open files",
	ENOTTY:        "inappropriate ioctl for device",
	EFBIG:         "file too large",
	ENOSPC:        "no space left on device",
	ESPIPE:        "illegal seek",
	EROFS:         "read-only file system",
	EMLINK:        "too many links",
	EPIPE:         "broken pipe",
	ERANGE:        "numerical result out of range",
	ENAMETOOLONG:  "file name too long",
	ENOSYS:        "function not implemented",
	ENOTEMPTY:     "directory not empty",
	ELOOP:         "too many levels of symbolic links",
	EOVERFLOW:     "value too large for defined data type",
	EOPNOTSUPP:    "operation not supported",
	ErrWouldBlock: "operation would block: wait for readiness and retry",
}

// Is lets errors.Is match an Errno to the io/fs errors, as syscall.Errno
// does: ENOENT is fs.ErrNotExist, EEXIST and ENOTEMPTY fs.ErrExist,
// EACCES and EPERM fs.ErrPermission.
func (e Errno) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		return e == ENOENT
	case fs.ErrExist:
		return e == EEXIST || e == ENOTEMPTY
	case fs.ErrPermission:
		return e == EACCES || e == EPERM
	}
	return false
}

// Error returns the text Go's syscall package gives the same number.
func (e Errno) Error() string {
	if s, ok := errnoText[e]; ok {
		return s
	}
	return "errno " + strconv.FormatUint(uint64(e), 10)
}
