//go:build hurdvm

// The file server: a goroutine of the kernel's program that owns the file
// system (kernel/fs) and answers the file system calls of every program,
// the kernel's and the processes' (one file system for all, as Linux's),
// which the kernel passes it (filecall.go). Ordinary Go code, not handler
// context: it may allocate, lock and block, and it reaches the kernel only
// through system calls of its own, as a Hurd translator would.
//
// The file system is the initramfs qemuexec packs (the test's directory,
// read-only, at its own path), a tmpfs at /tmp whose pages are the Go
// heap's (bounded: a write past it is ENOSPC, not an out-of-memory), and
// /dev/null and /dev/zero. Files the program leaves in /tmp/hurdvm-export
// go back to the host on COM2 (go test -cover's counters).

package kernel

import (
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"hurdvm/kernel/fs"
	"hurdvm/mm"
)

// exportDir is where the program's results for the host go (qemuexec
// points -test.gocoverdir and -test.coverprofile there).
const exportDir = "/tmp/hurdvm-export"

// fileIOChunk bounds the bytes one copy moves between the server and a
// caller (and the buffer the server keeps).
const fileIOChunk = 256 << 10

// init makes the file system before the program's own packages start
// (their first path call is answered, not ENOENT) and then starts the
// server; requests made before it first waits queue in fileRequests.
func init() {
	srv := newFileService()
	if srv == nil {
		return
	}
	fileRaw(sysFileUp, 0, 0)
	go srv.serveRequests()
}

// fileService is the server's state.
type fileService struct {
	fsys *fs.FS
	view fileRequestView
	buf  []byte // fileIOChunk bytes for data
	path [2][]byte
}

func newFileService() *fileService {
	srv := &fileService{buf: make([]byte, fileIOChunk)}
	srv.path[0], srv.path[1] = make([]byte, fs.PathMax), make([]byte, fs.PathMax)
	st := mm.ReadStats()
	fsys, err := fs.New(fs.Config{
		Archive:    initramfs(),
		TmpfsLimit: int64(st.FreeFrames) * mm.PageSize / 2, // Linux's tmpfs default: half of RAM
		Umask:      0o022,
		Notify:     func(h fs.Handle, ev fs.Events) { fileRaw(sysFileNotify, uintptr(h), uintptr(ev)) },
		ExportDir:  exportDir,
		Export:     exportFile,
	})
	if err != nil {
		print("hurdvm: file server: ", err.Error(), "; no file system\n")
		return nil
	}
	srv.fsys = fsys
	fsys.Mkdirat(fs.AtCWD, exportDir, 0o755)
	fsys.Mkdirat(fs.AtCWD, exportDir+"/gocoverdir", 0o755)
	if pwd := os.Getenv("PWD"); pwd != "" {
		fsys.Chdir(pwd)
	}
	return srv
}

// fileOpenHandles is how many handles the server had open after its last
// request or notice (the tests read it: a process's end releases its).
var fileOpenHandles atomic.Int64

// serveRequests is the server's loop: take a request, answer it.
func (srv *fileService) serveRequests() {
	runtime.LockOSThread() // its own thread: it blocks in the kernel between requests
	fsys := srv.fsys
	for {
		fileOpenHandles.Store(int64(fsys.OpenHandles()))
		// syscall.Syscall, not RawSyscall: the goroutine gives its P
		// back while it waits in the kernel.
		slot, _, e := syscall.Syscall(sysFileNext, uintptr(unsafe.Pointer(&srv.view)), 0, 0)
		if e != 0 {
			continue
		}
		switch {
		case srv.view.Nr == fileOpRelease && srv.view.Slot < 0: // a notice
			fsys.Close(fs.Handle(srv.view.Handles[0]))
			continue
		case srv.view.Nr == fileOpDup: // a fork's child shares the handle
			fsys.Dup(fs.Handle(srv.view.Handles[0]))
			continue
		case srv.view.Nr == fileOpPipe:
			if e := fsys.PipeAt(fs.Handle(srv.view.Handles[0]), fs.Handle(srv.view.Handles[1]), int(srv.view.Args[0])); e != 0 {
				print("hurdvm: file server: the kernel's pipe ", srv.view.Handles[0], ": ", e.Error(), "\n")
			}
			continue
		}
		fsys.Umask(srv.view.Umask)
		var a fileAnswer
		if e := fsys.UseCwd(fs.Handle(srv.view.Cwd)); e != 0 {
			a = errAnswer(fs.ENOENT) // its directory's handle is gone: its process ended
		} else {
			a = srv.serve(int32(slot))
		}
		fsys.UseCwd(0)
		if _, e := fileRaw(sysFileDone, slot, uintptr(unsafe.Pointer(&a))); e != 0 {
			// No descriptor for the new handles: they go, and the call
			// is EMFILE.
			for i := int32(0); i < a.NHandles; i++ {
				fsys.Close(fs.Handle(a.Handles[i]))
			}
			a = errAnswer(e)
			fileRaw(sysFileDone, slot, uintptr(unsafe.Pointer(&a)))
		}
	}
}

