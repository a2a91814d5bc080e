// Command procinit is the kernel program `qemuexec -process` boots: it
// starts the program its first argument names as a process in ring 3
// (kernel.StartProcess: a task of its own, loaded from the file system
// qemuexec packs), with the other arguments and the kernel's environment,
// prints its output on the console as it comes, waits for it and ends
// with its exit status: the program's own, or 128+N when signal N ended
// it, as a shell says; 127 when it could not be started.
//
//	qemuexec -process PROGRAM [ARG...]
//
// The program must be a static x86-64 ELF program linked in hurdvm's task
// window (docs/DESIGN.md, "Processes").
package main
