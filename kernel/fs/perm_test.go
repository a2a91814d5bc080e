package fs

import "testing"

// A process without root's privileges: permission bits decide, and the
// errors keep Linux's order (ENOENT and ENOTDIR after EACCES of a
// directory on the way, EROFS before EACCES).
func TestPermissionsUnprivileged(t *testing.T) {
	fsys := newFS(t, Config{UID: 1000, GID: 1000})
	for _, c := range []struct {
		path  string
		flags int
		want  Errno
	}{
		{"/work/pkg/a.go", O_RDONLY, 0},
		{"/work/pkg/testdata/secret", O_RDONLY, EACCES}, // mode 000, root's
		{"/work/pkg/testdata/secret", O_WRONLY, EROFS},  // read-only first
		{"/work/pkg/a.go", O_RDWR, EROFS},
		{"/work/pkg/testdata/script.sh", O_RDONLY, 0},
		{"/etc/implied/deep/file", O_RDONLY, EACCES}, // 0600 root's
		{"/etc/implied/deep/missing", O_RDONLY, ENOENT},
	} {
		h, e := fsys.Openat(AtCWD, c.path, c.flags, 0)
		wantErr(t, "open "+c.path, e, c.want)
		if e == 0 {
			fsys.Close(h)
		}
	}
	// In the tmpfs, the process owns what it makes.
	must(t, fsys.Mkdirat(AtCWD, "/tmp/closed", 0o700))
	writeFile(t, fsys, "/tmp/closed/f", "x")
	must(t, fsys.Fchmodat(AtCWD, "/tmp/closed", 0o600, 0)) // no search
	for _, c := range []struct {
		path string
		want Errno
	}{
		{"/tmp/closed/f", EACCES},
		{"/tmp/closed/missing", EACCES}, // EACCES before ENOENT
		{"/tmp/closed/f/x", EACCES},     // and before ENOTDIR
		{"/tmp/closed", 0},
	} {
		_, e := fsys.Fstatat(AtCWD, c.path, 0)
		wantErr(t, "stat "+c.path, e, c.want)
	}
	wantErr(t, "chdir into it", fsys.Chdir("/tmp/closed"), EACCES)
	must(t, fsys.Fchmodat(AtCWD, "/tmp/closed", 0o500, 0)) // search, no write
	wantErr(t, "create in r-x", func() Errno { _, e := fsys.Openat(AtCWD, "/tmp/closed/g", O_CREAT|O_RDWR, 0o644); return e }(), EACCES)
	wantErr(t, "unlink in r-x", fsys.Unlinkat(AtCWD, "/tmp/closed/f", 0), EACCES)
	wantErr(t, "mkdir in r-x", fsys.Mkdirat(AtCWD, "/tmp/closed/d", 0o755), EACCES)
	wantErr(t, "rename out of r-x", fsys.Renameat2(AtCWD, "/tmp/closed/f", AtCWD, "/tmp/f", 0), EACCES)
	wantErr(t, "mkdir existing in r-x", fsys.Mkdirat(AtCWD, "/tmp/closed/f", 0o755), EEXIST)
	must(t, fsys.Fchmodat(AtCWD, "/tmp/closed/f", 0o400, 0))
	wantErr(t, "write a 0400 file", func() Errno { _, e := fsys.Openat(AtCWD, "/tmp/closed/f", O_WRONLY, 0); return e }(), EACCES)
	wantErr(t, "truncate a 0400 file", fsys.Truncate("/tmp/closed/f", 0), EACCES)
	wantErr(t, "O_TRUNC a 0400 file", func() Errno { _, e := fsys.Openat(AtCWD, "/tmp/closed/f", O_RDONLY|O_TRUNC, 0); return e }(), EACCES)
	wantErr(t, "access W_OK", fsys.Faccessat(AtCWD, "/tmp/closed/f", W_OK, 0), EACCES)
	wantErr(t, "access R_OK", fsys.Faccessat(AtCWD, "/tmp/closed/f", R_OK, 0), 0)
	// Only the owner changes modes and sets times.
	wantErr(t, "chmod root's file", fsys.Fchmodat(AtCWD, "/dev/null", 0o600, 0), EROFS)
	wantErr(t, "utimens now on a 0400 file", fsys.Utimensat(AtCWD, "/tmp/closed/f", nil, 0), 0) // the owner
	// An explicit time on a file not owned: EPERM. Make one owned by root.
	n, _ := fsys.lookupAt(AtCWD, "/tmp/closed/f", true, false)
	n.uid = 0
	n.mode = S_IFREG | 0o666
	wantErr(t, "utimens explicit, not owner", fsys.Utimensat(AtCWD, "/tmp/closed/f", &[2]Timespec{{1, 0}, {2, 0}}, 0), EPERM)
	wantErr(t, "utimens now, writable", fsys.Utimensat(AtCWD, "/tmp/closed/f", nil, 0), 0)
	n.mode = S_IFREG | 0o644
	wantErr(t, "utimens now, not writable", fsys.Utimensat(AtCWD, "/tmp/closed/f", nil, 0), EACCES)
	wantErr(t, "chmod, not owner", fsys.Fchmodat(AtCWD, "/tmp/closed/f", 0o600, 0), EPERM)
	wantErr(t, "link, not owner, not readable and writable", fsys.Linkat(AtCWD, "/tmp/closed/f", AtCWD, "/tmp/l", 0), EPERM)
	wantErr(t, "AT_EMPTY_PATH link needs root", fsys.Linkat(AtCWD, "", AtCWD, "/tmp/l", AT_EMPTY_PATH), ENOENT)
	// The sticky /tmp (root's): others' files stay.
	must(t, fsys.Fchmodat(AtCWD, "/tmp/closed", 0o700, 0))
	writeFile(t, fsys, "/tmp/theirs", "x")
	n, _ = fsys.lookupAt(AtCWD, "/tmp/theirs", true, false)
	n.uid = 0
	wantErr(t, "unlink another's file in /tmp", fsys.Unlinkat(AtCWD, "/tmp/theirs", 0), EPERM)
	wantErr(t, "rename another's file in /tmp", fsys.Renameat2(AtCWD, "/tmp/theirs", AtCWD, "/tmp/mine", 0), EPERM)
	must(t, fsys.Unlinkat(AtCWD, "/tmp/closed/f", 0)) // the directory is ours
	// Executing needs an x bit, for root too.
	root0 := newFS(t, Config{})
	wantErr(t, "root X_OK on 0644", root0.Faccessat(AtCWD, "/work/pkg/a.go", X_OK, 0), EACCES)
	wantErr(t, "root R_OK|W_OK on 0000", root0.Faccessat(AtCWD, "/work/pkg/testdata/secret", R_OK, 0), 0)
}

