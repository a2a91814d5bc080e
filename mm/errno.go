package mm

// Errno is vm.h's error_t. Its values follow the GNU Hurd's encoding of
// error_t: the POSIX number in the low bits with the Hurd's error subsystem
// (0x10) in bits 26 and up, exactly as glibc's <bits/errno.h> for the Hurd
// spells them (_HURD_ERRNO(n) = (0x10 << 26) | n).
//
// Errno values are plain integers, so returning one as an error never
// allocates: the fault and system-call paths may use them.
type Errno uintptr

const hurdErrnoBase = 0x10 << 26

const (
	ENOMEM Errno = hurdErrnoBase | 12 // out of memory (frames or page tables)
	EEXIST Errno = hurdErrnoBase | 17 // VM_HERE range overlaps a region in use
	EINVAL Errno = hurdErrnoBase | 22 // bad address, size or flags
	ENOSPC Errno = hurdErrnoBase | 28 // no free range large enough
)

// Error returns the name and meaning of e, as strerror would.
func (e Errno) Error() string {
	switch e {
	case ENOMEM:
		return "ENOMEM: cannot allocate memory"
	case EEXIST:
		return "EEXIST: region in use"
	case EINVAL:
		return "EINVAL: invalid argument"
	case ENOSPC:
		return "ENOSPC: no space left in the address space"
	}
	return "unknown Hurd error"
}

// ErrnoOf is err as an Errno: err itself when it is one, ENOMEM for the
// errors of the layers below (paging's, the frame allocator's), which the
// VM's calls can only meet for want of frames. No type assertion that can
// panic: handler code uses it.
func ErrnoOf(err error) Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(Errno); ok {
		return e
	}
	return ENOMEM
}
