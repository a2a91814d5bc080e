package fs

import "sort"

// system is what the differential tests drive: this package, or the
// host's Linux through its system calls. Descriptors are the backend's
// own numbers (handles here); the caller maps script slots onto them.
// cwdFD stands for AT_FDCWD in dir arguments.
type system interface {
	openat(dir int, path string, flags int, mode uint32) (int, Errno)
	close(fd int) Errno
	dup(fd int) (int, Errno)
	read(fd int, n int) ([]byte, Errno)
	pread(fd int, n int, off int64) ([]byte, Errno)
	write(fd int, p []byte) (int, Errno)
	pwrite(fd int, p []byte, off int64) (int, Errno)
	lseek(fd int, off int64, whence int) (int64, Errno)
	ftruncate(fd int, size int64) Errno
	truncate(path string, size int64) Errno
	fsync(fd int) Errno
	fstat(fd int) (Stat, Errno)
	fstatat(dir int, path string, flags int) (Stat, Errno)
	statx(dir int, path string, flags int, mask uint32) (Stat, uint32, Errno)
	getdents(fd int, size int) ([]byte, Errno)
	readlinkat(dir int, path string, size int) (string, Errno)
	symlinkat(target string, dir int, path string) Errno
	mkdirat(dir int, path string, mode uint32) Errno
	unlinkat(dir int, path string, flags int) Errno
	renameat2(olddir int, oldpath string, newdir int, newpath string, flags int) Errno
	linkat(olddir int, oldpath string, newdir int, newpath string, flags int) Errno
	chdir(path string) Errno
	fchdir(fd int) Errno
	getcwd(size int) (string, Errno) // the path without the backend's prefix
	faccessat(dir int, path string, mode uint32, flags int) Errno
	fchmodat(dir int, path string, mode uint32, flags int) Errno
	fchmod(fd int, mode uint32) Errno
	utimensat(dir int, path string, times *[2]Timespec, flags int) Errno
	getfl(fd int) (int, Errno)
	setfl(fd int, flags int) Errno
	pipe2(flags int) (r, w int, e Errno)
	umask(mask uint32) uint32
}

const cwdFD = -100

// fsSystem runs the operations on an FS.
type fsSystem struct{ fsys *FS }

func (s fsSystem) openat(dir int, path string, flags int, mode uint32) (int, Errno) {
	h, e := s.fsys.Openat(Handle(dir), path, flags, mode)
	return int(h), e
}
func (s fsSystem) close(fd int) Errno { return s.fsys.Close(Handle(fd)) }

// dup: the kernel's dup makes a descriptor sharing the handle; the
// backend gives the same number back.
func (s fsSystem) dup(fd int) (int, Errno) { return fd, s.fsys.Dup(Handle(fd)) }

func (s fsSystem) read(fd int, n int) ([]byte, Errno) {
	b := make([]byte, n)
	k, e := s.fsys.Read(Handle(fd), b)
	return b[:k], e
}
func (s fsSystem) pread(fd int, n int, off int64) ([]byte, Errno) {
	b := make([]byte, n)
	k, e := s.fsys.Pread(Handle(fd), b, off)
	return b[:k], e
}
func (s fsSystem) write(fd int, p []byte) (int, Errno) {
	n, e := s.fsys.Write(Handle(fd), p)
	return syscallResult(n, e)
}
func (s fsSystem) pwrite(fd int, p []byte, off int64) (int, Errno) {
	n, e := s.fsys.Pwrite(Handle(fd), p, off)
	return syscallResult(n, e)
}

// syscallResult is what a non-blocking write(2) returns for an answer:
// a partial count wins over the error.
func syscallResult(n int, e Errno) (int, Errno) {
	if e == ErrWouldBlock {
		e = EAGAIN
	}
	if n > 0 {
		return n, 0
	}
	return 0, e
}

