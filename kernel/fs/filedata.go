package fs

import "slices"

// pageSize is the unit of tmpfs storage and accounting, as in Linux.
const pageSize = 4096

// fileData is a regular file's contents. A file of the read-only tree
// reads its bytes where the archive holds them (fixed); a tmpfs file keeps
// pages on the Go heap, only those written: a hole costs nothing and reads
// as zeros. Bytes of the last page past the file's size are always zero.
type fileData struct {
	fixed []byte
	pages map[int64]*[pageSize]byte
}

// readAt copies the file's bytes at off into p; it stops at the end of
// the file.
func (n *inode) readAt(p []byte, off int64) int {
	if off >= n.size {
		return 0
	}
	if rest := n.size - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	if n.data.pages == nil {
		if n.data.fixed != nil {
			return copy(p, n.data.fixed[off:])
		}
		clear(p)
		return len(p)
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		idx, in := pos/pageSize, int(pos%pageSize)
		k := min(len(p)-done, pageSize-in)
		if pg := n.data.pages[idx]; pg != nil {
			copy(p[done:done+k], pg[in:])
		} else {
			clear(p[done : done+k])
		}
		done += k
	}
	return len(p)
}

// writeAt stores p at off, taking a page of the file system's budget for
// each page first written. When the budget runs out it stops, as Linux's
// tmpfs does: what was written so far is the result, ENOSPC if nothing.
// The caller has checked that off+len(p) is a valid size.
func (n *inode) writeAt(p []byte, off int64) (int, Errno) {
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		idx, in := pos/pageSize, int(pos%pageSize)
		pg := n.data.pages[idx]
		if pg == nil {
			if !n.sb.chargePage() {
				break
			}
			if n.data.pages == nil {
				n.data.pages = map[int64]*[pageSize]byte{}
			}
			pg = new([pageSize]byte)
			n.data.pages[idx] = pg
		}
		done += copy(pg[in:], p[done:])
	}
	if end := off + int64(done); end > n.size {
		n.size = end
	}
	if done == 0 && len(p) > 0 {
		return 0, ENOSPC
	}
	return done, 0
}

// truncate sets the file's size. Growing costs nothing (the new part is a
// hole); shrinking gives the pages past the end back to the heap and to
// the budget, and zeroes the rest of the new last page.
func (n *inode) truncate(size int64) {
	if size < n.size && n.data.pages != nil {
		keep := (size + pageSize - 1) / pageSize
		freed := int64(0)
		for idx := range n.data.pages {
			if idx >= keep {
				delete(n.data.pages, idx)
				freed++
			}
		}
		n.sb.unchargePages(freed)
		if in := size % pageSize; in != 0 {
			if pg := n.data.pages[size/pageSize]; pg != nil {
				clear(pg[in:])
			}
		}
		if len(n.data.pages) == 0 {
			n.data.pages = nil // a map never shrinks: drop it
		}
	}
	n.size = size
}

// pageCount is the pages the file holds (for st_blocks).
func (n *inode) pageCount() int64 {
	if n.data.pages != nil {
		return int64(len(n.data.pages))
	}
	if n.data.fixed != nil {
		return (n.size + pageSize - 1) / pageSize
	}
	return 0
}

// seekData is SEEK_DATA and SEEK_HOLE on the file, Linux's tmpfs's
// answers: data is the pages present, from the page holding off. A file
// of the read-only tree is data throughout.
func (n *inode) seekData(off int64, whence int) (int64, Errno) {
	if off < 0 || off >= n.size {
		return 0, ENXIO
	}
	first, last := off/pageSize, (n.size-1)/pageSize
	var present []int64 // present pages in [first, last], ascending
	switch {
	case n.data.pages != nil:
		for idx := range n.data.pages {
			if idx >= first && idx <= last {
				present = append(present, idx)
			}
		}
		slices.Sort(present)
	case n.data.fixed != nil:
		if whence == SEEK_DATA {
			return off, 0
		}
		return n.size, 0 // the end is the only hole
	}
	if whence == SEEK_DATA {
		if len(present) == 0 {
			return 0, ENXIO
		}
		return max(off, present[0]*pageSize), 0
	}
	hole := first
	for _, idx := range present {
		if idx != hole {
			break
		}
		hole++
	}
	if hole > last {
		return n.size, 0
	}
	return max(off, hole*pageSize), 0
}

// contents is a copy of the whole file.
func (n *inode) contents() []byte {
	b := make([]byte, n.size)
	n.readAt(b, 0)
	return b
}
