package fs

import (
	"fmt"
	"hash/crc32"
	"regexp"
	"strconv"
	"strings"
)

// A parity script is a sequence of system calls, one a line, each with
// the answer Linux gives, recorded after "=>":
//
//	open $f . tmp/a O_CREAT|O_RDWR 0644   => ok
//	write $f "hello"                      => 5
//	stat . tmp/a                          => reg 0644 nlink=1 size=5 blocks=8 uid=0 gid=0
//
// $name is a descriptor slot, "." the current directory (AT_FDCWD), "bad"
// a descriptor that is not open. Words may be Go-quoted; {c*n} inside a
// word is c repeated n times. Flags are names joined by "|" or numbers.
// Lines starting with # are comments. See testdata/parity.

// badFD is a descriptor no backend ever has open: beyond any
// RLIMIT_NOFILE, and no handle number before the table wraps.
const badFD = 1 << 30

// scriptRunner runs script lines on a system.
type scriptRunner struct {
	sys   system
	slots map[string]int
	held  []int // every descriptor obtained and not closed, repeats included
	// portable: skip seeks of a directory other than a rewind. Directory
	// offsets are opaque cookies, different in every implementation
	// (Linux's differ between versions), so only rewinding means the
	// same everywhere.
	portable bool
}

func newScriptRunner(sys system) *scriptRunner {
	return &scriptRunner{sys: sys, slots: map[string]int{}}
}

// closeAll closes every descriptor the script left open, those it
// forgot (a slot reused) included.
func (r *scriptRunner) closeAll() {
	for _, fd := range r.held {
		r.sys.close(fd)
	}
	r.held = nil
	r.slots = map[string]int{}
}

// keep records descriptor fd under slot name.
func (r *scriptRunner) keep(name string, fd int) {
	r.slots[name] = fd
	r.held = append(r.held, fd)
}

// drop forgets one reference to fd.
func (r *scriptRunner) drop(fd int) {
	for i, h := range r.held {
		if h == fd {
			r.held = append(r.held[:i], r.held[i+1:]...)
			return
		}
	}
}

var repeatMacro = regexp.MustCompile(`\{(.+?)\*(\d+)\}`)

