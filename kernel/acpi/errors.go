package acpi

import (
	"errors"
	"strconv"
)

// The kinds of error the package returns; every error is an *Error whose
// Unwrap gives one of them, so callers and tests can tell them apart with
// errors.Is while the message says where and what.
var (
	ErrNotFound      = errors.New("not found")
	ErrChecksum      = errors.New("checksum mismatch")
	ErrSignature     = errors.New("wrong signature")
	ErrTruncated     = errors.New("truncated")
	ErrOutsideMemory = errors.New("outside memory")
	ErrBadEntry      = errors.New("bad MADT entry")
	ErrDuplicateID   = errors.New("duplicate APIC ID")
)

// An Error is what went wrong, where: "acpi: RSDP checksum mismatch at
// 0xf5a20". Its messages are built with strconv alone, so that finding the
// tables needs neither fmt nor reflection.
type Error struct {
	Kind error // one of the Err* values above
	msg  string
}

func (e *Error) Error() string { return "acpi: " + e.msg }
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, parts ...string) *Error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return &Error{Kind: kind, msg: string(b)}
}

// hex formats v as 0x..., as addresses are written in the ACPI and Intel
// manuals and in Linux's log.
func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

func dec(v uint64) string { return strconv.FormatUint(v, 10) }
