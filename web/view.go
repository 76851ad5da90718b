package web

import (
	"math"
	"sort"
	"time"

	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
)

// Windows of the "current" figures, as Locust's: rates over the last 10 s,
// response time percentiles over the last 10 whole seconds.
const (
	currentWindow = 10 * time.Second
	// viewTTL is how long a computed view is served to every client before
	// a new snapshot is taken (Locust memoizes /stats/requests for 2 s).
	viewTTL = 900 * time.Millisecond
)

// liveView is the page's picture of a run, sent by /api/state and
// /api/events; the Locust JSON is built from it too.
type liveView struct {
	Run       int                `json:"run"`    // runs started; 0 = none yet
	Resets    int                `json:"resets"` // Reset stats of this run
	State     string             `json:"state"`
	Model     string             `json:"model"` // closed or timeline
	Host      string             `json:"host"`
	Users     int                `json:"users"`  // running now
	Target    int                `json:"target"` // asked for
	Peak      int                `json:"peak"`   // most users at once
	Rate      float64            `json:"spawn_rate"`
	Multiple  float64            `json:"multiple"`
	Speed     float64            `json:"speed"`
	ElapsedS  float64            `json:"elapsed_s"`
	DurationS float64            `json:"duration_s"` // 0: until stopped
	Message   string             `json:"message,omitempty"`
	Totals    row                `json:"totals"`
	Endpoints []row              `json:"endpoints"`
	Journeys  []row              `json:"journeys,omitempty"` // the totals of each journey, when the run has journeys
	Errors    []stats.ErrorStats `json:"errors"`
	Skipped   map[string]int64   `json:"skipped,omitempty"`
	Capacity  *capacityView      `json:"capacity,omitempty"` // a capacity search: its steps, and its answer once it has ended
	// Thresholds are the --fail-if thresholds judged on the statistics so
	// far (none in a capacity search, whose steps judge them).
	Thresholds []stats.ThresholdResult `json:"thresholds"`
	Checks     []stats.CheckResult     `json:"checks"`      // the --check verdicts, and the differences from the recording seen
	Sessions   stats.SessionCounts     `json:"sessions"`    // sessions that ran to their end
	StatusCols []string                `json:"status_cols"` // the status codes seen, in order ("0": no response)
	Current    currentPcts             `json:"current"`
	Series     []point                 `json:"series"`

	res *stats.Result
}

// row is one line of the statistics table. Times are milliseconds from the
// intended start; RPS and FPS are current rates, AvgRPS and AvgFPS the
// averages over the run.
type row struct {
	Method   string           `json:"method"`
	Name     string           `json:"name"`
	Requests int64            `json:"requests"`
	Failures int64            `json:"failures"`
	FailRate float64          `json:"fail_rate"`
	Avg      float64          `json:"avg_ms"`
	Min      float64          `json:"min_ms"`
	Max      float64          `json:"max_ms"`
	P50      float64          `json:"p50_ms"`
	P95      float64          `json:"p95_ms"`
	P99      float64          `json:"p99_ms"`
	RPS      float64          `json:"rps"`
	FPS      float64          `json:"fps"`
	AvgRPS   float64          `json:"avg_rps"`
	AvgFPS   float64          `json:"avg_fps"`
	AvgSize  float64          `json:"avg_size"`
	Slowdown *stats.Slowdown  `json:"slowdown,omitempty"`
	Statuses map[string]int64 `json:"statuses,omitempty"` // requests by status code ("0": no response)
	Sent     int64            `json:"bytes_sent"`
	Received int64            `json:"bytes_received"`
	// WSSent and WSReceived are the WebSocket messages of an upgrade
	// endpoint's conversations.
	WSSent     int64 `json:"ws_sent,omitempty"`
	WSReceived int64 `json:"ws_received,omitempty"`

	st *stats.Stats
}

// currentPcts are the response time percentiles of the last 10 seconds.
type currentPcts struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
}

// point is one second of the charts.
type point struct {
	T        int64   `json:"t"` // Unix second
	Elapsed  int64   `json:"e"`
	Users    int     `json:"u"`
	Requests int64   `json:"r"`
	Failures int64   `json:"f"`
	Avg      float64 `json:"avg"`
	P50      float64 `json:"p50"`
	P95      float64 `json:"p95"`
	P99      float64 `json:"p99"`
}

