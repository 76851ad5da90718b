package web

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/fielderr"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/stats/prom"
)

//go:embed assets
var assetFS embed.FS

// Config is what a Server serves and how it starts replays.
type Config struct {
	// Defaults pre-fill the start form (users, rate, host, duration,
	// multiple, speed, timeline) and are the base of every start: fields a
	// start does not set (host mapping, think time, timeouts) come from here.
	Defaults replay.Config
	// Recording is shown in the Sessions and Correlations tabs; nil shows none.
	Recording *capture.Recording
	// Path is the recording's file name, for display.
	Path string
	// NewRun prepares the replay of a start (replay.NewRun, with the
	// command line's run options). Its error text is shown to the user as
	// it is.
	NewRun func(cfg replay.Config) (*replay.Run, error)
	// Autostart starts a replay with Defaults at once (amp replay --web
	// --autostart); a failure is shown on the page.
	Autostart bool
	// Token, when set, is required of every request: as ?token= (which
	// also sets a cookie, so the page opened from the printed URL works),
	// the cookie, or an "Authorization: Bearer" header. A UI reachable from
	// other machines must have one.
	Token string
	// Capacity, when set, makes every start a capacity search
	// (replay.Run.FindCapacity) instead of a replay; the page shows its
	// steps as they end, and its answer.
	Capacity *replay.CapacityConfig
	// Hosts are the targets a start may name besides Defaults.Host; a start
	// naming any other host is refused, so the UI cannot aim the load
	// elsewhere than where its command line said.
	Hosts []string
	// Thresholds are the run's --fail-if thresholds (or the defaults),
	// judged on the live statistics and shown passing or failing as the
	// run goes; a capacity search shows its steps' verdicts instead.
	Thresholds []stats.Threshold
}

// TokenCookie is the cookie that carries Config.Token after the first
// request with ?token=.
const TokenCookie = "amp_web_token"

// Errors of Start.
var (
	// ErrRunning means a replay is already running; stop it first or edit it.
	ErrRunning = errors.New("web: a replay is already running; stop it first, or edit its users and spawn rate")
	// ErrClosed means the Server has been closed.
	ErrClosed = errors.New("web: the server is shutting down")
)

// Server is the web UI and its REST API, an http.Handler. It runs each
// replay's Player in its own goroutine; see the package doc for the paths.
type Server struct {
	cfg     Config
	handler http.Handler
	assets  fs.FS

	startMu sync.Mutex // serialises starts (NewRun may take a while)

	mu      sync.Mutex
	cur     *runState // the running or last run; nil before the first start
	gen     int       // runs started so far
	base    replay.Config
	closed  bool
	message string // why the last start failed, shown on the page

	done     chan struct{} // closed when a run has finished
	doneOnce sync.Once
	quit     chan struct{} // closed by Close: ends event streams
	quitOnce sync.Once
	wg       sync.WaitGroup

	rec *recordingIndex
}

// New returns a Server for cfg. With cfg.Autostart it starts a replay with
// cfg.Defaults at once.
func New(cfg Config) *Server {
	sub, _ := fs.Sub(assetFS, "assets") // fails only for an invalid name
	s := &Server{
		cfg:    cfg,
		assets: sub,
		base:   cfg.Defaults,
		done:   make(chan struct{}),
		quit:   make(chan struct{}),
		rec:    newRecordingIndex(cfg.Recording),
	}
	s.handler = s.routes()
	if cfg.Autostart {
		_ = s.Start(cfg.Defaults) // the error is kept in s.message and shown
	}
	return s
}

// ServeHTTP serves the UI and the API. Requests that arrived on a loopback
// address must name a loopback host (localhost or an IP address), which
// stops DNS-rebinding pages from driving the replay; state-changing requests
// from other sites' pages are refused (cross-origin protection).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Token != "" && !s.authorize(w, r) {
		http.Error(w, "web: a token is required: open the URL amp replay printed (with ?token=), or send Authorization: Bearer TOKEN", http.StatusUnauthorized)
		return
	}
	if !hostAllowed(r) {
		http.Error(w, "web: refused: Host "+r.Host+" is not a loopback name; open the UI at http://127.0.0.1 or http://localhost", http.StatusForbidden)
		return
	}
	s.handler.ServeHTTP(w, r)
}

// Done is closed when a replay has finished (ended by itself, stopped or
// killed), for scripts that start one with Autostart and wait for it.
func (s *Server) Done() <-chan struct{} { return s.done }

