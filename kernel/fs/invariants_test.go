package fs

import "fmt"

// checkInvariants verifies what must hold of an FS between operations:
// the tmpfs's page and inode counts are exactly what the live files use,
// no file keeps pages past its size, directory sizes and link counts
// agree with their entries, and every open handle's file is alive.
func checkInvariants(fsys *FS) error {
	live := map[*inode]bool{}
	var walk func(dir *inode) error
	walk = func(dir *inode) error {
		if live[dir] {
			return fmt.Errorf("directory %d reached twice", dir.ino)
		}
		live[dir] = true
		subdirs := 0
		for name, d := range dir.dir.byName {
			if d.name != name || d.parent != dir || d.removed {
				return fmt.Errorf("entry %q of directory %d is inconsistent", name, dir.ino)
			}
			n := mountedOn(d.node)
			if d.node.isDir() {
				subdirs++
				if d.node.dir.self != d {
					return fmt.Errorf("directory %q does not know its name", name)
				}
				if err := walk(n); err != nil {
					return err
				}
				continue
			}
			live[n] = true
		}
		if len(dir.dir.order) != len(dir.dir.byName) {
			return fmt.Errorf("directory %d lists %d entries, names %d", dir.ino, len(dir.dir.order), len(dir.dir.byName))
		}
		for i := 1; i < len(dir.dir.order); i++ {
			if dir.dir.order[i-1].cookie >= dir.dir.order[i].cookie {
				return fmt.Errorf("directory %d: listing out of order", dir.ino)
			}
		}
		if want := uint32(2 + subdirs); dir.nlink != want && dir.sb == fsys.tmpSB {
			return fmt.Errorf("directory %d: nlink %d, want %d", dir.ino, dir.nlink, want)
		}
		if want := int64(2+len(dir.dir.byName)) * bogoDirentSize; dir.size != want {
			return fmt.Errorf("directory %d: size %d, want %d", dir.ino, dir.size, want)
		}
		return nil
	}
	if err := walk(fsys.rootDir); err != nil {
		return err
	}
	for h, f := range fsys.handles {
		if f.refs <= 0 {
			return fmt.Errorf("handle %d has %d references", h, f.refs)
		}
		if f.node.evicted {
			return fmt.Errorf("handle %d refers to an evicted inode", h)
		}
		live[f.node] = true
	}
	live[fsys.cwd] = true

	var pages, inodes int64
	names := map[*inode]int64{}
	var count func(dir *inode)
	count = func(dir *inode) {
		for _, d := range dir.dir.byName {
			names[d.node]++
			if d.node.isDir() {
				count(mountedOn(d.node))
			}
		}
	}
	count(fsys.rootDir)
	for n := range live {
		if n.sb != fsys.tmpSB {
			continue
		}
		inodes++
		if !n.isDir() {
			if int64(n.nlink) != names[n] {
				return fmt.Errorf("inode %d: nlink %d, names %d", n.ino, n.nlink, names[n])
			}
			if n.nlink > 1 {
				inodes += int64(n.nlink) - 1
			}
		}
		for idx := range n.data.pages {
			if idx*pageSize >= n.size {
				return fmt.Errorf("inode %d: page %d past its size %d", n.ino, idx, n.size)
			}
		}
		pages += int64(len(n.data.pages))
		if n.isSymlink() && len(n.target) >= longSymlink {
			pages++
		}
	}
	if pages != fsys.tmpSB.pagesUsed {
		return fmt.Errorf("tmpfs counts %d pages, the files hold %d", fsys.tmpSB.pagesUsed, pages)
	}
	if inodes != fsys.tmpSB.inodesUsed {
		return fmt.Errorf("tmpfs counts %d inodes, the files are %d", fsys.tmpSB.inodesUsed, inodes)
	}
	if lim := fsys.tmpSB.pageLimit; lim > 0 && pages > lim {
		return fmt.Errorf("%d pages used, over the limit of %d", pages, lim)
	}
	if lim := fsys.tmpSB.inodeLimit; lim > 0 && inodes > lim {
		return fmt.Errorf("%d inodes used, over the limit of %d", inodes, lim)
	}
	return nil
}
