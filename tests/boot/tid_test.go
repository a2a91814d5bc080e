//go:build hurdvm

package boot

import "syscall"

func gettid() int { return syscall.Gettid() }
