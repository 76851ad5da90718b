package stats

import (
	"fmt"
	"slices"
)

// EndpointSeries is one endpoint's time series: for each wall-clock second
// from T0 (a Unix second), the tasks done in it, those that failed, and
// their average and maximum latency (ms, from the intended start). The
// slices have one value a second, with zeros for seconds without tasks.
type EndpointSeries struct {
	T0       int64     `json:"t0"`
	Requests []int64   `json:"requests"`
	Failures []int64   `json:"failures"`
	AvgMS    []float64 `json:"avg_ms"`
	MaxMS    []float64 `json:"max_ms"`
}

// MaxEndpointSeries is the longest endpoint series, in seconds (8 days): a
// result read or a merge that would need a longer one is refused, rather
// than allocating without bound.
const MaxEndpointSeries = 8 * 24 * 3600

// check tells what is wrong with a series read from a file, or nil.
func (s *EndpointSeries) check() error {
	if s == nil {
		return nil
	}
	n := len(s.Requests)
	if len(s.Failures) != n || len(s.AvgMS) != n || len(s.MaxMS) != n {
		return fmt.Errorf("series: requests, failures, avg_ms and max_ms have %d, %d, %d and %d values, want as many",
			n, len(s.Failures), len(s.AvgMS), len(s.MaxMS))
	}
	if n > MaxEndpointSeries || s.T0 < -(1<<40) || s.T0 > 1<<40 {
		return fmt.Errorf("series: %d seconds from t0 %d: at most %d seconds, t0 a Unix second", n, s.T0, MaxEndpointSeries)
	}
	return nil
}

// Len is the number of seconds of the series.
func (s *EndpointSeries) Len() int {
	if s == nil {
		return 0
	}
	return len(s.Requests)
}

// epSec aggregates one endpoint in one second of one shard.
type epSec struct {
	n, fails       int64
	latSum, latMax int64 // ns
}

// add merges o into s, second by second (averages weighted by requests);
// ok is false, and s returned unchanged, when together they would span
// more than MaxEndpointSeries seconds.
func (s *EndpointSeries) add(o *EndpointSeries) (_ *EndpointSeries, ok bool) {
	if o.Len() == 0 {
		return s, true
	}
	if s.Len() == 0 {
		return o.clone(), true
	}
	lo := min(s.T0, o.T0)
	hi := max(s.T0+int64(s.Len()), o.T0+int64(o.Len()))
	if hi-lo > MaxEndpointSeries {
		return s, false
	}
	out := &EndpointSeries{T0: lo}
	out.grow(int(hi - lo))
	for _, in := range []*EndpointSeries{s, o} {
		off := int(in.T0 - lo)
		for i := range in.Requests {
			j := off + i
			n0, n1 := float64(out.Requests[j]), float64(in.Requests[i])
			if n0+n1 > 0 {
				out.AvgMS[j] = (out.AvgMS[j]*n0 + in.AvgMS[i]*n1) / (n0 + n1)
			}
			out.Requests[j] += in.Requests[i]
			out.Failures[j] += in.Failures[i]
			out.MaxMS[j] = max(out.MaxMS[j], in.MaxMS[i])
		}
	}
	return out, true
}

func (s *EndpointSeries) grow(n int) {
	s.Requests, s.Failures = make([]int64, n), make([]int64, n)
	s.AvgMS, s.MaxMS = make([]float64, n), make([]float64, n)
}

func (s *EndpointSeries) clone() *EndpointSeries {
	return &EndpointSeries{T0: s.T0, Requests: slices.Clone(s.Requests), Failures: slices.Clone(s.Failures),
		AvgMS: slices.Clone(s.AvgMS), MaxMS: slices.Clone(s.MaxMS)}
}

// epSeriesAcc gathers an endpoint's seconds from the shards, densely from
// the Unix second base.
type epSeriesAcc struct {
	base int64
	secs []epSec
}

func (acc *epSeriesAcc) add(t int64, e *epSec) {
	if len(acc.secs) == 0 {
		acc.base = t
	}
	if t < acc.base {
		grow := int(acc.base - t)
		acc.secs = append(make([]epSec, grow, grow+len(acc.secs)), acc.secs...)
		acc.base = t
	}
	i := int(t - acc.base)
	for i >= len(acc.secs) {
		acc.secs = append(acc.secs, epSec{})
	}
	a := &acc.secs[i]
	a.n += e.n
	a.fails += e.fails
	a.latSum += e.latSum
	a.latMax = max(a.latMax, e.latMax)
}

// series turns the seconds gathered into a series, nil without any.
func (acc *epSeriesAcc) series() *EndpointSeries {
	if len(acc.secs) == 0 {
		return nil
	}
	s := &EndpointSeries{T0: acc.base}
	s.grow(len(acc.secs))
	for i, a := range acc.secs {
		s.Requests[i], s.Failures[i] = a.n, a.fails
		if a.n > 0 {
			s.AvgMS[i] = float64(a.latSum) / float64(a.n) / 1e6
		}
		s.MaxMS[i] = nsMS(a.latMax)
	}
	return s
}
