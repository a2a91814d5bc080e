package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"
)

// cwd: a working directory of the process's own. chdir into a fresh
// directory of /tmp; every path call's relative path starts there
// (openat(AT_FDCWD), newfstatat, mkdirat, renameat2, symlinkat,
// readlinkat, faccessat, unlinkat); chdir(".."), fchdir; chdir's and
// fchdir's and getcwd's errors as Linux's; a forked child starts where
// its parent is and moves alone; os/exec's Dir (the child's chdir before
// its execve) and a relative program path, found from the process's
// directory: the program run so prints where it is.
func cwd(string) error {
	start, err := getcwd()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("/tmp", "procapi-cwd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := syscall.Chdir(dir); err != nil {
		return fmt.Errorf("chdir %s: %v", dir, err)
	}
	if wd, err := getcwd(); err != nil || wd != dir {
		return fmt.Errorf("getcwd after chdir %s: %q, %v", dir, wd, err)
	}
	// Relative paths in the path calls.
	if err := os.WriteFile("f", []byte("in the new directory\n"), 0o644); err != nil {
		return err
	}
	if b, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(b) != "in the new directory\n" {
		return fmt.Errorf("the file written as \"f\" read as %s/f: %q, %v", dir, b, err)
	}
	var st syscall.Stat_t
	if err := fstatat(_AT_FDCWD, "f", &st); err != nil || st.Size != 21 {
		return fmt.Errorf("newfstatat f: size %d, %v", st.Size, err)
	}
	if err := syscall.Mkdirat(_AT_FDCWD, "d", 0o755); err != nil {
		return fmt.Errorf("mkdirat d: %v", err)
	}
	if err := renameat2(_AT_FDCWD, "f", _AT_FDCWD, "d/g"); err != nil {
		return fmt.Errorf("renameat2 f d/g: %v", err)
	}
	if err := os.Symlink("d/g", "l"); err != nil {
		return err
	}
	if t, err := os.Readlink("l"); err != nil || t != "d/g" {
		return fmt.Errorf("readlinkat l: %q, %v", t, err)
	}
	if err := syscall.Faccessat(_AT_FDCWD, "l", 4, 0); err != nil {
		return fmt.Errorf("faccessat l: %v", err)
	}
	if err := syscall.Unlinkat(_AT_FDCWD, "l"); err != nil {
		return fmt.Errorf("unlinkat l: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "d", "g")); err != nil {
		return fmt.Errorf("the renamed file: %v", err)
	}
	// chdir(".."), then fchdir back.
	if err := syscall.Chdir(".."); err != nil {
		return fmt.Errorf("chdir ..: %v", err)
	}
	if wd, _ := getcwd(); wd != "/tmp" {
		return fmt.Errorf("getcwd after chdir ..: %q", wd)
	}
	fd, err := syscall.Open(dir+"/d", syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	if err := syscall.Fchdir(fd); err != nil {
		return fmt.Errorf("fchdir: %v", err)
	}
	syscall.Close(fd) // the directory stays the process's
	if wd, _ := getcwd(); wd != dir+"/d" {
		return fmt.Errorf("getcwd after fchdir: %q", wd)
	}
	if _, err := os.Stat("g"); err != nil {
		return fmt.Errorf("stat g after fchdir: %v", err)
	}
	// The errors.
	if err := errnoIs("chdir missing", syscall.Chdir("missing"), syscall.ENOENT); err != nil {
		return err
	}
	if err := errnoIs("chdir of a file", syscall.Chdir("g"), syscall.ENOTDIR); err != nil {
		return err
	}
	if err := errnoIs("chdir \"\"", syscall.Chdir(""), syscall.ENOENT); err != nil {
		return err
	}
	_, _, e := syscall.RawSyscall(syscall.SYS_CHDIR, badAddr, 0, 0)
	if err := errnoIs("chdir of a kernel address", rawErr(e), syscall.EFAULT); err != nil {
		return err
	}
	if err := errnoIs("chdir of a 5000-byte path", syscall.Chdir(strings.Repeat("a/", 2500)), syscall.ENAMETOOLONG); err != nil {
		return err
	}
	gfd, err := syscall.Open("g", syscall.O_RDONLY, 0)
	if err != nil {
		return err
	}
	if err := errnoIs("fchdir of a file", syscall.Fchdir(gfd), syscall.ENOTDIR); err != nil {
		return err
	}
	syscall.Close(gfd)
	if err := errnoIs("fchdir of a closed descriptor", syscall.Fchdir(gfd), syscall.EBADF); err != nil {
		return err
	}
	var small [4]byte
	_, _, e = syscall.RawSyscall(syscall.SYS_GETCWD, uintptr(unsafe.Pointer(&small[0])), uintptr(len(small)), 0)
	if err := errnoIs("getcwd into 4 bytes", rawErr(e), syscall.ERANGE); err != nil {
		return err
	}
	_, _, e = syscall.RawSyscall(syscall.SYS_GETCWD, badAddr, 4096, 0)
	if err := errnoIs("getcwd into a kernel address", rawErr(e), syscall.EFAULT); err != nil {
		return err
	}
	if wd, _ := getcwd(); wd != dir+"/d" {
		return fmt.Errorf("getcwd after the failed calls: %q", wd)
	}

	// A forked child starts in its parent's directory and moves alone.
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return err
	}
	pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e != 0 {
		return fmt.Errorf("fork: %v", e)
	}
	if pid == 0 {
		var buf [256]byte
		n, _, _ := syscall.RawSyscall(syscall.SYS_GETCWD, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0)
		if int(n) > 0 {
			syscall.RawSyscall(syscall.SYS_WRITE, uintptr(p[1]), uintptr(unsafe.Pointer(&buf[0])), n-1)
		}
		slash := [2]byte{'/', 0}
		syscall.RawSyscall(syscall.SYS_CHDIR, uintptr(unsafe.Pointer(&slash[0])), 0, 0)
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	syscall.Close(p[1])
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(int(pid), &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
		return fmt.Errorf("wait4 for the child: %v, %v", ws, err)
	}
	var buf [256]byte
	n, _ := syscall.Read(p[0], buf[:])
	syscall.Close(p[0])
	if got := string(buf[:max(n, 0)]); got != dir+"/d" {
		return fmt.Errorf("the forked child's getcwd: %q, want %q", got, dir+"/d")
	}
	if wd, _ := getcwd(); wd != dir+"/d" {
		return fmt.Errorf("getcwd after the child's chdir(\"/\"): %q", wd)
	}

	// os/exec: Dir (the child's chdir, then its execve); the program's
	// relative path found from the process's own directory.
	self := os.Args[0]
	if !filepath.IsAbs(self) {
		self = filepath.Join(start, self)
	}
	cmd := exec.Command(self, "pwd")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil || string(out) != "pwd: "+dir+"\nok pwd\n" {
		return fmt.Errorf("os/exec with Dir %s: %q, %v", dir, out, err)
	}
	if err := syscall.Chdir(filepath.Dir(self)); err != nil {
		return err
	}
	cmd = exec.Command("./"+filepath.Base(self), "pwd")
	out, err = cmd.Output()
	if err != nil || string(out) != "pwd: "+filepath.Dir(self)+"\nok pwd\n" {
		return fmt.Errorf("os/exec of ./%s from %s: %q, %v", filepath.Base(self), filepath.Dir(self), out, err)
	}
	return syscall.Chdir(start)
}

const _AT_FDCWD = -100

func renameat2(od int, op string, nd int, np string) error {
	o, _ := syscall.BytePtrFromString(op)
	n, _ := syscall.BytePtrFromString(np)
	_, _, e := syscall.Syscall6(316, uintptr(od), uintptr(unsafe.Pointer(o)), uintptr(nd), uintptr(unsafe.Pointer(n)), 0, 0)
	return rawErr(e)
}

func fstatat(d int, path string, st *syscall.Stat_t) error {
	p, _ := syscall.BytePtrFromString(path)
	_, _, e := syscall.Syscall6(syscall.SYS_NEWFSTATAT, uintptr(d), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(st)), 0, 0, 0)
	return rawErr(e)
}
