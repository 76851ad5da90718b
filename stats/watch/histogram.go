package watch

import (
	"math"
	"slices"
)

// Histogram is a latency histogram as /metrics serves it: native buckets
// (exponential, of one schema) when the scrape had them, and the classic
// cumulative buckets.
type Histogram struct {
	Count, Sum float64
	// Native: Schema, the zero bucket and the positive buckets by index
	// (bucket i holds (2^((i-1)/2^Schema), 2^(i/2^Schema)]); nil Buckets
	// means none were served.
	Schema        int32
	ZeroThreshold float64
	ZeroCount     float64
	Buckets       map[int]float64
	// Classic: cumulative counts by upper bound (seconds).
	Classic map[float64]float64
}

// Add merges h2 into h: counts add up; native buckets of different
// schemas are merged at the coarser one (widening the other's buckets);
// the classic buckets add up bound by bound.
func (h *Histogram) Add(h2 *Histogram) {
	if h2.Count == 0 && h2.Buckets == nil && h2.Classic == nil {
		return
	}
	h.Count += h2.Count
	h.Sum += h2.Sum
	if h2.Buckets != nil {
		switch {
		case h.Buckets == nil:
			h.Schema, h.ZeroThreshold, h.Buckets = h2.Schema, h2.ZeroThreshold, map[int]float64{}
		case h2.Schema < h.Schema:
			h.reduce(h2.Schema)
		}
		h.ZeroThreshold = max(h.ZeroThreshold, h2.ZeroThreshold)
		h.addNative(h2)
	}
	if h2.Classic != nil {
		if h.Classic == nil {
			h.Classic = map[float64]float64{}
		}
		for le, n := range h2.Classic {
			h.Classic[le] += n
		}
	}
}

// addNative adds h2's native buckets, widened to h's schema (h2.Schema >= h.Schema).
func (h *Histogram) addNative(h2 *Histogram) {
	h.ZeroCount += h2.ZeroCount
	for i, n := range h2.Buckets {
		h.Buckets[widen(i, h2.Schema-h.Schema)] += n
	}
}

// reduce lowers h's native buckets to schema s (coarser).
func (h *Histogram) reduce(s int32) {
	b := map[int]float64{}
	for i, n := range h.Buckets {
		b[widen(i, h.Schema-s)] += n
	}
	h.Buckets, h.Schema = b, s
}

// widen is the index, d schemas coarser, of the bucket holding bucket i:
// each coarser bucket joins 2^d finer ones, (i-1)>>d + 1 with i's upper
// bound 2^(i/2^s).
func widen(i int, d int32) int {
	if d <= 0 {
		return i
	}
	return ((i - 1) >> d) + 1
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) in seconds, as Prometheus's
// histogram_quantile would: from the native buckets when there are some
// (interpolated within the bucket, which is at most 2^(2^-Schema) wide),
// else from the classic buckets (interpolated linearly). It is NaN for an
// empty histogram.
func (h *Histogram) Quantile(q float64) float64 {
	if h.Count == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	q = min(max(q, 0), 1)
	if h.Buckets != nil || h.ZeroCount > 0 {
		return h.nativeQuantile(q)
	}
	return h.classicQuantile(q)
}

func (h *Histogram) nativeQuantile(q float64) float64 {
	total := h.ZeroCount
	for _, n := range h.Buckets {
		total += n
	}
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	if rank <= h.ZeroCount {
		return h.ZeroThreshold * rank / max(h.ZeroCount, 1)
	}
	idx := make([]int, 0, len(h.Buckets))
	for i := range h.Buckets {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	per := float64(int(1) << max(h.Schema, 0))
	if h.Schema < 0 {
		per = 1 / float64(int(1)<<-h.Schema)
	}
	seen := h.ZeroCount
	for _, i := range idx {
		n := h.Buckets[i]
		if seen+n >= rank {
			lo, hi := math.Exp2(float64(i-1)/per), math.Exp2(float64(i)/per)
			lo = max(lo, h.ZeroThreshold)
			// Exponential interpolation, as Prometheus does for the
			// standard schemas.
			f := (rank - seen) / n
			return lo * math.Pow(hi/lo, f)
		}
		seen += n
	}
	return math.Exp2(float64(idx[len(idx)-1]) / per)
}

func (h *Histogram) classicQuantile(q float64) float64 {
	bounds := make([]float64, 0, len(h.Classic))
	for le := range h.Classic {
		bounds = append(bounds, le)
	}
	slices.Sort(bounds)
	if len(bounds) == 0 {
		return math.NaN()
	}
	rank := q * h.Count
	lo, below := 0.0, 0.0
	for _, le := range bounds {
		n := h.Classic[le]
		if n >= rank && !math.IsInf(le, 1) {
			if n == below {
				return le
			}
			return lo + (le-lo)*(rank-below)/(n-below)
		}
		lo, below = le, n
	}
	// In the +Inf bucket: the highest finite bound, as Prometheus answers.
	for i := len(bounds) - 1; i >= 0; i-- {
		if !math.IsInf(bounds[i], 1) {
			return bounds[i]
		}
	}
	return math.NaN()
}
