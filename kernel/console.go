//go:build hurdvm

// The kernel console: everything the kernel and the Go program print (kprint,
// the write system call on fds 1 and 2, kernel panics) goes to the serial
// port COM1 and to the screen (screen.go: the VGA text buffer or the
// framebuffer the boot loader set up).
//
// Once the machine runs the Go program, output goes through the console
// buffer (consolebuf.go), which the devices drain a bounded piece at a
// time. Before that (kmain's boot messages), and once the machine is going
// down (a kernel panic, exitMachine), output is printed directly: every
// byte is on the screen and on the serial line before the call returns.
//
// Handler context: every function here is allocation-free and lock-free
// (one CPU, called with interrupts off or from the single thread that
// boots the machine), and runs before the Go runtime has initialised
// anything.

package kernel

import "github.com/usbarmory/tamago/soc/intel/uart"

var (
	com1 = uart.UART{Index: 1, Base: 0x3f8}

	// serialPresent: COM1 answered the scratch-register probe. Many PCs
	// have no serial port; writing to one that is not there would cost an
	// I/O cycle per byte for nothing.
	serialPresent bool

	// serialFIFO is how many bytes the transmitter takes once LSR says it
	// is empty: 16 with a 16550A's FIFO, 1 without (an 8250 or a 16450).
	serialFIFO int
)

const (
	uartIIR     = 2
	uartScratch = 7
	lsrTHRE     = 1 << uart.LSR_THRE // the transmit FIFO is empty
	lsrTEMT     = 1 << 6             // ... and so is the shift register
)

func consoleInit() {
	outb(com1.Base+uartScratch, 0x5a)
	if inb(com1.Base+uartScratch) == 0x5a {
		outb(com1.Base+uartScratch, 0xa5)
		serialPresent = inb(com1.Base+uartScratch) == 0xa5
	}
	if serialPresent {
		// 115200 8N1: divisor latch 1. QEMU ignores the rate; real UARTs need it.
		outb(com1.Base+uart.IER, 0)
		outb(com1.Base+uart.LCR, 0x80)
		outb(com1.Base+0, 1)
		outb(com1.Base+1, 0)
		outb(com1.Base+uart.LCR, 0x03)
		outb(com1.Base+uart.FCR, 0x07)
		// IIR bits 6 and 7 say whether the FIFOs came on.
		serialFIFO = 1
		if inb(com1.Base+uartIIR)&0xc0 == 0xc0 {
			serialFIFO = 16
		}
		com1.Init()
	}
	screenInit()
}

// serialIdle reports whether the transmitter takes serialFIFO more bytes.
func serialIdle() bool { return inb(com1.Base+uart.LSR)&lsrTHRE != 0 }

func serialPut(c byte) { outb(com1.Base+uart.THR, c) }

// serialWaitSent waits until the last byte has left the UART (a limit in
// case the UART never says so): a machine about to stop must not cut it off.
func serialWaitSent() {
	for i := 0; serialPresent && i < 1_000_000 && inb(com1.Base+uart.LSR)&lsrTEMT == 0; i++ {
	}
}

// consolePutDirect prints c on the screen, then on the serial line: when a
// byte arrives on the serial line, the screen already shows it (the host
// tests take screenshots when a line arrives).
func consolePutDirect(c byte) {
	screenPutc(c)
	screenDrawAll()
	if serialPresent {
		if c == '\n' {
			com1.Tx('\r')
		}
		com1.Tx(c)
	}
}

// consolePutc prints one byte of a kernel message.
func consolePutc(c byte) {
	if cons.buffered {
		consoleBufferKernel(c)
	} else {
		consolePutDirect(c)
	}
}

func kprintBytes(b []byte) {
	for _, c := range b {
		consolePutc(c)
	}
}

func kprint(s string) {
	for i := 0; i < len(s); i++ {
		consolePutc(s[i])
	}
}

// kprintHex prints v as 0x followed by 16 hex digits.
func kprintHex(v uint64) {
	var buf [18]byte
	buf[0], buf[1] = '0', 'x'
	for i := 17; i >= 2; i-- {
		buf[i] = "0123456789abcdef"[v&15]
		v >>= 4
	}
	kprintBytes(buf[:])
}

func kprintDec(v uint64) {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	kprintBytes(buf[i:])
}

// kprintSize prints a byte count in the largest whole unit (KiB, MiB, GiB).
func kprintSize(n uint64) {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		kprintDec(n >> 30)
		kprint(" GiB")
	case n >= 1<<20:
		kprintDec(n >> 20)
		kprint(" MiB")
	default:
		kprintDec(n >> 10)
		kprint(" KiB")
	}
}
