package fs

import "strings"

// Path resolution, the way Linux's fs/namei.c walks: every directory on
// the way must be searchable (before its entry is looked up), every
// component but the last must be a directory, symbolic links are followed
// inside the path always and at its end when the operation asks for it or
// when a slash follows the name, 40 links in all before ELOOP, "." and
// ".." never looked up as names, and ".." of a file system's root going
// to the directory it is mounted on. Errors come in Linux's order.

// lastType classifies the last component of a path.
type lastType uint8

const (
	lastNorm   lastType = iota // a name
	lastRoot                   // no component: "/" or ""
	lastDot                    // "."
	lastDotDot                 // ".."
)

// nameWalk is one resolution in progress (Linux's nameidata).
type nameWalk struct {
	fsys *FS
	path string // what is resolved
	cur  *inode // where the walk stands: the directory of the last component
	last string // the last component seen
	typ  lastType
	// trailing: a slash follows the last component.
	trailing bool
	// follow: a symlink as last component is followed (LOOKUP_FOLLOW);
	// directory: the result must be a directory (LOOKUP_DIRECTORY).
	follow, directory bool
	links             int      // symlinks followed so far
	stack             []string // what is left of the paths of the links being walked
}

// pathArg checks a path argument as Linux's getname does: a C string
// ends at its NUL, PATH_MAX counts that NUL (ENAMETOOLONG), and an empty
// path is ENOENT unless emptyOK (AT_EMPTY_PATH).
func pathArg(path string, emptyOK bool) (string, Errno) {
	if i := strings.IndexByte(path, 0); i >= 0 {
		path = path[:i]
	}
	if len(path) >= PathMax {
		return "", ENAMETOOLONG
	}
	if path == "" && !emptyOK {
		return "", ENOENT
	}
	return path, 0
}

// startWalk begins resolving path from directory handle dir (AtCWD for
// the current directory): Linux's getname and path_init. With emptyOK an
// empty path names the handle itself, whatever its type. An absolute
// path ignores dir.
func (fsys *FS) startWalk(dir Handle, path string, emptyOK bool) (*nameWalk, Errno) {
	path, e := pathArg(path, emptyOK)
	if e != 0 {
		return nil, e
	}
	return fsys.walkFrom(dir, path)
}

// walkFrom is path_init for a checked path.
func (fsys *FS) walkFrom(dir Handle, path string) (*nameWalk, Errno) {
	w := &nameWalk{fsys: fsys, path: path, typ: lastRoot}
	switch {
	case strings.HasPrefix(path, "/"):
		w.cur = fsys.rootDir
	case dir == AtCWD:
		w.cur = fsys.curDir()
	default:
		f := fsys.handles[dir]
		if f == nil {
			return nil, EBADF
		}
		if path != "" && !f.node.isDir() {
			return nil, ENOTDIR
		}
		w.cur = f.node
	}
	return w, 0
}

func trimSlashes(s string) string { return strings.TrimLeft(s, "/") }

// walkPath walks name up to its last component (link_path_walk): on
// success w.cur is the directory that holds the last component, w.last
// and w.typ say what that component is and w.trailing whether a slash
// follows it.
func (w *nameWalk) walkPath(name string) Errno {
	w.typ = lastRoot
	w.trailing = false
	name = trimSlashes(name)
	if name == "" {
		return 0
	}
	base := len(w.stack)
	for {
		if e := w.fsys.mayLookup(w.cur); e != 0 {
			return e
		}
		comp, rest, slash := strings.Cut(name, "/")
		w.last = comp
		w.typ = classify(comp)
		rest = trimSlashes(rest)
		var body string
		var isLink bool
		var e Errno
		if rest == "" {
			if len(w.stack) == base {
				w.trailing = slash
				return 0
			}
			// The last component of a link's path: go on with the
			// path the link was met in.
			name = w.stack[len(w.stack)-1]
			w.stack = w.stack[:len(w.stack)-1]
			body, isLink, e = w.step(true)
		} else {
			name = rest
			body, isLink, e = w.step(true)
		}
		if e != 0 {
			return e
		}
		if isLink {
			w.stack = append(w.stack, name)
			name = body
			continue
		}
		if !w.cur.isDir() {
			return ENOTDIR
		}
	}
}

func classify(comp string) lastType {
	switch comp {
	case ".":
		return lastDot
	case "..":
		return lastDotDot
	}
	return lastNorm
}

