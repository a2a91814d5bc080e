//go:build hurdvm

// kmain: from the boot stage's hand-over to the Go runtime's first
// instruction. Runs once, on the trap stack, with interrupts off and before
// any Go initialisation: only statically initialised data may be used.

package kernel

import (
	"unsafe"

	"hurdvm/kernel/memmap"
	"hurdvm/mm"
)

var (
	runtimeStartSP uint64
	idleStack      [4096]byte
)

const m0StackSize = 256 << 10 // the runtime uses 64 KiB of it for g0

func kmain() {
	consoleInit()
	detectCPU()
	noteBootCPU()
	kprint("\nhurdvm: a GNU Hurd VM on bare-metal Go (stock Go, Linux personality)\n")
	readLazyBSS()
	if !readMultiboot() {
		kprint("hurdvm: not started by a multiboot loader (bad magic ")
		kprintHex(bootMagic)
		kprint("); stopping\n")
		halt()
	}
	printMemoryMap()
	setupIDT()
	setupDescriptors(thisCPU())
	fpuInit()
	memoryInit()
	discoverCPUs()
	lapicSetup()
	timeInit()
	printCPU()
	startCPUs()
	printMemory()
	randomInit()
	threadsInit(uint64(uintptr(unsafe.Pointer(&idleStack[len(idleStack)-16]))))
	consoleFDs(&kernelProg)
	runtimeStartSP = buildStartStack()
	kprint("hurdvm: entering the Go runtime\n")
	consoleStartBuffering()
	cpusReleased.Store(true)
}

// printMemoryMap prints the map the kernel goes by, each range with what
// it is in words (memmap.Range.What), then the totals: RAM for the kernel,
// what the firmware and devices keep, and address space that is not RAM.
func printMemoryMap() {
	m := memMap[:memMapLen]
	ramEnd := memmap.RAMEnd(m)
	kprint("hurdvm: memory map (the boot loader's, sorted and checked):\n")
	var total [memmap.NotRAM + 1]uint64
	for _, r := range m {
		kprint("  ")
		kprintHex(r.Start)
		kprint("-")
		kprintHex(r.End)
		kprint("  ")
		kprintSize(r.Len())
		kprint(": ")
		kprint(r.What(ramEnd))
		if !r.Kind.Known() {
			kprint(" (type ")
			kprintDec(uint64(r.Kind))
			kprint(")")
		}
		kprint("\n")
		total[r.Class(ramEnd)] += r.Len()
	}
	kprint("hurdvm: RAM for the kernel ")
	kprintSize(total[memmap.KernelRAM])
	kprint(", kept by the firmware or devices ")
	kprintSize(total[memmap.Kept])
	if total[memmap.NotRAM] > 0 {
		kprint(", and ")
		kprintSize(total[memmap.NotRAM])
		kprint(" of address space for devices (not RAM)")
	}
	kprint("\n")
}

func printCPU() {
	kprint("hurdvm: cpu ")
	kprintBytes(cpuFeatures.vendor[:])
	kprint(", TSC ")
	kprintDec(tscHz / 1_000_000)
	kprint(" MHz, LAPIC timer ")
	kprintDec(lapicHz / 1000)
	kprint(" kHz; using ")
	kprint(lapicWhy)
	kprint(", ")
	kprint(fpuName())
	if cpuFeatures.nx {
		kprint(", NX")
	}
	if cpuFeatures.pdpe1gb {
		kprint(", 1 GiB pages")
	}
	if cpuFeatures.rdrand {
		kprint(", RDRAND")
	}
	if cpuFeatures.rdseed {
		kprint(", RDSEED")
	}
	if smepOn {
		kprint(", SMEP")
	}
	if smapOn {
		kprint(", SMAP")
	}
	kprint("\n")
}

