//go:build hurdvm

package files

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// A file in the tmpfs, as a Go program makes one anywhere. (go test runs
// an example with os.Stdout on a pipe, which is the file server's too.)
func Example_tmpfs() {
	dir, err := os.MkdirTemp("", "example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "greeting")
	if err := os.WriteFile(name, []byte("hello from hurdvm\n"), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(name)
	fi, _ := os.Stat(name)
	fmt.Print(string(b))
	fmt.Println(fi.Size(), fi.Mode())
	// Output:
	// hello from hurdvm
	// 18 -rw-r--r--
}

// A pipe between two goroutines: what one writes, the other reads, line
// by line, until the writer closes its end.
func Example_pipe() {
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Println(err)
		return
	}
	go func() {
		for _, word := range []string{"vm_allocate", "vm_deallocate"} {
			fmt.Fprintln(w, word)
		}
		w.Close()
	}()
	s := bufio.NewScanner(r)
	for s.Scan() {
		fmt.Println(strings.ToUpper(s.Text()))
	}
	r.Close()
	// Output:
	// VM_ALLOCATE
	// VM_DEALLOCATE
}

// /dev/zero and /dev/null are there.
func Example_devices() {
	zero, _ := os.Open("/dev/zero")
	defer zero.Close()
	n, _ := io.Copy(io.Discard, io.LimitReader(zero, 1<<20))
	null, _ := os.OpenFile("/dev/null", os.O_WRONLY, 0)
	defer null.Close()
	m, _ := null.Write(make([]byte, 100))
	fmt.Println(n, m)
	// Output: 1048576 100
}