// step moves the walk onto component w.last of w.cur (walk_component).
// A symlink is followed when followLink says so: then the walk stays
// where it is and step returns the link's path to walk (isLink), or, for
// a link to "/" alone, has jumped to the root.
func (w *nameWalk) step(followLink bool) (body string, isLink bool, e Errno) {
	switch w.typ {
	case lastDot, lastRoot:
		return "", false, 0
	case lastDotDot:
		w.cur = w.fsys.dotdot(w.cur)
		return "", false, 0
	}
	d, e := w.fsys.lookup(w.cur, w.last)
	if e != 0 {
		return "", false, e
	}
	n := mountedOn(d.node)
	if !n.isSymlink() || !followLink {
		w.cur = n
		return "", false, 0
	}
	if w.links >= MaxSymlinks {
		return "", false, ELOOP
	}
	w.links++
	w.fsys.touchAtime(n)
	body = n.target
	if strings.HasPrefix(body, "/") {
		w.cur = w.fsys.rootDir
		body = trimSlashes(body)
	}
	if body == "" {
		return "", false, 0 // a link to "/": the jump was all
	}
	return body, true, 0
}

// mountedOn is what a walk arriving at n sees: the root of the file
// system mounted on n, if any.
func mountedOn(n *inode) *inode {
	for n.isDir() && n.dir.mounted != nil {
		n = n.dir.mounted.root
	}
	return n
}

// dotdot is where ".." of directory dir leads: its parent, the parent of
// the directory a file system is mounted on from that file system's root,
// and the root itself from the root.
func (fsys *FS) dotdot(dir *inode) *inode {
	for dir != fsys.rootDir && dir == dir.sb.root && dir.sb.mountpoint != nil {
		dir = dir.sb.mountpoint
	}
	if dir == fsys.rootDir {
		return dir
	}
	return mountedOn(dir.parentDir())
}

// lookup finds name in directory dir: ENOENT when it is not there, or
// when dir has been removed, ENAMETOOLONG for a name that could never be
// there (Linux's tmpfs says so when it looks a name up).
func (fsys *FS) lookup(dir *inode, name string) (*dirent, Errno) {
	if d := dir.dir.byName[name]; d != nil {
		return d, 0
	}
	if len(name) > NameMax && !dir.dir.dead {
		return nil, ENAMETOOLONG
	}
	return nil, ENOENT
}

// stepLast moves onto the last component (lookup_last), following a
// symlink there when w.follow; a trailing slash asks for both following
// and a directory.
func (w *nameWalk) stepLast() (body string, isLink bool, e Errno) {
	if w.typ == lastNorm && w.trailing {
		w.follow, w.directory = true, true
	}
	return w.step(w.follow)
}

// resolve walks the path to the file it names (path_lookupat).
func (w *nameWalk) resolve() (*inode, Errno) {
	e := w.walkPath(w.path)
	for e == 0 {
		var body string
		var isLink bool
		body, isLink, e = w.stepLast()
		if e != 0 || !isLink {
			break
		}
		e = w.walkPath(body)
	}
	if e != 0 {
		return nil, e
	}
	if w.directory && !w.cur.isDir() {
		return nil, ENOTDIR
	}
	return w.cur, 0
}

// lookupAt resolves path relative to dir: the file an operation acts on.
// follow says whether a symlink at the end is followed; emptyOK lets an
// empty path name the handle dir itself (AT_EMPTY_PATH).
func (fsys *FS) lookupAt(dir Handle, path string, follow, emptyOK bool) (*inode, Errno) {
	w, e := fsys.startWalk(dir, path, emptyOK)
	if e != 0 {
		return nil, e
	}
	w.follow = follow
	return w.resolve()
}

// lookupAtFlags is lookupAt with *at flags saying how: AT_SYMLINK_NOFOLLOW
// and AT_EMPTY_PATH, and the other bits of allowed, which change nothing;
// any other bit is EINVAL.
func (fsys *FS) lookupAtFlags(dir Handle, path string, flags, allowed int) (*inode, Errno) {
	if flags&^(allowed|AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH) != 0 {
		return nil, EINVAL
	}
	return fsys.lookupAt(dir, path, flags&AT_SYMLINK_NOFOLLOW == 0, flags&AT_EMPTY_PATH != 0)
}

// parentAt resolves all of path but its last component
// (filename_parentat): the walk then stands in the directory that holds
// (or would hold) it.
func (fsys *FS) parentAt(dir Handle, path string) (*nameWalk, Errno) {
	w, e := fsys.startWalk(dir, path, false)
	if e != 0 {
		return nil, e
	}
	if e := w.walkPath(w.path); e != 0 {
		return nil, e
	}
	return w, 0
}
