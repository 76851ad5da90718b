package stats

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// DefaultBandLimits are the latency band limits of the HTML report when
// neither a flag nor a threshold gives them: Gatling's 800 ms and 1200 ms.
func DefaultBandLimits() []time.Duration {
	return []time.Duration{800 * time.Millisecond, 1200 * time.Millisecond}
}

// MaxBands is the most band limits ParseBands accepts.
const MaxBands = 5

// ParseBands parses the limits of the latency bands, e.g. "800ms,1200ms"
// (Go durations, ascending, positive, at most MaxBands). Its errors are one
// line naming the value.
func ParseBands(s string) ([]time.Duration, error) {
	fail := func(format string, args ...any) ([]time.Duration, error) {
		return nil, fmt.Errorf("invalid latency bands %q: %s", s, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(s) == "" {
		return fail("empty; want limits such as 800ms,1200ms")
	}
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil {
			return fail("%q is not a duration such as 800ms or 1.2s", strings.TrimSpace(part))
		}
		if d <= 0 || d > time.Hour {
			return fail("%v is not between 0 and 1h", d)
		}
		if len(out) > 0 && d <= out[len(out)-1] {
			return fail("the limits must ascend (%v after %v)", d, out[len(out)-1])
		}
		out = append(out, d)
	}
	if len(out) > MaxBands {
		return fail("%d limits, at most %d", len(out), MaxBands)
	}
	return out, nil
}

// BandLimits returns the band limits for r: the limits of its latency
// thresholds on the whole run (p(95)<500 gives 500 ms) when it has any,
// else DefaultBandLimits.
func (r *Result) BandLimits() []time.Duration {
	var out []time.Duration
	for _, t := range r.Thresholds {
		th, err := ParseThreshold(t.Expr)
		if err != nil || th.Name != "" || t.Unit != "ms" || t.Limit <= 0 {
			continue
		}
		out = append(out, time.Duration(t.Limit*float64(time.Millisecond)))
	}
	if len(out) == 0 {
		return DefaultBandLimits()
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return out[:min(len(out), MaxBands)]
}

// Band is one of Gatling's response time bands: the tasks that succeeded
// with a latency in (Lo, Hi] milliseconds, or, with Failed, those that
// failed.
type Band struct {
	Label  string  `json:"label"` // "≤ 800 ms", "800–1200 ms", "> 1200 ms", "failed"
	LoMS   float64 `json:"lo_ms"`
	HiMS   float64 `json:"hi_ms"` // +Inf for the last band
	Failed bool    `json:"failed,omitempty"`
	Count  int64   `json:"count"`
	Share  float64 `json:"share"` // of all requests, 0..1
}

// Bands counts the successful tasks of s by latency between limits, then the
// failed ones: len(limits)+2 bands that add up to s.Requests. Counts are as
// exact as the histograms (within 0.1 % of each limit).
func (s *Stats) Bands(limits []time.Duration) []Band {
	bounds := make([]float64, len(limits))
	for i, l := range limits {
		bounds[i] = l.Seconds()
	}
	all := s.LatencyBuckets(bounds)
	failed := make([]int64, len(bounds))
	if s.failLat != nil {
		failed = (&Stats{lat: s.failLat}).LatencyBuckets(bounds)
	}
	var out []Band
	prev, lo := int64(0), 0.0
	for i, l := range limits {
		hi := float64(l) / float64(time.Millisecond)
		n := all[i] - failed[i]
		label := fmt.Sprintf("%s–%s ms", trimFloat(lo, 1), trimFloat(hi, 1))
		if i == 0 {
			label = fmt.Sprintf("≤ %s ms", trimFloat(hi, 1))
		}
		out = append(out, Band{Label: label, LoMS: lo, HiMS: hi, Count: n - prev})
		prev, lo = n, hi
	}
	ok := s.Requests - s.Failures
	out = append(out, Band{Label: fmt.Sprintf("> %s ms", trimFloat(lo, 1)), LoMS: lo, HiMS: math.Inf(1), Count: ok - prev})
	if len(limits) == 0 {
		out[0].Label = "succeeded"
	}
	out = append(out, Band{Label: "failed", Failed: true, Count: s.Failures})
	for i := range out {
		if s.Requests > 0 {
			out[i].Share = float64(out[i].Count) / float64(s.Requests)
		}
	}
	return out
}

// Bin is one bar of a latency distribution: the tasks whose latency was in
// [LoMS, HiMS).
type Bin struct {
	LoMS, HiMS float64
	Count      int64
}

// Distribution returns the latency distribution of s in n bins of equal
// width from 0 to the 99.9th percentile (rounded up), the last bin also
// holding every slower task, so that one outlier does not squash the chart.
// It is nil without requests.
func (s *Stats) Distribution(n int) []Bin {
	if s.lat == nil || s.lat.TotalCount() == 0 || n <= 0 {
		return nil
	}
	top := float64(s.lat.ValueAtPercentile(99.9)) / 1000
	ticks := niceTicks(max(top, 0.001))
	top = ticks[len(ticks)-1]
	w := top / float64(n)
	out := make([]Bin, n)
	for i := range out {
		out[i] = Bin{LoMS: float64(i) * w, HiMS: float64(i+1) * w}
	}
	for v, c := range s.lat.ForEachBucket {
		i := min(int(float64(v)/1000/w), n-1)
		out[max(i, 0)].Count += c
	}
	return out
}
