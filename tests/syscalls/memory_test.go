package syscalls

// mmap, munmap, madvise, mprotect and mincore. Linux's side is
// mm/mmap.c (do_mmap, get_unmapped_area, do_vmi_munmap), mm/madvise.c,
// mm/mprotect.c, mm/mincore.c and arch/x86/kernel/sys_x86_64.c.

import (
	"syscall"
	"unsafe"

	"hurdvm/tests/internal/probe"
)

const (
	mapShared         = syscall.MAP_SHARED
	mapPrivate        = syscall.MAP_PRIVATE
	mapSharedValidate = 0x3
	mapFixed          = syscall.MAP_FIXED
	mapAnon           = syscall.MAP_ANONYMOUS
	map32Bit          = syscall.MAP_32BIT
	mapGrowsdown      = syscall.MAP_GROWSDOWN
	mapPopulate       = syscall.MAP_POPULATE
	mapHugetlb        = syscall.MAP_HUGETLB
	mapFixedNoreplace = 0x100000
	rw                = syscall.PROT_READ | syscall.PROT_WRITE
	anon              = mapPrivate | mapAnon
)

func mmap(addr, length, prot, flags, fd, off uintptr) (uintptr, syscall.Errno) {
	return sys(syscall.SYS_MMAP, addr, length, prot, flags, fd, off)
}

// mapStatus maps length bytes as asked, says how it went and unmaps them.
func mapStatus(addr, length, prot, flags uintptr) string {
	return mapThen(addr, length, prot, flags, func(a uintptr) string { return "ok" })
}

// mapThen maps length bytes as asked and, when that worked, answers
// "ok" and what more says about the mapping at a; then unmaps it.
func mapThen(addr, length, prot, flags uintptr, more func(a uintptr) string) string {
	a, e := mmap(addr, length, prot, flags, ^uintptr(0), 0)
	if e != 0 {
		return errnoName(e)
	}
	defer sys(syscall.SYS_MUNMAP, a, length)
	if a%pageSize != 0 {
		return "misaligned"
	}
	return more(a)
}

// faults reports whether touching a (a write, or a read) faults.
func faults(a uintptr, write bool) bool {
	_, f := probe.Fault(func() {
		if write {
			*(*byte)(mem(a)) = 1
		} else {
			sink += *(*byte)(mem(a))
		}
	})
	return f
}

var sink byte

func allZero(a, n uintptr) bool {
	for _, b := range unsafe.Slice((*byte)(mem(a)), n) {
		if b != 0 {
			return false
		}
	}
	return true
}

