package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
)

// maxLocustRows caps the endpoint rows of /stats/requests, as Locust does
// (the Aggregated row is always added).
const maxLocustRows = 500

// swarm is POST /swarm: it starts a replay, or, while one runs, changes its
// users and spawn rate (Locust's Edit re-submits the form the same way).
func (s *Server) swarm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		writeJSON(w, http.StatusBadRequest, swarmReply{Message: "bad form: " + err.Error(), Host: s.startBase().Host})
		return
	}
	if rs := s.current(); rs != nil && !rs.finished() {
		s.retune(w, r.Form, rs)
		return
	}
	cfg, err := parseStart(s.startBase(), r.Form)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, swarmReply{Message: oneLine(err), Host: cfg.Host})
		return
	}
	if err := s.Start(cfg); err != nil {
		code := http.StatusBadRequest
		switch {
		case errors.Is(err, ErrRunning):
			code = http.StatusConflict
		case errors.Is(err, ErrClosed):
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, swarmReply{Message: oneLine(err), Host: cfg.Host})
		return
	}
	rep := swarmReply{Success: true, Message: "Swarming started", Host: cfg.Host}
	if cfg.Duration > 0 {
		rt := cfg.Duration.Seconds()
		rep.RunTime = &rt
	}
	writeJSON(w, http.StatusOK, rep)
}

// retune applies user_count and spawn_rate to the running replay.
func (s *Server) retune(w http.ResponseWriter, form url.Values, rs *runState) {
	rs.mu.Lock()
	host := rs.cfg.Host
	rs.mu.Unlock()
	var errs []error
	users, setUsers, err := formInt(form, "user_count")
	errs = append(errs, err)
	rate, setRate, err := formFloat(form, "spawn_rate")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		writeJSON(w, http.StatusBadRequest, swarmReply{Message: oneLine(err), Host: host})
		return
	}
	if !setUsers && !setRate {
		writeJSON(w, http.StatusBadRequest, swarmReply{Message: "a replay is running: send user_count and/or spawn_rate to change it, or GET /stop first", Host: host})
		return
	}
	if err := s.edit(users, rate, setUsers, setRate); err != nil {
		writeJSON(w, http.StatusConflict, swarmReply{Message: err.Error(), Host: host})
		return
	}
	rs.mu.Lock()
	msg := fmt.Sprintf("Swarming: %d users at %s users/s", rs.cfg.Users, strconv.FormatFloat(rs.cfg.Rate, 'f', -1, 64))
	rs.mu.Unlock()
	if h := strings.TrimSpace(form.Get("host")); h != "" && h != host {
		msg += " (the host of a running replay cannot change; stop it and start a new one)"
	}
	writeJSON(w, http.StatusOK, swarmReply{Success: true, Message: msg, Host: host})
}

// swarmReply is Locust's answer to POST /swarm.
type swarmReply struct {
	Success bool     `json:"success"`
	Message string   `json:"message"`
	Host    string   `json:"host"`
	RunTime *float64 `json:"run_time,omitempty"` // seconds
}

// parseStart builds the configuration of a start from the form fields:
// Locust's user_count, spawn_rate, host and run_time, and amp's duration,
// timeline, multiple, speed, iterations, loop and think. Fields not sent
// keep base's values. Every problem is reported at once.
func parseStart(base replay.Config, form url.Values) (replay.Config, error) {
	cfg := base
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	if n, ok, err := formInt(form, "user_count"); ok {
		cfg.Users = n
	} else {
		add(err)
	}
	if f, ok, err := formFloat(form, "spawn_rate"); ok {
		cfg.Rate = f
	} else {
		add(err)
	}
	if h, ok := form["host"]; ok && strings.TrimSpace(h[0]) != "" {
		cfg.Host = strings.TrimSpace(h[0])
	}
	for _, key := range []string{"run_time", "duration"} {
		if v, ok := form[key]; ok {
			d, err := parseTimespan(v[0])
			if err != nil {
				add(fmt.Errorf("%s %q: want a time span like 90, 30s, 5m or 1h20m", key, v[0]))
				continue
			}
			cfg.Duration = d
		}
	}
	if b, ok, err := formBool(form, "timeline"); ok {
		cfg.Timeline = b
	} else {
		add(err)
	}
	if b, ok, err := formBool(form, "loop"); ok {
		cfg.Loop = b
	} else {
		add(err)
	}
	if f, ok, err := formFloat(form, "multiple"); ok {
		cfg.Multiple = f
	} else {
		add(err)
	}
	if f, ok, err := formFloat(form, "speed"); ok {
		cfg.Speed = f
	} else {
		add(err)
	}
	if n, ok, err := formInt(form, "iterations"); ok {
		cfg.Iterations = n
	} else {
		add(err)
	}
	if v := strings.TrimSpace(form.Get("think")); v != "" {
		think, err := replay.ParseThink(v)
		if err != nil {
			add(fmt.Errorf("think %q: want recorded, none or a duration like 1s", v))
		} else {
			think.Max = cfg.Think.Max
			cfg.Think = think
		}
	}
	if cfg.Timeline && cfg.Iterations > 0 && form.Get("iterations") == "" {
		cfg.Iterations = 0 // a default meant for the closed model
	}
	if !cfg.Timeline && cfg.Loop && form.Get("loop") == "" {
		cfg.Loop = false // a default meant for the timeline
	}
	return cfg, errors.Join(errs...)
}

