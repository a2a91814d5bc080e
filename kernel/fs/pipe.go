package fs

// Pipes, as Linux's fs/pipe.c makes them: a ring of 16 page buffers
// (64 KiB). A write first tops up the last buffer when its remainder
// modulo the page size fits there, then fills fresh pages; a write of at
// most PIPE_BUF (4096) bytes therefore goes in whole or not at all. A
// read takes what is there, up to what was asked.
//
// What the server does with the answers: a read of an empty pipe whose
// writer is open, or a write to a full pipe, returns ErrWouldBlock on a
// blocking handle (wait until Poll says so, then call again, with the
// rest of the data for a write: a blocking write is done when all of it
// is) and EAGAIN on an O_NONBLOCK one, unless a partial write already
// moved some bytes, whose count is then the answer. EPIPE means no reader
// is left: send SIGPIPE to the writer, and return EPIPE, or the count of
// bytes already written if there are some. After each change Config.Notify
// says which handle may have become ready.

// pipeSlots is how many page buffers a pipe has (PIPE_DEF_BUFFERS).
const pipeSlots = 16

type pipeBuffer struct {
	page     *[pageSize]byte
	off, len int
}

type pipe struct {
	bufs       [pipeSlots]pipeBuffer
	head, tail int // buffers written and read so far; head-tail are in use
	reader     Handle
	writer     Handle
	readerOpen bool
	writerOpen bool
	node       *inode
}

func (pp *pipe) used() int   { return pp.head - pp.tail }
func (pp *pipe) empty() bool { return pp.used() == 0 }
func (pp *pipe) full() bool  { return pp.used() >= pipeSlots }

// Pipe makes a pipe (pipe2(2)) and returns its read and write handles.
// flags: O_NONBLOCK, and O_CLOEXEC, which is the descriptors' business;
// O_DIRECT (packet mode) is not supported: EINVAL.
func (fsys *FS) Pipe(flags int) (r, w Handle, e Errno) {
	if flags&^(O_CLOEXEC|O_NONBLOCK) != 0 {
		return 0, 0, EINVAL
	}
	if len(fsys.handles)+2 > fsys.maxHandles {
		return 0, 0, ENFILE
	}
	pp := fsys.newPipe()
	nonblock := flags & O_NONBLOCK
	pp.reader = fsys.newHandle(&openFile{node: pp.node, flags: O_RDONLY | nonblock, readable: true})
	pp.writer = fsys.newHandle(&openFile{node: pp.node, flags: O_WRONLY | nonblock, writable: true})
	return pp.reader, pp.writer, 0
}

// newPipe makes a pipe's inode, both ends open.
func (fsys *FS) newPipe() *pipe {
	n := fsys.newInode(fsys.pipeSB, S_IFIFO|0o600)
	pp := &pipe{readerOpen: true, writerOpen: true, node: n}
	n.pipe = pp
	return pp
}

// PipeAt is Pipe with the handles' numbers chosen by the caller, r and w,
// both from ChosenHandles up and free: a kernel that gives the program
// its descriptors at once, before the file server has run, tells it the
// numbers it chose. EBADF for numbers outside that range or in use.
func (fsys *FS) PipeAt(r, w Handle, flags int) Errno {
	switch {
	case flags&^(O_CLOEXEC|O_NONBLOCK) != 0:
		return EINVAL
	case r < ChosenHandles || w < ChosenHandles || r == w || fsys.handles[r] != nil || fsys.handles[w] != nil:
		return EBADF
	case len(fsys.handles)+2 > fsys.maxHandles:
		return ENFILE
	}
	pp := fsys.newPipe()
	nonblock := flags & O_NONBLOCK
	pp.reader, pp.writer = r, w
	fsys.enter(r, &openFile{node: pp.node, flags: O_RDONLY | nonblock, readable: true})
	fsys.enter(w, &openFile{node: pp.node, flags: O_WRONLY | nonblock, writable: true})
	return 0
}

// pipeRead reads from the pipe of read handle f.
func (fsys *FS) pipeRead(f *openFile, p []byte) (int, Errno) {
	pp := f.node.pipe
	if len(p) == 0 {
		return 0, 0
	}
	if pp.empty() {
		switch {
		case !pp.writerOpen:
			return 0, 0 // end of file
		case f.flags&O_NONBLOCK != 0:
			return 0, EAGAIN
		}
		return 0, ErrWouldBlock
	}
	wasFull := pp.full()
	done := 0
	for done < len(p) && !pp.empty() {
		b := &pp.bufs[pp.tail%pipeSlots]
		k := copy(p[done:], b.page[b.off:b.off+b.len])
		b.off += k
		b.len -= k
		done += k
		if b.len == 0 {
			*b = pipeBuffer{} // the page goes back to the heap
			pp.tail++
		}
	}
	fsys.touchAtime(f.node)
	if wasFull && pp.writerOpen {
		fsys.wake(pp.writer)
	}
	return done, 0
}

// pipeWrite writes to the pipe of write handle f.
func (fsys *FS) pipeWrite(f *openFile, p []byte) (int, Errno) {
	pp := f.node.pipe
	if len(p) == 0 {
		return 0, 0
	}
	if !pp.readerOpen {
		return 0, EPIPE
	}
	done := 0
	// Top up the last buffer with the part beyond whole pages.
	if chars := len(p) % pageSize; chars != 0 && !pp.empty() {
		b := &pp.bufs[(pp.head-1)%pipeSlots]
		if end := b.off + b.len; end+chars <= pageSize {
			copy(b.page[end:], p[:chars])
			b.len += chars
			done = chars
		}
	}
	for done < len(p) && !pp.full() {
		b := &pp.bufs[pp.head%pipeSlots]
		*b = pipeBuffer{page: new([pageSize]byte)}
		b.len = copy(b.page[:], p[done:])
		done += b.len
		pp.head++
	}
	if done > 0 {
		fsys.touchModify(f.node)
		fsys.wake(pp.reader)
	}
	switch {
	case done == len(p):
		return done, 0
	case f.flags&O_NONBLOCK == 0:
		return done, ErrWouldBlock
	case done > 0:
		return done, 0
	}
	return 0, EAGAIN
}

// pipeRelease closes one end of a pipe (its handle's last reference):
// the other end sees EPOLLHUP (no writer) or EPOLLERR (no reader).
func (fsys *FS) pipeRelease(pp *pipe, f *openFile) {
	if f.readable {
		pp.readerOpen = false
		if pp.writerOpen {
			fsys.wake(pp.writer)
		}
	} else {
		pp.writerOpen = false
		if pp.readerOpen {
			fsys.wake(pp.reader)
		}
	}
	if !pp.readerOpen && !pp.writerOpen {
		pp.bufs = [pipeSlots]pipeBuffer{}
	}
}
