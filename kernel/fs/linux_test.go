//go:build linux

package fs

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// linuxSystem runs the operations on the host's Linux, under base: the
// mount point of a tree built like the FS's (see hostTree).
type linuxSystem struct{ base string }

func hostErr(err error) Errno {
	if err == nil {
		return 0
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return Errno(e)
	}
	panic(err)
}

func (s linuxSystem) openat(dir int, path string, flags int, mode uint32) (int, Errno) {
	fd, err := unix.Openat(dir, path, flags, mode)
	return fd, hostErr(err)
}
func (s linuxSystem) close(fd int) Errno { return hostErr(unix.Close(fd)) }
func (s linuxSystem) dup(fd int) (int, Errno) {
	nfd, err := unix.Dup(fd)
	return nfd, hostErr(err)
}
func (s linuxSystem) read(fd int, n int) ([]byte, Errno) {
	b := make([]byte, n)
	k, err := unix.Read(fd, b)
	if err != nil {
		return nil, hostErr(err)
	}
	return b[:k], 0
}
func (s linuxSystem) pread(fd int, n int, off int64) ([]byte, Errno) {
	b := make([]byte, n)
	k, err := unix.Pread(fd, b, off)
	if err != nil {
		return nil, hostErr(err)
	}
	return b[:k], 0
}
func (s linuxSystem) write(fd int, p []byte) (int, Errno) {
	n, err := unix.Write(fd, p)
	if err != nil {
		return 0, hostErr(err)
	}
	return n, 0
}
func (s linuxSystem) pwrite(fd int, p []byte, off int64) (int, Errno) {
	n, err := unix.Pwrite(fd, p, off)
	if err != nil {
		return 0, hostErr(err)
	}
	return n, 0
}
func (s linuxSystem) lseek(fd int, off int64, whence int) (int64, Errno) {
	r, err := unix.Seek(fd, off, whence)
	return r, hostErr(err)
}
func (s linuxSystem) ftruncate(fd int, size int64) Errno { return hostErr(unix.Ftruncate(fd, size)) }
func (s linuxSystem) truncate(path string, size int64) Errno {
	return hostErr(unix.Truncate(path, size))
}
func (s linuxSystem) fsync(fd int) Errno { return hostErr(unix.Fsync(fd)) }

func statFromHost(st *unix.Stat_t) Stat {
	return Stat{
		Dev: st.Dev, Ino: st.Ino, Nlink: st.Nlink, Mode: st.Mode, UID: st.Uid, GID: st.Gid,
		Rdev: st.Rdev, Size: st.Size, Blksize: st.Blksize, Blocks: st.Blocks,
		Atime: Timespec{st.Atim.Sec, st.Atim.Nsec},
		Mtime: Timespec{st.Mtim.Sec, st.Mtim.Nsec},
		Ctime: Timespec{st.Ctim.Sec, st.Ctim.Nsec},
	}
}

