//go:build hurdvm

// Leaving the machine: exit_group's status goes to QEMU's isa-debug-exit
// device (which exits QEMU with status*2+1; the host runner undoes that and
// also reads the line printed here, so a QEMU that died on its own is never
// mistaken for a kernel that exited).

package kernel

const debugExitPort = 0xf4

// panicExitStatus is the status of a kernel panic.
const panicExitStatus = 125

func exitMachine(status int) {
	kprint("\nhurdvm: exit status ")
	if status < 0 {
		kprint("-")
		kprintDec(uint64(-status))
	} else {
		kprintDec(uint64(status))
	}
	kprint("\n")
	outl(debugExitPort, uint32(status))
	// Real hardware has no such device: stop here.
	kprint("hurdvm: halted; it is safe to power off\n")
	halt()
}
