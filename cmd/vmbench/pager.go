// The pager's benchmarks (vmbench -pager MiB): what it costs when a
// program uses more memory than the machine has, on a machine of that
// many MiB (QEMU's -m, the same for both kernels). Linux swaps to zram
// (cmd/zraminit sets it up before this program starts: LZ4, and the
// multi-generational LRU on when cmd/benchreport asks), hurdvm evicts to
// its compressed store, LZ4 too. The memory is mmap's on Linux and
// mm.VMAllocate's in a task on hurdvm (the Linux personality's mmap
// memory belongs to the kernel task, which the pager leaves resident).
//
// Every page holds data derived from its address, compressible about
// 3.4:1 under LZ4 (a quarter of each 256 bytes pseudo-random, the rest
// one word repeated: tests/pager's pages), and no page is all zero, so
// every eviction compresses.
//
// Figures (BENCH lines, PATH/pager_*; PATH is syscall on Linux, kernel
// on hurdvm), each from one pass (the kernels' counters are sums over
// the pass: Linux's /proc/vmstat pswpout and pgmajfault, hurdvm's
// mm.Stats.Evictions and MajorFaults):
//
//   - pager_evict: instructions per evicted page. A region of the
//     machine's size is written page by page after a region of a quarter
//     of it was; the pass's time, less what the same pass costs without
//     eviction (first touch and writing, per page, measured on a region
//     that fits: pager_cal_touch_fill), over the pages evicted meanwhile.
//     It carries everything the kernel does for an eviction: choosing the
//     victim, unmapping it and the TLB, compressing, the store, Linux's
//     kswapd and direct reclaim alike.
//   - pager_major_fault: instructions per major fault. The large region
//     is deallocated, which leaves memory free, and the quarter, mostly
//     evicted by then, is read one word a page: the pass's time, less a
//     read of resident pages (pager_cal_read_word), over the major
//     faults. Nothing is evicted meanwhile (the INFO line shows it).
//   - pager_seq_*: a region of 2× the machine written page by page, then
//     read back and checked page by page: the time of both passes, the
//     major faults and evictions.
//   - pager_skew_*: a region of 1.5× the machine, written, then read one
//     word at a time at pseudo-random pages (the same sequence on both
//     kernels), 80 % of the reads in a fifth of the pages (every fifth
//     page: hot pages are spread over the region), the rest over the
//     others: after a warm-up of half as many reads as pages, the major
//     faults and evictions of as many reads as pages, and their time.
//   - pager_skew_eq_*: the same once the program pinned memory (Linux:
//     mlock; hurdvm: the kernel task's heap, never evicted) until 5/8 of
//     the machine is free on both kernels, which leaves the two the same
//     room: the replacement policy and the store's footprint alone.
//
// -phases cost,seq,skew,skeweq runs only those (for trying things).

package main

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

// pagerCounts are the kernel's counters of pages evicted and brought
// back, since boot, and more of its own (pagerExtra names them).
type pagerCounts struct {
	evictions, majors uint64
	extra             [len(pagerExtra)]uint64
}

func (a pagerCounts) minus(b pagerCounts) pagerCounts {
	d := pagerCounts{evictions: a.evictions - b.evictions, majors: a.majors - b.majors}
	for i := range d.extra {
		d.extra[i] = a.extra[i] - b.extra[i]
	}
	return d
}

// String is the extra counters, for INFO lines.
func (a pagerCounts) String() string {
	s := ""
	for i, n := range pagerExtra {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", n, a.extra[i])
	}
	return s
}

// pagerMiB is the machine's size the workloads are sized by.
var pagerMiB int

// pagerPhases, when set (-phases a,b), are the only phases run: cost
// (the per-page costs), seq, skew, skeweq. For trying things.
var pagerPhases string

func phase(name string) bool {
	if pagerPhases == "" {
		return true
	}
	for _, p := range strings.Split(pagerPhases, ",") {
		if p == name {
			return true
		}
	}
	return false
}

// pagerArgs finds "-pager MiB" among the arguments (anywhere: a multiboot
// command line may carry the image's name first), and "-phases LIST".
func pagerArgs(args []string) (int, bool) {
	for i := 1; i+1 < len(args); i++ {
		if args[i] == "-phases" {
			pagerPhases = args[i+1]
		}
	}
	for i := 1; i+1 < len(args); i++ {
		if args[i] != "-pager" {
			continue
		}
		n, err := strconv.Atoi(args[i+1])
		if err != nil || n < 16 {
			fail("-pager", fmt.Errorf("not a machine size in MiB: %q", args[i+1]))
		}
		return n, true
	}
	return 0, false
}