// Set-group-ID directories hand their group down, and a file's
// set-user-ID bit goes when someone without privileges writes it.
func TestSetID(t *testing.T) {
	fsys := newFS(t, Config{UID: 1000, GID: 1000})
	must(t, fsys.Mkdirat(AtCWD, "/tmp/g", 0o755))
	must(t, fsys.Fchmodat(AtCWD, "/tmp/g", 0o2775, 0))
	g, _ := fsys.lookupAt(AtCWD, "/tmp/g", true, false)
	g.gid = 50
	must(t, fsys.Mkdirat(AtCWD, "/tmp/g/sub", 0o755))
	st, _ := fsys.Fstatat(AtCWD, "/tmp/g/sub", 0)
	if st.GID != 50 || st.Mode&S_ISGID == 0 {
		t.Errorf("subdirectory: gid %d mode %#o", st.GID, st.Mode)
	}
	h := open(t, fsys, "/tmp/g/f", O_CREAT|O_RDWR, 0o6775)
	st, _ = fsys.Fstat(h)
	if st.GID != 50 || st.Mode&S_ISGID != 0 || st.Mode&S_ISUID == 0 {
		t.Errorf("file: gid %d mode %#o (set-group-ID dropped: not our group)", st.GID, st.Mode)
	}
	fsys.Write(h, []byte("x"))
	st, _ = fsys.Fstat(h)
	if st.Mode&S_ISUID != 0 {
		t.Errorf("set-user-ID kept after a write: %#o", st.Mode)
	}
	fsys.Close(h)
}
