package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/ampload/amp/stats"
)

// routes wires every path; see the package doc.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", noCache(http.FileServerFS(s.assets))))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/assets/favicon.svg", http.StatusMovedPermanently)
	})

	// Locust's REST API.
	mux.HandleFunc("POST /swarm", s.swarm)
	mux.HandleFunc("GET /stop", s.stop)
	mux.HandleFunc("GET /stats/reset", s.resetStats)
	mux.HandleFunc("GET /stats/requests", s.requestStats)
	mux.HandleFunc("GET /stats/requests/csv", s.csvDownload("_stats.csv", "requests"))
	mux.HandleFunc("GET /stats/requests_full_history/csv", s.csvDownload("_stats_history.csv", "requests_full_history"))
	mux.HandleFunc("GET /stats/failures/csv", s.csvDownload("_failures.csv", "failures"))
	mux.HandleFunc("GET /exceptions/csv", s.csvDownload("_exceptions.csv", "exceptions"))
	mux.HandleFunc("GET /stats/traffic/csv", s.csvDownload(stats.TrafficCSV, "traffic"))
	mux.HandleFunc("GET /exceptions", s.exceptions)
	mux.HandleFunc("GET /stats/report", s.report)

	// amp's own API.
	mux.HandleFunc("GET /api/info", s.info)
	mux.HandleFunc("GET /api/state", s.state)
	mux.HandleFunc("GET /api/events", s.events)
	mux.HandleFunc("GET /api/result", s.resultJSON)
	mux.HandleFunc("GET /api/sessions", s.sessions)
	mux.HandleFunc("GET /api/sessions/{index}", s.session)
	mux.HandleFunc("GET /api/correlations", s.correlations)

	// Browsers say where a request comes from; refuse POSTs from other
	// sites' pages (a page elsewhere must not start load from this machine).
	return http.NewCrossOriginProtection().Handler(mux)
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// index serves the page.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(s.assets, "index.html")
	if err != nil {
		http.Error(w, "web: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

// formDefaults are the start form's initial values.
type formDefaults struct {
	UserCount  int     `json:"user_count"`
	SpawnRate  float64 `json:"spawn_rate"`
	Host       string  `json:"host"`
	RunTime    string  `json:"run_time"` // "" = until stopped
	Timeline   bool    `json:"timeline"`
	Multiple   float64 `json:"multiple"`
	Speed      float64 `json:"speed"`
	Iterations int     `json:"iterations"`
	Loop       bool    `json:"loop"`
}

// info is GET /api/info: the recording and the form's defaults.
func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	d := s.startBase()
	fd := formDefaults{UserCount: d.Users, SpawnRate: d.Rate, Host: d.Host, Timeline: d.Timeline,
		Multiple: d.Multiple, Speed: d.Speed, Iterations: d.Iterations, Loop: d.Loop}
	if d.Duration > 0 {
		fd.RunTime = d.Duration.String()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"path":      s.cfg.Path,
		"recording": s.rec.summary(),
		"defaults":  fd,
		"autostart": s.cfg.Autostart,
	})
}

// liveView returns the view of the running or last run, or of the ready
// state, with the last start error.
func (s *Server) liveView() *liveView {
	var v liveView
	if rs := s.current(); rs != nil {
		v = *rs.view()
	} else {
		v = *s.readyView()
	}
	v.Message = s.lastMessage()
	return &v
}

// stateReply is the view with a flag saying whether its series is whole
// (replace what you have) or only the seconds from ?since= on (merge).
type stateReply struct {
	*liveView
	Full bool `json:"full"`
}

// state is GET /api/state[?since=UNIX]: the page's polling fallback.
func (s *Server) state(w http.ResponseWriter, r *http.Request) {
	since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	v := s.liveView()
	writeJSON(w, http.StatusOK, stateReply{liveView: v.since(since), Full: since <= 0})
}

// events is GET /api/events: a server-sent event stream of the view, one
// event a second, each with the seconds of the series the client lacks.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives a server's WriteTimeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var since int64
	run, resets := -1, -1
	var buf bytes.Buffer
	for {
		v := s.liveView()
		if v.Run != run || v.Resets != resets {
			since = 0
		}
		b, err := json.Marshal(stateReply{liveView: v.since(since), Full: since <= 0})
		if err != nil {
			return
		}
		buf.Reset()
		buf.WriteString("data: ")
		buf.Write(b)
		buf.WriteString("\n\n")
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		run, resets = v.Run, v.Resets
		if n := len(v.Series); n > 0 {
			since = v.Series[n-1].T
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.quit:
			return
		case <-tick.C:
		}
	}
}

// resultJSON is GET /api/result: the full stats.Result (?download=1 as a
// file), the document amp replay --json writes.
func (s *Server) resultJSON(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := s.result().WriteJSON(&buf); err != nil {
		http.Error(w, "web: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=amp_result_%d.json", time.Now().Unix()))
	}
	_, _ = w.Write(buf.Bytes())
}

// sessions is GET /api/sessions[?offset=N&limit=M]: the recording's
// sessions, summarised.
func (s *Server) sessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 100
	}
	writeJSON(w, http.StatusOK, s.rec.page(max(offset, 0), min(limit, 1000)))
}

// session is GET /api/sessions/{index}: one session's requests and the
// correlations learned from it.
func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(r.PathValue("index"))
	d, ok := s.rec.detail(i)
	if err != nil || !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no session " + strconv.Quote(r.PathValue("index"))})
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// correlations is GET /api/correlations: the correlations learned from the
// recording, grouped across sessions.
func (s *Server) correlations(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.rec.correlations())
}
