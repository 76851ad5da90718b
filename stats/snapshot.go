package stats

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Snapshot merges everything recorded so far, including what recorders still
// buffer, into a new Result. It is safe while recording goes on.
func (c *Collector) Snapshot() *Result {
	type acc struct {
		Stats
		latSum, svcSum float64 // ns
		failures       map[string]*failAgg
	}
	var eps []*acc
	var epSecs []*epSeriesAcc // by Endpoint
	secs := map[int64]*Point{}
	var first, last, invalid int64
	for _, sh := range c.shards {
		sh.mu.Lock()
		for _, r := range sh.recs {
			sh.drain(r)
		}
		if sh.first != 0 && (first == 0 || sh.first < first) {
			first = sh.first
		}
		last = max(last, sh.last)
		invalid += sh.invalid
		for i, a := range sh.eps {
			if a == nil || a.n == 0 {
				continue
			}
			for i >= len(eps) {
				eps = append(eps, nil)
			}
			e := eps[i]
			if e == nil {
				e = &acc{failures: map[string]*failAgg{}}
				e.Statuses = map[string]int64{}
				e.lat = hdr.NewPacked(lowestUS, highestUS, sigFigs)
				e.svc = hdr.NewPacked(lowestUS, highestUS, sigFigs)
				e.Latency.Min, e.Service.Min = math.Inf(1), math.Inf(1)
				eps[i] = e
			}
			e.Requests += a.n
			e.Failures += a.fails
			e.Late += a.late
			e.Bytes += a.bytes
			e.BytesSent += a.sent
			e.latSum += float64(a.latSum)
			e.svcSum += float64(a.svcSum)
			e.Latency.Min = min(e.Latency.Min, nsMS(a.latMin))
			e.Latency.Max = max(e.Latency.Max, nsMS(a.latMax))
			e.Service.Min = min(e.Service.Min, nsMS(a.svcMin))
			e.Service.Max = max(e.Service.Max, nsMS(a.svcMax))
			e.lat.MergeFrom(a.lat)
			e.svc.MergeFrom(a.svc)
			e.mergeFailed(a.failLat)
			for _, s := range a.statuses {
				e.Statuses[strconv.Itoa(int(s.status))] += s.n
			}
			for reason, f := range a.failures {
				addFailure(e.failures, reason, f.sample, f.n, f.first, f.last)
			}
		}
		for i, s := range sh.secs {
			if s == nil {
				continue
			}
			t := sh.base + int64(i)
			p := secs[t]
			if p == nil {
				p = &Point{T: t, hist: hdr.NewPacked(lowestUS, highestUS, seriesDigits), MinMS: math.Inf(1)}
				secs[t] = p
			}
			p.Requests += s.n
			p.Failures += s.fails
			p.Bytes += s.bytes
			p.BytesSent += s.sent
			p.AvgMS += float64(s.latSum) // a sum until finished below
			p.MinMS = min(p.MinMS, nsMS(s.latMin))
			p.MaxMS = max(p.MaxMS, nsMS(s.latMax))
			p.hist.Merge(s.hist)
			if s.dense != nil {
				p.hist.MergeFrom(s.dense)
			}
			for ep := range s.eps {
				if s.eps[ep].n == 0 {
					continue
				}
				for ep >= len(epSecs) {
					epSecs = append(epSecs, &epSeriesAcc{secs: make([]epSec, 0, len(sh.secs))})
				}
				epSecs[ep].add(t, &s.eps[ep])
			}
		}
		sh.mu.Unlock()
	}

	c.mu.Lock()
	keys := slices.Clone(c.keys)
	recorded := maps.Clone(c.recorded)
	r := &Result{
		Version:     Version,
		Config:      maps.Clone(c.config),
		Start:       c.start,
		Users:       c.peak,
		Percentiles: slices.Clone(c.pcts),
		Skipped:     maps.Clone(c.skipped),
		Dropped:     c.dropped,
		Sessions:    SessionCounts{Completed: c.sessOK.Load(), Failed: c.sessFailed.Load()},
	}
	usersAt := maps.Clone(c.usersAt)
	c.mu.Unlock()

	if invalid > 0 {
		r.Skipped["unregistered endpoint handle"] += invalid
	}
	if len(r.Skipped) == 0 {
		r.Skipped = nil
	}
	if r.Start.IsZero() && first != 0 {
		r.Start = time.Unix(0, first)
	}
	if r.Start.IsZero() {
		// Nothing finished: the run started when its first users did, or now.
		r.Start = c.now()
		for t := range usersAt {
			if u := time.Unix(t, 0); u.Before(r.Start) {
				r.Start = u
			}
		}
	}
	r.End = r.Start
	if last != 0 {
		r.End = time.Unix(0, last)
	} else if now := c.now(); now.After(r.Start) {
		r.End = now
	}
	for i, e := range eps {
		if e == nil || i >= len(keys) {
			continue
		}
		es := EndpointStats{Method: keys[i].method, Name: keys[i].name, Stats: e.Stats, journey: keys[i].journey}
		es.Latency.Avg = e.latSum / float64(e.Requests) / 1e6
		es.Service.Avg = e.svcSum / float64(e.Requests) / 1e6
		es.rec = recorded[Endpoint(i)]
		if i < len(epSecs) {
			es.Series = epSecs[i].series()
		}
		r.Endpoints = append(r.Endpoints, es)
		for reason, f := range e.failures {
			r.Errors = append(r.Errors, ErrorStats{
				Method: es.Method, Name: es.Name, Reason: reason, Sample: f.sample, Count: f.n,
				FirstSeen: time.Unix(0, f.first).UTC(), LastSeen: time.Unix(0, f.last).UTC(),
			})
		}
	}
	r.splitJourneys(keys)
	for _, p := range secs {
		p.AvgMS = p.AvgMS / float64(p.Requests) / 1e6
		r.Series = append(r.Series, *p)
	}
	r.Series = fillSeries(r.Series, r.Start, usersAt)
	r.Start, r.End = r.Start.UTC(), r.End.UTC()
	r.finish()
	return r
}

