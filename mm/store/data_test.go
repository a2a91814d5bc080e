package store

import "encoding/binary"

// Page contents for the tests and benchmarks.

// splitmix64 is a small deterministic generator (Steele et al.), seeded
// from a page's address so that its contents can be made again to check.
type splitmix64 uint64

func (r *splitmix64) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// fillCompressible fills p with data derived from addr that LZ4 compresses
// 2 to 4 times, as real memory does: 64-byte records, each either fresh
// bytes (a record of its own) or an earlier record again with its first
// word the record's own address (a pointer-bearing struct repeated). The
// number of fresh records, 12 to 25 of the 64 (the first always), depends
// on addr; which ones are fresh, and what they hold, on addr too.
func fillCompressible(p *[PageSize]byte, addr uint64) {
	const records = PageSize / 64
	r := splitmix64(addr)
	var fresh [records]bool
	fresh[0] = true
	var order [records - 1]int
	for i := range order {
		order[i] = i + 1
	}
	for i := 0; i < 11+int(addr/PageSize%14); i++ { // a partial Fisher-Yates shuffle
		j := i + int(r.next()%uint64(len(order)-i))
		order[i], order[j] = order[j], order[i]
		fresh[order[i]] = true
	}
	for i := 0; i < records; i++ {
		rec := p[i*64 : i*64+64]
		if fresh[i] {
			for j := 0; j < 64; j += 8 {
				binary.LittleEndian.PutUint64(rec[j:], r.next())
			}
			continue
		}
		from := int(r.next() % uint64(i))
		copy(rec, p[from*64:from*64+64])
		binary.LittleEndian.PutUint64(rec, addr+uint64(i*64))
	}
}

// fillRandom fills p with bytes LZ4 cannot compress.
func fillRandom(p *[PageSize]byte, seed uint64) {
	r := splitmix64(seed)
	for j := 0; j < PageSize; j += 8 {
		binary.LittleEndian.PutUint64(p[j:], r.next())
	}
}

// Kinds of test page.
const (
	kindCompressible = iota
	kindRandom
	kindZero
	kindSame // one byte repeated: the smallest class
	numKinds
)

// fillKind fills p with a page of the given kind made from seed.
func fillKind(p *[PageSize]byte, kind int, seed uint64) {
	switch kind {
	case kindCompressible:
		fillCompressible(p, seed*PageSize)
	case kindRandom:
		fillRandom(p, seed)
	case kindZero:
		clear(p[:])
	case kindSame:
		for i := range p {
			p[i] = byte(seed | 1)
		}
	}
}
