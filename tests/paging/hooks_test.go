//go:build hurdvm && !hurdvmtest

package paging

import (
	"fmt"
	"os"
	"testing"
)

// This package inspects the kernel through its test hooks, which only the
// build tag hurdvmtest builds in (make test-qemu passes it): say so rather
// than report no tests.
func TestMain(m *testing.M) {
	fmt.Println("paging: build with -tags hurdvm,hurdvmtest: the test uses the kernel's test hooks (kernel/testhooks.go)")
	os.Exit(1)
}
