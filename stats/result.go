package stats

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Version is the version of the JSON result this package writes. ReadResult
// refuses newer versions.
const Version = 1

// Result is the merged view of a run: totals (the embedded Stats), each
// endpoint, failures, skipped tasks, the one-second series and the threshold
// verdicts. It serialises to the documented JSON (see the package doc), reads
// back with ReadResult and merges exactly with Merge.
type Result struct {
	Version   int            `json:"version"`
	Config    map[string]any `json:"config,omitempty"`
	Start     time.Time      `json:"start"`
	End       time.Time      `json:"end"`
	DurationS float64        `json:"duration_s"`
	Stats                    // totals of all endpoints
	Users     int            `json:"users"` // peak simulated users

	Percentiles []float64        `json:"percentiles"`
	Endpoints   []EndpointStats  `json:"endpoints"`
	Errors      []ErrorStats     `json:"errors"`
	Skipped     map[string]int64 `json:"skipped,omitempty"`
	// Dropped counts the sessions the arrival-rate model could not start
	// because every user it may have was busy (k6's dropped_iterations).
	Dropped int64 `json:"dropped,omitempty"`
	// Sessions counts the sessions that ran to their end (Collector.SessionDone).
	Sessions   SessionCounts     `json:"sessions"`
	Series     []Point           `json:"series"`
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	// Capacity is the answer of a capacity search, when the run was one.
	Capacity *Capacity `json:"capacity,omitempty"`
	// Journeys are the totals of each journey (a weighted group of
	// sessions), when the run had journeys.
	Journeys []JourneyStats `json:"journeys,omitempty"`
}

// SessionCounts counts the sessions (recorded sessions replayed once) that
// ran to their end: Failed when any of their requests failed, else
// Completed. A session cut by the end of the run counts under neither.
type SessionCounts struct {
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
}

// Total is Completed + Failed.
func (s SessionCounts) Total() int64 { return s.Completed + s.Failed }

// JourneyStats are the figures of one journey.
type JourneyStats struct {
	Name string `json:"name"`
	Stats
	// Encoded latency histograms (as EndpointStats'), filled when writing
	// JSON and read by ReadResult, so that amp report --merge adds
	// journeys up exactly too.
	LatencyHDR string `json:"latency_hdr,omitempty"`
	ServiceHDR string `json:"service_hdr,omitempty"`
}

// Stats are the figures of one endpoint or of the totals.
type Stats struct {
	Requests       int64            `json:"requests"`
	Failures       int64            `json:"failures"`
	Late           int64            `json:"late"` // sent more than LateAfter after the intended start
	FailureRate    float64          `json:"failure_rate"`
	RPS            float64          `json:"rps"`
	FailuresPerSec float64          `json:"failures_per_s"`
	Bytes          int64            `json:"bytes"`      // response bytes received
	BytesSent      int64            `json:"bytes_sent"` // request bytes sent
	Latency        Latency          `json:"latency_ms"` // from the intended start (corrected)
	Service        Latency          `json:"service_ms"` // from the actual send
	Statuses       map[string]int64 `json:"statuses,omitempty"`
	Slowdown       *Slowdown        `json:"slowdown,omitempty"`

	lat, svc, rec *hdr.PackedHistogram // µs; rec = the recording's durations
	failLat       *hdr.PackedHistogram // µs, latency of the failed tasks; nil = none failed
}

// mergeFailed adds h to the latency histogram of the failed tasks.
func (s *Stats) mergeFailed(h *hdr.PackedHistogram) {
	if h == nil || h.TotalCount() == 0 {
		return
	}
	if s.failLat == nil {
		s.failLat = hdr.NewPacked(lowestUS, highestUS, sigFigs)
	}
	s.failLat.Merge(h)
}

