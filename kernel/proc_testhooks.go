//go:build hurdvm && hurdvmtest

// Test hooks for processes (testhooks.go says what test hooks are): they
// switch the mechanisms that keep a process from the kernel, and the
// kernel from a process, off, so that the tests of tests/process can show
// that they fail without them.

package kernel

import (
	"syscall"
	"unsafe"

	"hurdvm/paging"
)

const (
	// sysTestUserBit: a0 an address of the kernel's image, a1 1 to give
	// its page U/S (ring 3 may then read it), 0 to take it away again.
	sysTestUserBit = 0x4856007b
	// sysTestSMAP: a0 1 turns SMAP on, 0 off; returns 1 if it was on.
	// One CPU only (EINVAL otherwise): the others would keep it.
	sysTestSMAP = 0x4856007c
	// sysTestUnbracketed is a process's call: the kernel reads 8 bytes of
	// the process's memory at a0 with userCopy, the copy without STAC, as
	// a kernel bug would. 1: SMAP caught it (the fault path's fix-up
	// stepped over the copy, smapProbeFixup), 0: the kernel read it.
	sysTestUnbracketed = 0x4856007a
)

// probePage is kernel data, mapped as 4 KiB pages (the image's writable
// part is: memory.go), with a known first word: a process that could read
// it would see probeWord.
var probePage = [2 * pageSize]uint64{0: probeWord}

const probeWord = 0x6b65726e656c2121 // "!!lenrek"

// ProbeAddress is the address of a page of the kernel's data that starts
// with ProbeWord, for processes to try to read.
func ProbeAddress() uintptr {
	return (uintptr(unsafe.Pointer(&probePage[0])) + pageSize - 1) &^ (pageSize - 1)
}

func probeIndex() uintptr { return (ProbeAddress() - uintptr(unsafe.Pointer(&probePage[0]))) / 8 }

func init() { probePage[probeIndex()] = probeWord }

// ProbeWord is the first word of the page at ProbeAddress.
const ProbeWord = probeWord

// ProbeValue is the first word of the page at ProbeAddress now.
func ProbeValue() uint64 { return probePage[probeIndex()] }

// SetUserBit gives the page of the kernel's image at va U/S (on) or takes
// it away again: with it, ring 3 may read the page (the mechanism that
// keeps processes out of the kernel, switched off for one page).
func SetUserBit(va uintptr, on bool) error {
	b := uintptr(0)
	if on {
		b = 1
	}
	if _, _, e := syscall.RawSyscall(sysTestUserBit, va, b, 0); e != 0 {
		return e
	}
	return nil
}

// SetSMAP turns SMAP on or off (one CPU) and says whether it was on.
func SetSMAP(on bool) (bool, error) {
	b := uintptr(0)
	if on {
		b = 1
	}
	r, _, e := syscall.RawSyscall(sysTestSMAP, b, 0, 0)
	if e != 0 {
		return false, e
	}
	return r == 1, nil
}

// HasSMAP says whether the CPU has SMAP and it is on.
func HasSMAP() bool { return smapOn }

// smapProbe is set while sysTestUnbracketed copies; smapCaught when the
// fault path stopped it.
var smapProbe, smapCaught bool

// procTestHook serves the two kernel-side hooks.
func procTestHook(nr, a0, a1 uint64) uint64 {
	switch nr {
	case sysTestUserBit:
		_, _, _, end := imageBounds()
		if a0 < kernelImageBase || a0 >= uint64(end) {
			return errno(eINVAL)
		}
		set, clear := paging.User, paging.Flags(0)
		if a1 == 0 {
			set, clear = 0, paging.User
		}
		as := &spaces[kernelSpace]
		lockSpace(as)
		err := kernelPT.Change(uintptr(a0)&^(pageSize-1), pageSize, clear, set)
		kernelPT.SyncTLB()
		unlockSpace(as)
		flushLocal(true)
		if err != nil {
			return errno(eNOMEM)
		}
		return 0
	case sysTestSMAP:
		if ncpu != 1 || !cpuFeatures.smap {
			return errno(eINVAL)
		}
		was := uint64(0)
		if smapOn {
			was = 1
		}
		if a0 != 0 {
			smapOn = true
			writeCR4(readCR4() | cr4SMAP)
		} else {
			writeCR4(readCR4() &^ cr4SMAP)
			smapOn = false
		}
		return was
	}
	return errno(eNOSYS)
}

// procTestSyscall serves sysTestUnbracketed for a process.
func procTestSyscall(nr, a0 uint64, r *uint64) bool {
	if nr != sysTestUnbracketed {
		return false
	}
	if !procRange(a0, 8) {
		*r = errno(eFAULT)
		return true
	}
	var v uint64
	smapProbe, smapCaught = true, false
	left := userCopy(uintptr(unsafe.Pointer(&v)), uintptr(a0), 8)
	smapProbe = false
	switch {
	case smapCaught:
		*r = 1
	case left != 0:
		*r = errno(eFAULT)
	default:
		*r = 0
	}
	return true
}

// smapProbeFixup is the fault path's part of sysTestUnbracketed: a fault
// the kernel took on a process's page outside a bracketed copy
// (kernelTouchedProcess), at userCopy's instruction while the probe
// copies, is recorded and the copy stopped, where a kernel booted for real
// panics.
func smapProbeFixup(tf *TrapFrame) bool {
	if !smapProbe || tf.RIP != uint64(userCopyRepAddr()) {
		return false
	}
	smapCaught = true
	return userCopyFault(tf)
}
