package watch

import (
	"encoding/json"
	"math"
	"net/http"
	"sync"
	"time"
)

// HistoryLen is how many views Live keeps for its chart.
const HistoryLen = 600

// Live holds the latest views for a browser (amp report watch --web): a
// page that polls /view.json, which holds the current figures and the
// recent history. It is safe for concurrent use.
type Live struct {
	mu      sync.Mutex
	cur     *View
	prev    *View
	history []Point
	done    bool
}

// Point is one view in the history: its time and what the chart draws.
type Point struct {
	T     int64   `json:"t"` // Unix ms
	RPS   float64 `json:"rps"`
	P95MS float64 `json:"p95_ms"`
	Users float64 `json:"users"`
}

// Update records a view and the one before it (Scraper.Watch's callback).
func (l *Live) Update(v, prev *View) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cur, l.prev = v, prev
	r := v.RatesSince(prev)
	l.history = append(l.history, Point{T: v.At.UnixMilli(), RPS: r.Requests, P95MS: finite(v.Latency.Quantile(0.95) * 1000), Users: v.Users})
	if n := len(l.history); n > HistoryLen {
		l.history = append(l.history[:0], l.history[n-HistoryLen:]...)
	}
}

// Finish marks the watch over (the shards stopped answering), keeping v as
// the last view.
func (l *Live) Finish(v *View) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v != nil && v != l.cur {
		l.cur, l.prev = v, nil
	}
	l.done = true
}

// Snapshot is what /view.json serves.
type Snapshot struct {
	At          time.Time          `json:"at"`
	Done        bool               `json:"done"`
	ShardsUp    int                `json:"shards_up"`
	Shards      int                `json:"shards"`
	Errors      []string           `json:"errors,omitempty"`
	Runs        []string           `json:"runs"`
	DurationS   float64            `json:"duration_s"`
	Requests    float64            `json:"requests"`
	Failures    float64            `json:"failures"`
	FailureRate float64            `json:"failure_rate"`
	RPS         float64            `json:"rps"`     // over the run's span
	RPSNow      float64            `json:"rps_now"` // since the view before
	P50MS       float64            `json:"p50_ms"`
	P95MS       float64            `json:"p95_ms"`
	P99MS       float64            `json:"p99_ms"`
	Users       float64            `json:"users"`
	TargetUsers float64            `json:"target_users"`
	Sessions    [2]float64         `json:"sessions"` // completed, failed
	Reasons     map[string]float64 `json:"reasons"`
	Endpoints   []EndpointSnapshot `json:"endpoints"`
	History     []Point            `json:"history"`
}

// EndpointSnapshot is one endpoint of a Snapshot.
type EndpointSnapshot struct {
	Label    string  `json:"label"`
	Requests float64 `json:"requests"`
	RPSNow   float64 `json:"rps_now"`
	Failures float64 `json:"failures"`
	P95MS    float64 `json:"p95_ms"`
}

// Snapshot returns the current figures, or nil before the first view.
func (l *Live) Snapshot() *Snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := l.cur
	if v == nil {
		return nil
	}
	r := v.RatesSince(l.prev)
	s := &Snapshot{
		At: v.At, Done: l.done, ShardsUp: v.Up(), Shards: len(v.Shards), Runs: v.Runs,
		DurationS: v.Duration().Seconds(), Requests: v.Requests, Failures: v.Failures, FailureRate: v.FailureRate(),
		RPS: v.RPS(), RPSNow: r.Requests, Users: v.Users, TargetUsers: v.TargetUsers,
		P50MS: finite(v.Latency.Quantile(0.5) * 1000), P95MS: finite(v.Latency.Quantile(0.95) * 1000),
		P99MS:    finite(v.Latency.Quantile(0.99) * 1000),
		Sessions: [2]float64{v.SessionsCompleted, v.SessionsFailed}, Reasons: v.Reasons,
		History: append([]Point(nil), l.history...),
	}
	for _, sh := range v.Shards {
		if sh.Err != nil {
			s.Errors = append(s.Errors, sh.Err.Error())
		}
	}
	for _, e := range v.Endpoints {
		k := e.Method + " " + e.Name
		s.Endpoints = append(s.Endpoints, EndpointSnapshot{Label: k, Requests: e.Requests, RPSNow: r.Endpoints[k],
			Failures: e.Failures, P95MS: finite(e.Latency.Quantile(0.95) * 1000)})
	}
	return s
}

// finite maps NaN (no data) to 0 for JSON.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// Handler serves the page on / and the figures on /view.json.
func (l *Live) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /view.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(l.Snapshot())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
		_, _ = w.Write([]byte(page))
	})
	return mux
}
