package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"
)

// runArgs runs path with args (argv[0] the path) and the environment
// E=1 from directory dir, and returns what it wrote and its exit status,
// or the execve's errno.
func runArgs(dir, path string, args ...string) (string, int, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = []string{"E=1"}
	cmd.Dir = dir
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode(), nil
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return "", -1, en
	}
	if err != nil {
		return "", -1, err
	}
	return string(out), 0, nil
}

// scripts: #! scripts whose interpreter is tests/process's args program
// (its parameter: it prints its argv and environment, a line each, and
// exits with argc): an interpreter with one argument (blanks inside it
// kept, around it trimmed), without one, after blanks and with a tab
// before its argument, named by a path relative to the working
// directory, and a script interpreting a script; Linux's argv (the
// interpreter, its argument, the script's path, the old argv but its
// first). ENOEXEC for no interpreter and for a path cut by the 256-byte
// buffer; the interpreter's own errors (ENOENT, EACCES); EACCES for a
// script without an execute bit; ELOOP for a script that interprets
// itself.
func scripts(param string) error {
	interp, err := filepath.Abs(param)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("/tmp", "procapi-scripts-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			panic(err)
		}
		return p
	}
	lines := func(s ...string) string { return strings.Join(s, "\n") + "\n" }
	s1 := write("one-arg", "#!"+interp+"   one  arg  \necho not read\n", 0o755)
	s2 := write("no-arg", "#!"+interp+"\n", 0o755)
	s3 := write("blanks", "#! \t"+interp+"\targ\n", 0o755)
	s4 := write("relative", "#!"+filepath.Base(interp)+" rel\n", 0o755)
	s5 := write("nested", "#!"+s1+"\n", 0o755)
	s6 := write("no-newline", "#!"+interp+" last", 0o755)
	for _, c := range []struct {
		path, dir string
		args      []string
		want      string
	}{
		{s1, dir, []string{"a", "b"}, lines(interp, "one  arg", s1, "a", "b", "E=1")},
		{s2, dir, []string{"a"}, lines(interp, s2, "a", "E=1")},
		{s3, dir, nil, lines(interp, "arg", s3, "E=1")},
		{s4, filepath.Dir(interp), []string{"x"}, lines(filepath.Base(interp), "rel", s4, "x", "E=1")},
		{s5, dir, []string{"z"}, lines(interp, "one  arg", s1, s5, "z", "E=1")},
		{s6, dir, nil, lines(interp, "last", s6, "E=1")},
	} {
		out, status, err := runArgs(c.dir, c.path, c.args...)
		argc := strings.Count(c.want, "\n") - 1
		if err != nil || out != c.want || status != argc {
			return fmt.Errorf("the script %s %q: %q, exit status %d, %v; want %q and %d", filepath.Base(c.path), c.args, out, status, err, c.want, argc)
		}
	}
	for _, c := range []struct {
		name, body string
		mode       os.FileMode
		want       syscall.Errno
	}{
		{"empty", "#!\n", 0o755, syscall.ENOEXEC},
		{"blank", "#!  \t \n", 0o755, syscall.ENOEXEC},
		{"cut", "#!/" + strings.Repeat("x", 300) + "\n", 0o755, syscall.ENOEXEC},
		{"missing", "#!/tmp/no-such-interpreter\n", 0o755, syscall.ENOENT},
		{"directory", "#!/tmp\n", 0o755, syscall.EACCES},
		{"not-executable", "#!" + interp + "\n", 0o644, syscall.EACCES},
		{"loop", "#!" + filepath.Join(dir, "loop") + "\n", 0o755, syscall.ELOOP},
	} {
		p := write(c.name, c.body, c.mode)
		if _, _, err := runArgs(dir, p); err != c.want {
			return fmt.Errorf("the script %s (%q): %v, want %v", c.name, c.body, err, c.want)
		}
	}
	return nil
}

// execveatChild forks a child that makes execveat(dirfd, path, argv,
// envp, flags) with its stdout on a pipe, and returns what it wrote and
// its exit status; a failed execveat is the errno.
func execveatChild(dirfd int, path string, argv []string, flags int) (string, int, error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return "", 0, err
	}
	pathp, _ := syscall.BytePtrFromString(path)
	argvp := make([]*byte, len(argv)+1)
	for i, a := range argv {
		argvp[i], _ = syscall.BytePtrFromString(a)
	}
	e1, _ := syscall.BytePtrFromString("E=1")
	envp := []*byte{e1, nil}
	pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e != 0 {
		return "", 0, e
	}
	if pid == 0 {
		syscall.RawSyscall(syscall.SYS_DUP3, uintptr(p[1]), 1, 0)
		_, _, e := syscall.RawSyscall6(322, uintptr(dirfd), uintptr(unsafe.Pointer(pathp)), uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])), uintptr(flags), 0)
		msg := [2]byte{'E', byte(e)}
		syscall.RawSyscall(syscall.SYS_WRITE, 1, uintptr(unsafe.Pointer(&msg[0])), 2)
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
	}
	syscall.Close(p[1])
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(p[0], buf)
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 {
			break
		}
		out = append(out, buf[:n]...)
	}
	syscall.Close(p[0])
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(int(pid), &ws, 0, nil); err != nil {
		return "", 0, err
	}
	if ws.ExitStatus() == 127 && len(out) == 2 && out[0] == 'E' {
		return "", 0, syscall.Errno(out[1])
	}
	return string(out), ws.ExitStatus(), nil
}

