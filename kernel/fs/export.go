package fs

import "strings"

// Exported files: how files a program writes under Config.ExportDir (the
// coverage data of go test -cover) reach the host. The runtime writes
// such a file under a temporary name and renames it into place, so a
// file is handed over both when the last handle that could write it is
// closed and when a rename brings it under the directory.

// maybeExport hands the file named by d to Config.Export when that name
// is under the export directory.
func (fsys *FS) maybeExport(d *dirent) {
	if fsys.export == nil || !d.node.isRegular() || d.node.sb != fsys.tmpSB {
		return
	}
	p := fsys.entryPath(d)
	if fsys.exportDir != "/" && !strings.HasPrefix(p, fsys.exportDir+"/") {
		return
	}
	fsys.export(p, d.node.contents())
}

// entryPath is the absolute path of name d.
func (fsys *FS) entryPath(d *dirent) string {
	dir := fsys.dirPath(d.parent)
	if dir == "/" {
		return "/" + d.name
	}
	return dir + "/" + d.name
}
