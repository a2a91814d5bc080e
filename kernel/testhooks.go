//go:build hurdvm && hurdvmtest

// Inspection and test hooks, built only into test kernels (the build tag
// hurdvmtest, which make test-qemu passes; never in a kernel booted for
// real): Go code of the in-kernel tests can read translations, take and
// free frames behind the VM's back, read the boot memory map, and break
// the kernel on purpose to see its panics. Each call enters the kernel
// through a system call of its own, so that it runs serialized with the
// page-fault handler in handler context, like the VM's own calls.

package kernel

import (
	"syscall"
	"time"
	"unsafe"

	"hurdvm/kernel/memmap"
	"hurdvm/mm"
)

const (
	// sysBreakKernel breaks the kernel on purpose, so tests can see its
	// panics: a1 = 0, a write to an unmapped kernel address in handler
	// context; 1, the next page fault faults again inside its handler;
	// 2, a reserved bit in the page-table entry of a0; 3, exception
	// vector a0 raised as if by the calling code (at the caller's RIP).
	sysBreakKernel = 0x48560001

	sysInspectTranslate  = 0x48560030 // a0 va, a1 *translation
	sysInspectFrameAlloc = 0x48560031 // a0 order; returns pa or 1<<63|errno
	sysInspectFrameFree  = 0x48560032 // a0 pa, a1 order
	sysInspectFrameStats = 0x48560033 // a0 *mm.FrameStats
	sysInspectLocks      = 0x48560034 // a0 *LockStats
	sysStoreCapacity     = 0x48560035 // a0 new capacity in bytes; returns the old one
	sysEvictTask         = 0x48560036 // a0 task slot, a1 slot+1 of a space whose lock to hold meanwhile (0: none); returns the pages evicted
	sysPagerMarks        = 0x48560037 // a0 new low-water mark in frames (0: the boot's, ^0: unchanged); returns the old one, the high mark in a1's word
	sysPagerPolling      = 0x48560038 // a0 1: wake-on-demand off (the pager polls), 0: on, 2: unchanged; returns the old setting, the wakes by a note in a1's word
)

// SetPagerPolling turns the pager's wake-on-demand off (on: the goroutine
// polls the free frames every 10 ms, or 100 ms while they are plentiful,
// as before wake-on-demand) or back on, and returns the old setting: tests
// show what waking on demand changes.
func SetPagerPolling(on bool) bool {
	a0 := uintptr(0)
	if on {
		a0 = 1
	}
	var w PagerWake
	r, _, _ := syscall.RawSyscall(sysPagerPolling, a0, uintptr(unsafe.Pointer(&w)), 0)
	return r != 0
}

// PagerWake says how the pager's goroutine woke: Wakes counts the times a
// fault or a memory call that found free frames below the low-water mark
// woke it; Latency is the time from the last such fault (while the
// goroutine slept, woken by it or polling) to the goroutine's first look
// at the free frames after it, LatencyMax the longest since boot; Looks
// counts the latencies measured.
type PagerWake struct {
	Wakes, Looks        uint64
	Latency, LatencyMax time.Duration
}

// PagerWakes returns the pager's wake counters.
func PagerWakes() PagerWake {
	var w PagerWake
	syscall.RawSyscall(sysPagerPolling, 2, uintptr(unsafe.Pointer(&w)), 0)
	return w
}

// SetPagerLow moves the pager's low-water mark to low free frames (its
// high-water mark follows, as far above as at boot; 0: the boot's marks)
// and returns the old one. Above the machine's free memory, the pager
// acts as on a machine with none to spare: it keeps evicting every task
// page that stays unused for a lap of its clock (tests/stress, so that
// eviction happens in every round of the differential tester).
func SetPagerLow(low uint64) uint64 {
	var high uint64
	r, _, _ := syscall.RawSyscall(sysPagerMarks, uintptr(low), uintptr(unsafe.Pointer(&high)), 0)
	return uint64(r)
}

// PagerMarks returns the pager's water marks, in free frames: below low
// the pager starts, at high it stops.
func PagerMarks() (low, high uint64) {
	r, _, _ := syscall.RawSyscall(sysPagerMarks, ^uintptr(0), uintptr(unsafe.Pointer(&high)), 0)
	return uint64(r), high
}

