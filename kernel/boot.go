//go:build hurdvm

// kmain: from the boot stage's hand-over to the Go runtime's first
// instruction. Runs once, on the trap stack, with interrupts off and before
// any Go initialisation: only statically initialised data may be used.

package kernel

import "unsafe"

var (
	runtimeStartSP uint64
	idleStack      [4096]byte
)

const m0StackSize = 256 << 10 // the runtime uses 64 KiB of it for g0

func kmain() {
	consoleInit()
	detectCPU()
	kprint("\nhurdvm: a GNU Hurd VM on bare-metal Go (stock Go, Linux personality)\n")
	if !readMultiboot() {
		kprint("hurdvm: not started by a multiboot loader (bad magic ")
		kprintHex(bootMagic)
		kprint("); stopping\n")
		halt()
	}
	printMemoryMap()
	setupDescriptors()
	memoryInit()
	timeInit()
	printCPU()
	printMemory()
	randomInit()
	threadsInit(uint64(uintptr(unsafe.Pointer(&idleStack[len(idleStack)-16]))))
	runtimeStartSP = buildStartStack()
	kprint("hurdvm: entering the Go runtime\n")
	consoleStartBuffering()
}

func printMemoryMap() {
	kprint("hurdvm: memory map from the boot loader:\n")
	var usable uint64
	for i := 0; i < memMapLen; i++ {
		r := memMap[i]
		kprint("  ")
		kprintHex(r.base)
		kprint("-")
		kprintHex(r.base + r.length)
		kprint(" ")
		kprint(memKindName(r.kind))
		kprint(" (")
		kprintSize(r.length)
		kprint(")\n")
		if r.kind == memUsable {
			usable += r.length
		}
	}
	kprint("hurdvm: usable RAM ")
	kprintSize(usable)
	kprint("\n")
}

func printCPU() {
	kprint("hurdvm: cpu ")
	kprintBytes(cpuFeatures.vendor[:])
	kprint(", TSC ")
	kprintDec(tscHz / 1_000_000)
	kprint(" MHz, LAPIC timer ")
	kprintDec(lapicHz / 1000)
	kprint(" kHz; using SSE2 (fxsave)")
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
	kprint("\n")
}

// printMemory reports what the frame allocator made of the memory map;
// the figures must add up to the map's usable RAM.
func printMemory() {
	st := frames.Stats()
	kprint("hurdvm: memory: usable ")
	kprintSize(memUsableBytes)
	kprint(", reserved by firmware ")
	kprintSize(memReservedBytes)
	kprint("; frame allocator: ")
	kprintDec(st.FreeFrames)
	kprint(" frames free (")
	kprintSize(st.FreeFrames * pageSize)
	kprint("), ")
	kprintDec(st.ReservedFrames)
	kprint(" in use by the kernel and boot, ")
	kprintDec(st.RecordFrames)
	kprint(" for frame records\n")
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
	base, e := heapMap(0, m0StackSize, 3, false)
	if e != 0 {
		kernelPanicMsg("no room for the first thread's stack")
	}
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

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
