package demosite

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"html/template"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Site is the demo web site; it implements http.Handler and is safe for concurrent use.
type Site struct {
	cfg      Config
	sem      chan struct{} // capacity slots; nil when unlimited
	rng      *lockedRand
	mux      *http.ServeMux
	pages    map[string]*template.Template
	assets   map[string]asset
	started  time.Time // Last-Modified of the static assets
	sessions *store[session]
	articles *store[*Article]
	recent   recentList

	requests, visits, errors, canceled, comments atomic.Int64
	inFlight, queued, peakInFlight, peakQueued   atomic.Int64
}

// Stats is a snapshot of a Site's counters, taken by Site.Stats.
type Stats struct {
	// Requests counts the requests received, excluding /healthz.
	Requests int64
	// Visits is the home page's visit counter.
	Visits int64
	// Errors counts the requests answered 500 because of Config.ErrorRate.
	Errors int64
	// Canceled counts the requests whose context ended while they queued for a slot or waited out their delay.
	Canceled int64
	// Sessions is the number of stored sessions, anonymous or logged in.
	Sessions int
	// Articles is the number of stored articles, including the ones New creates.
	Articles int
	// Comments is the number of stored comments over all articles.
	Comments int
	// InFlight is the number of requests holding a capacity slot now.
	InFlight int
	// Queued is the number of requests waiting for a capacity slot now.
	Queued int
	// PeakInFlight is the highest InFlight seen since New.
	PeakInFlight int
	// PeakQueued is the highest Queued seen since New.
	PeakQueued int
}

// New returns a Site configured by cfg, with a few articles already posted.
//
// New assumes cfg has passed Validate and does not panic on a bad Config:
// negative durations act as zero, an error rate outside 0..1 is clamped into
// it (NaN as 0), and a negative capacity means unlimited.
func New(cfg Config) *Site {
	cfg = cfg.normalized()
	s := &Site{
		cfg:     cfg,
		rng:     newLockedRand(cfg.Seed),
		pages:   parsePages(),
		assets:  loadAssets(),
		started: time.Now().UTC().Truncate(time.Second),
	}
	if cfg.Capacity > 0 {
		s.sem = make(chan struct{}, cfg.Capacity)
	}
	s.sessions = newStore[session](MaxSessions, 0, nil)
	s.articles = newStore(MaxArticles, MaxStoredBytes, func(a *Article) {
		s.comments.Add(-int64(len(a.Comments)))
	})
	s.mux = s.routes()
	s.seedArticles()
	return s
}

// routes returns the mux of every route except /healthz, which ServeHTTP answers itself.
func (s *Site) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /articles", s.listArticles)
	mux.HandleFunc("POST /articles", s.createArticle)
	mux.HandleFunc("GET /articles/new", s.newArticleForm)
	mux.HandleFunc("GET /articles/{id}", s.showArticle)
	mux.HandleFunc("GET /api/articles/{id}", s.apiArticle)
	mux.HandleFunc("POST /api/articles/{id}/comments", s.apiComment)
	mux.HandleFunc("GET /static/{name}", s.static)
	return mux
}

// ServeHTTP answers r: /healthz at once, every other request after it gets a
// capacity slot and waits out the configured delay while holding it; a
// request may then be failed with 500 according to Config.ErrorRate.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		healthz(w, r)
		return
	}
	s.requests.Add(1)
	ctx := r.Context()
	if !s.acquire(ctx) {
		s.abandon(w)
		return
	}
	defer s.release()
	if !s.delay(ctx) {
		s.abandon(w)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/static/") && s.injectError() {
		s.errors.Add(1)
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeJSONError(w, http.StatusInternalServerError, "injected error")
		} else {
			http.Error(w, "demosite: injected error", http.StatusInternalServerError)
		}
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Stats returns a snapshot of the site's counters.
func (s *Site) Stats() Stats {
	return Stats{
		Requests:     s.requests.Load(),
		Visits:       s.visits.Load(),
		Errors:       s.errors.Load(),
		Canceled:     s.canceled.Load(),
		Sessions:     s.sessions.len(),
		Articles:     s.articles.len(),
		Comments:     int(s.comments.Load()),
		InFlight:     int(s.inFlight.Load()),
		Queued:       int(s.queued.Load()),
		PeakInFlight: int(s.peakInFlight.Load()),
		PeakQueued:   int(s.peakQueued.Load()),
	}
}

// healthz answers 200 "ok" to GET and HEAD, with no delay, error or capacity limit.
func healthz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok"))
}

// acquire takes a capacity slot, queueing while none is free, and reports
// false if ctx ends first.
func (s *Site) acquire(ctx context.Context) bool {
	if s.sem != nil {
		select {
		case s.sem <- struct{}{}:
		default:
			raiseTo(&s.peakQueued, s.queued.Add(1))
			select {
			case s.sem <- struct{}{}:
				s.queued.Add(-1)
			case <-ctx.Done():
				s.queued.Add(-1)
				return false
			}
		}
	}
	raiseTo(&s.peakInFlight, s.inFlight.Add(1))
	return true
}

// release gives back the slot taken by acquire.
func (s *Site) release() {
	s.inFlight.Add(-1)
	if s.sem != nil {
		<-s.sem
	}
}

// delay waits Latency plus a random 0..Jitter and reports false if ctx ends first.
func (s *Site) delay(ctx context.Context) bool {
	d := s.cfg.Latency
	if s.cfg.Jitter > 0 {
		d += s.rng.durationUpTo(s.cfg.Jitter)
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// abandon counts a request whose client went away and answers it 503, which nobody is likely to read.
func (s *Site) abandon(w http.ResponseWriter) {
	s.canceled.Add(1)
	http.Error(w, "demosite: request canceled", http.StatusServiceUnavailable)
}

// injectError reports whether this request is to be failed according to ErrorRate.
func (s *Site) injectError() bool {
	switch rate := s.cfg.ErrorRate; {
	case rate <= 0:
		return false
	case rate >= 1:
		return true
	default:
		return s.rng.float64() < rate
	}
}

// raiseTo raises peak to v if v is higher.
func raiseTo(peak *atomic.Int64, v int64) {
	for {
		p := peak.Load()
		if v <= p || peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// lockedRand is a math/rand/v2 source guarded by a mutex, safe for concurrent use.
type lockedRand struct {
	mu sync.Mutex
	r  *mrand.Rand
}

// newLockedRand seeds a PCG generator with seed, or with crypto/rand if seed is 0.
func newLockedRand(seed int64) *lockedRand {
	hi, lo := uint64(seed), uint64(seed)^0x9e3779b97f4a7c15
	if seed == 0 {
		var b [16]byte
		_, _ = rand.Read(b[:]) // never fails since Go 1.24
		hi, lo = binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
	}
	return &lockedRand{r: mrand.New(mrand.NewPCG(hi, lo))}
}

// durationUpTo returns a uniformly random duration in 0..d, both included.
func (l *lockedRand) durationUpTo(d time.Duration) time.Duration {
	n := int64(d)
	if n < math.MaxInt64 {
		n++
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Duration(l.r.Int64N(n))
}

// float64 returns a uniformly random number in [0, 1).
func (l *lockedRand) float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}
