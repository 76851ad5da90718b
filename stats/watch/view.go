package watch

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"
)

// Figures are the counts of a shard or of the merged view, as /metrics
// has them: counters since the run started, gauges now.
type Figures struct {
	Requests, Failures       float64
	BytesSent, BytesReceived float64
	SessionsCompleted        float64
	SessionsFailed           float64
	Dropped, Late            float64
	Users, TargetUsers       float64
	// Start and End are the run's span: its first intended start and its
	// last task done so far.
	Start, End time.Time
	Statuses   map[string]float64 // requests by HTTP status
	Reasons    map[string]float64 // failures by reason
	Skipped    map[string]float64 // tasks not sent, by reason
	Latency    Histogram          // every endpoint's
	Endpoints  []Endpoint         // by name, then method
}

// Endpoint is the figures of one endpoint.
type Endpoint struct {
	Method, Name       string
	Requests, Failures float64
	Latency            Histogram
}

// Shard is what one shard's /metrics said at one scrape.
type Shard struct {
	URL string
	// Err is why the scrape failed; the other fields are then zero.
	Err     error
	Runs    []string // run ids (one, unless the URL serves several runs)
	Version string   // amp_build_info's
	Figures
}

// View is the merged figures of every shard at one moment.
type View struct {
	At     time.Time
	Shards []Shard // in the order of the targets
	Runs   []string
	Figures
}

// Up counts the shards whose scrape succeeded.
func (v *View) Up() int {
	n := 0
	for i := range v.Shards {
		if v.Shards[i].Err == nil {
			n++
		}
	}
	return n
}

// Duration is the run's span: from the earliest start to the latest end
// of the shards.
func (f *Figures) Duration() time.Duration {
	if f.Start.IsZero() || f.End.Before(f.Start) {
		return 0
	}
	return f.End.Sub(f.Start)
}

// RPS is the requests a second over the run's span, as the merged final
// result (stats.Merge) computes it.
func (f *Figures) RPS() float64 {
	if d := f.Duration().Seconds(); d > 0 {
		return f.Requests / d
	}
	return 0
}

// FailureRate is the share of requests that failed.
func (f *Figures) FailureRate() float64 {
	if f.Requests > 0 {
		return f.Failures / f.Requests
	}
	return 0
}

// Merge adds the shards' figures up into one view at.
func Merge(at time.Time, shards []Shard) *View {
	v := &View{At: at, Shards: shards}
	v.Statuses, v.Reasons, v.Skipped = map[string]float64{}, map[string]float64{}, map[string]float64{}
	eps := map[[2]string]*Endpoint{}
	for i := range shards {
		s := &shards[i]
		if s.Err != nil {
			continue
		}
		v.Runs = append(v.Runs, s.Runs...)
		v.add(&s.Figures, eps)
	}
	slices.Sort(v.Runs)
	v.Runs = slices.Compact(v.Runs)
	for _, e := range eps {
		v.Endpoints = append(v.Endpoints, *e)
	}
	sortEndpoints(v.Endpoints)
	return v
}

func (v *View) add(f *Figures, eps map[[2]string]*Endpoint) {
	v.Requests += f.Requests
	v.Failures += f.Failures
	v.BytesSent += f.BytesSent
	v.BytesReceived += f.BytesReceived
	v.SessionsCompleted += f.SessionsCompleted
	v.SessionsFailed += f.SessionsFailed
	v.Dropped += f.Dropped
	v.Late += f.Late
	v.Users += f.Users
	v.TargetUsers += f.TargetUsers
	if !f.Start.IsZero() && (v.Start.IsZero() || f.Start.Before(v.Start)) {
		v.Start = f.Start
	}
	if f.End.After(v.End) {
		v.End = f.End
	}
	addMap(v.Statuses, f.Statuses)
	addMap(v.Reasons, f.Reasons)
	addMap(v.Skipped, f.Skipped)
	v.Latency.Add(&f.Latency)
	for i := range f.Endpoints {
		e := &f.Endpoints[i]
		k := [2]string{e.Method, e.Name}
		m := eps[k]
		if m == nil {
			m = &Endpoint{Method: e.Method, Name: e.Name}
			eps[k] = m
		}
		m.Requests += e.Requests
		m.Failures += e.Failures
		m.Latency.Add(&e.Latency)
	}
}

func addMap(dst, src map[string]float64) {
	for k, n := range src {
		dst[k] += n
	}
}

func sortEndpoints(eps []Endpoint) {
	slices.SortFunc(eps, func(a, b Endpoint) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Method, b.Method))
	})
}

// Rates are the figures a second between two views.
type Rates struct {
	Seconds            float64 // between the views
	Requests, Failures float64
	BytesSent          float64
	BytesReceived      float64
	Sessions           float64
	// Endpoints are the requests a second of each endpoint, by "METHOD name".
	Endpoints map[string]float64
}

// RatesSince returns the rates between prev and v; counters that went
// down (a shard that restarted, or stopped answering) count as 0.
func (v *View) RatesSince(prev *View) Rates {
	r := Rates{Endpoints: map[string]float64{}}
	if prev == nil {
		return r
	}
	r.Seconds = v.At.Sub(prev.At).Seconds()
	if r.Seconds <= 0 {
		return r
	}
	per := func(now, before float64) float64 { return math.Max(0, now-before) / r.Seconds }
	r.Requests = per(v.Requests, prev.Requests)
	r.Failures = per(v.Failures, prev.Failures)
	r.BytesSent = per(v.BytesSent, prev.BytesSent)
	r.BytesReceived = per(v.BytesReceived, prev.BytesReceived)
	r.Sessions = per(v.SessionsCompleted+v.SessionsFailed, prev.SessionsCompleted+prev.SessionsFailed)
	before := map[string]float64{}
	for _, e := range prev.Endpoints {
		before[e.Method+" "+e.Name] = e.Requests
	}
	for _, e := range v.Endpoints {
		k := e.Method + " " + e.Name
		r.Endpoints[k] = per(e.Requests, before[k])
	}
	return r
}

// top returns the n largest entries of m, largest first.
func top(m map[string]float64, n int) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	return keys[:min(n, len(keys))]
}
