//go:build hurdvm

// Starting a process (issue 17, first slice): the ELF program is read from
// the file system (the initramfs qemuexec packs), planned and loaded by
// kernel/loader into a new task through VMAllocate (sysProcMap, VM_HERE)
// and copy-out (sysProcWrite), given Linux's initial stack, and entered in
// ring 3. Ordinary Go, run by the kernel's program: it allocates, as the
// file server does; the kernel's side is process.go.

package kernel

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"hurdvm/kernel/loader"
	"hurdvm/mm"
)

// ProcessOptions say how a process starts.
type ProcessOptions struct {
	// Args are its argv after argv[0], which is the path it was started by.
	Args []string
	// Env is its environment, NAME=value strings.
	Env []string
	// Echo also prints its output (fds 1 and 2) on the console, as it
	// comes; Wait's Output has the first 8 KiB of it either way.
	Echo bool
}

// Process is a program running in ring 3 in a task of its own.
type Process struct {
	index int32
	pid   int32

	mu     sync.Mutex
	state  *ProcessState
	waitMu sync.Mutex
}

// ProcessState is how a process ended.
type ProcessState struct {
	PID      int
	ExitCode int // exit's or exit_group's status, when Signal is 0
	Signal   int // the signal that ended it (11: SIGSEGV, 9: SIGKILL), or 0
	// FaultRIP and FaultAddr: where the fault or exception that ended it
	// was, and the address a page fault touched.
	FaultRIP, FaultAddr uint64
	// Stats are its address space's counters when it ended (faults,
	// pages resident, regions), before the space was destroyed.
	Stats mm.SpaceStats
	// Allocates, Deallocates and Protects count the VMAllocate,
	// VMDeallocate and Protect calls its mmap, munmap, brk and mprotect
	// made in its task.
	Allocates, Deallocates, Protects uint64
	// Output is what it wrote to fds 1 and 2 (the first 8 KiB);
	// OutputLen counts all of it.
	Output    []byte
	OutputLen uint64
}

func (s *ProcessState) String() string {
	if s.Signal != 0 {
		return fmt.Sprintf("process %d: killed by signal %d (rip %#x, address %#x)", s.PID, s.Signal, s.FaultRIP, s.FaultAddr)
	}
	return fmt.Sprintf("process %d: exit status %d", s.PID, s.ExitCode)
}

// StackSize is the stack region a process starts with (demand-paged, as
// every region: it costs what the program touches).
const StackSize = 8 << 20

// StartProcess loads the static x86-64 ELF program at path (from the
// file system: a test's directory in the initramfs) into a new task and
// starts it in ring 3. Its segments may lie anywhere in the process's
// window, the lower half but its first 64 KiB and top page (mm/layout.go):
// ordinary programs are linked at 0x400000.
func StartProcess(path string, opts *ProcessOptions) (*Process, error) {
	if opts == nil {
		opts = &ProcessOptions{}
	}
	execServerOnce.Do(func() { go serveExec() })
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	plan, err := loader.Load(f, &loader.Options{MinAddr: processWindowStart, MaxAddr: processWindowEnd})
	if err != nil {
		return nil, err
	}
	flags := uintptr(0)
	if opts.Echo {
		flags |= procEcho
	}
	r, _, e := syscall.RawSyscall(sysProcNew, flags, 0, 0)
	if e != 0 {
		return nil, fmt.Errorf("hurdvm: new process: %w", e)
	}
	mem := &procMemory{index: uint64(r)}
	if err := mem.load(plan, f, append([]string{path}, opts.Args...), opts.Env, path); err != nil {
		syscall.RawSyscall(sysProcAbort, uintptr(mem.index), 0, 0)
		return nil, err
	}
	exe := executablePath(path)
	pid, _, e := syscall.RawSyscall6(sysProcStart, uintptr(mem.index), uintptr(plan.Entry), uintptr(mem.sp), uintptr(plan.Brk),
		uintptr(unsafe.Pointer(unsafe.StringData(exe))), uintptr(len(exe)))
	runtime.KeepAlive(exe)
	if e != 0 {
		syscall.RawSyscall(sysProcAbort, uintptr(mem.index), 0, 0)
		return nil, fmt.Errorf("hurdvm: starting %s: %w", path, e)
	}
	return &Process{index: int32(mem.index), pid: int32(pid)}, nil
}

// executablePath is the path /proc/self/exe gives for the program opened
// by name (procexe.go): absolute, its symbolic links resolved, as Linux's
// d_path of the file. A relative name is the caller's working directory's
// (the exec server's calls start there). Where no more can be had, the
// name itself: a program opened through an execveat descriptor is
// /dev/fd/N/..., where Linux names the file's own path.
func executablePath(name string) string {
	abs, err := filepath.Abs(name)
	if err != nil {
		return name
	}
	if p, err := filepath.EvalSymlinks(abs); err == nil {
		return p
	}
	return abs
}

// procMemory is loader.Memory for a process being loaded: its regions are
// made read-write (sysProcMap: VMAllocate with VM_HERE), written through
// the kernel (sysProcWrite), and given their protection when all is
// written (sysProcProtect). index names the space: a process's record not
// yet started, or execTarget|slot an execve's fresh space (procexec.go).
type procMemory struct {
	index uint64
	sp    uint64
	prots []procRegion
}

