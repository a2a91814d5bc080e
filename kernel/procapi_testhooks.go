//go:build hurdvm && hurdvmtest

package kernel

import "sync/atomic"

// ExecsEnded is how many execve calls of processes have been cut short by
// their process's end since boot: posted (not yet taken by the exec
// server), taken (the server loading), failed (its answer not yet seen)
// and committed (the other threads ending, the new image not yet run).
func ExecsEnded() (posted, taken, failed, committed uint64) {
	return atomic.LoadUint64(&execsEnded[execPosted]), atomic.LoadUint64(&execsEnded[execTaken]),
		atomic.LoadUint64(&execsEnded[execFailed]), atomic.LoadUint64(&execsEnded[execCommitted])
}