// parseTimespan reads Locust's run time: "" (no limit), seconds ("90"), or
// a duration such as 30s, 5m, 1h20m, 3h30m10s.
func parseTimespan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 || math.IsNaN(n) || n > 1e9 {
			return 0, errors.New("out of range")
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("bad time span")
	}
	return d, nil
}

// formInt reads a whole number field; ok reports whether it was sent and
// valid, err why it was invalid.
func formInt(form url.Values, key string) (int, bool, error) {
	v, sent := form[key]
	if !sent || strings.TrimSpace(v[0]) == "" {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v[0]), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1e9 {
		return 0, false, fmt.Errorf("%s %q: want a whole number", key, v[0])
	}
	return int(f), true, nil
}

func formFloat(form url.Values, key string) (float64, bool, error) {
	v, sent := form[key]
	if !sent || strings.TrimSpace(v[0]) == "" {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v[0]), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, fmt.Errorf("%s %q: want a number", key, v[0])
	}
	return f, true, nil
}

func formBool(form url.Values, key string) (bool, bool, error) {
	v, sent := form[key]
	if !sent {
		return false, false, nil
	}
	switch strings.ToLower(strings.TrimSpace(v[0])) {
	case "1", "true", "on", "yes":
		return true, true, nil
	case "", "0", "false", "off", "no":
		return false, true, nil
	}
	return false, false, fmt.Errorf("%s %q: want true or false", key, v[0])
}

