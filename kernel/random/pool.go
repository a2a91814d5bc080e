package random

import (
	"encoding/binary"

	"golang.org/x/crypto/blake2s"
)

// Pool gathers seed material: whatever is added is hashed down, a block at
// a time, into a BLAKE2s chain (h = BLAKE2s-256(h || block)), and Sum is
// the chain's last link over what is left and the count of bytes added.
// Adding material never loses what was added before.
type Pool struct {
	chain [KeySize]byte
	block [poolBlock]byte
	n     int    // bytes in block
	total uint64 // bytes ever added
}

// poolBlock fills BLAKE2s's blocks exactly with the chain value in front.
const poolBlock = 4*blake2s.BlockSize - KeySize

// Add mixes b into the pool.
func (p *Pool) Add(b []byte) {
	p.total += uint64(len(b))
	for len(b) > 0 {
		k := copy(p.block[p.n:], b)
		p.n += k
		b = b[k:]
		if p.n == len(p.block) {
			p.link(p.block[:])
			p.n = 0
		}
	}
}

// AddUint64 mixes v into the pool.
func (p *Pool) AddUint64(v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	p.Add(b[:])
}

// link hashes the chain value and block (at most poolBlock+8 bytes) into
// the next chain value.
func (p *Pool) link(block []byte) {
	var in [KeySize + poolBlock + 8]byte
	copy(in[:], p.chain[:])
	n := copy(in[KeySize:], block)
	p.chain = blake2s.Sum256(in[:KeySize+n])
	clear(in[:])
}

// Sum returns the hash of everything added, and empties the pool.
func (p *Pool) Sum() [KeySize]byte {
	var last [poolBlock + 8]byte
	n := copy(last[:], p.block[:p.n])
	binary.LittleEndian.PutUint64(last[n:], p.total)
	p.link(last[:n+8])
	sum := p.chain
	*p = Pool{}
	clear(last[:])
	return sum
}
