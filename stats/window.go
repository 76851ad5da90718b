package stats

import (
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Window returns the totals of the tasks done in the Unix seconds [from,
// to) of the series as a Result without endpoints or failure reasons, so
// that thresholds on the whole run (p(95)<500, rate<0.01, rps>100, count>0)
// can judge one stretch of it: a step of a capacity search. Latency
// percentiles come from the per-second histograms (within 1 %); thresholds
// scoped to an endpoint or on failure kinds find nothing to judge in it.
func (r *Result) Window(from, to int64) *Result {
	w := &Result{Version: r.Version, Percentiles: r.Percentiles, Start: time.Unix(from, 0).UTC(), End: time.Unix(to, 0).UTC()}
	w.DurationS = float64(max(0, to-from))
	w.Stats.lat = hdr.NewPacked(lowestUS, highestUS, seriesDigits)
	lo, hi := math.Inf(1), math.Inf(-1)
	var sum float64
	for i := range r.Series {
		p := &r.Series[i]
		if p.T < from || p.T >= to {
			continue
		}
		w.Series = append(w.Series, *p)
		w.Users = max(w.Users, p.Users)
		w.Requests += p.Requests
		w.Failures += p.Failures
		w.Bytes += p.Bytes
		w.BytesSent += p.BytesSent
		if p.Requests == 0 {
			continue
		}
		sum += p.AvgMS * float64(p.Requests)
		lo, hi = min(lo, p.MinMS), max(hi, p.MaxMS)
		if p.hist != nil {
			w.Stats.lat.Merge(p.hist)
		}
	}
	if w.Requests > 0 {
		w.Latency.Avg, w.Latency.Min, w.Latency.Max = sum/float64(w.Requests), lo, hi
	}
	w.Stats.derive(r.Percentiles, w.DurationS)
	return w
}