func (s fsSystem) lseek(fd int, off int64, whence int) (int64, Errno) {
	return s.fsys.Lseek(Handle(fd), off, whence)
}
func (s fsSystem) ftruncate(fd int, size int64) Errno { return s.fsys.Ftruncate(Handle(fd), size) }
func (s fsSystem) truncate(path string, size int64) Errno {
	return s.fsys.Truncate(path, size)
}
func (s fsSystem) fsync(fd int) Errno         { return s.fsys.Fsync(Handle(fd)) }
func (s fsSystem) fstat(fd int) (Stat, Errno) { return s.fsys.Fstat(Handle(fd)) }
func (s fsSystem) fstatat(dir int, path string, flags int) (Stat, Errno) {
	return s.fsys.Fstatat(Handle(dir), path, flags)
}
func (s fsSystem) statx(dir int, path string, flags int, mask uint32) (Stat, uint32, Errno) {
	return s.fsys.Statx(Handle(dir), path, flags, mask)
}
func (s fsSystem) getdents(fd int, size int) ([]byte, Errno) {
	b := make([]byte, size)
	n, e := s.fsys.Getdents64(Handle(fd), b)
	return b[:n], e
}
func (s fsSystem) readlinkat(dir int, path string, size int) (string, Errno) {
	b := make([]byte, size)
	n, e := s.fsys.Readlinkat(Handle(dir), path, b)
	return string(b[:n]), e
}
func (s fsSystem) symlinkat(target string, dir int, path string) Errno {
	return s.fsys.Symlinkat(target, Handle(dir), path)
}
func (s fsSystem) mkdirat(dir int, path string, mode uint32) Errno {
	return s.fsys.Mkdirat(Handle(dir), path, mode)
}
func (s fsSystem) unlinkat(dir int, path string, flags int) Errno {
	return s.fsys.Unlinkat(Handle(dir), path, flags)
}
func (s fsSystem) renameat2(olddir int, oldpath string, newdir int, newpath string, flags int) Errno {
	return s.fsys.Renameat2(Handle(olddir), oldpath, Handle(newdir), newpath, flags)
}
func (s fsSystem) linkat(olddir int, oldpath string, newdir int, newpath string, flags int) Errno {
	return s.fsys.Linkat(Handle(olddir), oldpath, Handle(newdir), newpath, flags)
}
func (s fsSystem) chdir(path string) Errno { return s.fsys.Chdir(path) }
func (s fsSystem) fchdir(fd int) Errno     { return s.fsys.Fchdir(Handle(fd)) }
func (s fsSystem) getcwd(size int) (string, Errno) {
	b := make([]byte, size)
	n, e := s.fsys.Getcwd(b)
	if e != 0 {
		return "", e
	}
	return string(b[:n-1]), 0
}
func (s fsSystem) faccessat(dir int, path string, mode uint32, flags int) Errno {
	return s.fsys.Faccessat(Handle(dir), path, mode, flags)
}
func (s fsSystem) fchmodat(dir int, path string, mode uint32, flags int) Errno {
	return s.fsys.Fchmodat(Handle(dir), path, mode, flags)
}
func (s fsSystem) fchmod(fd int, mode uint32) Errno { return s.fsys.Fchmod(Handle(fd), mode) }
func (s fsSystem) utimensat(dir int, path string, times *[2]Timespec, flags int) Errno {
	return s.fsys.Utimensat(Handle(dir), path, times, flags)
}
func (s fsSystem) getfl(fd int) (int, Errno)     { return s.fsys.StatusFlags(Handle(fd)) }
func (s fsSystem) setfl(fd int, flags int) Errno { return s.fsys.SetStatusFlags(Handle(fd), flags) }
func (s fsSystem) pipe2(flags int) (int, int, Errno) {
	r, w, e := s.fsys.Pipe(flags)
	return int(r), int(w), e
}
func (s fsSystem) umask(mask uint32) uint32 { return s.fsys.Umask(mask) }

// direntNames decodes getdents64 records: each entry's name, type and
// d_off, for comparisons.
type direntRecord struct {
	name string
	typ  uint8
	off  int64
	ino  uint64
}

func decodeDirents(b []byte) []direntRecord {
	var out []direntRecord
	for len(b) >= direntHeader {
		reclen := int(b[16]) | int(b[17])<<8
		if reclen < direntHeader || reclen > len(b) {
			break
		}
		name := b[direntHeader:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		out = append(out, direntRecord{
			name: string(name), typ: b[18],
			off: int64(le64(b[8:])), ino: le64(b[0:]),
		})
		b = b[reclen:]
	}
	return out
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func sortedNames(recs []direntRecord) []string {
	var names []string
	for _, r := range recs {
		names = append(names, r.name)
	}
	sort.Strings(names)
	return names
}
