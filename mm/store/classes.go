// Context: the table is computed once at package initialization; handler
// code only reads it.

package store

// Size classes, as Linux's zsmalloc has them. A compressed page of n bytes is
// stored as one object of the smallest class at least n bytes large; a
// class's objects are packed end to end into zspages of 1 to maxZspageFrames
// frames (the frames need not be contiguous: an object may straddle two of
// them), after a header in the first frame. Each class takes the number of
// frames that wastes least of a zspage (zsmalloc's get_pages_per_zspage),
// and classes that would get the same frames and the same object count are
// merged into the largest of them, as zsmalloc merges them: they would use
// memory identically, and fewer classes mean fewer half-empty zspages.
const (
	classAlign = 32 // class sizes are multiples of this
	// maxCompressed is the largest compressed page kept compressed: a
	// page whose LZ4 block would be larger is stored as is, in a frame
	// of its own (a raw page). Three quarters of a page: past that, the
	// quarter saved is not worth the decompression (Linux's zram stores
	// pages as is from about 80%, zsmalloc's huge_class_size).
	maxCompressed   = PageSize * 3 / 4
	maxZspageFrames = 8
	// zsHeaderSize is the zspage header's room at the start of the first
	// frame (zspageHeader, rounded up to classAlign).
	zsHeaderSize = 96
	// numSizes is the number of classAlign steps up to maxCompressed.
	numSizes = maxCompressed / classAlign
)

// sizeClass describes the objects of one class and the zspages holding them.
type sizeClass struct {
	size    uint32 // object size, a multiple of classAlign
	frames  uint32 // frames per zspage
	objects uint32 // objects per zspage
}

var (
	// classes are the merged classes, smallest first.
	classes [numSizes]sizeClass
	// numClasses is how many of classes are in use.
	numClasses int
	// classOf[(n-1)/classAlign] is the class of an n-byte object.
	classOf [numSizes]uint8
)

func init() { buildClasses() }

// buildClasses fills classes and classOf. Sizes are walked from the largest
// down, so that a size whose layout equals the next larger class's joins
// that class.
func buildClasses() {
	var raw [numSizes]sizeClass
	for i := range raw {
		raw[i] = layoutFor(uint32(i+1) * classAlign)
	}
	var idx [numSizes]int // merged index counted from the largest
	n := 0
	for i := numSizes - 1; i >= 0; i-- {
		if n > 0 && raw[i].frames == raw[i+1].frames && raw[i].objects == raw[i+1].objects {
			idx[i] = idx[i+1]
			continue
		}
		idx[i] = n
		n++
	}
	numClasses = n
	for i := range raw {
		c := n - 1 - idx[i] // smallest first
		classOf[i] = uint8(c)
		if raw[i].size > classes[c].size {
			classes[c] = raw[i]
		}
	}
}

// layoutFor picks the zspage size for objects of size bytes: the number of
// frames, 1 to maxZspageFrames, whose objects use the largest share of the
// zspage, the fewest frames among equals.
func layoutFor(size uint32) sizeClass {
	best := sizeClass{size: size}
	var bestUsed uint64 // used bytes per zspage byte, scaled by 2^20
	for k := uint32(1); k <= maxZspageFrames; k++ {
		objs := (k*PageSize - zsHeaderSize) / size
		used := uint64(objs*size) << 20 / uint64(k*PageSize)
		if used > bestUsed {
			best.frames, best.objects, bestUsed = k, objs, used
		}
	}
	return best
}

// classFor returns the class of an n-byte compressed page, 1 <= n <=
// maxCompressed.
//
//go:nosplit
func classFor(n int) int {
	return int(classOf[(n-1)/classAlign])
}
