package random

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/crypto/blake2s"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chachaBlock is RFC 8439's block function written out plainly (section
// 2.3): the reference the generator is checked against, independent of
// golang.org/x/crypto.
func chachaBlock(key [32]byte, counter uint32, nonce [12]byte) [64]byte {
	var s [16]uint32
	s[0], s[1], s[2], s[3] = 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574
	for i := 0; i < 8; i++ {
		s[4+i] = binary.LittleEndian.Uint32(key[4*i:])
	}
	s[12] = counter
	for i := 0; i < 3; i++ {
		s[13+i] = binary.LittleEndian.Uint32(nonce[4*i:])
	}
	w := s
	qr := func(a, b, c, d int) {
		w[a] += w[b]
		w[d] = bits.RotateLeft32(w[d]^w[a], 16)
		w[c] += w[d]
		w[b] = bits.RotateLeft32(w[b]^w[c], 12)
		w[a] += w[b]
		w[d] = bits.RotateLeft32(w[d]^w[a], 8)
		w[c] += w[d]
		w[b] = bits.RotateLeft32(w[b]^w[c], 7)
	}
	for i := 0; i < 10; i++ {
		qr(0, 4, 8, 12)
		qr(1, 5, 9, 13)
		qr(2, 6, 10, 14)
		qr(3, 7, 11, 15)
		qr(0, 5, 10, 15)
		qr(1, 6, 11, 12)
		qr(2, 7, 8, 13)
		qr(3, 4, 9, 14)
	}
	var out [64]byte
	for i := range w {
		binary.LittleEndian.PutUint32(out[4*i:], w[i]+s[i])
	}
	return out
}

// stream is the first n bytes of the ChaCha20 key stream of key with the
// zero nonce, by the reference block function.
func stream(key [32]byte, n int) []byte {
	var out []byte
	for c := uint32(0); len(out) < n; c++ {
		b := chachaBlock(key, c, [12]byte{})
		out = append(out, b[:]...)
	}
	return out[:n]
}

// TestReferenceBlock checks the reference against RFC 8439's own test
// vector (section 2.3.2).
func TestReferenceBlock(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = byte(i)
	}
	var nonce [12]byte
	copy(nonce[:], unhex(t, "000000090000004a00000000"))
	got := chachaBlock(key, 1, nonce)
	want := unhex(t, `10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e
		d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e`)
	if !bytes.Equal(got[:], want) {
		t.Fatalf("reference block\n got %x\nwant %x", got, want)
	}
}

// TestKnownAnswer: from the all-zero key, the key stream is RFC 8439's
// test vectors A.1 #1 and #2 (blocks 0 and 1 of the zero key and nonce).
// The generator keeps the stream's first 32 bytes as its next key and
// hands out the bytes after them.
func TestKnownAnswer(t *testing.T) {
	block0 := unhex(t, `76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7
		da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586`)
	block1 := unhex(t, `9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed
		29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f`)
	var g Generator
	out := make([]byte, 96)
	g.Read(out)
	if !bytes.Equal(g.key[:], block0[:32]) {
		t.Errorf("next key %x, want the stream's first 32 bytes %x", g.key, block0[:32])
	}
	if want := append(append([]byte{}, block0[32:]...), block1...); !bytes.Equal(out, want) {
		t.Errorf("output\n got %x\nwant %x", out, want)
	}
	// The next Read runs from the new key: check it, and a long one,
	// against the reference.
	for _, n := range []int{1, 32, 63, 64, 65, 1000, 4096} {
		key := g.key
		out := make([]byte, n)
		g.Read(out)
		s := stream(key, 32+n)
		if !bytes.Equal(g.key[:], s[:32]) || !bytes.Equal(out, s[32:]) {
			t.Fatalf("Read(%d) from key %x differs from the reference", n, key)
		}
	}
}

// TestFastKeyErasure: after a Read the generator holds only the next key,
// which is key-stream output of the old one; nothing of the old key or of
// the output is left in it, and its future output differs from the past.
func TestFastKeyErasure(t *testing.T) {
	var g Generator
	g.Reseed([]byte("seed"))
	old := g.key
	out := make([]byte, 64)
	g.Read(out)
	state := unsafe.Slice((*byte)(unsafe.Pointer(&g)), unsafe.Sizeof(g))
	if bytes.Contains(state, old[:8]) {
		t.Error("the old key is still in the generator")
	}
	if bytes.Contains(state, out[:8]) || bytes.Contains(state, out[32:40]) {
		t.Error("output is still in the generator")
	}
	if s := stream(old, 32); !bytes.Equal(g.key[:], s) {
		t.Error("the new key is not the old key's first 32 bytes of stream")
	}
	// Someone who takes the state now can run the generator forward
	// only: nothing it makes is the output already given out.
	taken := g
	later := make([]byte, 4096)
	taken.Read(later)
	if bytes.Contains(later, out[:16]) {
		t.Error("the output given out came again from the later state")
	}
}