// liveCache keeps the last view of a run and the counts behind its current
// rates.
type liveCache struct {
	at     time.Time
	view   *liveView
	ring   []countSample // ascending times
	pctSec int64         // the second cur was computed for
	cur    currentPcts
}

type countSample struct {
	at     time.Time
	counts map[string][2]int64 // "METHOD name" (or "" for the totals) → requests, failures
}

// capacityView is a capacity search as the page shows it.
type capacityView struct {
	Steps  []stats.CapacityStep `json:"steps"`
	Answer *stats.Capacity      `json:"answer,omitempty"`
}

// readyView is the view before any start.
func (s *Server) readyView() *liveView {
	d := s.startBase()
	v := &liveView{State: string(replay.StateReady), Model: model(d), Host: d.Host, Target: d.Users, Rate: d.Rate,
		Multiple: d.Multiple, Speed: d.Speed, DurationS: d.Duration.Seconds(), Endpoints: []row{}, Errors: []stats.ErrorStats{},
		Series: []point{}, Thresholds: []stats.ThresholdResult{}, Checks: []stats.CheckResult{}, StatusCols: []string{}}
	v.Totals.Name = "Aggregated"
	return v
}

// view returns the current view of the run, computing it at most once per
// viewTTL whatever the number of clients.
func (rs *runState) view() *liveView {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	now := time.Now()
	if rs.live.view != nil && now.Sub(rs.live.at) < viewTTL {
		return rs.live.view
	}
	res := rs.run.Collector.Snapshot()
	st := rs.run.Player.Status()
	finished := !rs.ended.IsZero()
	elapsed := st.Elapsed
	if finished {
		elapsed = rs.ended.Sub(rs.started)
	}
	v := &liveView{
		Run: rs.gen, Resets: rs.resets, State: string(st.State), Model: model(rs.cfg), Host: rs.cfg.Host,
		Users: st.Users, Target: st.Target, Rate: st.Rate, Multiple: rs.cfg.Multiple, Speed: rs.cfg.Speed,
		ElapsedS: math.Round(elapsed.Seconds()*10) / 10, DurationS: rs.cfg.Duration.Seconds(),
		Peak: res.Users, Skipped: res.Skipped, Endpoints: []row{}, Errors: []stats.ErrorStats{}, Series: []point{}, res: res,
		Sessions: res.Sessions, StatusCols: res.StatusColumns(0), Thresholds: []stats.ThresholdResult{},
	}
	if len(rs.thresholds) > 0 {
		v.Thresholds = res.CheckThresholds(rs.thresholds)
	}
	var exprs []string
	for _, c := range rs.cfg.Checks {
		exprs = append(exprs, c.Expr)
	}
	v.Checks = append([]stats.CheckResult{}, res.Checks(exprs)...)
	if rs.steps != nil || rs.capacity != nil {
		v.Capacity = &capacityView{Steps: append([]stats.CapacityStep{}, rs.steps...), Answer: rs.capacity}
	}
	if rs.cfg.Timeline {
		v.Target = st.Users
	}
	if finished {
		v.State = string(replay.StateStopped)
	}

	counts := map[string][2]int64{"": {res.Requests, res.Failures}}
	for i := range res.Endpoints {
		e := &res.Endpoints[i]
		counts[e.Label()] = [2]int64{e.Requests, e.Failures}
	}
	for i := range res.Journeys {
		j := &res.Journeys[i]
		counts["journey\x00"+j.Name] = [2]int64{j.Requests, j.Failures}
	}
	rate := rs.live.rates(now, counts)
	v.Totals = newRow("", "Aggregated", "", &res.Stats, rate)
	for i := range res.Endpoints {
		e := &res.Endpoints[i]
		v.Endpoints = append(v.Endpoints, newRow(e.Method, e.Name, e.Label(), &e.Stats, rate))
	}
	for i := range res.Journeys {
		j := &res.Journeys[i]
		v.Journeys = append(v.Journeys, newRow("JOURNEY", j.Name, "journey\x00"+j.Name, &j.Stats, rate))
	}
	v.Errors = append(v.Errors, res.Errors...)
	nowSec := now.Unix()
	for _, p := range res.Series {
		if !finished && p.T >= nowSec { // the second still filling up
			continue
		}
		v.Series = append(v.Series, point{T: p.T, Elapsed: p.Elapsed, Users: p.Users, Requests: p.Requests,
			Failures: p.Failures, Avg: round2(p.AvgMS), P50: round2(p.P50MS), P95: round2(p.P95MS), P99: round2(p.P99MS)})
	}
	if rs.live.pctSec != nowSec || rs.live.view == nil {
		rs.live.cur = windowPercentiles(res, nowSec-int64(currentWindow/time.Second), nowSec)
		rs.live.pctSec = nowSec
	}
	v.Current = rs.live.cur
	rs.live.view, rs.live.at = v, now
	return v
}