// printMemory reports what the frame allocator made of the memory map;
// the figures must add up to the map's usable RAM.
func printMemory() {
	st := frames.Stats()
	_, _, _, end := imageBounds()
	kprint("hurdvm: memory: frame allocator: ")
	kprintDec(st.FreeFrames)
	kprint(" frames free (")
	kprintSize(st.FreeFrames * pageSize)
	kprint("), ")
	kprintDec(st.ReservedFrames)
	kprint(" in use by the kernel and boot, ")
	kprintDec(st.RecordFrames)
	kprint(" for frame records\n")
	kprint("hurdvm: kernel image ")
	kprintSize(roundUp(uint64(end), pageSize) - kernelImageBase)
	kprint(" at 16 MiB")
	if n := lazyBSSBytes(); n > 0 {
		kprint(", of which ")
		kprintSize(n)
		kprint(" of large arrays is demand-zero (backed when first touched)")
	}
	kprint("\n")
	kprint("hurdvm: running on the kernel's page tables (")
	kprintDec((early.next - early.start) / pageSize)
	kprint(" table frames, CR3 ")
	kprintHex(kernelPT.Root)
	kprint("); the boot stage's tables and copy of the kernel, ")
	kprintSize(roundUp(bootEnd, pageSize) - 1<<20)
	kprint(" at 1 MiB, went back to the allocator\n")
}

// stackBuilder writes the process entry stack downwards from top.
type stackBuilder struct{ sp uint64 }

func (s *stackBuilder) pushBytes(b []byte) uint64 {
	s.sp -= uint64(len(b)) + 1
	for i, c := range b {
		*(*byte)(at(s.sp + uint64(i))) = c
	}
	*(*byte)(at(s.sp + uint64(len(b)))) = 0
	return s.sp
}

func (s *stackBuilder) push(v uint64) {
	s.sp -= 8
	*(*uint64)(at(s.sp)) = v
}

// buildStartStack lays out argc, argv, envp and auxv as Linux's execve
// would, on a fresh stack for the runtime's first thread. The kernel
// command line gives argv (its first word is the program's path) and
// the environment (words of the form NAME=value).
func buildStartStack() uint64 {
	b, err := spaces[kernelSpace].MapAnon(0, m0StackSize, mm.ProtRead|mm.ProtWrite, false, true, heapWindowStart, heapWindowEnd)
	if err != nil {
		kernelPanicMsg("no room for the first thread's stack")
	}
	base := uint64(b)
	s := stackBuilder{sp: base + m0StackSize}

	var argv, envp [64]uint64
	argc, envc := 0, 0
	line := cmdline[:cmdlineLen]
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		if j > i {
			w := line[i:j]
			isEnv := argc > 0 && w[0] != '-' && indexByte(w, '=') > 0
			switch {
			case isEnv && envc < len(envp)-1:
				envp[envc] = s.pushBytes(w)
				envc++
			case !isEnv && argc < len(argv)-1:
				if argc == 0 {
					nameInitialThread(w)
				}
				argv[argc] = s.pushBytes(w)
				argc++
			}
		}
		i = j
	}
	if argc == 0 {
		argv[0] = s.pushBytes([]byte("hurdvm"))
		argc = 1
	}
	platform := s.pushBytes([]byte("x86_64"))
	s.sp &^= 15
	s.push(randomWord())
	s.push(randomWord())
	random := s.sp

	// auxv, envp, argv and argc; the final sp must be 16-byte aligned.
	words := 2*6 + (envc + 1) + (argc + 1) + 1
	if words%2 != 0 {
		s.push(0)
	}
	aux := [...][2]uint64{{6, pageSize}, {25, random}, {15, platform},
		{16, uint64(cpuFeatures.leaf1EDX)}, {17, 100}, {0, 0}}
	for i := len(aux) - 1; i >= 0; i-- {
		s.push(aux[i][1])
		s.push(aux[i][0])
	}
	s.push(0)
	for i := envc - 1; i >= 0; i-- {
		s.push(envp[i])
	}
	s.push(0)
	for i := argc - 1; i >= 0; i-- {
		s.push(argv[i])
	}
	s.push(uint64(argc))
	return s.sp
}

// nameInitialThread gives the first thread its program's name, as Linux's
// comm: the last element of argv[0], 15 bytes at most (prctl PR_GET_NAME).
func nameInitialThread(path []byte) {
	base := path
	for i, c := range path {
		if c == '/' {
			base = path[i+1:]
		}
	}
	copy(thr(current()).name[:15], base)
}

// cmdlineHas says the kernel command line has word (space-separated),
// an option for kmain: such a word of the form NAME=value is also in the
// program's environment, where it does no harm.
func cmdlineHas(word string) bool {
	line := cmdline[:cmdlineLen]
	for i := 0; i < len(line); {
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		if string(line[i:j]) == word {
			return true
		}
		i = j + 1
	}
	return false
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
