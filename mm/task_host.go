//go:build !hurdvm

package mm

import "errors"

// On the host there is no kernel to switch page tables: tasks exist only
// in the kernel (tests/tasks). The host tests drive AddressSpace.ForkInto
// and Destroy directly.
var errNoKernel = errors.New("mm: tasks need the hurdvm kernel")

func taskNew(parent int32) (int32, error)    { return 0, errNoKernel }
func taskEnter(id int32) error               { return errNoKernel }
func taskDestroy(id int32) error             { return errNoKernel }
func taskStats(id int32) (SpaceStats, error) { return SpaceStats{}, errNoKernel }
func taskLastFault() (FaultRecord, bool)     { return FaultRecord{}, false }