func memoryRows() []row {
	const page = pageSize
	rows := []row{
		{name: "mmap/anon-private", want: "ok", call: func() string { return mapStatus(0, page, rw, anon) }},
		{name: "mmap/anon-shared", want: "ok", call: func() string { return mapStatus(0, page, rw, mapShared|mapAnon) }},
		{name: "mmap/prot-none", want: "ok", call: func() string { return mapStatus(0, page, 0, anon) }},
		{name: "mmap/zero-filled", want: "ok,zero", call: func() string {
			return mapThen(0, 4*page, rw, anon, func(a uintptr) string { return join("ok", check("zero", allZero(a, 4*page))) })
		}},
		{name: "mmap/len-0", want: "EINVAL", call: func() string { return mapStatus(0, 0, rw, anon) }},
		// PAGE_ALIGN(len) overflows to 0 (do_mmap: ENOMEM).
		{name: "mmap/len-max", want: "ENOMEM", call: func() string { return mapStatus(0, ^uintptr(0), rw, anon) }},
		{name: "mmap/len-128TiB", want: "ENOMEM", call: func() string { return mapStatus(0, 1<<47, rw, anon) }},
		{name: "mmap/not-anonymous-fd-minus-1", want: "EBADF", call: func() string {
			return status(mmap(0, page, syscall.PROT_READ, mapPrivate, ^uintptr(0), 0))
		}},
		// An eventfd has no mmap operation (do_mmap: ENODEV).
		{name: "mmap/not-anonymous-eventfd", want: "ENODEV", call: onEventFD(0, efdNonblock, func(fd uintptr) string {
			return status(mmap(0, page, syscall.PROT_READ, mapPrivate, fd, 0))
		})},
		{name: "mmap/neither-private-nor-shared", want: "EINVAL", call: func() string { return mapStatus(0, page, rw, mapAnon) }},
		{name: "mmap/shared-validate-anon", want: "EINVAL", call: func() string { return mapStatus(0, page, rw, mapSharedValidate|mapAnon) }},
		{name: "mmap/prot-0xff", want: "ok", call: func() string { return mapStatus(0, page, 0xff, anon) }},
		{name: "mmap/unknown-flag", want: "ok", call: func() string { return mapStatus(0, page, rw, anon|1<<30) }},
		// sys_mmap: the offset must be page aligned, even for anonymous
		// memory, which ignores it otherwise.
		{name: "mmap/offset-unaligned", want: "EINVAL", call: func() string {
			return status(mmap(0, page, rw, anon, ^uintptr(0), 1))
		}},
		{name: "mmap/hint-unaligned", want: "ok", call: func() string { return mapStatus(0x7000_0000_0123, page, rw, anon) }},
		{name: "mmap/fixed-unaligned", want: "EINVAL", call: func() string {
			return onPages(1, func(a uintptr) string { return mapStatus(a+1, page, rw, anon|mapFixed) })
		}},
		// MAP_FIXED replaces what was there with fresh memory.
		{name: "mmap/fixed-replaces", want: "ok,here,zeroed", call: func() string {
			return onPages(1, func(a uintptr) string {
				poke64(a, 1)
				r, e := mmap(a, page, rw, anon|mapFixed, ^uintptr(0), 0)
				if e != 0 {
					return errnoName(e)
				}
				return join("ok", check("here", r == a), check("zeroed", r == a && peek64(a) == 0))
			})
		}},
		{name: "mmap/fixed-noreplace-occupied", want: "EEXIST", call: func() string {
			return onPages(1, func(a uintptr) string { return mapStatus(a, page, rw, anon|mapFixedNoreplace) })
		}},
		{name: "mmap/fixed-noreplace-free", want: "ok,here", call: func() string {
			a := pageBeforeHole()
			defer unmapPages(a, 1)
			return mapThen(a+page, page, rw, anon|mapFixedNoreplace, func(b uintptr) string { return join("ok", check("here", b == a+page)) })
		}},
		{name: "mmap/fixed/unmapped", want: "ok,here", call: func() string {
			a := unmappedPage()
			return mapThen(a, page, rw, anon|mapFixed, func(b uintptr) string { return join("ok", check("here", b == a)) })
		}},
		// get_unmapped_area: a fixed range past TASK_SIZE.
		{name: "mmap/fixed/kernel", want: "ENOMEM", call: func() string { return mapStatus(kernelHalf, page, rw, anon|mapFixed) }},
		{name: "mmap/fixed/physmap", want: "ENOMEM", call: func() string { return mapStatus(physmapBase, page, rw, anon|mapFixed) }},
		{name: "mmap/fixed/lapic", want: "ok,here", killer: "LAPIC", call: func() string {
			lapicPageFree()
			return mapThen(lapicBase, page, rw, anon|mapFixed, func(b uintptr) string { return join("ok", check("here", b == lapicBase)) })
		}},
		{name: "mmap/32bit", want: "ok,below-2GiB", call: func() string {
			return mapThen(0, page, rw, anon|map32Bit, func(a uintptr) string { return join("ok", check("below-2GiB", a+page <= 1<<31)) })
		}},
		{name: "mmap/hugetlb", want: "ENOMEM", call: func() string { return mapStatus(0, 2<<20, rw, anon|mapHugetlb) }},
		{name: "mmap/growsdown", want: "ok", call: func() string { return mapStatus(0, page, rw, anon|mapGrowsdown) }},
		{name: "mmap/growsdown-shared", want: "EINVAL", call: func() string { return mapStatus(0, page, rw, mapShared|mapAnon|mapGrowsdown) }},
		{name: "mmap/populate", want: "ok", call: func() string { return mapStatus(0, 4*page, rw, anon|mapPopulate) }},

		{name: "munmap/mapped", want: "0,faults", call: func() string {
			a := mapPages(1)
			return join(answer(sys(syscall.SYS_MUNMAP, a, page)), check("faults", faults(a, false)))
		}},
		{name: "munmap/middle", want: "0,middle-faults,neighbours", call: func() string {
			a := mapPages(3)
			defer unmapPages(a, 3)
			r := answer(sys(syscall.SYS_MUNMAP, a+page, page))
			return join(r, check("middle-faults", faults(a+page, true)), check("neighbours", !faults(a, true) && !faults(a+2*page, true)))
		}},
		{name: "munmap/twice", want: "0,then=0", call: func() string {
			a := mapPages(1)
			return join(answer(sys(syscall.SYS_MUNMAP, a, page)), "then="+answer(sys(syscall.SYS_MUNMAP, a, page)))
		}},
		{name: "munmap/unaligned", want: "EINVAL", call: func() string {
			return onPages(1, func(a uintptr) string { return answer(sys(syscall.SYS_MUNMAP, a+1, page)) })
		}},
		{name: "munmap/len-0", want: "EINVAL", call: func() string {
			return onPages(1, func(a uintptr) string { return answer(sys(syscall.SYS_MUNMAP, a, 0)) })
		}},
		{name: "munmap/len-max", want: "EINVAL", call: func() string {
			return onPages(1, func(a uintptr) string { return answer(sys(syscall.SYS_MUNMAP, a, ^uintptr(0))) })
		}},

		{name: "madvise/dontneed", want: "0,zeroed", call: func() string {
			return onPages(1, func(a uintptr) string {
				poke64(a, 1)
				return join(madvise(a, page, 4), check("zeroed", peek64(a) == 0))
			})
		}},
		{name: "madvise/advice-99", want: "EINVAL", call: func() string { return onPages(1, func(a uintptr) string { return madvise(a, page, 99) }) }},
		// The advice is checked before the range.
		{name: "madvise/advice-99-unmapped", want: "EINVAL", call: func() string { return madvise(unmappedPage(), page, 99) }},
		{name: "madvise/unaligned", want: "EINVAL", call: func() string { return onPages(1, func(a uintptr) string { return madvise(a+1, page, 4) }) }},
		{name: "madvise/len-0", want: "0", call: func() string { return onPages(1, func(a uintptr) string { return madvise(a, 0, 4) }) }},
		{name: "madvise/len-max", want: "EINVAL", call: func() string {
			return onPages(1, func(a uintptr) string { return madvise(a, ^uintptr(0), 4) })
		}},
		// A hole in the range is ENOMEM, though the advice is taken for
		// what is mapped (madvise_walk_vmas).
		{name: "madvise/partly-unmapped", want: "ENOMEM", call: func() string {
			a := pageBeforeHole()
			defer unmapPages(a, 1)
			return madvise(a, 2*page, 4)
		}},

		{name: "mprotect/read-only", want: "0,write-faults", call: func() string {
			return onPages(1, func(a uintptr) string {
				return join(mprotect(a, page, syscall.PROT_READ), check("write-faults", faults(a, true)))
			})
		}},
		{name: "mprotect/none", want: "0,read-faults", call: func() string {
			return onPages(1, func(a uintptr) string { return join(mprotect(a, page, 0), check("read-faults", faults(a, false))) })
		}},
		{name: "mprotect/back-to-read-write", want: "0,then=0,writable", call: func() string {
			return onPages(1, func(a uintptr) string {
				return join(mprotect(a, page, 0), "then="+mprotect(a, page, rw), check("writable", !faults(a, true)))
			})
		}},
		{name: "mprotect/unaligned", want: "EINVAL", call: func() string { return onPages(1, func(a uintptr) string { return mprotect(a+1, page, rw) }) }},
		{name: "mprotect/len-0", want: "0", call: func() string { return onPages(1, func(a uintptr) string { return mprotect(a, 0, rw) }) }},
		{name: "mprotect/prot-0xff", want: "EINVAL", call: func() string { return onPages(1, func(a uintptr) string { return mprotect(a, page, 0xff) }) }},
		{name: "mprotect/grows-both-ways", want: "EINVAL", call: func() string {
			return onPages(1, func(a uintptr) string { return mprotect(a, page, rw|syscall.PROT_GROWSDOWN|syscall.PROT_GROWSUP) })
		}},
		{name: "mprotect/partly-unmapped", want: "ENOMEM", call: func() string {
			a := pageBeforeHole()
			defer unmapPages(a, 1)
			return mprotect(a, 2*page, syscall.PROT_READ)
		}},

		{name: "mincore/touched", want: "0,resident=1", call: func() string {
			return onPages(1, func(a uintptr) string {
				poke64(a, 1)
				return mincore(a, page)
			})
		}},
		{name: "mincore/untouched", want: "0,resident=0", call: func() string { return onPages(1, func(a uintptr) string { return mincore(a, page) }) }},
		{name: "mincore/unaligned", want: "EINVAL", call: func() string { return onPages(1, func(a uintptr) string { return mincore(a+1, page) }) }},
		{name: "mincore/len-0", want: "0,resident=0", call: func() string { return onPages(1, func(a uintptr) string { return mincore(a, 0) }) }},
		{name: "mincore/partly-unmapped", want: "ENOMEM", call: func() string {
			a := pageBeforeHole()
			defer unmapPages(a, 1)
			return mincore(a, 2*page)
		}},
		// The range is checked against the user half first: ENOMEM, not
		// EFAULT (mincore).
		{name: "mincore/kernel-range", want: "ENOMEM", call: func() string { return mincore(kernelHalf, page) }},
	}
	for _, advice := range []struct {
		name  string
		value uintptr
	}{{"normal", 0}, {"random", 1}, {"sequential", 2}, {"willneed", 3}, {"free", 8}, {"dontfork", 10},
		{"hugepage", 14}, {"nohugepage", 15}, {"cold", 20}, {"pageout", 21}} {
		rows = append(rows, row{name: "madvise/" + advice.name, want: "0", call: func() string {
			return onPages(1, func(a uintptr) string { return madvise(a, page, advice.value) })
		}})
	}
	rows = append(rows, pointerRows("munmap", reads, answers{"kernel": "EINVAL", "physmap": "EINVAL", "": "0"}, func(p uintptr) string {
		return answer(sys(syscall.SYS_MUNMAP, p, page))
	})...)
	rows = append(rows, pointerRows("madvise", reads, answers{"": "ENOMEM"}, func(p uintptr) string { return madvise(p, page, 4) })...)
	rows = append(rows, pointerRows("mprotect", reads, answers{"": "ENOMEM"}, func(p uintptr) string { return mprotect(p, page, rw) })...)
	rows = append(rows, pointerRows("mincore/vec", writes, efault, func(p uintptr) string {
		return onPages(1, func(a uintptr) string { return answer(sys(syscall.SYS_MINCORE, a, page, p)) })
	})...)
	return rows
}

// onPages maps n pages, runs f on them and unmaps them.
func onPages(n int, f func(a uintptr) string) string {
	a := mapPages(n)
	defer unmapPages(a, n)
	return f(a)
}

func madvise(a, n, advice uintptr) string { return answer(sys(syscall.SYS_MADVISE, a, n, advice)) }
func mprotect(a, n, prot uintptr) string  { return answer(sys(syscall.SYS_MPROTECT, a, n, prot)) }

// mincore answers, and for success the residency of the first page.
func mincore(a, n uintptr) string {
	vec := scratch() + scratchVec
	poke64(vec, 0)
	r, e := sys(syscall.SYS_MINCORE, a, n, vec)
	if e != 0 {
		return errnoName(e)
	}
	return join(answer(r, e), fact("resident", peek64(vec)&1))
}
