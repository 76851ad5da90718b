package stats

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Merge combines results of runs that happened at the same time (the
// processes of a distributed run) into one, exactly: histograms, counts,
// failures and skipped tasks add up, minima and maxima combine, the series
// add up second by second (users too). The first result's configuration and
// percentiles are kept; thresholds are dropped (check them on the merge).
func Merge(results ...*Result) (*Result, error) {
	if len(results) == 0 {
		return nil, errors.New("merge: no results")
	}
	out := &Result{Version: Version, Percentiles: slices.Clone(results[0].Percentiles)}
	if results[0].Config != nil {
		out.Config = maps.Clone(results[0].Config)
		if len(results) > 1 {
			out.Config["merged_results"] = len(results)
			delete(out.Config, ConfigShard) // the merge is the whole run
		}
	}
	eps := map[epKey]*EndpointStats{}
	journeys := map[string]*JourneyStats{}
	errs := map[[3]string]*ErrorStats{}
	secs := map[int64]*Point{}
	for i, r := range results {
		if r == nil {
			return nil, fmt.Errorf("merge: result %d is nil", i+1)
		}
		if r.Version > Version {
			return nil, fmt.Errorf("merge: result %d has version %d, newer than %d", i+1, r.Version, Version)
		}
		if !r.Start.IsZero() && (out.Start.IsZero() || r.Start.Before(out.Start)) {
			out.Start = r.Start
		}
		if r.End.After(out.End) {
			out.End = r.End
		}
		for _, e := range r.Endpoints {
			if e.Requests > 0 && e.lat == nil {
				return nil, fmt.Errorf("merge: result %d: endpoint %s has no histogram", i+1, e.Label())
			}
			k := epKey{method: e.Method, name: e.Name}
			m := eps[k]
			if m == nil {
				m = &EndpointStats{Method: e.Method, Name: e.Name}
				m.lat = hdr.NewPacked(lowestUS, highestUS, sigFigs)
				m.svc = hdr.NewPacked(lowestUS, highestUS, sigFigs)
				eps[k] = m
			}
			m.Stats.add(&e.Stats)
			var ok bool
			if m.Series, ok = m.Series.add(e.Series); !ok {
				return nil, fmt.Errorf("merge: result %d: the series of endpoint %s is over %d days from the others'", i+1, e.Label(), MaxEndpointSeries/86400)
			}
			if m.rec == nil && e.rec != nil {
				m.rec = e.rec.Clone() // the same recording: keep one copy
			}
		}
		for _, j := range r.Journeys {
			m := journeys[j.Name]
			if m == nil {
				m = &JourneyStats{Name: j.Name}
				m.lat = hdr.NewPacked(lowestUS, highestUS, sigFigs)
				m.svc = hdr.NewPacked(lowestUS, highestUS, sigFigs)
				journeys[j.Name] = m
			}
			m.Stats.add(&j.Stats)
		}
		for _, e := range r.Errors {
			k := [3]string{e.Method, e.Name, e.Reason}
			m := errs[k]
			if m == nil {
				c := e
				errs[k] = &c
				continue
			}
			m.Count += e.Count
			if e.FirstSeen.Before(m.FirstSeen) {
				m.FirstSeen = e.FirstSeen
			}
			if e.LastSeen.After(m.LastSeen) {
				m.LastSeen = e.LastSeen
			}
		}
		out.Dropped += r.Dropped
		out.Sessions.Completed += r.Sessions.Completed
		out.Sessions.Failed += r.Sessions.Failed
		for k, v := range r.Skipped {
			if out.Skipped == nil {
				out.Skipped = map[string]int64{}
			}
			out.Skipped[k] += v
		}
		for _, p := range r.Series {
			m := secs[p.T]
			if m == nil {
				m = &Point{T: p.T, hist: hdr.NewPacked(lowestUS, highestUS, seriesDigits)}
				secs[p.T] = m
			}
			if p.Requests > 0 {
				if m.Requests == 0 {
					m.MinMS = p.MinMS
				}
				n0, n1 := float64(m.Requests), float64(p.Requests)
				m.AvgMS = (m.AvgMS*n0 + p.AvgMS*n1) / (n0 + n1)
				m.MinMS, m.MaxMS = min(m.MinMS, p.MinMS), max(m.MaxMS, p.MaxMS)
			}
			m.Users += p.Users
			m.Requests += p.Requests
			m.Failures += p.Failures
			m.Bytes += p.Bytes
			m.BytesSent += p.BytesSent
			if p.hist != nil {
				m.hist.Merge(p.hist)
			}
		}
	}
	for _, e := range eps {
		out.Endpoints = append(out.Endpoints, *e)
	}
	for _, e := range errs {
		out.Errors = append(out.Errors, *e)
	}
	for _, j := range journeys {
		out.Journeys = append(out.Journeys, *j)
	}
	slices.SortFunc(out.Journeys, func(a, b JourneyStats) int { return cmp.Compare(a.Name, b.Name) })
	for _, p := range secs {
		out.Series = append(out.Series, *p)
	}
	slices.SortFunc(out.Series, func(a, b Point) int { return cmp.Compare(a.T, b.T) })
	out.finish()
	return out, nil
}
