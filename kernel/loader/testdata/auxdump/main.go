// Command auxdump prints the initial stack Linux built for it, for
// TestStackMatchesLinux: the [stack] mapping's top, the initial RSP
// (/proc/self/stat's startstack), the program break, the mappings, the argument and environment bounds,
// /proc/self/auxv and every byte from the initial RSP to the top, read
// through /proc/self/mem. Plain Go, no cgo: built with CGO_ENABLED=0, it
// is the static program the loader loads.
//
// It first executes itself again, with the same path, arguments and
// environment, under personality(ADDR_NO_RANDOMIZE): then Linux's
// arch_align_stack leaves no random gap below the strings and the whole
// stack is a function of its inputs and the top. When personality is
// refused, or AUXDUMP_RANDOM is set, it goes on randomized and says so.
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

const addrNoRandomize = 0x0040000

func main() {
	pers, _, _ := syscall.RawSyscall(syscall.SYS_PERSONALITY, 0xffffffff, 0, 0)
	if pers&addrNoRandomize == 0 && os.Getenv("AUXDUMP_RANDOM") == "" {
		if _, _, e := syscall.RawSyscall(syscall.SYS_PERSONALITY, pers|addrNoRandomize, 0, 0); e == 0 {
			err := syscall.Exec(os.Args[0], os.Args, os.Environ())
			fmt.Fprintln(os.Stderr, "auxdump: exec:", err)
			os.Exit(2)
		}
	}
	pers, _, _ = syscall.RawSyscall(syscall.SYS_PERSONALITY, 0xffffffff, 0, 0)
	fmt.Printf("personality %#x\n", pers)

	top := stackTop()
	fmt.Printf("top %#x\n", top)
	brk, _, _ := syscall.RawSyscall(syscall.SYS_BRK, 0, 0, 0)
	fmt.Printf("brk %#x\n", brk)

	stat, err := os.ReadFile("/proc/self/stat")
	check(err)
	// The fields after the command's name, which is in parentheses.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	field := func(n int) uint64 { // n as in proc(5), counting from 1
		v, err := strconv.ParseUint(f[n-3], 10, 64)
		check(err)
		return v
	}
	sp := field(28)
	fmt.Printf("sp %#x\n", sp)
	fmt.Printf("args %#x %#x %#x %#x\n", field(48), field(49), field(50), field(51))

	auxv, err := os.ReadFile("/proc/self/auxv")
	check(err)
	fmt.Printf("auxv %s\n", hex.EncodeToString(auxv))

	mem, err := os.Open("/proc/self/mem")
	check(err)
	data := make([]byte, top-sp)
	_, err = mem.ReadAt(data, int64(sp))
	check(err)
	fmt.Printf("data %s\n", hex.EncodeToString(data))
}

func stackTop() uint64 {
	m, err := os.Open("/proc/self/maps")
	check(err)
	defer m.Close()
	s := bufio.NewScanner(m)
	top := uint64(0)
	for s.Scan() {
		fmt.Printf("map %s\n", s.Text())
		if strings.HasSuffix(s.Text(), "[stack]") {
			r := strings.Fields(s.Text())[0]
			v, err := strconv.ParseUint(r[strings.IndexByte(r, '-')+1:], 16, 64)
			check(err)
			top = v
		}
	}
	if top == 0 {
		check(fmt.Errorf("no [stack] in /proc/self/maps"))
	}
	return top
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "auxdump:", err)
		os.Exit(1)
	}
}