// EndpointStats are the figures of one endpoint (method and name).
type EndpointStats struct {
	Method string `json:"method"`
	Name   string `json:"name"`
	Stats
	// Encoded histograms (base64 HdrHistogram V2, µs), filled when writing
	// JSON and read by ReadResult.
	LatencyHDR  string `json:"latency_hdr,omitempty"`
	ServiceHDR  string `json:"service_hdr,omitempty"`
	RecordedHDR string `json:"recorded_hdr,omitempty"`
	FailedHDR   string `json:"failed_hdr,omitempty"` // latency of the failed tasks
	// Series is the endpoint's own time series (requests, failures, average
	// and maximum latency each second).
	Series *EndpointSeries `json:"series,omitempty"`

	journey string // the journey of an endpoint registered per journey, until Snapshot merges them
}

// Label is "METHOD name", as thresholds and comparisons name an endpoint.
func (e *EndpointStats) Label() string { return e.Method + " " + e.Name }

// Latency summarises a distribution in milliseconds. Avg, Min and Max are
// exact; percentiles are within 0.1 % and clamped to [Min, Max].
type Latency struct {
	Avg, Min, Max float64
	P50, P95, P99 float64
	Percentiles   []Percentile // the configured percentiles, ascending
}

// Percentile is one percentile of a distribution.
type Percentile struct {
	P  float64 // in (0, 100]
	MS float64
}

// At returns percentile p if it was computed (P50, P95, P99 and the
// configured ones), else NaN.
func (l Latency) At(p float64) float64 {
	switch p {
	case 50:
		return l.P50
	case 95:
		return l.P95
	case 99:
		return l.P99
	}
	for _, q := range l.Percentiles {
		if q.P == p {
			return q.MS
		}
	}
	return math.NaN()
}

// pctName formats a percentile without trailing zeros: 50, 99.9, 99.99.
func pctName(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// Slowdown compares an endpoint's replayed service time with its recorded
// durations: P50 and P95 are replayed ÷ recorded (2 = twice as slow).
type Slowdown struct {
	P50           float64 `json:"p50"`
	P95           float64 `json:"p95"`
	RecordedP50MS float64 `json:"recorded_p50_ms"`
	RecordedP95MS float64 `json:"recorded_p95_ms"`
	ReplayedP50MS float64 `json:"replayed_p50_ms"` // service time
	ReplayedP95MS float64 `json:"replayed_p95_ms"`
	Recorded      int64   `json:"recorded"` // recorded exchanges compared with
}

// ErrorStats counts the failures of one endpoint with one reason.
type ErrorStats struct {
	Method    string    `json:"method"`
	Name      string    `json:"name"`
	Reason    string    `json:"reason"`
	Sample    string    `json:"sample,omitempty"` // an example of what the target sent, at most MaxSampleLen bytes
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Point is one wall-clock second of the time series. Requests, Failures and
// Bytes are per second; latencies are those of the tasks done in that second.
type Point struct {
	T        int64 `json:"t"`         // Unix second
	Elapsed  int64 `json:"elapsed_s"` // seconds since the start of the run
	Users    int   `json:"users"`
	Requests int64 `json:"requests"`
	Failures int64 `json:"failures"`
	Bytes    int64 `json:"bytes"`
	// BytesSent is the request bytes sent by the tasks done in that second.
	BytesSent int64   `json:"bytes_sent,omitempty"`
	AvgMS     float64 `json:"avg_ms"`
	MinMS     float64 `json:"min_ms"`
	MaxMS     float64 `json:"max_ms"`
	P50MS     float64 `json:"p50_ms"`
	P95MS     float64 `json:"p95_ms"`
	P99MS     float64 `json:"p99_ms"`
	HDR       string  `json:"hdr,omitempty"` // base64 HdrHistogram V2 of µs, 2 significant digits

	hist *hdr.PackedHistogram
}

// SetConfig stores the run's configuration in the result.
func (r *Result) SetConfig(cfg map[string]any) { r.Config = cfg }

// roundMS rounds milliseconds to the nanosecond, dropping float noise.
func roundMS(ms float64) float64 { return math.Round(ms*1e6) / 1e6 }

// finish computes every derived figure (rates, percentiles, totals,
// slowdown, series percentiles) from the counts and histograms.
func (r *Result) finish() {
	if r.Version == 0 {
		r.Version = Version
	}
	if len(r.Percentiles) == 0 {
		r.Percentiles = DefaultPercentiles()
	}
	dur := max(r.End.Sub(r.Start).Seconds(), 0)
	r.DurationS = roundMS(dur)
	slices.SortFunc(r.Endpoints, func(a, b EndpointStats) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Method, b.Method))
	})
	slices.SortFunc(r.Errors, func(a, b ErrorStats) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Method, b.Method), cmp.Compare(a.Reason, b.Reason))
	})
	var total Stats
	total.Statuses = map[string]int64{}
	total.lat = hdr.NewPacked(lowestUS, highestUS, sigFigs)
	total.svc = hdr.NewPacked(lowestUS, highestUS, sigFigs)
	recTotal := hdr.NewPacked(lowestUS, highestUS, sigFigs)
	svcRecorded := hdr.NewPacked(lowestUS, highestUS, sigFigs) // replayed, of endpoints with a recording
	var svcRecMin, svcRecMax = math.Inf(1), 0.0
	for i := range r.Endpoints {
		e := &r.Endpoints[i].Stats
		e.derive(r.Percentiles, dur)
		total.add(e)
		if e.rec != nil && e.rec.TotalCount() > 0 {
			recTotal.Merge(e.rec)
			svcRecorded.Merge(e.svc)
			svcRecMin, svcRecMax = min(svcRecMin, e.Service.Min), max(svcRecMax, e.Service.Max)
		}
	}
	if len(total.Statuses) == 0 {
		total.Statuses = nil
	}
	total.derive(r.Percentiles, dur)
	total.Slowdown = slowdown(svcRecorded, svcRecMin, svcRecMax, recTotal)
	r.Stats = total
	for i := range r.Journeys {
		r.Journeys[i].derive(r.Percentiles, dur)
	}
	for i := range r.Series {
		p := &r.Series[i]
		if !r.Start.IsZero() {
			p.Elapsed = p.T - r.Start.Unix()
		}
		if p.Requests == 0 {
			p.AvgMS, p.MinMS, p.MaxMS, p.P50MS, p.P95MS, p.P99MS = 0, 0, 0, 0, 0, 0
			continue
		}
		if p.hist != nil {
			p.P50MS = clampPct(p.hist, 50, p.MinMS, p.MaxMS)
			p.P95MS = clampPct(p.hist, 95, p.MinMS, p.MaxMS)
			p.P99MS = clampPct(p.hist, 99, p.MinMS, p.MaxMS)
		}
	}
	for _, p := range r.Series {
		r.Users = max(r.Users, p.Users)
	}
}

