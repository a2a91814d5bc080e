// export leaves files in /tmp/hurdvm-export, which the kernel sends to the
// host on the second serial port (COM2) as each is settled: a counter file
// in gocoverdir (made at boot, as go test needs it), a coverprofile
// written twice (the second copy is the file), a file of every byte value
// written under a temporary name and renamed in, as the coverage writer
// does.
package main

import (
	"fmt"
	"os"

	_ "hurdvm/kernel"
)

const dir = "/tmp/hurdvm-export"

func main() {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	steps := []func() error{
		func() error { return os.WriteFile(dir+"/gocoverdir/covcounters.abc.1.42", []byte("counters\n"), 0o644) },
		func() error { return os.WriteFile(dir+"/coverprofile", []byte("mode: set\nfirst copy\n"), 0o644) },
		func() error { return os.WriteFile(dir+"/coverprofile", []byte("mode: set\nsecond copy\n"), 0o644) },
		func() error { return os.WriteFile("/tmp/every.tmp", every, 0o644) },
		func() error { return os.Rename("/tmp/every.tmp", dir+"/every byte") },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			fmt.Println("export:", err)
			os.Exit(1)
		}
	}
	fmt.Println("export: done")
}
