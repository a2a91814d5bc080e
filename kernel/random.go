//go:build hurdvm

// The kernel's random numbers: getrandom(2) and the AT_RANDOM bytes of the
// program's start stack come from a ChaCha20 generator with fast key
// erasure (hurdvm/kernel/random). kmain seeds it from everything the
// machine has, hashed together: RDSEED and RDRAND where the CPU has them,
// the jitter of a timing loop by the TSC, and, not secret but different on
// each machine and boot, the boot loader's data (command line, memory map,
// framebuffer) and the clock. It is reseeded once a minute, on the next
// getrandom, from RDSEED or RDRAND and the TSC. Handler context, except
// randomInit (kmain, before the Go runtime).

package kernel

import (
	"unsafe"

	"hurdvm/kernel/random"
)

var (
	rng         random.Generator
	rngReseeded int64 // nanotime of the last reseed

	// jitterScratch is the memory the timing loop walks: its accesses
	// hit and miss the caches by what ran before.
	jitterScratch [16 << 10]byte
)

const (
	rngReseedNS = 60 * nsPerSecond

	// getrandomMax bounds one getrandom call's work in handler context
	// (4 KiB of ChaCha20 is about 10 µs on a PC); a longer request is a
	// short read, which callers handle (Linux gives them on signals).
	getrandomMax = 4 << 10

	// The jitter loop takes samples until they are credited jitterBits
	// (and at least jitterMinSamples), or until jitterMaxSamples or
	// jitterMaxNS, whichever first.
	jitterBits       = 256
	jitterMinSamples = 1024
	jitterMaxSamples = 1 << 16
	jitterMaxNS      = 50_000_000

	grndNonblock = 0x1
	grndRandom   = 0x2
	grndInsecure = 0x4
)

// randomInit seeds the generator and says from what. The clock must be
// calibrated (the jitter loop's time limit).
func randomInit() {
	var pool random.Pool
	rdseedOK := cpuFeatures.rdseed && cpuWords(&pool, rdseed)
	rdrandOK := cpuFeatures.rdrand && cpuWords(&pool, rdrand)
	samples, bits := gatherJitter(&pool)

	// Not secret, but no two machines or boots alike.
	pool.Add(cmdline[:cmdlineLen])
	pool.Add(unsafe.Slice((*byte)(unsafe.Pointer(&memMap[0])), memMapLen*int(unsafe.Sizeof(memMap[0]))))
	pool.Add(unsafe.Slice((*byte)(unsafe.Pointer(&screen.fb)), unsafe.Sizeof(screen.fb)))
	pool.AddUint64(bootInfo)
	pool.AddUint64(uint64(walltime()))
	pool.AddUint64(tscAtBoot)
	pool.AddUint64(rdtsc())
	seed := pool.Sum()
	rng.Reseed(seed[:])
	clear(seed[:])
	rngReseeded = nanotime()

	switch {
	case rdseedOK && rdrandOK:
		kprint("hurdvm: random: seeded from RDSEED, RDRAND and TSC jitter")
	case rdseedOK:
		kprint("hurdvm: random: seeded from RDSEED and TSC jitter")
	case rdrandOK:
		kprint("hurdvm: random: seeded from RDRAND and TSC jitter")
	default:
		kprint("hurdvm: random: warning: no RDRAND or RDSEED: seeded from TSC jitter")
	}
	kprint(" (")
	kprintDec(uint64(samples))
	kprint(" samples, about ")
	kprintDec(uint64(bits))
	kprint(" bits), the boot loader's data and the clock")
	if !rdseedOK && !rdrandOK {
		kprint(", which are not secret")
		if bits < jitterBits {
			kprint("; fewer than 256 bits: keys made now may be guessed")
		}
	}
	kprint("\n")
}

// cpuWords adds four words of a CPU random source to the pool and reports
// whether it gave them. Both instructions may fail for a while when
// drained (each is retried); a word of all ones is refused, as some AMD
// CPUs return it with success after a resume.
func cpuWords(p *random.Pool, source func() (uint64, bool)) bool {
	for w := 0; w < 4; w++ {
		ok := false
		for try := 0; try < 100 && !ok; try++ {
			var v uint64
			v, ok = source()
			ok = ok && v != ^uint64(0)
			if ok {
				p.AddUint64(v)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// gatherJitter times a short walk over jitterScratch again and again,
// adds every duration to the pool and returns how many samples it took and
// the entropy credited to them (random.Jitter's conservative estimate).
func gatherJitter(p *random.Pool) (samples, bits int) {
	var j random.Jitter
	start := rdtsc()
	limit := tscHz * jitterMaxNS / nsPerSecond
	x := uint32(rdtsc())
	for j.Samples() < jitterMaxSamples && rdtsc()-start < limit {
		t0 := rdtsc()
		for k := 0; k < 32; k++ {
			x = x*1664525 + 1013904223
			jitterScratch[x>>18%uint32(len(jitterScratch))] += byte(x)
		}
		d := rdtsc() - t0
		j.Add(d)
		p.AddUint64(d)
		if n := j.Samples(); n >= jitterMinSamples && n%256 == 0 && j.Bits() >= jitterBits {
			break
		}
	}
	return j.Samples(), j.Bits()
}

// sysRandom is getrandom(2). The generator is seeded before the program
// starts, so no flag ever has to wait: GRND_NONBLOCK, GRND_RANDOM and
// GRND_INSECURE are accepted, any other bit, or RANDOM with INSECURE, is
// EINVAL (Linux 6.1).
func sysRandom(buf, n, flags uint64) uint64 {
	return getrandom(buf, n, flags)
}

// getrandom is getrandom(2) for the kernel's runtime and for a process
// alike (sysRandom): the buffer is checked and written as the caller's
// memory (userRange, copyOutPartial know whose).
func getrandom(buf, n, flags uint64) uint64 {
	f := uint32(flags) // an unsigned int
	if f&^(grndNonblock|grndRandom|grndInsecure) != 0 || f&(grndRandom|grndInsecure) == grndRandom|grndInsecure {
		return errno(eINVAL)
	}
	n = min(n, getrandomMax)
	if n == 0 {
		return 0
	}
	if !userRange(buf, n, true) {
		return errno(eFAULT)
	}
	if now := nanotime(); now-rngReseeded >= rngReseedNS {
		reseed(now)
	}
	// Through a buffer on the kernel stack: a page of buf that cannot be
	// written ends the call with what was written (as Linux), and the
	// bytes never handed out are not kept anywhere.
	var piece [256]byte
	for done := uint64(0); done < n; {
		k := min(n-done, uint64(len(piece)))
		rng.Read(piece[:k])
		c := copyOutPartial(buf+done, piece[:k])
		clear(piece[:k])
		done += c
		if c < k {
			if done > 0 {
				return done
			}
			return errno(eFAULT)
		}
	}
	return n
}

// reseed mixes fresh CPU randomness, where there is some, and the time of
// this call into the generator.
func reseed(now int64) {
	var pool random.Pool
	if cpuFeatures.rdseed {
		cpuWords(&pool, rdseed)
	}
	if cpuFeatures.rdrand {
		cpuWords(&pool, rdrand)
	}
	pool.AddUint64(rdtsc())
	pool.AddUint64(uint64(now))
	seed := pool.Sum()
	rng.Reseed(seed[:])
	clear(seed[:])
	rngReseeded = now
}

// randomWord is 8 random bytes (the start stack's AT_RANDOM).
func randomWord() uint64 {
	var b [8]byte
	rng.Read(b[:])
	return *(*uint64)(unsafe.Pointer(&b))
}