// fillPage writes the page at p with data derived from its address, in
// blocks of 32 words: 8 pseudo-random, then 24 copies of one word that
// names the page and the block (tests/pager's pages, about 3.5:1 under
// LZ4). Unrolled: under -icount every instruction of the program counts
// in the figures it is subtracted from.
func fillPage(p uintptr) {
	w := (*[pageSize / 8]uint64)(unsafe.Pointer(&mem(p, pageSize)[0]))
	x := uint64(p)*0x9e3779b97f4a7c15 | 1
	tag := uint64(p) >> 12 << 32
	for blk := 0; blk < len(w)/32; blk++ {
		b := (*[32]uint64)(w[blk*32 : blk*32+32])
		for i := range 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b[i] = x
		}
		v := tag | uint64(blk)
		b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15] = v, v, v, v, v, v, v, v
		b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23] = v, v, v, v, v, v, v, v
		b[24], b[25], b[26], b[27], b[28], b[29], b[30], b[31] = v, v, v, v, v, v, v, v
	}
}

// samePage reports whether the page at p holds what fillPage wrote.
func samePage(p uintptr) bool {
	w := (*[pageSize / 8]uint64)(unsafe.Pointer(&mem(p, pageSize)[0]))
	x := uint64(p)*0x9e3779b97f4a7c15 | 1
	tag := uint64(p) >> 12 << 32
	diff := uint64(0)
	for blk := 0; blk < len(w)/32; blk++ {
		b := (*[32]uint64)(w[blk*32 : blk*32+32])
		for i := range 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			diff |= b[i] ^ x
		}
		v := tag | uint64(blk)
		for _, y := range b[8:] {
			diff |= y ^ v
		}
	}
	return diff == 0
}

// fillRegion writes every page of [a, a+size).
func fillRegion(a, size uintptr) {
	for off := uintptr(0); off < size; off += pageSize {
		fillPage(a + off)
	}
}

// checkRegion reads back every page of [a, a+size) and stops the program
// on the first that does not hold its data.
func checkRegion(a, size uintptr, what string) {
	for off := uintptr(0); off < size; off += pageSize {
		if !samePage(a + off) {
			fmt.Printf("vmbench: %s: the page at %#x does not hold what was written\n", what, a+off)
			exit(1)
		}
	}
}

// sink keeps the reads of readWords from being optimised away.
var sink uint64

// readWords reads one word of every page of [a, a+size).
func readWords(a, size uintptr) {
	s := uint64(0)
	for off := uintptr(0); off < size; off += pageSize {
		s += *(*uint64)(unsafe.Add(nil, a+off+8))
	}
	sink += s
}

// skewRand is the skewed workload's generator (xorshift64), the same
// sequence on both kernels.
var skewRand uint64

func skewNext() uint64 {
	skewRand ^= skewRand << 13
	skewRand ^= skewRand >> 7
	skewRand ^= skewRand << 17
	return skewRand
}

// skewReads reads one word at n pages of [a, a+pages pages): 80 % of them
// among the hot pages (every fifth), the rest among the others.
func skewReads(a uintptr, pages, n int) {
	hot := (pages + 4) / 5
	cold := pages - hot
	s := uint64(0)
	for range n {
		r := skewNext()
		var p int
		if r%10 < 8 {
			p = int((r>>8)%uint64(hot)) * 5
		} else {
			c := int((r >> 8) % uint64(cold))
			p = c + c/4 + 1 // the c-th page that is not a multiple of 5
		}
		off := uintptr(p)*pageSize + uintptr(r>>40&(pageSize/8-1))*8
		s += *(*uint64)(unsafe.Add(nil, a+off))
	}
	sink += s
}

// benchPager runs the pager's benchmarks through o (in a task on hurdvm).
func benchPager(o memOps) {
	machine := uintptr(pagerMiB) << 20
	pages := func(size uintptr) float64 { return float64(size / pageSize) }
	fmt.Printf("INFO pager: machine %d MiB; %s\n", pagerMiB, pagerMemInfo())

	// Without eviction: first touch and writing, writing alone, reading
	// a word, per page, on a region that fits.
	cal := machine / 8
	c := o.alloc(cal, false)
	t0 := nanos()
	fillRegion(c, cal)
	t1 := nanos()
	fillRegion(c, cal)
	t2 := nanos()
	readWords(c, cal)
	t3 := nanos()
	checkRegion(c, cal, "calibration")
	o.free(c, cal)
	touchFill := float64(t1-t0) / pages(cal)
	fill := float64(t2-t1) / pages(cal)
	read := float64(t3-t2) / pages(cal)
	fmt.Printf("INFO pager calibration (no eviction), per page: first touch and write %.0f, write %.0f, read a word %.0f\n", touchFill, fill, read)
	pagerReport("pager_cal_touch_fill", touchFill)
	pagerReport("pager_cal_read_word", read)

	if phase("cost") {
		costPhase(o, machine, touchFill, read)
	}
	if phase("seq") {
		seqPhase(o, machine)
	}
	// The skewed workload over 1.5× memory, on the whole machine, then
	// with the same free memory on both kernels: the rest pinned where
	// neither evicts it.
	if phase("skew") {
		skewPhase(o, machine, "pager_skew")
	}
	if phase("skeweq") {
		want := uint64(machine / 8 * 5)
		free := freeMemory()
		release := func() {}
		if free > want {
			release = pin(uintptr(free - want))
		}
		fmt.Printf("INFO pager skewed, same free memory: %d MiB free, %d MiB pinned, %d MiB free now (5/8 of the machine wanted)\n",
			free>>20, (max(free, want)-want)>>20, freeMemory()>>20)
		skewPhase(o, machine, "pager_skew_eq")
		release()
	}
}