type procRegion struct {
	addr, size uint64
	prot       loader.Prot
}

func (m *procMemory) Allocate(addr, size uint64, prot loader.Prot) error {
	if _, _, e := syscall.RawSyscall(sysProcMap, uintptr(m.index), uintptr(addr), uintptr(size)); e != 0 {
		return e
	}
	m.prots = append(m.prots, procRegion{addr, size, prot})
	return nil
}

func (m *procMemory) Write(addr uint64, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, _, e := syscall.RawSyscall6(sysProcWrite, uintptr(m.index), uintptr(addr), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// load carries the plan out, builds and writes the start stack (argv,
// envp, execFn its AT_EXECFN), and gives every region its protection.
func (m *procMemory) load(plan *loader.Plan, f *os.File, argv, envp []string, execFn string) error {
	if err := plan.Apply(f, m); err != nil {
		return err
	}
	a := &loader.StackArgs{
		Top:    loader.DefaultStackTop,
		Argv:   argv,
		Envp:   envp,
		ExecFn: execFn,
		// AT_HWCAP, as Linux: CPUID leaf 1's EDX. AT_MINSIGSTKSZ: the
		// kernel's signal frame with the FPU state (no handlers yet).
		HWCap:       uint64(cpuFeatures.leaf1EDX),
		MinSigStkSz: uint64(unsafe.Sizeof(sigframe{})) + fpuAreaSize,
	}
	if _, err := rand.Read(a.Random[:]); err != nil {
		return err
	}
	img, err := loader.Stack(plan, a)
	if err != nil {
		return err
	}
	prot := loader.ProtRead | loader.ProtWrite
	if plan.ExecStack {
		prot |= loader.ProtExec
	}
	if err := img.Apply(m, StackSize, prot); err != nil {
		return err
	}
	m.sp = img.SP
	for _, r := range m.prots {
		if r.prot == loader.ProtRead|loader.ProtWrite {
			continue
		}
		if _, _, e := syscall.RawSyscall6(sysProcProtect, uintptr(m.index), uintptr(r.addr), uintptr(r.size), uintptr(r.prot), 0, 0); e != 0 {
			return fmt.Errorf("hurdvm: protecting %#x-%#x: %w", r.addr, r.addr+r.size, e)
		}
	}
	return nil
}

// PID is the process's ID (its thread's, as Linux's main thread).
func (p *Process) PID() int { return int(p.pid) }

// ErrProcessWaited is Wait's error after the first Wait has returned.
var ErrProcessWaited = errors.New("hurdvm: process already waited for")

// Wait waits for the process to end and says how it did. The first Wait
// reaps the process: later ones return the same state.
func (p *Process) Wait() (*ProcessState, error) {
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	p.mu.Lock()
	done := p.state
	p.mu.Unlock()
	if done != nil {
		return done, nil
	}
	for {
		_, _, e := syscall.Syscall(sysProcWait, uintptr(p.index), 0, 0)
		if e == 0 {
			break
		}
		if e != syscall.EINTR {
			return nil, fmt.Errorf("hurdvm: waiting for process %d: %w", p.pid, e)
		}
	}
	// The record goes back with sysProcInfo: Kill must not name it after.
	p.mu.Lock()
	defer p.mu.Unlock()
	info := new(ProcessInfo)
	if _, _, e := syscall.RawSyscall(sysProcInfo, uintptr(p.index), uintptr(unsafe.Pointer(info)), unsafe.Sizeof(*info)); e != 0 {
		return nil, fmt.Errorf("hurdvm: process %d: %w", p.pid, e)
	}
	n := min(info.OutputLen, procOutMax)
	s := &ProcessState{
		PID: int(info.PID), ExitCode: int(info.ExitCode), Signal: int(info.Signal),
		FaultRIP: info.FaultRIP, FaultAddr: info.FaultAddr, Stats: info.Stats,
		Allocates: info.Allocates, Deallocates: info.Deallocates, Protects: info.Protects,
		Output: append([]byte(nil), info.Output[:n]...), OutputLen: info.OutputLen,
	}
	p.state = s
	return s, nil
}

// Kill ends the process with SIGKILL (Wait then says so). A process that
// has ended already is left as it ended.
func (p *Process) Kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != nil {
		return nil
	}
	if _, _, e := syscall.RawSyscall(sysProcKill, uintptr(p.index), 0, 0); e != 0 {
		return fmt.Errorf("hurdvm: killing process %d: %w", p.pid, e)
	}
	return nil
}

// Status is a live look at the process: whether it runs, its space's
// counters now, its VM calls and output so far.
func (p *Process) Status() (ProcessStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != nil {
		s := p.state
		return ProcessStatus{Stats: s.Stats, Allocates: s.Allocates, Deallocates: s.Deallocates,
			Protects: s.Protects, OutputLen: s.OutputLen}, nil
	}
	var st ProcessStatus
	if _, _, e := syscall.RawSyscall(sysProcStatus, uintptr(p.index), uintptr(unsafe.Pointer(&st)), unsafe.Sizeof(st)); e != 0 {
		return st, fmt.Errorf("hurdvm: process %d: %w", p.pid, e)
	}
	return st, nil
}
