//go:build hurdvm

// The kernel console: everything the kernel and the Go program print (kprint,
// the write system call on fds 1 and 2, kernel panics) goes to the serial
// port COM1 (tamago's 16550 driver) and to the screen (screen.go: the VGA
// text buffer or the framebuffer the boot loader set up). Handler context:
// every function here is allocation-free and lock-free (one CPU, called with
// interrupts off or from the single thread that boots the machine), and runs
// before the Go runtime has initialised anything.

package kernel

import "github.com/usbarmory/tamago/soc/intel/uart"

var (
	com1 = uart.UART{Index: 1, Base: 0x3f8}

	// serialPresent: COM1 answered the scratch-register probe. Many PCs
	// have no serial port; writing to one that is not there would cost an
	// I/O cycle per byte for nothing.
	serialPresent bool
)

const uartScratch = 7

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
		com1.Init()
	}
	screenInit()
}

// consolePutc draws on the screen first: when a byte arrives on the serial
// line, the screen already shows it (the host tests take screenshots when
// a line arrives).
func consolePutc(c byte) {
	screenPutc(c)
	if serialPresent {
		if c == '\n' {
			com1.Tx('\r')
		}
		com1.Tx(c)
	}
}

func consoleWrite(b []byte) {
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
	consoleWrite(buf[:])
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
	consoleWrite(buf[i:])
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