// scriptWords splits a line into words, unquoting quoted ones and
// expanding {c*n}.
func scriptWords(line string) ([]string, error) {
	var words []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		var w string
		if line[0] == '"' {
			end := 1
			for end < len(line) && line[end] != '"' {
				if line[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(line) {
				return nil, fmt.Errorf("unterminated quote")
			}
			var err error
			if w, err = strconv.Unquote(line[:end+1]); err != nil {
				return nil, err
			}
			line = line[end+1:]
		} else {
			i := strings.IndexAny(line, " \t")
			if i < 0 {
				i = len(line)
			}
			w, line = line[:i], line[i:]
		}
		w = repeatMacro.ReplaceAllStringFunc(w, func(m string) string {
			sub := repeatMacro.FindStringSubmatch(m)
			n, _ := strconv.Atoi(sub[2])
			return strings.Repeat(sub[1], n)
		})
		words = append(words, w)
	}
	return words, nil
}

var flagNames = map[string]int{
	"O_RDONLY": O_RDONLY, "O_WRONLY": O_WRONLY, "O_RDWR": O_RDWR, "O_ACCMODE": O_ACCMODE,
	"O_CREAT": O_CREAT, "O_EXCL": O_EXCL, "O_TRUNC": O_TRUNC, "O_APPEND": O_APPEND,
	"O_NONBLOCK": O_NONBLOCK, "O_DIRECTORY": O_DIRECTORY, "O_NOFOLLOW": O_NOFOLLOW,
	"O_CLOEXEC": O_CLOEXEC, "O_PATH": O_PATH, "O_NOATIME": O_NOATIME, "O_SYNC": O_SYNC,
	"O_DSYNC": O_DSYNC, "O_DIRECT": O_DIRECT, "O_NOCTTY": O_NOCTTY, "O_TMPFILE": O_TMPFILE, "O_LARGEFILE": O_LARGEFILE,
	"AT_SYMLINK_NOFOLLOW": AT_SYMLINK_NOFOLLOW, "AT_REMOVEDIR": AT_REMOVEDIR,
	"AT_EACCESS": AT_EACCESS, "AT_SYMLINK_FOLLOW": AT_SYMLINK_FOLLOW,
	"AT_EMPTY_PATH": AT_EMPTY_PATH, "AT_NO_AUTOMOUNT": AT_NO_AUTOMOUNT,
	"RENAME_NOREPLACE": RENAME_NOREPLACE, "RENAME_EXCHANGE": RENAME_EXCHANGE,
	"RENAME_WHITEOUT": RENAME_WHITEOUT,
	"SEEK_SET":        SEEK_SET, "SEEK_CUR": SEEK_CUR, "SEEK_END": SEEK_END,
	"SEEK_DATA": SEEK_DATA, "SEEK_HOLE": SEEK_HOLE,
	"R_OK": R_OK, "W_OK": W_OK, "X_OK": X_OK, "F_OK": F_OK,
	"STATX_BASIC_STATS": STATX_BASIC_STATS, "STATX_BTIME": STATX_BTIME,
}

func parseFlags(s string) (int, error) {
	v := 0
	for _, part := range strings.Split(s, "|") {
		if f, ok := flagNames[part]; ok {
			v |= f
			continue
		}
		n, err := strconv.ParseInt(part, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("flag %q", part)
		}
		v |= int(n)
	}
	return v, nil
}

// errnoNames names the errors in script answers.
var errnoNames = map[Errno]string{}

func init() {
	for e, name := range map[Errno]string{
		EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO",
		EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
		EBUSY: "EBUSY", EEXIST: "EEXIST", EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR",
		EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", ENOTTY: "ENOTTY",
		EFBIG: "EFBIG", ENOSPC: "ENOSPC", ESPIPE: "ESPIPE", EROFS: "EROFS", EMLINK: "EMLINK",
		EPIPE: "EPIPE", ERANGE: "ERANGE", ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS",
		ENOTEMPTY: "ENOTEMPTY", ELOOP: "ELOOP", EOVERFLOW: "EOVERFLOW", EOPNOTSUPP: "EOPNOTSUPP",
		ErrWouldBlock: "ErrWouldBlock",
	} {
		errnoNames[e] = name
	}
}

var errnoByName = map[string]Errno{}

func init() {
	for e, name := range errnoNames {
		errnoByName[name] = e
	}
}

func errnoName(e Errno) string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return "errno" + strconv.Itoa(int(e))
}

var typeNames = map[uint32]string{
	S_IFREG: "reg", S_IFDIR: "dir", S_IFLNK: "lnk", S_IFCHR: "chr", S_IFBLK: "blk",
	S_IFIFO: "fifo", S_IFSOCK: "sock",
}

func describeStat(st Stat) string {
	s := fmt.Sprintf("%s %04o nlink=%d size=%d blocks=%d uid=%d gid=%d",
		typeNames[st.Mode&S_IFMT], st.Mode&permBits, st.Nlink, st.Size, st.Blocks, st.UID, st.GID)
	if st.Mode&S_IFMT == S_IFCHR {
		s += fmt.Sprintf(" rdev=%d:%d", devMajor(st.Rdev), devMinor(st.Rdev))
	}
	return s
}