// EvictTask evicts every resident 4 KiB page of task slot id that the
// pager can take (not those shared copy-on-write), whatever their Accessed
// bits, and returns how many went: tests of evicted pages need not wait
// for memory to run short.
func EvictTask(id int32) int {
	r, _, _ := syscall.RawSyscall(sysEvictTask, uintptr(id), 0, 0)
	return int(r)
}

// EvictTaskHolding is EvictTask while the calling CPU holds task slot
// hold's lock, as a CPU does when the file server's copy out of that
// space's frame faults in another space and its reclaim evicts there: a
// frame that space shares must stay (the copy may be reading it).
func EvictTaskHolding(id, hold int32) int {
	r, _, _ := syscall.RawSyscall(sysEvictTask, uintptr(id), uintptr(hold)+1, 0)
	return int(r)
}

// SetStoreCapacity sets the pager's store capacity (uncompressed bytes; 0:
// the pager is off, nothing is evicted) and returns the old one: tests that
// want memory to run out as it did before the pager (tests/pressure) turn
// it off, and put it back.
func SetStoreCapacity(bytes uint64) uint64 {
	r, _, _ := syscall.RawSyscall(sysStoreCapacity, uintptr(bytes), 0, 0)
	return uint64(r)
}

// LockStats are the counters of the VM's locks (docs/DESIGN.md,
// "Locking"), for tests that check who waited for whom.
type LockStats struct {
	// SpaceWaits[i] counts the times a CPU found address space i's lock
	// held by another CPU (0 is the kernel task's).
	SpaceWaits [maxSpaces]uint64
	// FramesContended counts the times a CPU found the frame
	// allocator's lists' lock taken; CacheContended, a CPU's cache's.
	FramesContended, CacheContended uint64
	// FaultsLocked counts the page faults that took the kernel lock
	// (those the VM did not resolve).
	FaultsLocked uint64
	CPUs         int
}

// Locks returns the lock counters.
func Locks() LockStats {
	var s LockStats
	syscall.RawSyscall(sysInspectLocks, uintptr(unsafe.Pointer(&s)), 0, 0)
	return s
}

// PhysmapBase is where physical address 0 is visible.
const PhysmapBase = physmapBase

// Translation is what the current address space maps at a virtual address.
type Translation struct {
	Phys     uint64
	Flags    uint64 // page-table entry bits (paging.Entry)
	PageSize uintptr
	Mapped   bool
}

// Translate looks va up in the calling thread's page tables.
func Translate(va uintptr) Translation {
	var t Translation
	syscall.RawSyscall(sysInspectTranslate, va, uintptr(unsafe.Pointer(&t)), 0)
	return t
}

// AllocFrames takes a block of 2^order frames from the frame allocator,
// leaving the frames reserved for the Go runtime's heap (ENOMEM then).
func AllocFrames(order int) (uint64, error) {
	r, _, _ := syscall.RawSyscall(sysInspectFrameAlloc, uintptr(order), 0, 0)
	if r&(1<<63) != 0 {
		return 0, frameError(r &^ (1 << 63))
	}
	return uint64(r), nil
}

// FreeFrames gives back a block AllocFrames handed out.
func FreeFrames(pa uint64, order int) error {
	r, _, _ := syscall.RawSyscall(sysInspectFrameFree, uintptr(pa), uintptr(order), 0)
	if r != 0 {
		return frameError(r)
	}
	return nil
}

// FrameStats returns the frame allocator's counters, after giving the
// frames of the CPUs' caches back to the lists (merged, as they would be
// without the caches).
func FrameStats() mm.FrameStats {
	var s mm.FrameStats
	syscall.RawSyscall(sysInspectFrameStats, uintptr(unsafe.Pointer(&s)), 0, 0)
	return s
}

// MemoryRange is one range of the kernel's memory map.
type MemoryRange struct {
	Base, Length uint64
	Usable       bool
	Kind         memmap.Kind
}

// MemoryMap returns the memory map the kernel goes by: the boot loader's,
// sanitized (sorted, disjoint, usable RAM in whole pages; read-only kernel
// data, made at boot).
func MemoryMap() []MemoryRange {
	out := make([]MemoryRange, memMapLen)
	for i, r := range memMap[:memMapLen] {
		out[i] = MemoryRange{r.Start, r.Len(), r.Kind == memmap.Usable, r.Kind}
	}
	return out
}

