//go:build hurdvm

package pressure

import (
	"os"
	"testing"

	"hurdvm/kernel"
)

// TestMain turns the pager off: these tests are about what happens when
// memory runs out, which the pager would otherwise put off (tests/pager
// covers memory with the pager on).
func TestMain(m *testing.M) {
	kernel.SetStoreCapacity(0)
	os.Exit(m.Run())
}
