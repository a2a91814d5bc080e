package loader

import "io"

// Memory is an address space being set up for a program: the kernel's is
// a new task (Allocate is hurd_vm_allocate with VM_HERE, then the
// protection; Write copies out through the kernel, page faults and all),
// the tests' a simulation.
type Memory interface {
	// Allocate makes [addr, addr+size) zero-filled memory with protection
	// prot. addr and size are multiples of PageSize, size is not 0, and
	// Apply never asks twice for a page.
	Allocate(addr, size uint64, prot Prot) error
	// Write copies b to addr, inside memory Allocate made, whatever its
	// protection: the program does not run yet.
	Write(addr uint64, b []byte) error
}

// chunk is how much of the file Apply reads at a time.
const chunk = 64 << 10

// Apply carries the plan out: for each segment, allocates its pages and
// copies its file bytes from r, the file Load read. On error, the memory
// holds part of the program: the kernel throws the task away (an exec has
// not reached its point of no return). Errors are *Error, of kind
// ErrMemory (with the Memory's error) or ErrTruncated.
func (p *Plan) Apply(r io.ReaderAt, mem Memory) error {
	buf := make([]byte, chunk)
	for _, s := range p.Segments {
		if err := mem.Allocate(s.Start, s.End-s.Start, s.Prot); err != nil {
			return wrapError(ErrMemory, err, "allocating ", hex(s.Start), "-", hex(s.End), " (", s.Prot.String(), ")")
		}
		// The bytes up to p_offset+p_filesz must be in the file (Load
		// checked); what follows in the last page may not be, nor the
		// first page's head before an empty file part: a mapping reads
		// zero there.
		need := uint64(0)
		if s.Filesz > 0 {
			need = s.Offset + s.Filesz - s.FileStart
		}
		for done := uint64(0); done < s.CopySize; {
			b := buf[:min(uint64(len(buf)), s.CopySize-done)]
			n, err := r.ReadAt(b, int64(s.FileStart+done))
			if n > 0 {
				if werr := mem.Write(s.Start+done, b[:n]); werr != nil {
					return wrapError(ErrMemory, werr, "writing ", hex(s.Start+done), "-", hex(s.Start+done+uint64(n)))
				}
			}
			done += uint64(n)
			if n < len(b) {
				if done < need {
					return wrapError(ErrTruncated, err, "segment ", dec(uint64(s.Index)), ": the file ends at ", hex(s.FileStart+done), " before p_offset ", hex(s.Offset), " + p_filesz ", hex(s.Filesz))
				}
				break
			}
		}
	}
	return nil
}