// KernelImage is where the kernel's image lies (virtual addresses in the
// top 2 GiB; its frames are at memmap.KernelPhys) and which of its pages
// are demand-zero BSS (lazybss.go).
type KernelImage struct {
	Start, End uint64      // the image, page aligned
	Lazy       [][2]uint64 // the demand-zero ranges, [start, end)
	Modules    [][2]uint64 // the boot modules (qemuexec's archive), [start, end), physical: reserved too
}

// Image returns the image's layout (read-only kernel data, set at boot).
func Image() KernelImage {
	_, _, _, end := imageBounds()
	im := KernelImage{Start: kernelImageBase, End: roundUp(uint64(end), pageSize)}
	for _, r := range lazyBSS[:lazyBSSLen] {
		im.Lazy = append(im.Lazy, [2]uint64{r.start, r.end})
	}
	for _, m := range modules[:moduleLen] {
		im.Modules = append(im.Modules, m)
	}
	return im
}

// Machine is what CPU discovery found at boot (cpus.go; read-only kernel
// data, set in kmain before the runtime starts).
type Machine struct {
	CPUs  []uint32 // the APIC IDs of the CPUs hurdvm may start, the boot CPU's first
	LAPIC uint64   // the local APIC's physical address by the MADT (0 without one)
	ACPI  bool     // the MADT was found
	// Running are the APIC IDs of the CPUs hurdvm started and runs on, by
	// CPU number (the boot CPU is 0; smp.go).
	Running []uint32
	X2APIC  bool // the local APICs run in x2APIC mode (lapic.go)
}

// MachineCPUs returns what CPU discovery found and which CPUs started.
func MachineCPUs() Machine {
	m := Machine{CPUs: append([]uint32(nil), machineCPUs[:machineCPUCount]...), LAPIC: machineLAPIC, ACPI: machineACPI, X2APIC: x2apic}
	for i := int32(0); i < ncpu; i++ {
		m.Running = append(m.Running, cpus[i].apicID)
	}
	return m
}

// MapACPIWindow makes the system call through which CPU discovery mapped
// the ACPI tables' pages (acpiwindow.go); once boot is done it is EPERM.
func MapACPIWindow(pa, n uint64) syscall.Errno {
	_, _, e := syscall.RawSyscall(sysACPIMap, uintptr(pa), uintptr(n), 0)
	return e
}

// frameError carries the allocator's error across the system call: the
// kernel returns an index into frameErrors.
type frameError uintptr

var frameErrors = [...]error{nil, mm.ENOMEM, mm.EINVAL}

func (e frameError) Error() string {
	if int(e) < len(frameErrors) && frameErrors[e] != nil {
		return frameErrors[e].Error()
	}
	return "frame allocator refused the call"
}

func frameErrorCode(err error) uint64 {
	switch err {
	case nil:
		return 0
	case mm.ENOMEM:
		return 1
	}
	return 3 // a misuse the allocator caught (double free, wrong order...)
}

// brokenKernelAddress is never mapped: above the physmap of any RAM.
const brokenKernelAddress = 0xffff_c000_dead_0000

// breakPageFaults makes the page-fault handler fault itself, once.
var breakPageFaults bool

// pageFaultHook runs first in the page-fault handler.
func pageFaultHook(addr uint64) {
	if breakPageFaults {
		breakPageFaults = false
		*(*uint64)(at(brokenKernelAddress)) = addr
	}
}

