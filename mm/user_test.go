package mm

import (
	"testing"

	"hurdvm/paging"
)

// A process's space (AddressSpace.User, issue 17): every page its regions
// map carries U/S, whichever way it was mapped (a demand fault, map_now's
// huge pages, a page brought back from the pager's store), and keeps it
// through Protect; a task of Go code in ring 0 never gets it.
func TestUserSpacePagesCarryUS(t *testing.T) {
	m := newTestMachine(t, 64<<20)
	m.withStore(16 << 20)
	user, task := m.space(), m.space()
	user.User = true
	us := func(as *AddressSpace, va uintptr) bool {
		t.Helper()
		_, f, _, ok := as.PT.Translate(va)
		if !ok {
			t.Fatalf("%#x not mapped", va)
		}
		return f&paging.User != 0
	}
	for _, c := range []struct {
		as   *AddressSpace
		want bool
	}{{user, true}, {task, false}} {
		a := mustAllocate(t, c.as, 0, 4*PageSize, 0, false)
		m.write(c.as, a, 1)
		huge := mustAllocate(t, c.as, 0, paging.HugePageSize, 0, true)
		if err := c.as.Protect(a, PageSize, ProtRead); err != nil {
			t.Fatal(err)
		}
		m.write(c.as, a+PageSize, 2)
		if c.as.Evict(a+PageSize) != EvictDone {
			t.Fatal("the page was not evicted")
		}
		if m.read(c.as, a+PageSize) != 2 {
			t.Fatal("the evicted page came back different")
		}
		for _, va := range []uintptr{a, a + PageSize, huge, huge + paging.HugePageSize - PageSize} {
			if got := us(c.as, va); got != c.want {
				t.Errorf("user space %v: the page at %#x has U/S %v", c.as.User, va, got)
			}
		}
	}
	// Create makes a space anew: not a process's until the kernel says so.
	user.Destroy()
	if err := user.Create(testWindowStart, testWindowEnd); err != nil {
		t.Fatal(err)
	}
	if user.User {
		t.Error("Create left User set")
	}
}