func describeData(b []byte) string {
	if len(b) <= 64 {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("len=%d crc=%08x", len(b), crc32.ChecksumIEEE(b))
}

// describeDirents lists getdents64 records: name and type, in order.
func describeDirents(b []byte) string {
	var parts []string
	for _, r := range decodeDirents(b) {
		parts = append(parts, fmt.Sprintf("%s:%d", r.name, r.typ))
	}
	return fmt.Sprintf("%d bytes [%s]", len(b), strings.Join(parts, " "))
}

// run runs one script line and returns the answer.
func (r *scriptRunner) run(line string) (answer string, err error) {
	w, err := scriptWords(line)
	if err != nil {
		return "", err
	}
	if len(w) == 0 {
		return "", fmt.Errorf("empty line")
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	arg := func(i int) string {
		if i >= len(w) {
			panic(fmt.Sprintf("%s: missing argument %d", w[0], i))
		}
		return w[i]
	}
	opt := func(i int, def string) string {
		if i >= len(w) {
			return def
		}
		return w[i]
	}
	num := func(s string) int64 {
		v, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			panic(fmt.Sprintf("number %q", s))
		}
		return v
	}
	flags := func(s string) int {
		v, err := parseFlags(s)
		if err != nil {
			panic(err.Error())
		}
		return v
	}
	fd := func(s string) int {
		switch {
		case s == ".":
			return cwdFD
		case s == "bad":
			return badFD
		case strings.HasPrefix(s, "$"):
			if v, ok := r.slots[s]; ok {
				return v
			}
			return badFD
		}
		panic(fmt.Sprintf("descriptor %q", s))
	}
	mode := func(s string) uint32 { return uint32(num(s)) }
	errOr := func(e Errno, ok string) string {
		if e != 0 {
			return errnoName(e)
		}
		return ok
	}
	times := func(a, m string) *[2]Timespec {
		if a == "nil" {
			return nil
		}
		one := func(s string) Timespec {
			switch s {
			case "now":
				return Timespec{Nsec: UTIME_NOW}
			case "omit":
				return Timespec{Nsec: UTIME_OMIT}
			}
			sec, nsec, _ := strings.Cut(s, ".")
			return Timespec{Sec: num(sec), Nsec: num(nsec)}
		}
		return &[2]Timespec{one(a), one(m)}
	}
	s := r.sys
	switch w[0] {
	case "open":
		h, e := s.openat(fd(arg(2)), arg(3), flags(arg(4)), mode(opt(5, "0")))
		if e == 0 {
			r.keep(arg(1), h)
		}
		return errOr(e, "ok"), nil
	case "close":
		h := fd(arg(1))
		e := s.close(h)
		if e == 0 {
			delete(r.slots, arg(1))
			r.drop(h)
		}
		return errOr(e, "ok"), nil
	case "dup":
		h, e := s.dup(fd(arg(1)))
		if e == 0 {
			r.keep(arg(2), h)
		}
		return errOr(e, "ok"), nil
	case "read":
		b, e := s.read(fd(arg(1)), int(num(arg(2))))
		return errOr(e, describeData(b)), nil
	case "pread":
		b, e := s.pread(fd(arg(1)), int(num(arg(2))), num(arg(3)))
		return errOr(e, describeData(b)), nil
	case "write":
		n, e := s.write(fd(arg(1)), []byte(arg(2)))
		return errOr(e, strconv.Itoa(n)), nil
	case "pwrite":
		n, e := s.pwrite(fd(arg(1)), []byte(arg(2)), num(arg(3)))
		return errOr(e, strconv.Itoa(n)), nil
	case "lseek":
		if r.portable && !(num(arg(2)) == 0 && flags(arg(3)) == SEEK_SET) {
			if st, e := s.fstat(fd(arg(1))); e == 0 && st.Mode&S_IFMT == S_IFDIR {
				return "skipped: directory offsets are not portable", nil
			}
		}
		off, e := s.lseek(fd(arg(1)), num(arg(2)), flags(arg(3)))
		return errOr(e, strconv.FormatInt(off, 10)), nil
	case "ftruncate":
		return errOr(s.ftruncate(fd(arg(1)), num(arg(2))), "ok"), nil
	case "truncate":
		return errOr(s.truncate(arg(1), num(arg(2))), "ok"), nil
	case "fsync":
		return errOr(s.fsync(fd(arg(1))), "ok"), nil
	case "fstat":
		st, e := s.fstat(fd(arg(1)))
		return errOr(e, describeStat(st)), nil
	case "stat":
		st, e := s.fstatat(fd(arg(1)), arg(2), flags(opt(3, "0")))
		return errOr(e, describeStat(st)), nil
	case "statx":
		st, mask, e := s.statx(fd(arg(1)), arg(2), flags(arg(3)), uint32(flags(arg(4))))
		return errOr(e, fmt.Sprintf("mask=%#x root=%v %s", mask, st.MountRoot, describeStat(st))), nil
	case "getdents":
		b, e := s.getdents(fd(arg(1)), int(num(arg(2))))
		return errOr(e, describeDirents(b)), nil
	case "ls":
		var all []direntRecord
		for {
			b, e := s.getdents(fd(arg(1)), 4096)
			if e != 0 {
				return errnoName(e), nil
			}
			if len(b) == 0 {
				break
			}
			all = append(all, decodeDirents(b)...)
		}
		return strings.Join(sortedNames(all), " "), nil
	case "readlink":
		t, e := s.readlinkat(fd(arg(1)), arg(2), int(num(arg(3))))
		return errOr(e, strconv.Quote(t)), nil
	case "symlink":
		return errOr(s.symlinkat(arg(1), fd(arg(2)), arg(3)), "ok"), nil
	case "mkdir":
		return errOr(s.mkdirat(fd(arg(1)), arg(2), mode(arg(3))), "ok"), nil
	case "unlink":
		return errOr(s.unlinkat(fd(arg(1)), arg(2), flags(opt(3, "0"))), "ok"), nil
	case "rmdir":
		return errOr(s.unlinkat(fd(arg(1)), arg(2), AT_REMOVEDIR), "ok"), nil
	case "rename":
		return errOr(s.renameat2(fd(arg(1)), arg(2), fd(arg(3)), arg(4), flags(opt(5, "0"))), "ok"), nil
	case "link":
		return errOr(s.linkat(fd(arg(1)), arg(2), fd(arg(3)), arg(4), flags(opt(5, "0"))), "ok"), nil
	case "chdir":
		return errOr(s.chdir(arg(1)), "ok"), nil
	case "fchdir":
		return errOr(s.fchdir(fd(arg(1))), "ok"), nil
	case "getcwd":
		p, e := s.getcwd(int(num(arg(1))))
		return errOr(e, strconv.Quote(p)), nil
	case "access":
		return errOr(s.faccessat(fd(arg(1)), arg(2), uint32(flags(arg(3))), flags(opt(4, "0"))), "ok"), nil
	case "chmod":
		return errOr(s.fchmodat(fd(arg(1)), arg(2), mode(arg(3)), flags(opt(4, "0"))), "ok"), nil
	case "fchmod":
		return errOr(s.fchmod(fd(arg(1)), mode(arg(2))), "ok"), nil
	case "utimens":
		return errOr(s.utimensat(fd(arg(1)), arg(2), times(arg(3), opt(4, "")), flags(opt(5, "0"))), "ok"), nil
	case "getfl":
		fl, e := s.getfl(fd(arg(1)))
		return errOr(e, fmt.Sprintf("%#x", fl)), nil
	case "setfl":
		return errOr(s.setfl(fd(arg(1)), flags(arg(2))), "ok"), nil
	case "pipe":
		rd, wr, e := s.pipe2(flags(opt(3, "0")))
		if e == 0 {
			r.keep(arg(1), rd)
			r.keep(arg(2), wr)
		}
		return errOr(e, "ok"), nil
	case "umask":
		return fmt.Sprintf("%04o", s.umask(mode(arg(1)))), nil
	case "sameino":
		a, e := s.fstatat(fd(arg(1)), arg(2), AT_SYMLINK_NOFOLLOW)
		if e != 0 {
			return errnoName(e), nil
		}
		b, e := s.fstatat(fd(arg(1)), arg(3), AT_SYMLINK_NOFOLLOW)
		if e != 0 {
			return errnoName(e), nil
		}
		if a.Ino == b.Ino && a.Dev == b.Dev {
			return "same", nil
		}
		return "different", nil
	}
	return "", fmt.Errorf("unknown operation %q", w[0])
}