// testSyscall serves the hooks above in handler context; false for a call
// that is not one of them.
func testSyscall(tf *TrapFrame, nr, a0, a1 uint64, r *uint64) bool {
	switch nr {
	case sysBreakKernel:
		switch a1 {
		case 1:
			breakPageFaults = true
		case 2:
			*r = breakPageTableEntry(a0)
		case 3:
			tf.Vector, tf.ErrorCode = a0, 0
			exception(tf, false)
		default:
			*(*uint64)(at(brokenKernelAddress)) = a0
		}
	case sysInspectTranslate, sysInspectFrameAlloc, sysInspectFrameFree, sysInspectFrameStats, sysInspectLocks:
		*r = inspectSyscall(nr, a0, a1)
	case sysEvictTask:
		*r = 0
		if a0 > kernelSpace && a0 < maxSpaces && a1 <= maxSpaces {
			if a1 != 0 {
				lockSpace(&spaces[a1-1])
			}
			as := &spaces[a0]
			lockSpace(as)
			if as.PT.Live() {
				*r = uint64(as.EvictAll())
			}
			unlockSpace(as)
			if a1 != 0 {
				unlockSpace(&spaces[a1-1])
			}
		}
	case sysPagerMarks:
		if a0 == ^uint64(0) {
			*r = pagerLow.Load()
		} else {
			*r = setPagerLow(a0)
			pagerWakeNow() // free frames may be below the new mark: look now
		}
		high := pagerHigh.Load()
		copyOut(a1, bytesOf(&high))
	case sysPagerPolling:
		*r = 0
		if pagerPolling.Load() {
			*r = 1
		}
		if a0 < 2 {
			setPagerPolling(a0 == 1)
		}
		w := PagerWake{Wakes: pagerWakes.Load(), Looks: pagerLooks.Load(), Latency: time.Duration(pagerLatency.Load()),
			LatencyMax: time.Duration(pagerLatencyMax.Load())}
		copyOut(a1, bytesOf(&w))
	case sysStoreCapacity:
		l := kernelVM.StoreLock()
		l.Lock()
		*r = kernelStore.Stats().Capacity
		kernelStore.SetCapacity(a0)
		l.Unlock()
		kernelVM.SetPager(a0 != 0)
	case sysTestUserBit, sysTestSMAP:
		*r = procTestHook(nr, a0, a1) // proc_testhooks.go
	default:
		return smpTestSyscall(nr, a0, r) // smphooks.go
	}
	return true
}

// breakPageTableEntry sets bit 51 of the entry mapping va in the current
// address space: a reserved bit wherever the CPU has fewer than 52
// physical-address bits (QEMU's CPUs have 40), so the next access to va
// is a page fault with the RSVD error bit.
func breakPageTableEntry(va uint64) uint64 {
	if as := spaceFor(va); as != nil {
		lockSpace(as)
		defer unlockSpace(as)
	}
	pt := &spaces[thr(current()).space].PT
	pa, flags, _, ok := pt.Translate(uintptr(va))
	if !ok {
		return errno(eFAULT)
	}
	if pt.Replace(uintptr(va)&^(pageSize-1), pa&^(pageSize-1)|1<<51, flags) != nil {
		return errno(eNOMEM)
	}
	return 0
}

// inspectSyscall serves the inspection calls.
func inspectSyscall(nr, a0, a1 uint64) uint64 {
	switch nr {
	case sysInspectTranslate:
		pt := &spaces[thr(current()).space].PT
		pa, flags, size, ok := pt.Translate(uintptr(a0))
		t := Translation{Phys: pa, Flags: uint64(flags), PageSize: size, Mapped: ok}
		if !copyOut(a1, bytesOf(&t)) {
			return errno(eFAULT)
		}
		return 0
	case sysInspectFrameAlloc:
		// Like a task's, these frames may not dip into the runtime's reserve.
		if a0 > mm.MaxOrder || frames.Stats().FreeFrames < 1<<a0+runtimeReserve {
			return 1<<63 | frameErrorCode(mm.ENOMEM)
		}
		pa, err := frames.Alloc(int(a0))
		if err != nil {
			return 1<<63 | frameErrorCode(err)
		}
		return uint64(pa)
	case sysInspectFrameFree:
		return frameErrorCode(frames.Free(mm.PhysAddr(a0), int(a1)))
	case sysInspectFrameStats:
		frames.Drain() // the CPUs' caches merged back: FreeByOrder as the lists would be without them
		st := frames.Stats()
		if !copyOut(a0, bytesOf(&st)) {
			return errno(eFAULT)
		}
		return 0
	case sysInspectLocks:
		var st LockStats
		for i := range spaceLocks {
			st.SpaceWaits[i] = spaceLocks[i].waits.Load()
		}
		st.FramesContended, st.CacheContended = frames.Contention()
		st.FaultsLocked = faultsLocked.Load()
		st.CPUs = int(ncpu)
		if !copyOut(a0, bytesOf(&st)) {
			return errno(eFAULT)
		}
		return 0
	}
	return errno(eNOSYS)
}
