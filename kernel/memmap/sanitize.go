package memmap

// Sanitize writes into dst the map that src describes, in the form the
// kernel relies on: ranges sorted by address, disjoint, neighbours of the
// same kind merged, and returns how many it wrote.
//
//   - Entries of length zero, and the parts of entries at or above MaxAddr
//     (a base+length that wraps past 2^64 included), are ignored.
//   - Where entries overlap, the kind of highest rank wins: a byte is
//     usable only if every entry covering it says usable, and reserved
//     address space is never reported as RAM (see Kind.rank).
//   - Usable ranges are shrunk to whole pages (start rounded up, end
//     rounded down): the kernel maps and hands out pages, and a page only
//     partly usable may share its other part with a device. What this cuts
//     off is left out of the map, as are the holes the firmware did not
//     describe.
//
// dst needs room for 2*len(src) ranges at most (each range of the output
// starts at a start or an end of an entry); ranges that do not fit, the
// highest, are left out. Sanitize allocates nothing: the kernel runs it
// before the Go runtime is up.
func Sanitize(dst []Range, src []Entry) int {
	n := 0
	pos := uint64(0)
	for {
		// Find what covers pos, and the next address where that can
		// change: the nearest start above pos or end of a covering entry.
		next, covered := uint64(MaxAddr), false
		var kind Kind
		for _, e := range src {
			start, end, ok := bounds(e)
			switch {
			case !ok || end <= pos:
				continue
			case start > pos:
				next = min(next, start)
				continue
			}
			next = min(next, end)
			if !covered || e.Kind.rank() > kind.rank() || e.Kind.rank() == kind.rank() && e.Kind > kind {
				kind = e.Kind
			}
			covered = true
		}
		if !covered {
			if next == MaxAddr {
				break // nothing above pos
			}
			pos = next // a hole: skip to the next entry
			continue
		}
		if n > 0 && dst[n-1].Kind == kind && dst[n-1].End == pos {
			dst[n-1].End = next
		} else if n < len(dst) {
			dst[n] = Range{pos, next, kind}
			n++
		}
		pos = next
		if pos >= MaxAddr {
			break
		}
	}
	// Usable RAM in whole pages only.
	m := 0
	for _, r := range dst[:n] {
		if r.Kind == Usable {
			r.Start = (r.Start + PageSize - 1) &^ (PageSize - 1)
			r.End &^= PageSize - 1
			if r.Start >= r.End {
				continue
			}
		}
		dst[m] = r
		m++
	}
	return m
}

// bounds is the entry as [start, end), clipped to MaxAddr; ok is false for
// an entry that covers nothing below it.
func bounds(e Entry) (start, end uint64, ok bool) {
	if e.Length == 0 || e.Base >= MaxAddr {
		return 0, 0, false
	}
	end = e.Base + e.Length
	if end < e.Base || end > MaxAddr { // wrapped past 2^64, or beyond any address
		end = MaxAddr
	}
	return e.Base, end, true
}

// KeepLargest marks the smallest usable ranges of m Unused until at most
// n remain usable: the frame allocator takes a fixed number of ranges, and
// losing the smallest loses the least memory.
func KeepLargest(m []Range, n int) {
	for {
		usable, smallest := 0, -1
		for i, r := range m {
			if r.Kind == Usable {
				usable++
				if smallest < 0 || r.Len() < m[smallest].Len() {
					smallest = i
				}
			}
		}
		if usable <= n {
			return
		}
		m[smallest].Kind = Unused
	}
}

// AllUsable reports whether every byte of [lo, hi) is usable RAM in m, a
// sanitized map (sorted).
func AllUsable(m []Range, lo, hi uint64) bool {
	for _, r := range m {
		if r.Kind == Usable && r.Start <= lo && lo < r.End {
			lo = r.End
		}
		if lo >= hi {
			return true
		}
	}
	return false
}