// add adds e's counts and distributions to s (for totals).
func (s *Stats) add(e *Stats) {
	if e.Requests == 0 {
		return
	}
	if s.Requests == 0 {
		s.Latency.Min, s.Service.Min = e.Latency.Min, e.Service.Min
	}
	n0, n1 := float64(s.Requests), float64(e.Requests)
	s.Latency.Avg = (s.Latency.Avg*n0 + e.Latency.Avg*n1) / (n0 + n1)
	s.Service.Avg = (s.Service.Avg*n0 + e.Service.Avg*n1) / (n0 + n1)
	s.Latency.Min, s.Latency.Max = min(s.Latency.Min, e.Latency.Min), max(s.Latency.Max, e.Latency.Max)
	s.Service.Min, s.Service.Max = min(s.Service.Min, e.Service.Min), max(s.Service.Max, e.Service.Max)
	s.Requests += e.Requests
	s.Failures += e.Failures
	s.Late += e.Late
	s.Bytes += e.Bytes
	s.BytesSent += e.BytesSent
	if s.Statuses == nil {
		s.Statuses = map[string]int64{}
	}
	for k, v := range e.Statuses {
		s.Statuses[k] += v
	}
	if e.lat != nil {
		s.lat.Merge(e.lat)
	}
	if e.svc != nil {
		s.svc.Merge(e.svc)
	}
	s.mergeFailed(e.failLat)
}