// fileRaw makes one of the server's short system calls. (Go's raw calls
// return -1, not -errno, for a failure: the errno is the third result.)
func fileRaw(nr, a0, a1 uintptr) (uintptr, fs.Errno) {
	r, _, e := syscall.RawSyscall(nr, a0, a1, 0)
	return r, fs.Errno(e)
}

// initramfs is the archive qemuexec gave the kernel (a multiboot module
// that is a newc cpio archive), or nil.
func initramfs() []byte {
	for i := 0; i < moduleLen; i++ {
		start, end := modules[i][0], modules[i][1]
		if end-start < 6 {
			continue
		}
		b := unsafe.Slice((*byte)(at(physmapBase+start)), end-start)
		if string(b[:6]) == "070701" {
			return b
		}
	}
	return nil
}

// exportFile sends a file to the host on COM2: a header line, then its
// bytes (qemuexec's side of it is in qemu/).
func exportFile(path string, data []byte) {
	header := []byte("hurdvm-file " + itoa(len(data)) + " " + path + "\n")
	fileRaw(sysFileExport, uintptr(unsafe.Pointer(&header[0])), uintptr(len(header)))
	for len(data) > 0 {
		n := min(len(data), 4096) // a bounded stretch with interrupts off each
		fileRaw(sysFileExport, uintptr(unsafe.Pointer(&data[0])), uintptr(n))
		data = data[n:]
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// --- the calls ---

// errAnswer is the answer of a call that failed with e.
func errAnswer(e fs.Errno) fileAnswer { return fileAnswer{Result: -int64(e)} }

// result is the answer for a count n and an error e (0: none).
func result(n int64, e fs.Errno) fileAnswer {
	if e != 0 {
		return errAnswer(e)
	}
	return fileAnswer{Result: n}
}

// copyIn reads n bytes of the caller's memory at addr into the server's
// buffer: how many it could.
func (srv *fileService) copyIn(slot int32, addr uint64, b []byte) int {
	if len(b) == 0 {
		return 0
	}
	r, _, _ := syscall.RawSyscall6(sysFileCopy, uintptr(slot), copyFromCaller, uintptr(addr), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	return int(r)
}

// copyOut writes b into the caller's memory at addr: how much it could.
func (srv *fileService) copyOut(slot int32, addr uint64, b []byte) int {
	if len(b) == 0 {
		return 0
	}
	r, _, _ := syscall.RawSyscall6(sysFileCopy, uintptr(slot), copyToCaller, uintptr(addr), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	return int(r)
}

// writable is how many of the n bytes at the caller's addr can be written
// (made present and writable now). A read asks before it takes data from
// a file: what cannot be copied out must stay in the file (its offset, a
// pipe's bytes), as Linux leaves it when a copy to the caller faults.
func (srv *fileService) writable(slot int32, addr uint64, n int) int {
	r, _, _ := syscall.RawSyscall6(sysFileCopy, uintptr(slot), copyProbeCaller, uintptr(addr), 0, uintptr(n), 0)
	return int(r)
}

// pathArg reads the caller's path at addr (EFAULT, ENAMETOOLONG).
func (srv *fileService) pathArg(slot int32, addr uint64, i int) (string, fs.Errno) {
	b := srv.path[i]
	r, _, e := syscall.RawSyscall6(sysFileString, uintptr(slot), uintptr(addr), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0)
	if e != 0 {
		return "", fs.Errno(e)
	}
	return string(b[:r]), 0
}

// dir is a directory argument: the kernel's translation of a descriptor.
func dir(h int32) (fs.Handle, fs.Errno) {
	switch h {
	case handleBad:
		return 0, fs.EBADF
	case handleNotServer:
		return -2, 0 // not a directory of the server's; fs says ENOTDIR for a relative path
	}
	return fs.Handle(h), 0
}

// serve answers the request in srv.view.
func (srv *fileService) serve(slot int32) fileAnswer {
	v, fsys := &srv.view, srv.fsys
	a := v.Args
	h0 := fs.Handle(v.Handles[0])
	switch v.Nr {
	case fileOpRelease: // close of the last descriptor
		return result(0, fsys.Close(h0))
	case sysOpen, sysOpenat:
		d, pathAddr, flags, mode := fs.AtCWD, a[0], a[1], a[2]
		if v.Nr == sysOpenat {
			pathAddr, flags, mode = a[1], a[2], a[3]
		}
		path, e := srv.pathArg(slot, pathAddr, 0)
		if e != 0 {
			return errAnswer(e)
		}
		if v.Nr == sysOpenat {
			var de fs.Errno
			if d, de = dir(v.Handles[0]); de != 0 && !isAbs(path) {
				return errAnswer(de)
			}
		}
		h, e := fsys.Openat(d, path, int(flags), uint32(mode))
		if e != 0 {
			return errAnswer(e)
		}
		return srv.newHandles(uint32(flags), h)
	case sysRead, sysPread64:
		return srv.read(slot, h0, a[1], a[2], int64(a[3]), v.Nr == sysPread64)
	case sysWrite, sysPwrite64:
		return srv.write(slot, h0, a[1], a[2], int64(a[3]), v.Nr == sysPwrite64)
	case sysLseek:
		off, e := fsys.Lseek(h0, int64(a[1]), int(a[2]))
		return result(off, e)
	case sysGetdents64:
		n := srv.writable(slot, a[1], int(min(a[2], fileIOChunk)))
		if n == 0 && a[2] > 0 {
			return errAnswer(fs.EFAULT)
		}
		got, e := fsys.Getdents64(h0, srv.buf[:n])
		if e != 0 {
			return errAnswer(e)
		}
		if srv.copyOut(slot, a[1], srv.buf[:got]) < got {
			return errAnswer(fs.EFAULT)
		}
		return result(int64(got), 0)
	case sysFstat:
		st, e := fsys.Fstat(h0)
		return srv.stat(slot, a[1], &st, e)
	case sysStat, sysLstat:
		path, e := srv.pathArg(slot, a[0], 0)
		if e != 0 {
			return errAnswer(e)
		}
		flags := 0
		if v.Nr == sysLstat {
			flags = fs.AT_SYMLINK_NOFOLLOW
		}
		st, e := fsys.Fstatat(fs.AtCWD, path, flags)
		return srv.stat(slot, a[1], &st, e)
	case sysNewfstatat:
		path, e := srv.pathArg(slot, a[1], 0)
		if e != 0 {
			return errAnswer(e)
		}
		d, e := srv.dirFor(v.Handles[0], path, int(a[3]))
		if e != 0 {
			return errAnswer(e)
		}
		st, e := fsys.Fstatat(d, path, int(a[3]))
		return srv.stat(slot, a[2], &st, e)
	case sysStatx:
		path, e := srv.pathArg(slot, a[1], 0)
		if e != 0 {
			return errAnswer(e)
		}
		d, e := srv.dirFor(v.Handles[0], path, int(a[2]))
		if e != 0 {
			return errAnswer(e)
		}
		st, got, e := fsys.Statx(d, path, int(a[2]), uint32(a[3]))
		if e != 0 {
			return errAnswer(e)
		}
		b := st.Statx(got)
		if srv.copyOut(slot, a[4], b[:]) < len(b) {
			return errAnswer(fs.EFAULT)
		}
		return result(0, 0)
	case sysFtruncate:
		return result(0, fsys.Ftruncate(h0, int64(a[1])))
	case sysFsync, sysFdatasync:
		return result(0, fsys.Fsync(h0))
	case sysFchdir:
		if v.Prog != 0 { // a process's own directory
			h, e := fsys.CwdHandleOf(h0)
			return fileAnswer{Result: -int64(e), NewCwd: int32(h)}
		}
		return result(0, fsys.Fchdir(h0))
	case sysFchmod:
		return result(0, fsys.Fchmod(h0, uint32(a[1])))
	case sysFcntl:
		if a[1] == fGetfl {
			fl, e := fsys.StatusFlags(h0)
			return result(int64(fl), e)
		}
		return result(0, fsys.SetStatusFlags(h0, int(a[2])))
	case sysGetcwd:
		n := min(a[1], uint64(len(srv.buf)))
		got, e := fsys.Getcwd(srv.buf[:n])
		if e != 0 {
			return errAnswer(e)
		}
		if srv.copyOut(slot, a[0], srv.buf[:got]) < got {
			return errAnswer(fs.EFAULT)
		}
		return result(int64(got), 0)
	}
	return srv.servePaths(slot)
}

// servePaths answers the calls that only name paths.
func (srv *fileService) servePaths(slot int32) fileAnswer {
	v, fsys := &srv.view, srv.fsys
	a := v.Args
	// one is the call's path (its argument index), two a second one.
	path := func(i int, arg uint64) (string, fs.Errno) { return srv.pathArg(slot, arg, i) }
	switch v.Nr {
	case sysChdir:
		p, e := path(0, a[0])
		if e != 0 {
			return errAnswer(e)
		}
		if v.Prog != 0 { // a process's own directory
			h, e := fsys.CwdHandle(fs.AtCWD, p)
			return fileAnswer{Result: -int64(e), NewCwd: int32(h)}
		}
		return result(0, fsys.Chdir(p))
	case sysAccess, sysFaccessat, sysFaccessat2, sysMkdir, sysMkdirat, sysRmdir, sysUnlink, sysUnlinkat,
		sysChmod, sysFchmodat, sysTruncate, sysReadlink, sysReadlinkat, sysUtimensat:
		pathArg, d := a[0], fs.Handle(fs.AtCWD)
		at := v.Nr == sysFaccessat || v.Nr == sysFaccessat2 || v.Nr == sysMkdirat || v.Nr == sysUnlinkat ||
			v.Nr == sysFchmodat || v.Nr == sysReadlinkat || v.Nr == sysUtimensat
		if at {
			pathArg = a[1]
		}
		if v.Nr == sysUtimensat && pathArg == 0 { // futimens: the descriptor itself
			times, e := srv.times(slot, a[2])
			if e != 0 {
				return errAnswer(e)
			}
			hd, de := dir(v.Handles[0])
			if de != 0 {
				return errAnswer(de)
			}
			return result(0, fsys.Futimens(hd, times))
		}
		if size := readlinkSize(v); size != nil && int32(*size) <= 0 {
			return errAnswer(fs.EINVAL) // Linux checks the size before the path
		}
		p, e := path(0, pathArg)
		if e != 0 {
			return errAnswer(e)
		}
		if at {
			if d, e = srv.dirFor(v.Handles[0], p, 0); e != 0 {
				return errAnswer(e)
			}
		}
		return srv.onePath(slot, d, p)
	case sysRename, sysRenameat, sysRenameat2, sysLink, sysLinkat:
		oldArg, newArg, flags := a[0], a[1], uint64(0)
		od, nd := fs.Handle(fs.AtCWD), fs.Handle(fs.AtCWD)
		if v.Nr != sysRename && v.Nr != sysLink {
			oldArg, newArg, flags = a[1], a[3], a[4]
		}
		op, e := path(0, oldArg)
		if e != 0 {
			return errAnswer(e)
		}
		np, e := path(1, newArg)
		if e != 0 {
			return errAnswer(e)
		}
		if v.Nr != sysRename && v.Nr != sysLink {
			if od, e = srv.dirFor(v.Handles[0], op, 0); e != 0 {
				return errAnswer(e)
			}
			if nd, e = srv.dirFor(v.Handles[1], np, 0); e != 0 {
				return errAnswer(e)
			}
		}
		if v.Nr == sysLink || v.Nr == sysLinkat {
			return result(0, fsys.Linkat(od, op, nd, np, int(flags)))
		}
		return result(0, fsys.Renameat2(od, op, nd, np, int(flags)))
	case sysSymlink, sysSymlinkat:
		target, e := path(0, a[0])
		if e != 0 {
			return errAnswer(e)
		}
		linkArg, d := a[1], fs.Handle(fs.AtCWD)
		if v.Nr == sysSymlinkat {
			linkArg = a[2]
		}
		p, e := path(1, linkArg)
		if e != 0 {
			return errAnswer(e)
		}
		if v.Nr == sysSymlinkat {
			if d, e = srv.dirFor(v.Handles[0], p, 0); e != 0 {
				return errAnswer(e)
			}
		}
		return result(0, fsys.Symlinkat(target, d, p))
	}
	return errAnswer(fs.ENOSYS)
}

// onePath answers the calls on one path p relative to d.
func (srv *fileService) onePath(slot int32, d fs.Handle, p string) fileAnswer {
	v, fsys := &srv.view, srv.fsys
	a := v.Args
	switch v.Nr {
	case sysAccess:
		return result(0, fsys.Faccessat(d, p, uint32(a[1]), 0))
	case sysFaccessat:
		return result(0, fsys.Faccessat(d, p, uint32(a[2]), 0))
	case sysFaccessat2:
		return result(0, fsys.Faccessat(d, p, uint32(a[2]), int(a[3])))
	case sysMkdir:
		return result(0, fsys.Mkdirat(d, p, uint32(a[1])))
	case sysMkdirat:
		return result(0, fsys.Mkdirat(d, p, uint32(a[2])))
	case sysRmdir:
		return result(0, fsys.Unlinkat(d, p, fs.AT_REMOVEDIR))
	case sysUnlink:
		return result(0, fsys.Unlinkat(d, p, 0))
	case sysUnlinkat:
		return result(0, fsys.Unlinkat(d, p, int(a[2])))
	case sysChmod:
		return result(0, fsys.Fchmodat(d, p, uint32(a[1]), 0))
	case sysFchmodat:
		return result(0, fsys.Fchmodat(d, p, uint32(a[2]), int(a[3])))
	case sysTruncate:
		return result(0, fsys.Truncate(p, int64(a[1])))
	case sysReadlink, sysReadlinkat:
		bufArg, size := a[1], *readlinkSize(v)
		if v.Nr == sysReadlinkat {
			bufArg = a[2]
		}
		n, e := fsys.Readlinkat(d, p, srv.buf[:min(uint64(uint32(size)), fileIOChunk)])
		if e != 0 {
			return errAnswer(e)
		}
		if srv.copyOut(slot, bufArg, srv.buf[:n]) < n {
			return errAnswer(fs.EFAULT)
		}
		return result(int64(n), 0)
	case sysUtimensat:
		times, e := srv.times(slot, a[2])
		if e != 0 {
			return errAnswer(e)
		}
		return result(0, fsys.Utimensat(d, p, times, int(a[3])))
	}
	return errAnswer(fs.ENOSYS)
}

// readlinkSize is the buffer size argument of readlink and readlinkat
// (nil for other calls).
func readlinkSize(v *fileRequestView) *uint64 {
	switch v.Nr {
	case sysReadlink:
		return &v.Args[2]
	case sysReadlinkat:
		return &v.Args[3]
	}
	return nil
}

// times reads utimensat's two timespecs (nil pointer: now).
func (srv *fileService) times(slot int32, addr uint64) (*[2]fs.Timespec, fs.Errno) {
	if addr == 0 {
		return nil, 0
	}
	var raw [32]byte
	if srv.copyIn(slot, addr, raw[:]) < len(raw) {
		return nil, fs.EFAULT
	}
	var t [2]fs.Timespec
	for i := range t {
		t[i].Sec = int64(le64(raw[16*i:]))
		t[i].Nsec = int64(le64(raw[16*i+8:]))
	}
	return &t, 0
}

// dirFor is the directory handle of a call's descriptor argument for path
// p: a bad descriptor matters only for a relative path (or an empty one
// with AT_EMPTY_PATH).
func (srv *fileService) dirFor(h int32, p string, flags int) (fs.Handle, fs.Errno) {
	d, e := dir(h)
	if e != 0 && (!isAbs(p) || p == "" && flags&fs.AT_EMPTY_PATH != 0) {
		return 0, e
	}
	return d, 0
}

func isAbs(p string) bool { return len(p) > 0 && p[0] == '/' }

// stat copies a struct stat to the caller.
func (srv *fileService) stat(slot int32, addr uint64, st *fs.Stat, e fs.Errno) fileAnswer {
	if e != 0 {
		return errAnswer(e)
	}
	b := st.Linux()
	if srv.copyOut(slot, addr, b[:]) < len(b) {
		return errAnswer(fs.EFAULT)
	}
	return result(0, 0)
}

// newHandles answers a call that made handles: the kernel gives each a
// descriptor, with the call's O_CLOEXEC and O_NONBLOCK.
func (srv *fileService) newHandles(flags uint32, hs ...fs.Handle) fileAnswer {
	a := fileAnswer{NHandles: int32(len(hs)), Flags: flags & (oCloexec | oNonblock)}
	for i, h := range hs {
		a.Handles[i] = int32(h)
		ev, _ := srv.fsys.Poll(h)
		a.Ready[i] = uint32(ev)
	}
	return a
}

// read serves read and pread64: through the server's buffer, a chunk at a
// time, until the count, the end of the file, or a short read.
func (srv *fileService) read(slot int32, h fs.Handle, addr, count uint64, off int64, positioned bool) fileAnswer {
	done := uint64(0)
	for done < count {
		b := srv.buf[:min(count-done, fileIOChunk)]
		if len(b) > 0 {
			b = b[:srv.writable(slot, addr+done, len(b))]
			if len(b) == 0 {
				if done == 0 {
					return errAnswer(fs.EFAULT)
				}
				break
			}
		}
		var n int
		var e fs.Errno
		if positioned {
			n, e = srv.fsys.Pread(h, b, off+int64(done))
		} else {
			n, e = srv.fsys.Read(h, b)
		}
		if e == fs.ErrWouldBlock && done == 0 {
			return fileAnswer{Block: 1, WaitHandle: int32(h), WaitEvents: epollIn | epollHup | epollErr}
		}
		if e != 0 && e != fs.ErrWouldBlock {
			if done > 0 {
				break
			}
			return errAnswer(e)
		}
		c := srv.copyOut(slot, addr+done, b[:n])
		done += uint64(c)
		if c < n {
			if done == 0 {
				return errAnswer(fs.EFAULT)
			}
			break
		}
		if n < len(b) || e == fs.ErrWouldBlock {
			break
		}
	}
	return result(int64(done), 0)
}

// write serves write and pwrite64, a chunk at a time. A pipe that is
// full: the bytes written so far are the progress, and the caller waits.
func (srv *fileService) write(slot int32, h fs.Handle, addr, count uint64, off int64, positioned bool) fileAnswer {
	done := uint64(0)
	for done < count {
		b := srv.buf[:min(count-done, fileIOChunk)]
		c := srv.copyIn(slot, addr+done, b)
		if c == 0 {
			if done == 0 {
				return errAnswer(fs.EFAULT)
			}
			break
		}
		b = b[:c]
		var n int
		var e fs.Errno
		if positioned {
			n, e = srv.fsys.Pwrite(h, b, off+int64(done))
		} else {
			n, e = srv.fsys.Write(h, b)
		}
		done += uint64(n)
		switch {
		case e == fs.ErrWouldBlock:
			return fileAnswer{Block: 1, WaitHandle: int32(h), WaitEvents: epollOut | epollErr, Progress: done}
		case e == fs.EPIPE:
			a := fileAnswer{Result: -int64(fs.EPIPE), Signal: sigPIPE}
			if done > 0 {
				a.Result = int64(done)
			}
			return a
		case e != 0:
			if done > 0 {
				return result(int64(done), 0)
			}
			return errAnswer(e)
		}
		if n < len(b) {
			break
		}
	}
	return result(int64(done), 0)
}