// rates records the counts seen now and returns a function giving each
// key's current rates: the change since the oldest counts of the last 10
// seconds (or the newest before them). Without earlier counts, or after a
// reset, it gives ok = false and the caller uses the run's averages.
func (lc *liveCache) rates(now time.Time, counts map[string][2]int64) func(key string) (rps, fps float64, ok bool) {
	cut := now.Add(-currentWindow)
	i := sort.Search(len(lc.ring), func(i int) bool { return !lc.ring[i].at.Before(cut) })
	var ref *countSample
	if len(lc.ring) > 0 {
		i = min(i, len(lc.ring)-1)
		ref = &lc.ring[i]
		lc.ring = lc.ring[i:]
	}
	lc.ring = append(lc.ring, countSample{at: now, counts: counts})
	return func(key string) (float64, float64, bool) {
		if ref == nil {
			return 0, 0, false
		}
		dt := now.Sub(ref.at).Seconds()
		was, is := ref.counts[key], counts[key]
		if dt < 0.5 || is[0] < was[0] || is[1] < was[1] {
			return 0, 0, false
		}
		return float64(is[0]-was[0]) / dt, float64(is[1]-was[1]) / dt, true
	}
}

func newRow(method, name, key string, s *stats.Stats, rate func(string) (float64, float64, bool)) row {
	r := row{Method: method, Name: name, Requests: s.Requests, Failures: s.Failures, FailRate: s.FailureRate,
		AvgRPS: round2(s.RPS), AvgFPS: round2(s.FailuresPerSec), Slowdown: s.Slowdown, st: s,
		Statuses: s.Statuses, Sent: s.BytesSent, Received: s.Bytes,
		WSSent: s.MessagesSent, WSReceived: s.MessagesReceived}
	if s.Requests > 0 {
		l := s.Latency
		r.Avg, r.Min, r.Max = round2(l.Avg), round2(l.Min), round2(l.Max)
		r.P50, r.P95, r.P99 = round2(l.P50), round2(l.P95), round2(l.P99)
		r.AvgSize = round2(float64(s.Bytes) / float64(s.Requests))
	}
	rps, fps, ok := rate(key)
	if !ok {
		rps, fps = s.RPS, s.FailuresPerSec
	}
	r.RPS, r.FPS = round2(rps), round2(fps)
	return r
}

// windowPercentiles returns the p50 and p95 of the tasks done in the Unix
// seconds [from, to), zeros if there were none.
func windowPercentiles(res *stats.Result, from, to int64) currentPcts {
	ps := res.WindowPercentiles(from, to, 50, 95)
	return currentPcts{P50: round2(ps[0]), P95: round2(ps[1])}
}

func model(c replay.Config) string {
	if c.Timeline {
		return "timeline"
	}
	return "closed"
}

func round2(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return math.Round(f*100) / 100
}

// since returns a copy of v whose series starts at Unix second t (the page
// asks for what it has not got yet; the last point it has may have grown).
func (v *liveView) since(t int64) *liveView {
	if t <= 0 || len(v.Series) == 0 {
		return v
	}
	c := *v
	i := sort.Search(len(v.Series), func(i int) bool { return v.Series[i].T >= t })
	c.Series = v.Series[i:]
	return &c
}
