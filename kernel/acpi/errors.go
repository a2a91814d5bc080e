package acpi

import "errors"

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
// 0xf5a20". The exported functions return it; it is a Fault (the value the
// package's walk works with) given its message.
type Error struct {
	Kind error // one of the Err* values above
	msg  string
}

func (e *Error) Error() string { return "acpi: " + e.msg }
func (e *Error) Unwrap() error { return e.Kind }
