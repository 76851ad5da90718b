package stats

import (
	"iter"
	"math/bits"
)

// HistBin is one populated bin of a latency histogram: N tasks took from Lo
// (inclusive) to Hi (exclusive) seconds.
type HistBin struct {
	Lo, Hi float64
	N      int64
}

// LatencyBins returns the populated bins of the latency histogram (from
// the intended start), in ascending order: each is 1 µs wide below 2.048 ms
// and at most 0.1 % of its value wide above, so that exporters (the native
// histograms of /metrics) can re-bin it without losing precision.
func (s *Stats) LatencyBins() iter.Seq[HistBin] {
	return func(yield func(HistBin) bool) {
		if s.lat == nil {
			return
		}
		for v, n := range s.lat.ForEachBucket {
			w := binWidthUS(v)
			if !yield(HistBin{Lo: float64(v) / 1e6, Hi: float64(v+w) / 1e6, N: n}) {
				return
			}
		}
	}
}

// binWidthUS is the width in µs of the histogram bin whose lowest value is
// v: the endpoint histograms (lowestUS 1, sigFigs 3) have 2048 sub-buckets,
// 1 µs wide up to 2047 µs, then twice as wide with each power of two.
func binWidthUS(v int64) int64 {
	const subBucketBits = 11 // 2048 sub-buckets for 3 significant figures
	if v <= 0 {
		return 1
	}
	return int64(1) << max(0, bits.Len64(uint64(v))-subBucketBits)
}
