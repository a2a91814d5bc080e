//go:build hurdvm

// The ACPI window: the pages of firmware memory the ACPI tables lie in,
// mapped read-only for the time CPU discovery (cpus.go, in kmain) reads
// them, then unmapped. Handler context: kmain calls acpiWindowMap and
// acpiWindowClose directly, before the runtime and the other CPUs run. Two
// system calls of hurdvm's own answer EPERM after that (a test checks the
// window is closed).
//
// The physmap maps RAM only (memoryInit): the usable ranges, the RAM the
// firmware keeps for ACPI (reclaimable and NVS) and the first MiB. That is
// where OVMF puts its tables, but SeaBIOS puts them at the top of RAM in a
// range its map calls reserved, which a kernel must not map wholesale
// (reserved ranges may be device registers). So the window maps exactly
// the pages the ACPI parser asks for (the RSDT or XSDT, the header of each
// table it lists until the MADT, the MADT) at their usual physmap address,
// physmapBase + pa, where the parser's reads then land whether the page was
// RAM already or not. Only pages the physmap lacks are mapped, 4 KiB each,
// read-only, not executable, not global, and write-back in the page
// tables: the effective memory type is then what the firmware's MTRRs say
// of the range, uncached where they make device memory uncached, so a
// wrong address in a table reads a device's memory type as the firmware
// set it. The window closes once discovery is done: later calls are EPERM,
// so nothing maps firmware memory after boot.
//
// Discovery runs before the other CPUs are started (their start needs what
// it finds), so invalidating the TLB of the CPU making the call is enough.

package kernel

import "hurdvm/paging"

// The window's system calls (hurdvm's own numbers).
const (
	sysACPIMap   = 0x48560050 // a0 physical address, a1 length: readable at physmapBase+a0, or -errno
	sysACPIClose = 0x48560051 // unmaps the window's pages for good; returns how many there were
)

// maxACPIPages bounds the window: QEMU's tables take 2 pages under
// SeaBIOS; a PC's RSDT, MADT and the headers of a few dozen tables fit.
const maxACPIPages = 64

var (
	acpiPages   [maxACPIPages]uint64 // the pages the window mapped
	acpiPageLen int
	acpiClosed  bool
)

// acpiWindowCall answers the window's system calls. Discovery runs in
// kmain and closes the window there (acpiWindowMap, acpiWindowClose), so
// once a program runs they are EPERM: nothing maps firmware memory after
// boot.
func acpiWindowCall(nr, a0, a1 uint64) uint64 {
	if nr == sysACPIClose {
		return acpiWindowClose()
	}
	return acpiWindowMap(a0, a1)
}

// acpiWindowClose unmaps the window's pages for good and returns how many
// there were (EPERM when it was closed already).
func acpiWindowClose() uint64 {
	if acpiClosed {
		return errno(ePERM)
	}
	for _, pa := range acpiPages[:acpiPageLen] {
		// 4 KiB pages mapped as such: Unmap splits nothing, so it
		// needs no frame and cannot fail.
		kernelPT.Unmap(uintptr(physmapBase+pa), pageSize, nil)
	}
	n := acpiPageLen
	acpiPageLen, acpiClosed = 0, true
	return uint64(n)
}

// acpiWindowMap makes [pa, pa+n) readable at physmapBase+pa: 0, or -errno.
func acpiWindowMap(pa, n uint64) uint64 {
	if acpiClosed {
		return errno(ePERM)
	}
	end := pa + n
	// Only inside the physmap's slots, which every address space shares.
	if n == 0 || end < pa || end > uint64(physmapSlots)<<39 {
		return errno(eINVAL)
	}
	nx := paging.Flags(0)
	if cpuFeatures.nx {
		nx = paging.NoExecute
	}
	for p := pa &^ (pageSize - 1); p < end; p += pageSize {
		if _, _, _, ok := kernelPT.Translate(uintptr(physmapBase + p)); ok {
			continue // RAM, or a page mapped already
		}
		if acpiPageLen == len(acpiPages) {
			return errno(eNOMEM)
		}
		if kernelPT.Map(uintptr(physmapBase+p), p, pageSize, nx) != nil {
			return errno(eNOMEM) // no frame for a table
		}
		acpiPages[acpiPageLen] = p
		acpiPageLen++
	}
	return 0
}
