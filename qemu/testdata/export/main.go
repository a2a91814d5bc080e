// export stands in for the kernel's side of the results channel until
// the kernel exports files itself: it writes files to the second serial
// port (COM2) in the kernel's framing, as the kernel will for the files a
// program leaves in /tmp/hurdvm-export. The program runs in ring 0, so it
// can drive the port with OUT itself.
//
// Its files: a counter file of -test.gocoverdir; a coverprofile sent
// twice, the second copy being the file; a file with every byte value.
// With the argument "cut" the last file stops short, as when the kernel
// dies while sending.
package main

import (
	"fmt"
	"os"

	_ "hurdvm/kernel"
)

const com2 = 0x2f8

func outb(port uint16, v byte)
func inb(port uint16) byte

func send(path string, data []byte, cut bool) {
	header := fmt.Sprintf("hurdvm-file %d %s\n", len(data), path)
	if cut {
		data = data[:len(data)/2]
	}
	for _, b := range append([]byte(header), data...) {
		for inb(com2+5)&0x20 == 0 { // the transmitter holding register is busy
		}
		outb(com2, b)
	}
}

func main() {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	send("/tmp/hurdvm-export/gocoverdir/covcounters.abc.1.42", []byte("counters\n"), false)
	send("/tmp/hurdvm-export/coverprofile", []byte("mode: set\nfirst copy\n"), false)
	send("/tmp/hurdvm-export/coverprofile", []byte("mode: set\nsecond copy\n"), false)
	send("/tmp/hurdvm-export/every byte", every, len(os.Args) > 1 && os.Args[1] == "cut")
	fmt.Println("sent")
}