// Start starts a replay with cfg. It fails with ErrRunning while one runs,
// with ErrClosed after Close, or with NewRun's error.
func (s *Server) Start(cfg replay.Config) error {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	s.mu.Lock()
	closed, cur := s.closed, s.cur
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if cur != nil && !cur.finished() {
		return ErrRunning
	}
	if !s.targetAllowed(cfg.Host) {
		err := fmt.Errorf("host %s: not a target given on the command line (%s); start amp replay --web with that --host instead", cfg.Host, s.cfg.Defaults.Host)
		s.mu.Lock()
		s.message = err.Error()
		s.mu.Unlock()
		return err
	}
	var run *replay.Run
	var err error
	if s.cfg.NewRun == nil {
		err = errors.New("web: this server cannot start replays (no NewRun)")
	} else {
		run, err = s.cfg.NewRun(cfg)
		if err == nil && (run == nil || run.Player == nil || run.Collector == nil) {
			err = errors.New("web: NewRun returned no player or collector")
		}
		if err != nil {
			err = &startError{err}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.message = err.Error()
		return err
	}
	if s.closed {
		return ErrClosed
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.gen++
	rs := newRunState(run, cfg, s.gen, cancel)
	if s.cfg.Capacity == nil {
		rs.thresholds = s.cfg.Thresholds
	}
	s.cur, s.base, s.message = rs, cfg, ""
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		if cc := s.cfg.Capacity; cc != nil {
			c := *cc
			c.OnStep = rs.addStep
			capa, _, _ := run.FindCapacity(ctx, c)
			rs.setCapacity(capa)
		} else {
			_, _ = run.Run(ctx)
		}
		rs.finish()
		s.doneOnce.Do(func() { close(s.done) })
	}()
	return nil
}

// Stop starts the graceful stop of the running replay: no new task starts
// and tasks in flight may finish. It reports whether a replay was running.
func (s *Server) Stop() bool {
	rs := s.current()
	if rs == nil || rs.finished() {
		return false
	}
	rs.run.Player.Stop()
	rs.invalidate()
	return true
}

// Result returns the statistics of the running or last replay, with its
// thresholds judged (a capacity search: with its answer instead), or nil
// before the first start.
func (s *Server) Result() *stats.Result {
	rs := s.current()
	if rs == nil {
		return nil
	}
	res := rs.run.Result()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if s.cfg.Capacity != nil {
		res.Thresholds, res.Capacity = nil, rs.capacity
	}
	return res
}

// Metrics returns a handler serving the running or last replay's metrics
// in the Prometheus exposition format (amp replay --web --metrics); before
// the first start it serves none.
func (s *Server) Metrics() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs := s.current()
		if rs == nil {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			return
		}
		run := rs.run
		prom.NewHandler(run.Collector, prom.Options{TargetUsers: func() int { return run.Player.Status().Target }}).ServeHTTP(w, r)
	})
}

// Close stops any running replay (gracefully, then killing what is still in
// flight after its stop timeout), ends the live event streams and waits for
// the replay's goroutine. The Server refuses new starts afterwards. Call it
// before shutting the http.Server down, whose Shutdown waits for the
// streams.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	rs := s.cur
	s.mu.Unlock()
	s.quitOnce.Do(func() { close(s.quit) })
	if rs != nil && !rs.finished() {
		rs.run.Player.Stop()
		t := time.NewTimer(rs.cfg.StopTimeout + time.Second)
		select {
		case <-rs.done:
		case <-t.C:
			rs.run.Player.Kill()
		}
		t.Stop()
	}
	s.wg.Wait()
}

func (s *Server) current() *runState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// startBase is the configuration a new start builds on: the last started
// one, else the defaults.
func (s *Server) startBase() replay.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base
}

func (s *Server) lastMessage() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.message
}

// edit changes the users and spawn rate of the running replay.
func (s *Server) edit(users int, rate float64, setUsers, setRate bool) error {
	rs := s.current()
	if rs == nil || rs.finished() {
		return errors.New("no replay is running")
	}
	st := rs.run.Player.Status()
	if st.State == replay.StateStopping || st.State == replay.StateStopped {
		return errors.New("the replay is stopping; start a new one when it has stopped")
	}
	if rs.cfg.Timeline {
		return errors.New("a timeline replay follows the recording's arrivals: its users and spawn rate cannot be edited (stop it and start a new one)")
	}
	if rs.cfg.ArrivalRate > 0 {
		return errors.New("an arrival-rate replay starts sessions at its rate, whatever the users: its users and spawn rate cannot be edited (stop it and start a new one)")
	}
	if s.cfg.Capacity != nil {
		return errors.New("a capacity search steps its users itself: they cannot be edited (stop it and start a new one)")
	}
	if setUsers && users < 1 {
		return fmt.Errorf("user_count %d: want at least 1", users)
	}
	if setRate && !(rate > 0) {
		return fmt.Errorf("spawn_rate %v: want users per second > 0", rate)
	}
	rs.mu.Lock()
	if setUsers {
		rs.cfg.Users = users
	}
	if setRate {
		rs.cfg.Rate = rate
	}
	rs.mu.Unlock()
	if setRate {
		rs.run.Player.SetRate(rate)
	}
	if setUsers {
		rs.run.Player.SetUsers(users)
	}
	rs.invalidate()
	return nil
}

