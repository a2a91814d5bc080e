// Package random is the kernel's random number generator, as Linux's
// random.c and the BSDs build theirs: seed material from every source the
// machine has is hashed into a 32-byte key (BLAKE2s), and a ChaCha20
// generator with fast key erasure makes the output. Each Read takes the
// ChaCha20 key stream of the current key: its first 32 bytes become the
// next key, the bytes after them are the output, and the old key is
// overwritten before Read returns, so that whoever learns the generator's
// state later cannot compute what it gave out before.
//
// The kernel calls this from handler context and from kmain, before the Go
// runtime has initialised anything: nothing here allocates (the tests
// check), takes a lock or depends on a package's init having run (BLAKE2s
// falls back to its generic code while golang.org/x/sys/cpu has not looked
// at the CPU yet).
package random

import (
	"golang.org/x/crypto/blake2s"
	"golang.org/x/crypto/chacha20"
)

// KeySize is the size of the generator's key, and of a pool's hash.
const KeySize = chacha20.KeySize

// Generator is a ChaCha20 DRBG with fast key erasure. The zero value has
// an all-zero key: Reseed it before use.
type Generator struct {
	key [KeySize]byte
}

// zeroNonce: every key is used for one Read only, so the nonce need not
// change.
var zeroNonce [chacha20.NonceSize]byte

// Reseed mixes seed into the key: key = BLAKE2s-256(key || BLAKE2s-256(seed)).
// What the key held before still counts: a weak seed never makes the
// generator weaker.
func (g *Generator) Reseed(seed []byte) {
	var in [2 * KeySize]byte
	copy(in[:], g.key[:])
	h := blake2s.Sum256(seed)
	copy(in[KeySize:], h[:])
	g.key = blake2s.Sum256(in[:])
	clear(in[:])
	clear(h[:])
}

// Read fills out with random bytes and replaces the key (fast key
// erasure). Its cost grows with len(out): callers in handler context
// bound it.
func (g *Generator) Read(out []byte) {
	// The Cipher NewUnauthenticatedCipher returns stays on this stack
	// (it does not escape): no allocation, which TestNoAllocation checks.
	c, err := chacha20.NewUnauthenticatedCipher(g.key[:], zeroNonce[:])
	if err != nil {
		panic("random: ChaCha20 refused the key or nonce size") // unreachable: both are constants
	}
	clear(g.key[:])
	c.XORKeyStream(g.key[:], g.key[:]) // the first 32 bytes: the next key
	clear(out)
	c.XORKeyStream(out, out)
	*c = chacha20.Cipher{}
}
