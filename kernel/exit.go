//go:build hurdvm

// Leaving the machine (handler context: exit_group and the kernel-panic
// path call it): exit_group's status goes to QEMU's isa-debug-exit
// device (which exits QEMU with status*2+1; the host runner undoes that and
// also reads the line printed here, so a QEMU that died on its own is never
// mistaken for a kernel that exited). A real PC has no such device: the
// kernel says so on the console and halts.
//
// First the console buffer is printed out (consoleStopBuffering): a
// program that writes and exits at once loses nothing, and the exit line
// comes last, printed directly; the UART is given the time to send it
// before QEMU is told to exit.

package kernel

const debugExitPort = 0xf4

// panicExitStatus is the status of a kernel panic.
const panicExitStatus = 125

func exitMachine(status int) {
	stopOtherCPUs()
	consoleStopBuffering()
	kprint("\nhurdvm: exit status ")
	if status < 0 {
		kprint("-")
		kprintDec(uint64(-status))
	} else {
		kprintDec(uint64(status))
	}
	kprint("\n")
	serialWaitSent()
	outl(debugExitPort, uint32(status))
	// Still running: no isa-debug-exit here, so a real PC (or a QEMU
	// without the device). The results stay on the screen; the machine
	// stops with interrupts off. ACPI S5 power-off would need the AML
	// interpreter hurdvm does not have (multiboot 1 does not even pass the
	// RSDP under UEFI).
	kprint("hurdvm: finished; the results are above. Remove the USB stick, then power off or reset the machine.\n")
	halt()
}
