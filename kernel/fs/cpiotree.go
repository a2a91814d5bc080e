package fs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// The read-only tree: a newc cpio archive (what qemuexec packs, with
// u-root's pkg/cpio) unpacked the way Linux unpacks an initramfs: records
// in order, a later record of a name replacing an earlier one (a
// directory keeps its entries and takes the newer owner, mode and time),
// regular files with a link count above one and the same inode number
// sharing one inode, whichever record carries the data, atime and mtime
// from the archive. Unlike Linux, directories a path implies are made
// when missing (mode 0755, owned by root), and a name with ".." in it is
// an error rather than a way out of the tree.

type linkKey struct{ major, minor, ino uint64 }

// loadArchive unpacks archive into the root file system. Only the first
// archive is read: what follows its trailer is ignored.
func (fsys *FS) loadArchive(archive []byte) error {
	if len(archive) == 0 {
		return nil
	}
	rr := cpio.Newc.Reader(bytes.NewReader(archive))
	links := map[linkKey]*inode{}
	next := int64(0) // where the record after the last one read starts
	for {
		rec, err := rr.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("fs: reading the archive: %w", err)
		}
		if err := fsys.unpack(archive, rec, links); err != nil {
			return fmt.Errorf("fs: archive record %q: %w", rec.Name, err)
		}
		next = (rec.FilePos + int64(rec.FileSize) + 3) &^ 3
	}
	// The reader says end of file both at the trailer and when the bytes
	// run out: only the trailer is a whole archive.
	if !isTrailer(archive, next) {
		return errors.New("fs: the archive is cut short (no trailer)")
	}
	return nil
}

// newcHeader is the size of a newc header: the magic and 13 fields of 8
// hexadecimal digits. The name follows it.
const newcHeader = 110

// isTrailer: archive holds the trailer record at off.
func isTrailer(archive []byte, off int64) bool {
	if off < 0 || off > int64(len(archive)) {
		return false
	}
	rec := archive[off:]
	return bytes.HasPrefix(rec, []byte("070701")) && len(rec) > newcHeader &&
		bytes.HasPrefix(rec[newcHeader:], []byte(cpio.Trailer+"\x00"))
}

func (fsys *FS) unpack(archive []byte, rec cpio.Record, links map[linkKey]*inode) error {
	end := rec.FilePos + int64(rec.FileSize)
	if rec.FilePos < 0 || rec.FileSize > uint64(len(archive)) || end > int64(len(archive)) {
		return errors.New("contents past the end of the archive")
	}
	body := archive[rec.FilePos:end]
	mode := uint32(rec.Mode) & (S_IFMT | permBits)
	mtime := Timespec{Sec: int64(rec.MTime)}
	setMeta := func(n *inode) {
		n.mode = n.fileType() | mode&permBits
		n.uid, n.gid = uint32(rec.UID), uint32(rec.GID)
		n.atime, n.mtime = mtime, mtime
	}
	if rec.Name == "." {
		setMeta(fsys.rootDir)
		return nil
	}
	names := strings.Split(rec.Name, "/")
	if len(rec.Name) >= PathMax {
		return errors.New("name too long")
	}
	dir := fsys.rootDir
	for i, name := range names {
		if name == ".." || len(name) > NameMax {
			return errors.New("bad name")
		}
		if i == len(names)-1 {
			break
		}
		d := dir.dir.byName[name]
		if d == nil {
			n := fsys.newDirInode(fsys.rootSB, 0o755)
			n.uid, n.gid = 0, 0
			d = dir.add(name, n)
		} else if !d.node.isDir() {
			return errors.New("a parent is not a directory")
		}
		dir = d.node
	}
	name := names[len(names)-1]
	old := dir.dir.byName[name]
	if old != nil && old.node.fileType() == mode&S_IFMT && mode&S_IFMT == S_IFDIR {
		setMeta(old.node) // a directory again: new metadata, same entries
		return nil
	}
	var n *inode
	switch mode & S_IFMT {
	case S_IFDIR:
		n = fsys.newDirInode(fsys.rootSB, 0)
	case S_IFREG:
		key := linkKey{rec.Major, rec.Minor, rec.Ino}
		if rec.NLink > 1 {
			n = links[key]
		}
		if n == nil {
			n = fsys.newInode(fsys.rootSB, S_IFREG)
			n.nlink = 0 // counted as names are added
			if rec.NLink > 1 {
				links[key] = n
			}
		}
		if len(body) > 0 || n.size == 0 {
			n.data.fixed, n.size = body, int64(len(body))
		}
	case S_IFLNK:
		if len(body) == 0 || len(body) >= PathMax {
			return nil // Linux's symlink(2) refuses such a target: no file
		}
		n = fsys.newInode(fsys.rootSB, S_IFLNK)
		n.target, n.size = string(body), int64(len(body))
	case S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK:
		n = fsys.newInode(fsys.rootSB, mode&S_IFMT)
		n.rdev = makedev(rec.Rmajor, rec.Rminor)
		if n.fileType() == S_IFCHR {
			n.device = deviceOf(n.rdev)
		}
	default:
		return fmt.Errorf("unknown file type %#o", mode&S_IFMT)
	}
	if old != nil {
		dir.remove(old)
		old.removed = true
		old.node.nlink--
	}
	setMeta(n)
	if n.isRegular() {
		n.nlink++
	}
	dir.add(name, n)
	return nil
}
