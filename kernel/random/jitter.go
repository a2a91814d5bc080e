package random

import "math"

// Jitter estimates how much entropy timing samples carry: the times a
// short piece of work took, by the TSC, which vary with what the caches,
// the memory and the firmware's interrupts do. Two of NIST SP 800-90B's
// estimators of min-entropy per sample, the lower taken:
//
//   - most common value (section 6.3.1): the frequency of the most common
//     sample;
//   - lag prediction (after section 6.3.8): how often a sample equals the
//     one lag places before it, for the best lag up to maxLag, which
//     catches periodic patterns the first cannot see.
//
// Each is -log2 of the upper 99% confidence bound on the frequency. Samples
// are compared by their low 8 bits, which can only merge values and so
// lower the estimate; and since successive samples are not independent in
// ways no estimator sees, Bits credits a quarter of the estimate, at most a
// quarter of a bit per sample.
type Jitter struct {
	counts  [256]uint32
	n       uint32
	history [maxLag]uint8 // the last samples, the latest at n % maxLag
	hits    [maxLag]uint32
}

const maxLag = 16

// Add records the duration of one sample, in TSC ticks.
func (j *Jitter) Add(ticks uint64) {
	v := uint8(ticks)
	for lag := 1; lag <= maxLag && uint32(lag) <= j.n; lag++ {
		if j.history[(j.n-uint32(lag))%maxLag] == v {
			j.hits[lag-1]++
		}
	}
	j.history[j.n%maxLag] = v
	j.counts[v]++
	j.n++
}

// Samples is how many samples were added.
func (j *Jitter) Samples() int { return int(j.n) }

// Bits is the entropy credited to all the samples added so far.
func (j *Jitter) Bits() int {
	if j.n <= maxLag {
		return 0
	}
	most := uint32(0)
	for _, c := range j.counts {
		most = max(most, c)
	}
	h := minEntropy(most, j.n)
	for lag, hits := range j.hits {
		h = min(h, minEntropy(hits, j.n-uint32(lag+1)))
	}
	return int(float64(j.n) * min(h, 1) / 4)
}

// minEntropy is -log2 of the upper 99% confidence bound on the probability
// of an event seen k times in n trials.
func minEntropy(k, n uint32) float64 {
	p := float64(k) / float64(n)
	pu := min(1, p+2.576*math.Sqrt(p*(1-p)/float64(n-1)))
	return -math.Log2(pu)
}