func TestReseed(t *testing.T) {
	var a, b Generator
	a.Reseed([]byte("one"))
	b.Reseed([]byte("one"))
	if a.key != b.key {
		t.Fatal("reseeding is not deterministic")
	}
	var in [64]byte
	h := blake2s.Sum256([]byte("one"))
	copy(in[32:], h[:])
	if a.key != blake2s.Sum256(in[:]) {
		t.Error("key is not BLAKE2s(key || BLAKE2s(seed))")
	}
	b.Reseed([]byte("two"))
	c := a
	c.Reseed([]byte("two"))
	if b.key != c.key {
		t.Error("same seeds in the same order gave different keys")
	}
	a.Reseed([]byte("three"))
	if a.key == c.key {
		t.Error("a different seed gave the same key")
	}
	// An empty seed still changes the key, and keeps what came before.
	d := c
	d.Reseed(nil)
	if d.key == c.key {
		t.Error("reseeding with nothing left the key as it was")
	}
}

func TestPool(t *testing.T) {
	material := make([]byte, 5000)
	for i := range material {
		material[i] = byte(i * 7)
	}
	var whole, pieces Pool
	whole.Add(material)
	for i := 0; i < len(material); i += 13 {
		pieces.Add(material[i:min(i+13, len(material))])
	}
	s1, s2 := whole.Sum(), pieces.Sum()
	if s1 != s2 {
		t.Error("the sum depends on how the material was cut into Adds")
	}
	for _, n := range []int{0, 1, poolBlock - 1, poolBlock, poolBlock + 1, 4999} {
		var p Pool
		m := append([]byte{}, material[:n]...)
		p.Add(m)
		a := p.Sum()
		if n > 0 {
			m[n/2] ^= 1
		} else {
			m = []byte{0}
		}
		p.Add(m)
		if a == p.Sum() {
			t.Errorf("%d bytes: a changed byte left the sum as it was", n)
		}
	}
	var p Pool
	p.AddUint64(0)
	zero8 := p.Sum()
	p.Add(make([]byte, 8))
	if zero8 != p.Sum() {
		t.Error("AddUint64(0) is not eight zero bytes")
	}
	if zero8 == whole.Sum() {
		t.Error("Sum does not empty the pool")
	}
}

func TestJitter(t *testing.T) {
	var flat Jitter
	for i := 0; i < 4096; i++ {
		flat.Add(1234)
	}
	if flat.Bits() != 0 {
		t.Errorf("constant samples credited %d bits", flat.Bits())
	}
	// Every value equally often, but in a cycle: predictable.
	var cycle Jitter
	for i := 0; i < 4096; i++ {
		cycle.Add(uint64(100 + i%11*3))
	}
	if b := cycle.Bits(); b != 0 {
		t.Errorf("a cycle of 11 values credited %d bits", b)
	}
	var wide Jitter
	x := uint64(1)
	for i := 0; i < 4096; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		wide.Add(1000 + x%200)
	}
	if b := wide.Bits(); b != 4096/4 {
		t.Errorf("widely spread samples credited %d bits, want the cap of a quarter bit each (%d)", b, 4096/4)
	}
	if wide.Samples() != 4096 {
		t.Errorf("Samples %d", wide.Samples())
	}
}

// TestNoAllocation: the kernel calls these in handler context.
func TestNoAllocation(t *testing.T) {
	var g Generator
	var p Pool
	var j Jitter
	buf := make([]byte, 4096)
	for name, f := range map[string]func(){
		"Read(16)":   func() { g.Read(buf[:16]) },
		"Read(4096)": func() { g.Read(buf) },
		"Reseed":     func() { g.Reseed(buf[:100]) },
		"Pool":       func() { p.Add(buf[:300]); p.AddUint64(7); _ = p.Sum() },
		"Jitter":     func() { j.Add(5); _ = j.Bits() },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
}

// TestOutputLooksRandom is a smoke test of 1 MiB of output: every byte
// value about as often as the others (chi-square), as many ones as zeros,
// no 16-byte block twice, and nothing a compressor can use.
func TestOutputLooksRandom(t *testing.T) {
	var g Generator
	g.Reseed([]byte("smoke"))
	out := make([]byte, 1<<20)
	for i := 0; i < len(out); i += 4096 {
		g.Read(out[i : i+4096])
	}
	var counts [256]int
	ones := 0
	for _, b := range out {
		counts[b]++
		ones += bits.OnesCount8(b)
	}
	expect := float64(len(out)) / 256
	chi := 0.0
	for _, c := range counts {
		d := float64(c) - expect
		chi += d * d / expect
	}
	// 255 degrees of freedom: the 99.99% interval is about 180..350.
	if chi < 180 || chi > 350 {
		t.Errorf("chi-square of the byte counts %.1f", chi)
	}
	if d := float64(ones)/float64(8*len(out)) - 0.5; d > 0.001 || d < -0.001 {
		t.Errorf("ones are %.4f of the bits", float64(ones)/float64(8*len(out)))
	}
	seen := make(map[[16]byte]bool)
	for i := 0; i+16 <= len(out); i += 16 {
		k := [16]byte(out[i : i+16])
		if seen[k] {
			t.Fatalf("16-byte block at %d came before", i)
		}
		seen[k] = true
	}
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(out)
	w.Close()
	if z.Len() < len(out) {
		t.Errorf("1 MiB of output compressed to %d bytes", z.Len())
	}
}

// BenchmarkRead: the cost of one Read (the kernel bounds getrandom's
// calls by it).
func BenchmarkRead(b *testing.B) {
	for _, n := range []int{32, 4096} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var g Generator
			out := make([]byte, n)
			b.SetBytes(int64(n))
			for i := 0; i < b.N; i++ {
				g.Read(out)
			}
		})
	}
}