// execveat: execveat(2) of tests/process's args program (its parameter)
// by AT_FDCWD and a path relative to the working directory, by a
// directory's descriptor and a name in it, by the program's own
// descriptor with AT_EMPTY_PATH, and of a script through a directory's
// descriptor (the interpreter is given /dev/fd/N/name, as Linux's);
// EINVAL for an unknown flag, ENOENT for an empty path without
// AT_EMPTY_PATH, EBADF for a closed descriptor, ENOTDIR for a name under
// a file's descriptor, ELOOP for a symlink with AT_SYMLINK_NOFOLLOW,
// ENOENT for a script through a close-on-exec directory descriptor.
func execveat(param string) error {
	interp, err := filepath.Abs(param)
	if err != nil {
		return err
	}
	idir, base := filepath.Split(interp)
	start, _ := getcwd()
	if err := syscall.Chdir(idir); err != nil {
		return err
	}
	defer syscall.Chdir(start)
	want := func(argv0 string) string { return argv0 + "\nx\nE=1\n" }
	if out, st, err := execveatChild(_AT_FDCWD, base, []string{"first", "x"}, 0); err != nil || out != want("first") || st != 2 {
		return fmt.Errorf("execveat(AT_FDCWD, %s): %q, %d, %v", base, out, st, err)
	}
	dfd, err := syscall.Open(idir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(dfd)
	if err := syscall.Chdir("/"); err != nil {
		return err
	}
	if out, st, err := execveatChild(dfd, base, []string{"second", "x"}, 0); err != nil || out != want("second") || st != 2 {
		return fmt.Errorf("execveat(dirfd, %s): %q, %d, %v", base, out, st, err)
	}
	ffd, err := syscall.Open(interp, syscall.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(ffd)
	if out, st, err := execveatChild(ffd, "", []string{"third", "x"}, 0x1000); err != nil || out != want("third") || st != 2 {
		return fmt.Errorf("execveat(fd, \"\", AT_EMPTY_PATH): %q, %d, %v", out, st, err)
	}
	dir, err := os.MkdirTemp("/tmp", "procapi-execveat-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "script"), []byte("#!"+interp+" s\n"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(interp, filepath.Join(dir, "link")); err != nil {
		return err
	}
	sdir, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0) // not close-on-exec
	if err != nil {
		return err
	}
	defer syscall.Close(sdir)
	wantScript := fmt.Sprintf("%s\ns\n/dev/fd/%d/script\nx\nE=1\n", interp, sdir)
	if out, st, err := execveatChild(sdir, "script", []string{"fourth", "x"}, 0); err != nil || out != wantScript || st != 4 {
		return fmt.Errorf("execveat(dirfd, script): %q, %d, %v; want %q", out, st, err, wantScript)
	}
	cdir, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(cdir)
	for _, c := range []struct {
		what  string
		fd    int
		path  string
		flags int
		want  syscall.Errno
	}{
		{"an unknown flag", _AT_FDCWD, interp, 0x4, syscall.EINVAL},
		{"an empty path without AT_EMPTY_PATH", ffd, "", 0, syscall.ENOENT},
		{"a closed descriptor", 200, "x", 0, syscall.EBADF},
		{"a name under a file's descriptor", ffd, "x", 0, syscall.ENOTDIR},
		{"a symlink with AT_SYMLINK_NOFOLLOW", sdir, "link", 0x100, syscall.ELOOP},
		{"a script through a close-on-exec directory", cdir, "script", 0, syscall.ENOENT},
	} {
		if _, _, err := execveatChild(c.fd, c.path, []string{"x"}, c.flags); err != c.want {
			return fmt.Errorf("execveat of %s: %v, want %v", c.what, err, c.want)
		}
	}
	if out, st, err := execveatChild(sdir, "link", []string{"fifth", "x"}, 0); err != nil || out != want("fifth") {
		return fmt.Errorf("execveat(dirfd, link) without AT_SYMLINK_NOFOLLOW: %q, %d, %v", out, st, err)
	}
	return nil
}
