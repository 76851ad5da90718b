package prom

import (
	"math"
	"time"

	"github.com/ampload/amp/stats"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// NativeSchema is the schema of the latency's native histogram: 2^6 = 64
// buckets per doubling, each 2^(1/64) ≈ 1.011 times wider than the one
// below, so that a quantile computed by histogram_quantile is within 1.1 %
// (plus the 0.1 % of amp's own histograms) of amp's. A Prometheus that
// wants fewer buckets lowers the resolution at scrape time
// (native_histogram_min_bucket_factor, native_histogram_bucket_limit).
const NativeSchema = 6

// NativeZeroThreshold is the width, in seconds, of the native histogram's
// zero bucket (2^-20 s ≈ 0.95 µs): the tasks amp measured as under 1 µs.
const NativeZeroThreshold = 0x1p-20

// histogram is a latency histogram with both the classic buckets (text
// and protobuf scrapes) and the native, exponential ones (protobuf only),
// as client_golang's own histograms expose both when given both.
type histogram struct {
	prometheus.Metric // the native part
	classic           []*dto.Bucket
	created           bool
}

// Write writes the native histogram, then adds the classic buckets.
func (h *histogram) Write(out *dto.Metric) error {
	if err := h.Metric.Write(out); err != nil {
		return err
	}
	out.Histogram.Bucket = h.classic
	if !h.created {
		out.Histogram.CreatedTimestamp = nil
	}
	return nil
}

// newHistogram returns the latency histogram of e, with classic buckets of
// the upper bounds (seconds, ascending) and native buckets of NativeSchema.
func newHistogram(d *prometheus.Desc, e *stats.Stats, bounds []float64, start time.Time, labels []string) (prometheus.Metric, error) {
	pos := map[int]int64{}
	cum := make([]uint64, len(bounds))
	var count, zero uint64
	idx, upper := 0, 0.0 // the native bucket of the last bin, and its upper bound
	j := 0               // the first classic bound at or above the last bin
	for b := range e.LatencyBins() {
		count += uint64(b.N)
		// Bounds are upper bounds inclusive: the tasks whose measured
		// latency, truncated to the bin's lowest value, is at most them.
		// Bins ascend, so the first bound at or above a bin only moves up.
		for j < len(bounds) && bounds[j] < b.Lo {
			j++
		}
		if j < len(bounds) {
			cum[j] += uint64(b.N)
		}
		x := (b.Lo + b.Hi) / 2
		if x <= NativeZeroThreshold {
			zero += uint64(b.N)
			continue
		}
		if x > upper { // bins ascend: most fall in the bucket of the one before
			idx = NativeIndex(x, NativeSchema)
			upper = math.Exp2(float64(idx) / (1 << NativeSchema))
		}
		pos[idx] += b.N
	}
	for i := 1; i < len(cum); i++ {
		cum[i] += cum[i-1]
	}
	sum := e.Latency.Avg * float64(e.Requests) / 1000
	m, err := prometheus.NewConstNativeHistogram(d, count, sum, pos, nil, zero, NativeSchema, NativeZeroThreshold, start, labels...)
	if err != nil {
		return nil, err
	}
	classic := make([]*dto.Bucket, len(bounds))
	for i, ub := range bounds {
		classic[i] = &dto.Bucket{CumulativeCount: &cum[i], UpperBound: &ub}
	}
	return &histogram{Metric: m, classic: classic, created: !start.IsZero()}, nil
}

// NativeIndex returns the index of the native histogram bucket of schema
// holding x > 0: bucket i holds (2^((i-1)/2^schema), 2^(i/2^schema)].
func NativeIndex(x float64, schema int) int {
	per := float64(int(1) << schema)
	i := int(math.Ceil(math.Log2(x) * per))
	// Correct the rounding of Log2 at the bounds.
	for math.Exp2(float64(i)/per) < x {
		i++
	}
	for math.Exp2(float64(i-1)/per) >= x {
		i--
	}
	return i
}
