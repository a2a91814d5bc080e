//go:build hurdvm && hurdvmtest

// A test hook for processes' files (testhooks.go says what test hooks
// are). Ordinary Go.

package kernel

// FileServerHandles is how many handles the file server had open when it
// last went for work: every open file of every program (the kernel's and
// the processes'), pipe ends included.
func FileServerHandles() int64 { return fileOpenHandles.Load() }
