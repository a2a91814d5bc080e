//go:build hurdvm && !hurdvmtest

package smp

import (
	"fmt"
	"os"
	"testing"
)

// This package counts the CPUs and turns shootdowns off through the
// kernel's test hooks, which only the build tag hurdvmtest builds in (make
// test-qemu passes it): say so rather than report no tests.
func TestMain(m *testing.M) {
	fmt.Println("smp: build with -tags hurdvm,hurdvmtest: the test uses the kernel's test hooks (kernel/smphooks.go)")
	os.Exit(1)
}
