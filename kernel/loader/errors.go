package loader

import (
	"errors"
	"strconv"
	"strings"
)

// The kinds of error Load, Apply and Stack return. Every error is an
// *Error whose Unwrap gives one of them, so that callers and tests tell
// them apart with errors.Is while the message says what and where:
// "loader: PT_INTERP /lib64/ld-linux-x86-64.so.2: dynamically linked
// programs are not supported; build with CGO_ENABLED=0".
var (
	ErrNotELF    = errors.New("not an ELF file")
	ErrClass     = errors.New("not a little-endian ELF64 file")
	ErrMachine   = errors.New("not an x86-64 program")
	ErrType      = errors.New("not an executable")
	ErrDynamic   = errors.New("dynamically linked")
	ErrHeader    = errors.New("bad ELF header")
	ErrTruncated = errors.New("truncated file")
	ErrNoLoad    = errors.New("no loadable segment")
	ErrAlign     = errors.New("misaligned segment")
	ErrSize      = errors.New("bad segment size")
	ErrRange     = errors.New("address out of range")
	ErrOverlap   = errors.New("overlapping segments")
	ErrEntry     = errors.New("bad entry point")
	ErrWX        = errors.New("writable and executable segment")
	ErrArgs      = errors.New("bad arguments or environment")
	ErrStack     = errors.New("bad stack")
	ErrMemory    = errors.New("memory refused")
)

// An Error is what went wrong, where. Its messages are built with strconv
// alone: the kernel's loader needs neither fmt nor reflection.
type Error struct {
	Kind error // one of the Err* values above
	msg  string
	err  error // the Memory's or the reader's own error, if any
}

func (e *Error) Error() string {
	if e.err != nil {
		return "loader: " + e.msg + ": " + e.err.Error()
	}
	return "loader: " + e.msg
}

// Unwrap gives the kind and, for ErrMemory and ErrTruncated, the error of
// the Memory or the reader underneath.
func (e *Error) Unwrap() []error {
	if e.err != nil {
		return []error{e.Kind, e.err}
	}
	return []error{e.Kind}
}

func newError(kind error, parts ...string) *Error {
	return &Error{Kind: kind, msg: strings.Join(parts, "")}
}

// wrapError is newError with the error underneath (the Memory's, the
// reader's).
func wrapError(kind, err error, parts ...string) *Error {
	e := newError(kind, parts...)
	e.err = err
	return e
}

// hex formats v as 0x..., as readelf and Linux's messages write addresses.
func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

func dec(v uint64) string { return strconv.FormatUint(v, 10) }
