package fs

import (
	"fmt"
	"strings"
)

// opGen makes random script lines (see script_test.go) over a small set
// of names, so that operations meet each other's files: for FuzzFS, and
// for the randomized comparison with Linux. Paths never contain ".." and
// symlink targets are relative without "..": resolution stays inside the
// tree on the host too.
type opGen struct {
	pick func(n int) int // a random number in [0, n)
	// blocking lets pipes block (ErrWouldBlock): not on the host, where
	// the test would hang.
	blocking bool
}

var (
	genNames   = []string{"a", "b", "l"}
	genTargets = []string{"a", "b", "a/b", "c/", "l", "missing", "a/./b", "{x*200}"}
	genFixed   = []string{"data/file", "data/sub", "data/link", "data/dirlink", "data/dangling",
		"dev/null", "data/missing", "tmp", "data", "."}
	genSlots = []string{"$0", "$1", "$2", "$3"}
	genOpen  = []string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_CREAT|O_RDWR", "O_CREAT|O_RDWR", "O_CREAT|O_EXCL|O_WRONLY",
		"O_RDWR|O_TRUNC", "O_RDONLY|O_DIRECTORY", "O_PATH", "O_RDWR|O_APPEND", "O_CREAT|O_WRONLY|O_NOFOLLOW",
		"O_RDONLY|O_NOFOLLOW", "O_PATH|O_NOFOLLOW", "O_CREAT|O_RDONLY|O_TRUNC"}
	genStat = []string{"0", "AT_SYMLINK_NOFOLLOW", "AT_EMPTY_PATH", "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"}
)

func (g opGen) one(list []string) string { return list[g.pick(len(list))] }

// path is a name under tmp (mostly) or in the read-only tree, sometimes
// with "." or a trailing slash.
func (g opGen) path() string {
	if g.pick(6) == 0 {
		return g.one(genFixed)
	}
	parts := []string{"tmp"}
	for i := []int{0, 0, 0, 1, 1, 2}[g.pick(6)]; i >= 0; i-- {
		parts = append(parts, g.one(genNames))
	}
	if g.pick(12) == 0 {
		parts = append(parts[:1], append([]string{"."}, parts[1:]...)...)
	}
	p := strings.Join(parts, "/")
	if g.pick(10) == 0 {
		p += "/"
	}
	return p
}

// dir is a directory argument: mostly the current directory (the root of
// the tree), sometimes a slot, which may hold a directory.
func (g opGen) dir() (string, string) {
	if g.pick(8) == 0 {
		rel := strings.TrimPrefix(g.path(), "tmp/")
		return g.one(genSlots), rel
	}
	return ".", g.path()
}

func (g opGen) data() string {
	switch g.pick(8) {
	case 0:
		return `""`
	case 1:
		return fmt.Sprintf("{w*%d}", 4000+g.pick(9000))
	case 2:
		return fmt.Sprintf("{W*%d}", 60000+g.pick(20000))
	}
	return fmt.Sprintf("{%c*%d}", 'a'+g.pick(26), 1+g.pick(300))
}

func (g opGen) offset() int {
	switch g.pick(4) {
	case 0:
		return g.pick(10)
	case 1:
		return 4090 + g.pick(12)
	case 2:
		return g.pick(300000)
	}
	return -1 + g.pick(3)
}

// line is one random operation.
func (g opGen) line() string {
	s := g.one(genSlots)
	switch g.pick(32) {
	case 0, 1, 2, 30, 31:
		d, p := g.dir()
		return fmt.Sprintf("open %s %s %s %s 0%o", s, d, p, g.one(genOpen), 0o600+g.pick(0o200))
	case 3, 4:
		return "close " + s
	case 5:
		return fmt.Sprintf("read %s %d", s, g.pick(5000))
	case 6:
		return fmt.Sprintf("pread %s %d %d", s, g.pick(5000), g.offset())
	case 7, 8:
		return fmt.Sprintf("write %s %s", s, g.data())
	case 9:
		return fmt.Sprintf("pwrite %s %s %d", s, g.data(), g.offset())
	case 10:
		return fmt.Sprintf("lseek %s %d %d", s, g.offset(), g.pick(6))
	case 11:
		return fmt.Sprintf("ftruncate %s %d", s, g.offset())
	case 12:
		return fmt.Sprintf("truncate %s %d", g.path(), g.offset())
	case 13:
		return "fstat " + s
	case 14:
		d, p := g.dir()
		return fmt.Sprintf("stat %s %s %s", d, p, g.one(genStat))
	case 15:
		return fmt.Sprintf("getdents %s %d", s, 16+g.pick(400))
	case 16:
		d, p := g.dir()
		return fmt.Sprintf("readlink %s %s %d", d, p, g.pick(300))
	case 17:
		d, p := g.dir()
		return fmt.Sprintf("symlink %s %s %s", g.one(genTargets), d, p)
	case 18, 19:
		d, p := g.dir()
		return fmt.Sprintf("mkdir %s %s 0%o", d, p, 0o700+g.pick(0o100))
	case 20:
		d, p := g.dir()
		return fmt.Sprintf("unlink %s %s", d, p)
	case 21:
		d, p := g.dir()
		return fmt.Sprintf("rmdir %s %s", d, p)
	case 22, 23:
		d1, p1 := g.dir()
		d2, p2 := g.dir()
		return fmt.Sprintf("rename %s %s %s %s %d", d1, p1, d2, p2, g.pick(4))
	case 24:
		d1, p1 := g.dir()
		d2, p2 := g.dir()
		return fmt.Sprintf("link %s %s %s %s %s", d1, p1, d2, p2, g.one([]string{"0", "AT_SYMLINK_FOLLOW"}))
	case 25:
		d, p := g.dir()
		return fmt.Sprintf("access %s %s %d", d, p, g.pick(8))
	case 26:
		d, p := g.dir()
		return fmt.Sprintf("chmod %s %s 0%o", d, p, g.pick(0o10000))
	case 27:
		if g.blocking && g.pick(2) == 0 {
			return fmt.Sprintf("setfl %s %s", s, g.one([]string{"0", "O_APPEND"}))
		}
		return fmt.Sprintf("setfl %s %s", s, g.one([]string{"O_NONBLOCK", "O_APPEND|O_NONBLOCK"}))
	case 28:
		if g.blocking && g.pick(2) == 0 {
			return fmt.Sprintf("pipe %s %s", s, g.one(genSlots))
		}
		return fmt.Sprintf("pipe %s %s O_NONBLOCK", s, g.one(genSlots))
	case 29:
		if g.pick(2) == 0 {
			return "getfl " + s
		}
	}
	return fmt.Sprintf("dup %s %s", s, g.one(genSlots))
}