// hostAllowed refuses requests that came in on a loopback address under a
// host name other than localhost or an IP literal (DNS rebinding).
func hostAllowed(r *http.Request) bool {
	la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return true
	}
	ta, ok := la.(*net.TCPAddr)
	if !ok || !ta.IP.IsLoopback() {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(host) != nil
}

// crossSite reports whether a browser says the request comes from another
// site's page (Sec-Fetch-Site), for the GET paths that change state.
func crossSite(r *http.Request) bool {
	v := r.Header.Get("Sec-Fetch-Site")
	return v == "cross-site" || v == "same-site"
}

// runState is one started replay and what the UI derived from it.
type runState struct {
	run     *replay.Run
	gen     int
	cancel  context.CancelFunc
	started time.Time
	done    chan struct{}

	mu       sync.Mutex
	cfg      replay.Config // as started, with edits
	ended    time.Time
	resets   int
	live     liveCache
	steps    []stats.CapacityStep // a capacity search's steps so far
	capacity *stats.Capacity      // its answer, once it has ended

	thresholds []stats.Threshold // judged live for the page; none in a capacity search
}

// addStep keeps a capacity search's step for the page.
func (rs *runState) addStep(st stats.CapacityStep) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.steps = append(rs.steps, st)
	rs.live.view = nil
}

// setCapacity keeps a capacity search's answer.
func (rs *runState) setCapacity(c *stats.Capacity) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.capacity = c
	rs.live.view = nil
}

func newRunState(run *replay.Run, cfg replay.Config, gen int, cancel context.CancelFunc) *runState {
	return &runState{run: run, cfg: cfg, gen: gen, cancel: cancel, started: time.Now(), done: make(chan struct{})}
}

func (rs *runState) finish() {
	rs.mu.Lock()
	rs.ended = time.Now()
	rs.live.view = nil // show the end at once
	rs.mu.Unlock()
	close(rs.done)
}

func (rs *runState) finished() bool {
	select {
	case <-rs.done:
		return true
	default:
		return false
	}
}

// invalidate makes the next view a fresh one (after a command).
func (rs *runState) invalidate() {
	rs.mu.Lock()
	rs.live.view = nil
	rs.mu.Unlock()
}

// reset clears the statistics (the UI's Reset stats).
func (rs *runState) reset() {
	rs.run.Collector.Reset()
	rs.mu.Lock()
	rs.resets++
	rs.live = liveCache{}
	rs.mu.Unlock()
}

// authorize reports whether r carries the token; a right ?token= also sets
// the cookie.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	same := func(v string) bool { return subtle.ConstantTimeCompare([]byte(v), []byte(s.cfg.Token)) == 1 }
	if v := r.URL.Query().Get("token"); v != "" && same(v) {
		http.SetCookie(w, &http.Cookie{Name: TokenCookie, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		return true
	}
	if c, err := r.Cookie(TokenCookie); err == nil && same(c.Value) {
		return true
	}
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && same(strings.TrimSpace(v))
}

// targetAllowed reports whether a start may send load to host: the
// default host, or one of Config.Hosts.
func (s *Server) targetAllowed(host string) bool {
	norm := func(h string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), "/") }
	if norm(host) == norm(s.cfg.Defaults.Host) {
		return true
	}
	for _, h := range s.cfg.Hosts {
		if norm(host) == norm(h) {
			return true
		}
	}
	return false
}

// startError is why a start failed, described in the words of the start
// form: its fields where the error names replay.Config fields.
type startError struct{ err error }

func (e *startError) Error() string { return fielderr.Describe(e.err, formField) }
func (e *startError) Unwrap() error { return e.err }

// formField names a replay.Config field as the start form and Locust's API
// do; fields the command line set keep their names.
func formField(field string) string {
	switch field {
	case "Users":
		return "number of users"
	case "Rate":
		return "spawn rate"
	case "Duration":
		return "run time"
	case "Host", "Iterations", "Timeline", "Loop", "Multiple", "Speed", "Think":
		return strings.ToLower(field)
	}
	return field
}