// stop is GET /stop.
func (s *Server) stop(w http.ResponseWriter, r *http.Request) {
	if crossSite(r) {
		http.Error(w, "web: refused: a cross-site request may not stop the replay", http.StatusForbidden)
		return
	}
	msg := "Test stopped"
	if !s.Stop() {
		msg = "No replay is running"
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": msg})
}

// resetStats is GET /stats/reset; it answers "ok" like Locust.
func (s *Server) resetStats(w http.ResponseWriter, r *http.Request) {
	if crossSite(r) {
		http.Error(w, "web: refused: a cross-site request may not reset the statistics", http.StatusForbidden)
		return
	}
	if rs := s.current(); rs != nil {
		rs.reset()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// locustRow is one entry of /stats/requests, with Locust's field names.
type locustRow struct {
	Method                  any     `json:"method"` // null for the Aggregated row, as Locust's
	Name                    string  `json:"name"`
	SafeName                string  `json:"safe_name"`
	NumRequests             int64   `json:"num_requests"`
	NumFailures             int64   `json:"num_failures"`
	AvgResponseTime         float64 `json:"avg_response_time"`
	MinResponseTime         float64 `json:"min_response_time"`
	MaxResponseTime         float64 `json:"max_response_time"`
	CurrentRPS              float64 `json:"current_rps"`
	CurrentFailPerSec       float64 `json:"current_fail_per_sec"`
	MedianResponseTime      float64 `json:"median_response_time"`
	NinetiethResponseTime   any     `json:"ninetieth_response_time"`
	NinetyNinthResponseTime float64 `json:"ninety_ninth_response_time"`
	P95                     float64 `json:"response_time_percentile_0.95"`
	P99                     float64 `json:"response_time_percentile_0.99"`
	AvgContentLength        float64 `json:"avg_content_length"`
	TotalRPS                float64 `json:"total_rps"`
	TotalFailPerSec         float64 `json:"total_fail_per_sec"`
	FailRatio               float64 `json:"fail_ratio"`
}

// locustError is one entry of /stats/requests' errors.
type locustError struct {
	Method      string    `json:"method"`
	Name        string    `json:"name"`
	Error       string    `json:"error"`
	Occurrences int64     `json:"occurrences"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// locustStats is the body of GET /stats/requests.
type locustStats struct {
	Stats                          []locustRow        `json:"stats"`
	Errors                         []locustError      `json:"errors"`
	TotalRPS                       float64            `json:"total_rps"`
	TotalFailPerSec                float64            `json:"total_fail_per_sec"`
	CurrentRPS                     float64            `json:"current_rps"`
	CurrentFailPerSec              float64            `json:"current_fail_per_sec"`
	FailRatio                      float64            `json:"fail_ratio"`
	CurrentResponseTimePercentiles map[string]float64 `json:"current_response_time_percentiles"`
	State                          string             `json:"state"`
	UserCount                      int                `json:"user_count"`
}

func toLocustRow(r row) locustRow {
	lr := locustRow{
		Name: r.Name, SafeName: safeName(r.Name), NumRequests: r.Requests, NumFailures: r.Failures,
		AvgResponseTime: r.Avg, MinResponseTime: r.Min, MaxResponseTime: r.Max,
		CurrentRPS: r.RPS, CurrentFailPerSec: r.FPS, MedianResponseTime: r.P50,
		NinetyNinthResponseTime: r.P99, P95: r.P95, P99: r.P99, AvgContentLength: r.AvgSize,
		TotalRPS: r.AvgRPS, TotalFailPerSec: r.AvgFPS, FailRatio: r.FailRate,
	}
	if r.Method != "" {
		lr.Method = r.Method
	}
	lr.NinetiethResponseTime = 0.0
	if r.st != nil && r.Requests > 0 {
		if p90 := r.st.Latency.At(90); !math.IsNaN(p90) {
			lr.NinetiethResponseTime = round2(p90)
		} else {
			lr.NinetiethResponseTime = nil // not among the collector's percentiles
		}
	}
	return lr
}

// safeName is Locust's safe_name: the name with &, < and > escaped.
func safeName(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// requestStats is GET /stats/requests, Locust's JSON snapshot.
func (s *Server) requestStats(w http.ResponseWriter, r *http.Request) {
	v := s.liveView()
	out := locustStats{Stats: []locustRow{}, Errors: []locustError{}, State: v.State, UserCount: v.Users}
	for i, e := range v.Endpoints {
		if i == maxLocustRows {
			break
		}
		out.Stats = append(out.Stats, toLocustRow(e))
	}
	out.Stats = append(out.Stats, toLocustRow(v.Totals))
	for i, e := range v.Errors {
		if i == maxLocustRows {
			break
		}
		out.Errors = append(out.Errors, locustError{Method: e.Method, Name: e.Name, Error: e.Reason,
			Occurrences: e.Count, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen})
	}
	out.TotalRPS, out.TotalFailPerSec = v.Totals.RPS, v.Totals.FPS
	out.CurrentRPS, out.CurrentFailPerSec = v.Totals.RPS, v.Totals.FPS
	out.FailRatio = v.Totals.FailRate
	out.CurrentResponseTimePercentiles = map[string]float64{
		"response_time_percentile_0.5":  v.Current.P50,
		"response_time_percentile_0.95": v.Current.P95,
	}
	writeJSON(w, http.StatusOK, out)
}

// result returns the statistics to render, or an empty result before the
// first start (so downloads still have their headers).
func (s *Server) result() *stats.Result {
	if r := s.Result(); r != nil {
		return r
	}
	return stats.NewCollector(stats.Config{}).Snapshot()
}

// csvDownload serves one of Locust's CSV files (suffix "_stats.csv", ...)
// of the current statistics, written by stats.WriteCSV.
func (s *Server) csvDownload(suffix, filename string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if err := stats.WriteCSV(&buf, s.result(), suffix); err != nil {
			http.Error(w, "web: cannot write the CSV: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%s_%d.csv", filename, time.Now().Unix()))
		_, _ = w.Write(buf.Bytes())
	}
}

// report is GET /stats/report: the HTML report (?download=1 as a file).
func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := stats.WriteHTML(&buf, s.result()); err != nil {
		http.Error(w, "web: cannot render the report: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=amp_report_%d.html", time.Now().Unix()))
	}
	_, _ = w.Write(buf.Bytes())
}

// exceptions is GET /exceptions: amp replays have no exceptions (failures
// are in /stats/requests' errors), so the list is empty.
func (s *Server) exceptions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"exceptions": []any{}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "web: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// oneLine joins a multi-line error (errors.Join) with "; ".
func oneLine(err error) string {
	return strings.Join(strings.Split(strings.TrimSpace(err.Error()), "\n"), "; ")
}