func (s linuxSystem) fstat(fd int) (Stat, Errno) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Stat{}, hostErr(err)
	}
	return statFromHost(&st), 0
}
func (s linuxSystem) fstatat(dir int, path string, flags int) (Stat, Errno) {
	var st unix.Stat_t
	if err := unix.Fstatat(dir, path, &st, flags); err != nil {
		return Stat{}, hostErr(err)
	}
	return statFromHost(&st), 0
}
func (s linuxSystem) statx(dir int, path string, flags int, mask uint32) (Stat, uint32, Errno) {
	var sx unix.Statx_t
	if err := unix.Statx(dir, path, flags, int(mask), &sx); err != nil {
		return Stat{}, 0, hostErr(err)
	}
	return Stat{
		Ino: sx.Ino, Nlink: uint64(sx.Nlink), Mode: uint32(sx.Mode), UID: sx.Uid, GID: sx.Gid,
		Size: int64(sx.Size), Blksize: int64(sx.Blksize), Blocks: int64(sx.Blocks),
		Rdev:      makedev(uint64(sx.Rdev_major), uint64(sx.Rdev_minor)),
		MountRoot: sx.Attributes&statxAttrMountRoot != 0,
	}, sx.Mask, 0
}
func (s linuxSystem) getdents(fd int, size int) ([]byte, Errno) {
	b := make([]byte, size)
	n, err := unix.Getdents(fd, b)
	if err != nil {
		return nil, hostErr(err)
	}
	return b[:n], 0
}
func (s linuxSystem) readlinkat(dir int, path string, size int) (string, Errno) {
	b := make([]byte, size)
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		panic(err)
	}
	var bp unsafe.Pointer
	if size > 0 {
		bp = unsafe.Pointer(&b[0])
	}
	n, _, en := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dir), uintptr(unsafe.Pointer(p)), uintptr(bp), uintptr(size), 0, 0)
	if en != 0 {
		return "", Errno(en)
	}
	return string(b[:n]), 0
}
func (s linuxSystem) symlinkat(target string, dir int, path string) Errno {
	return hostErr(unix.Symlinkat(target, dir, path))
}
func (s linuxSystem) mkdirat(dir int, path string, mode uint32) Errno {
	return hostErr(unix.Mkdirat(dir, path, mode))
}
func (s linuxSystem) unlinkat(dir int, path string, flags int) Errno {
	return hostErr(unix.Unlinkat(dir, path, flags))
}
func (s linuxSystem) renameat2(olddir int, oldpath string, newdir int, newpath string, flags int) Errno {
	return hostErr(unix.Renameat2(olddir, oldpath, newdir, newpath, uint(flags)))
}
func (s linuxSystem) linkat(olddir int, oldpath string, newdir int, newpath string, flags int) Errno {
	return hostErr(unix.Linkat(olddir, oldpath, newdir, newpath, flags))
}
func (s linuxSystem) chdir(path string) Errno { return hostErr(unix.Chdir(path)) }
func (s linuxSystem) fchdir(fd int) Errno     { return hostErr(unix.Fchdir(fd)) }
func (s linuxSystem) getcwd(size int) (string, Errno) {
	// The host's path is longer by the base: ask with that much more room.
	b := make([]byte, size+len(s.base))
	n, _, en := unix.Syscall(unix.SYS_GETCWD, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	if en != 0 {
		return "", Errno(en)
	}
	p := string(b[:n-1])
	if p == s.base {
		return "/", 0
	}
	return strings.TrimPrefix(p, s.base), 0
}
func (s linuxSystem) faccessat(dir int, path string, mode uint32, flags int) Errno {
	return hostErr(unix.Faccessat2(dir, path, mode, flags))
}
func (s linuxSystem) fchmodat(dir int, path string, mode uint32, flags int) Errno {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		panic(err)
	}
	const sysFchmodat2 = 452
	_, _, en := unix.Syscall6(sysFchmodat2, uintptr(dir), uintptr(unsafe.Pointer(p)), uintptr(mode), uintptr(flags), 0, 0)
	return Errno(en)
}
func (s linuxSystem) fchmod(fd int, mode uint32) Errno { return hostErr(unix.Fchmod(fd, mode)) }
func (s linuxSystem) utimensat(dir int, path string, times *[2]Timespec, flags int) Errno {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		panic(err)
	}
	var ts *[2]unix.Timespec
	if times != nil {
		ts = &[2]unix.Timespec{{Sec: times[0].Sec, Nsec: times[0].Nsec}, {Sec: times[1].Sec, Nsec: times[1].Nsec}}
	}
	_, _, en := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(dir), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(ts)), uintptr(flags), 0, 0)
	return Errno(en)
}
func (s linuxSystem) getfl(fd int) (int, Errno) {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return fl, hostErr(err)
}
func (s linuxSystem) setfl(fd int, flags int) Errno {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags)
	return hostErr(err)
}
func (s linuxSystem) pipe2(flags int) (int, int, Errno) {
	var p [2]int
	err := unix.Pipe2(p[:], flags)
	return p[0], p[1], hostErr(err)
}
func (s linuxSystem) umask(mask uint32) uint32 { return uint32(unix.Umask(int(mask))) }

// hostTree mounts, on the host, what New builds: entries on a read-only
// tmpfs with dev/null, dev/zero and an empty tmpfs of tmpfsLimit bytes
// and tmpfsInodes inodes on tmp. It needs root (mount); without it the
// test is skipped. It returns the mount point.
func hostTree(t *testing.T, entries []treeEntry) string {
	t.Helper()
	base := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", base, "tmpfs", 0, "mode=755"); err != nil {
		t.Skipf("the Linux comparison mounts tmpfs file systems, which needs root: %v", err)
	}
	t.Cleanup(func() {
		unix.Unmount(filepath.Join(base, "tmp"), unix.MNT_DETACH)
		unix.Unmount(base, unix.MNT_DETACH)
	})
	for _, e := range entries {
		p := filepath.Join(base, e.path)
		var err error
		switch e.kind {
		case 'd':
			if err = os.Mkdir(p, 0o700); err == nil {
				err = os.Chmod(p, os.FileMode(e.mode)&os.ModePerm)
			}
		case 'f':
			if err = os.WriteFile(p, []byte(e.data), 0o600); err == nil {
				err = os.Chmod(p, os.FileMode(e.mode)&os.ModePerm)
			}
		case 'l':
			err = os.Symlink(e.data, p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(base, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []struct {
		name  string
		minor uint32
	}{{"null", 3}, {"zero", 5}} { // New's order
		p := filepath.Join(base, "dev", dev.name)
		if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, dev.minor))); err != nil {
			t.Fatal(err)
		}
		unix.Chmod(p, 0o666)
	}
	if err := os.Mkdir(filepath.Join(base, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("none", base, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	opts := "mode=1777,size=" + strconv.Itoa(tmpfsLimit) + ",nr_inodes=" + strconv.Itoa(tmpfsInodes)
	if err := unix.Mount("tmpfs", filepath.Join(base, "tmp"), "tmpfs", 0, opts); err != nil {
		t.Fatal(err)
	}
	return base
}

// atHost makes base the current directory and 022 the umask, as the FS
// side has them, until undo. (Not t.Chdir: it holds a descriptor until
// the test ends, one per call.)
func atHost(t *testing.T, base string) (undo func()) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(base); err != nil {
		t.Fatal(err)
	}
	old := unix.Umask(0o022)
	return func() {
		unix.Umask(old)
		os.Chdir(wd)
	}
}

// portableSides are the runners of a random comparison: the host under
// base, and a new FS, both skipping directory seeks (see portable).
func portableSides(t testing.TB, base string) (host, mine *scriptRunner) {
	host = newScriptRunner(linuxSystem{base: base})
	mine = newScriptRunner(fsSystem{parityFS(t, nil)})
	host.portable, mine.portable = true, true
	return host, mine
}