// costPhase measures the per-page costs: eviction, then major faults.
func costPhase(o memOps, machine uintptr, touchFill, read float64) {
	pages := func(size uintptr) float64 { return float64(size / pageSize) }
	small, big := machine/4, machine
	a := o.alloc(small, false)
	fillRegion(a, small)
	b := o.alloc(big, false)
	n0 := pagerStats()
	t0 := nanos()
	fillRegion(b, big)
	t1 := nanos()
	n1 := pagerStats()
	evictPass := n1.minus(n0)
	checkRegion(b, big, "the region written past memory")
	o.free(b, big)
	n2 := pagerStats()
	t2 := nanos()
	readWords(a, small)
	t3 := nanos()
	n3 := pagerStats()
	majorPass := n3.minus(n2)
	checkRegion(a, small, "the region brought back")
	o.free(a, small)
	fmt.Printf("INFO pager evict pass: %d pages written in %d ns: %d evicted, %d major faults (%v)\n",
		int(pages(big)), t1-t0, evictPass.evictions, evictPass.majors, evictPass)
	fmt.Printf("INFO pager major-fault pass: %d pages read in %d ns: %d major faults, %d evicted (%v)\n",
		int(pages(small)), t3-t2, majorPass.majors, majorPass.evictions, majorPass)
	if evictPass.evictions == 0 || majorPass.majors == 0 {
		fmt.Println("vmbench: the pager benchmark evicted nothing or faulted nothing back: is there swap?")
		exit(1)
	}
	pagerReport("pager_evict", (float64(t1-t0)-pages(big)*touchFill)/float64(evictPass.evictions))
	pagerReport("pager_major_fault", (float64(t3-t2)-pages(small)*read)/float64(majorPass.majors))
}

// seqPhase is a sequential pass over 2× memory, then a second.
func seqPhase(o memOps, machine uintptr) {
	seq := 2 * machine
	s := o.alloc(seq, false)
	n0 := pagerStats()
	t0 := nanos()
	fillRegion(s, seq)
	t1 := nanos()
	fmt.Printf("INFO pager store after writing 2× memory: %s\n", storeInfo()) // not timed
	t2 := nanos()
	checkRegion(s, seq, "the sequential passes")
	t3 := nanos()
	n1 := pagerStats()
	o.free(s, seq)
	d := n1.minus(n0)
	fmt.Printf("INFO pager sequential: write pass %d ns, read pass %d ns; %d major faults, %d evicted (%v)\n", t1-t0, t3-t2, d.majors, d.evictions, d)
	reportUnit("pager_seq_time", float64(t1-t0+t3-t2)/1e6, "ms")
	reportUnit("pager_seq_major", float64(d.majors), "faults")
	reportUnit("pager_seq_evict", float64(d.evictions), "pages")
}

// skewPhase is the skewed workload over 1.5× the machine, its figures
// named name_*.
func skewPhase(o memOps, machine uintptr, name string) {
	skew := machine / 2 * 3
	np := int(skew / pageSize)
	k := o.alloc(skew, false)
	fillRegion(k, skew)
	skewRand = 0x9e3779b97f4a7c15
	skewReads(k, np, np/2) // warm-up
	n0 := pagerStats()
	t0 := nanos()
	skewReads(k, np, np)
	t1 := nanos()
	n1 := pagerStats()
	checkRegion(k, skew, "the skewed workload")
	o.free(k, skew)
	d := n1.minus(n0)
	fmt.Printf("INFO %s: %d reads over %d pages: %d major faults, %d evicted, %d ns (%v)\n", name, np, np, d.majors, d.evictions, t1-t0, d)
	reportUnit(name+"_major", float64(d.majors), "faults")
	reportUnit(name+"_evict", float64(d.evictions), "pages")
	reportUnit(name+"_time", float64(t1-t0)/1e6, "ms")
}

// pagerReport and reportUnit print a pager figure (one sample: the figures
// are counts and sums over whole passes) under the path of the memory.
func pagerReport(op string, v float64) { reportUnit(op, v, "ns/page") }

func reportUnit(op string, v float64, unit string) {
	fmt.Printf("BENCH %s/%s %.1f %s\n", pagerPath, op, v, unit)
}