// derive computes rates, percentiles and slowdown of s.
func (s *Stats) derive(pcts []float64, dur float64) {
	s.FailureRate, s.RPS, s.FailuresPerSec = 0, 0, 0
	if s.Requests > 0 {
		s.FailureRate = float64(s.Failures) / float64(s.Requests)
	}
	if dur > 0 {
		s.RPS = float64(s.Requests) / dur
		s.FailuresPerSec = float64(s.Failures) / dur
	}
	s.Latency.fill(s.lat, pcts)
	s.Service.fill(s.svc, pcts)
	s.Slowdown = nil
	if s.rec != nil {
		s.Slowdown = slowdown(s.svc, s.Service.Min, s.Service.Max, s.rec)
	}
}

func (l *Latency) fill(h *hdr.PackedHistogram, pcts []float64) {
	if h == nil {
		return
	}
	if h.TotalCount() == 0 {
		*l = Latency{}
		return
	}
	l.P50 = clampPct(h, 50, l.Min, l.Max)
	l.P95 = clampPct(h, 95, l.Min, l.Max)
	l.P99 = clampPct(h, 99, l.Min, l.Max)
	l.Percentiles = l.Percentiles[:0]
	for _, p := range pcts {
		l.Percentiles = append(l.Percentiles, Percentile{P: p, MS: clampPct(h, p, l.Min, l.Max)})
	}
}

// clampPct returns percentile p of h (µs) in ms, clamped to [lo, hi].
func clampPct(h *hdr.PackedHistogram, p, lo, hi float64) float64 {
	if h == nil || h.TotalCount() == 0 {
		return 0
	}
	v := float64(h.ValueAtPercentile(p)) / 1000
	return min(max(v, lo), hi)
}

func slowdown(svc *hdr.PackedHistogram, lo, hi float64, rec *hdr.PackedHistogram) *Slowdown {
	if rec == nil || rec.TotalCount() == 0 || svc == nil || svc.TotalCount() == 0 {
		return nil
	}
	r50 := float64(rec.ValueAtPercentile(50)) / 1000
	r95 := float64(rec.ValueAtPercentile(95)) / 1000
	if r50 <= 0 || r95 <= 0 {
		return nil
	}
	p50, p95 := clampPct(svc, 50, lo, hi), clampPct(svc, 95, lo, hi)
	return &Slowdown{
		P50:           round3(p50 / r50),
		P95:           round3(p95 / r95),
		RecordedP50MS: r50,
		RecordedP95MS: r95,
		ReplayedP50MS: p50,
		ReplayedP95MS: p95,
		Recorded:      rec.TotalCount(),
	}
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// LatencyBuckets returns, for each upper bound in seconds (ascending), how
// many tasks had a latency (from the intended start) at most that long:
// cumulative counts, as Prometheus histograms have them. Counts are exact to
// the histogram's precision (0.1 %).
func (s *Stats) LatencyBuckets(bounds []float64) []int64 {
	out := make([]int64, len(bounds))
	if s.lat == nil {
		return out
	}
	for v, n := range s.lat.ForEachBucket {
		sec := float64(v) / 1e6
		for i, b := range bounds {
			if sec <= b {
				out[i] += n
			}
		}
	}
	return out
}

// WindowPercentiles returns the percentiles ps (each in (0, 100]) in
// milliseconds of the latency of the tasks done in the Unix seconds
// [from, to) of the series: the per-second histograms merged (within 1 %),
// clamped to the window's exact minimum and maximum. They are 0 when no task
// was done in the window, or when its seconds have no histogram (a result
// read from JSON without them).
func (r *Result) WindowPercentiles(from, to int64, ps ...float64) []float64 {
	out := make([]float64, len(ps))
	var h *hdr.PackedHistogram
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range r.Series {
		p := &r.Series[i]
		if p.T < from || p.T >= to || p.Requests == 0 || p.hist == nil {
			continue
		}
		if h == nil {
			h = hdr.NewPacked(lowestUS, highestUS, seriesDigits)
		}
		h.Merge(p.hist)
		lo, hi = min(lo, p.MinMS), max(hi, p.MaxMS)
	}
	if h == nil {
		return out
	}
	for i, p := range ps {
		out[i] = clampPct(h, p, lo, hi)
	}
	return out
}
