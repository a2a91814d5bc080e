//go:build hurdvm

package mm

import (
	"syscall"
	"unsafe"
)

// The kernel answers the task calls with the slot number, or the Errno
// with its top bit set.
const taskErrBit = 1 << 63

func taskResult(r uintptr) (int32, error) {
	if r&taskErrBit != 0 {
		return 0, Errno(r &^ taskErrBit)
	}
	return int32(r), nil
}

func taskNew(parent int32) (int32, error) {
	r, _, _ := syscall.RawSyscall(SysTaskNew, uintptr(int64(parent)), 0, 0)
	return taskResult(r)
}

func taskEnter(id int32) error {
	r, _, _ := syscall.RawSyscall(SysTaskEnter, uintptr(id), 0, 0)
	_, err := taskResult(r)
	return err
}

func taskDestroy(id int32) error {
	r, _, _ := syscall.RawSyscall(SysTaskDestroy, uintptr(id), 0, 0)
	_, err := taskResult(r)
	return err
}

func taskStats(id int32) (SpaceStats, error) {
	var st SpaceStats
	r, _, _ := syscall.RawSyscall(SysTaskStats, uintptr(id), uintptr(unsafe.Pointer(&st)), unsafe.Sizeof(st))
	_, err := taskResult(r)
	return st, err
}

func taskLastFault() (FaultRecord, bool) {
	var f FaultRecord
	r, _, _ := syscall.RawSyscall(SysTaskFault, uintptr(unsafe.Pointer(&f)), unsafe.Sizeof(f), 0)
	return f, r == 1
}