func nsMS(ns int64) float64 { return float64(ns) / 1e6 }

// fillSeries sorts the points and adds empty seconds from the start (or the
// first point) to the last point, with the users of each second (the last
// value set, carried forward).
func fillSeries(pts []Point, start time.Time, usersAt map[int64]int) []Point {
	slices.SortFunc(pts, func(a, b Point) int { return cmp.Compare(a.T, b.T) })
	if len(pts) == 0 && len(usersAt) == 0 {
		return nil
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	if len(pts) > 0 {
		lo, hi = pts[0].T, pts[len(pts)-1].T
	}
	for t := range usersAt {
		lo, hi = min(lo, t), max(hi, t)
	}
	if !start.IsZero() && start.Unix() < lo && lo-start.Unix() < 24*3600 {
		lo = start.Unix()
	}
	out := make([]Point, 0, hi-lo+1)
	users, j := 0, 0
	for t := lo; t <= hi; t++ {
		if u, ok := usersAt[t]; ok {
			users = u
		}
		if j < len(pts) && pts[j].T == t {
			p := pts[j]
			p.Users = users
			out = append(out, p)
			j++
			continue
		}
		out = append(out, Point{T: t, Users: users})
	}
	return out
}

// splitJourneys turns endpoints registered per journey (JourneyEndpoint)
// into one endpoint per method and name, their errors likewise, and the
// totals of each journey.
func (r *Result) splitJourneys(keys []epKey) {
	some := false
	for _, k := range keys {
		some = some || k.journey != ""
	}
	if !some {
		return
	}
	newStats := func() Stats {
		return Stats{lat: hdr.NewPacked(lowestUS, highestUS, sigFigs), svc: hdr.NewPacked(lowestUS, highestUS, sigFigs)}
	}
	type mk struct{ method, name string }
	merged := map[mk]*EndpointStats{}
	noSeries := map[mk]bool{}
	var order []mk
	journeys := map[string]*JourneyStats{}
	var names []string
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		k := mk{e.Method, e.Name}
		m := merged[k]
		if m == nil {
			m = &EndpointStats{Method: e.Method, Name: e.Name, Stats: newStats()}
			merged[k] = m
			order = append(order, k)
		}
		m.add(&e.Stats)
		if !noSeries[k] {
			var ok bool
			if m.Series, ok = m.Series.add(e.Series); !ok {
				m.Series, noSeries[k] = nil, true // its journeys' seconds are days apart: no series rather than a huge one
			}
		}
		if e.rec != nil {
			if m.rec == nil {
				m.rec = hdr.NewPacked(lowestUS, highestUS, sigFigs)
			}
			m.rec.Merge(e.rec)
		}
		if e.journey == "" {
			continue
		}
		j := journeys[e.journey]
		if j == nil {
			j = &JourneyStats{Name: e.journey, Stats: newStats()}
			journeys[e.journey] = j
			names = append(names, e.journey)
		}
		j.add(&e.Stats)
	}
	r.Endpoints = r.Endpoints[:0]
	for _, k := range order {
		r.Endpoints = append(r.Endpoints, *merged[k])
	}
	slices.Sort(names)
	for _, n := range names {
		r.Journeys = append(r.Journeys, *journeys[n])
	}
	type ek struct{ method, name, reason string }
	errs := map[ek]int{}
	out := r.Errors[:0]
	for _, e := range r.Errors {
		k := ek{e.Method, e.Name, e.Reason}
		if i, ok := errs[k]; ok {
			o := &out[i]
			o.Count += e.Count
			if e.FirstSeen.Before(o.FirstSeen) {
				o.FirstSeen, o.Sample = e.FirstSeen, e.Sample
			}
			if e.LastSeen.After(o.LastSeen) {
				o.LastSeen = e.LastSeen
			}
			continue
		}
		errs[k] = len(out)
		out = append(out, e)
	}
	r.Errors = out
}
