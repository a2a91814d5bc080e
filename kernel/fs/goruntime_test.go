package fs

import (
	"testing"
)

// TestGoRuntimeSequences replays what a Go 1.26 test binary asks of the
// file system, call for call, as strace shows it on Linux (runtime start,
// t.TempDir and its clean-up by os.RemoveAll, os.CreateTemp, os.ReadDir,
// os.ReadFile of testdata, os.Getwd, os.Rename, the testing package's
// Example capture through a pipe, coverage files), with the answers Linux
// gives.
func TestGoRuntimeSequences(t *testing.T) {
	var exported []string
	fsys := newFS(t, Config{ExportDir: "/tmp/gocover", Export: func(p string, _ []byte) { exported = append(exported, p) }})
	must(t, fsys.Chdir("/work/pkg")) // the kernel starts the test in its directory
	const cloexec = O_CLOEXEC
	call := func(what string, e Errno, want Errno) {
		t.Helper()
		wantErr(t, what, e, want)
	}
	openat := func(dir Handle, p string, flags int, mode uint32) (Handle, Errno) {
		return fsys.Openat(dir, p, flags, mode)
	}

	// The runtime at start: these files do not exist here, which it takes
	// as "no transparent huge pages, no cgroup limit".
	for _, p := range []string{"/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "/proc/self/cgroup", "/proc/self/mountinfo"} {
		_, e := openat(AtCWD, p, O_RDONLY|cloexec, 0)
		call("open "+p, e, ENOENT)
	}

	// t.TempDir: os.MkdirTemp(os.TempDir()) then a numbered subdirectory.
	top := "/tmp/TestFiles3958509004"
	call("mkdir top", fsys.Mkdirat(AtCWD, top, 0o700), 0)
	dir := top + "/001"
	call("mkdir 001", fsys.Mkdirat(AtCWD, dir, 0o777), 0)

	// os.CreateTemp; os.newFile tries the poller and gives up on EPERM.
	f, e := openat(AtCWD, dir+"/x4077042433", O_RDWR|O_CREAT|O_EXCL|cloexec, 0o600)
	call("CreateTemp", e, 0)
	fl, _ := fsys.StatusFlags(f)
	if fl != O_RDWR|O_LARGEFILE {
		t.Errorf("F_GETFL %#x", fl)
	}
	call("F_SETFL nonblock", fsys.SetStatusFlags(f, fl|O_NONBLOCK), 0)
	if fsys.Pollable(f) {
		t.Error("a regular file must not be pollable: epoll_ctl answers EPERM")
	}
	call("F_SETFL back", fsys.SetStatusFlags(f, fl), 0)
	if n, e := fsys.Write(f, []byte("abc")); n != 3 || e != 0 {
		t.Errorf("write: %d %v", n, e)
	}
	call("close", fsys.Close(f), 0)
	call("MkdirTemp", fsys.Mkdirat(AtCWD, dir+"/y2034941270", 0o700), 0)

	// os.ReadFile("testdata/hello.txt"), relative to the test's directory.
	f, e = openat(AtCWD, "testdata/hello.txt", O_RDONLY|cloexec, 0)
	call("open testdata", e, 0)
	st, _ := fsys.Fstat(f)
	buf := make([]byte, st.Size+512)
	if n, _ := fsys.Read(f, buf); n != int(st.Size) {
		t.Errorf("read %d of %d", n, st.Size)
	}
	if n, _ := fsys.Read(f, buf); n != 0 {
		t.Errorf("no end of file: %d", n)
	}
	call("close", fsys.Close(f), 0)

	// os.ReadDir: getdents64 with 8 KiB, then an lstat of each entry.
	f, e = openat(AtCWD, dir, O_RDONLY|cloexec|O_DIRECTORY, 0)
	call("open dir", e, 0)
	dents := make([]byte, 8192)
	n, _ := fsys.Getdents64(f, dents)
	if recs := decodeDirents(dents[:n]); len(recs) != 4 {
		t.Errorf("ReadDir: %v", recs)
	} else {
		for _, r := range recs[2:] {
			_, e := fsys.Fstatat(AtCWD, dir+"/"+r.name, AT_SYMLINK_NOFOLLOW)
			call("lstat "+r.name, e, 0)
		}
	}
	if n, _ := fsys.Getdents64(f, dents); n != 0 {
		t.Errorf("second getdents64: %d", n)
	}
	call("close", fsys.Close(f), 0)

	// os.Getwd: $PWD is trusted when it names the same file as ".".
	dot, _ := fsys.Fstatat(AtCWD, ".", 0)
	pwd, _ := fsys.Fstatat(AtCWD, "/work/pkg", 0)
	if dot.Dev != pwd.Dev || dot.Ino != pwd.Ino {
		t.Error(`"." and $PWD are not the same file`)
	}

	// os.Rename checks the target with lstat first; os.WriteFile, os.Remove.
	_, e = fsys.Fstatat(AtCWD, dir+"/x4077042433.2", AT_SYMLINK_NOFOLLOW)
	call("lstat new name", e, ENOENT)
	call("rename", fsys.Renameat2(AtCWD, dir+"/x4077042433", AtCWD, dir+"/x4077042433.2", 0), 0)
	f, e = openat(AtCWD, dir+"/w", O_WRONLY|O_CREAT|O_TRUNC|cloexec, 0o644)
	call("WriteFile", e, 0)
	fsys.Write(f, []byte("x"))
	fsys.Close(f)
	call("Remove", fsys.Unlinkat(AtCWD, dir+"/w", 0), 0)
	call("Chtimes", fsys.Utimensat(AtCWD, dir+"/x4077042433.2", &[2]Timespec{}, 0), 0)
	call("Chmod", fsys.Fchmodat(AtCWD, dir+"/x4077042433.2", 0o600, 0), 0)
	call("Truncate", fsys.Truncate(dir+"/x4077042433.2", 1), 0)

	// The testing package's Example capture: os.Pipe, the poller, a
	// write, the writer closed, the reader drained.
	r, w, e := fsys.Pipe(O_CLOEXEC)
	call("pipe2", e, 0)
	for _, h := range []Handle{r, w} {
		fl, _ := fsys.StatusFlags(h)
		call("F_SETFL", fsys.SetStatusFlags(h, fl|O_NONBLOCK), 0)
		if !fsys.Pollable(h) {
			t.Error("pipe not pollable")
		}
	}
	if n, e := fsys.Write(w, []byte("hello\n")); n != 6 || e != 0 {
		t.Errorf("write: %d %v", n, e)
	}
	call("close writer", fsys.Close(w), 0)
	out := make([]byte, 32768)
	if n, e := fsys.Read(r, out); n != 6 || e != 0 || string(out[:6]) != "hello\n" {
		t.Errorf("read: %d %v %q", n, e, out[:n])
	}
	if n, e := fsys.Read(r, out); n != 0 || e != 0 {
		t.Errorf("end of file: %d %v", n, e)
	}
	call("close reader", fsys.Close(r), 0)

	// Coverage (GOCOVERDIR): a temporary file renamed into place.
	call("mkdir gocover", fsys.Mkdirat(AtCWD, "/tmp/gocover", 0o755), 0)
	f, e = openat(AtCWD, "/tmp/gocover/covcounters.tmp", O_RDWR|O_CREAT|O_TRUNC|cloexec, 0o666)
	call("create counters", e, 0)
	fsys.Write(f, []byte("counters"))
	fsys.Close(f)
	call("rename counters", fsys.Renameat2(AtCWD, "/tmp/gocover/covcounters.tmp", AtCWD, "/tmp/gocover/covcounters", 0), 0)
	if len(exported) != 2 || exported[1] != "/tmp/gocover/covcounters" {
		t.Errorf("exported %v", exported)
	}

	// t.TempDir's clean-up: os.RemoveAll as Go 1.26 does it.
	call("unlink top", fsys.Unlinkat(AtCWD, top, 0), EISDIR)
	call("rmdir top", fsys.Unlinkat(AtCWD, top, AT_REMOVEDIR), ENOTEMPTY)
	parent, e := openat(AtCWD, "/tmp", O_RDONLY|cloexec, 0)
	call("open parent", e, 0)
	var removeAllFrom func(parent Handle, base string)
	removeAllFrom = func(parent Handle, base string) {
		t.Helper()
		if e := fsys.Unlinkat(parent, base, 0); e == 0 {
			return
		} else if e != EISDIR {
			t.Fatalf("unlinkat %s: %v", base, e)
		}
		d, e := openat(parent, base, O_RDONLY|O_NOFOLLOW|cloexec|O_DIRECTORY, 0)
		call("open "+base, e, 0)
		for {
			n, e := fsys.Getdents64(d, dents)
			call("getdents64", e, 0)
			if n == 0 {
				break
			}
			for _, r := range decodeDirents(dents[:n]) {
				if r.name != "." && r.name != ".." {
					removeAllFrom(d, r.name)
				}
			}
		}
		call("close", fsys.Close(d), 0)
		call("rmdir "+base, fsys.Unlinkat(parent, base, AT_REMOVEDIR), 0)
	}
	removeAllFrom(parent, "TestFiles3958509004")
	call("close parent", fsys.Close(parent), 0)
	if _, e := fsys.Fstatat(AtCWD, top, 0); e != ENOENT {
		t.Errorf("the temporary directory is still there: %v", e)
	}
	if fsys.OpenHandles() != 0 {
		t.Errorf("%d handles open", fsys.OpenHandles())
	}
}
