package demosite_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ampload/amp/demosite"
)

// serve sends one request straight to h and returns the recorded response.
func serve(h http.Handler, ctx context.Context, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, method, path, nil))
	return rec
}

// TestLatencyWallClock checks the delay on a real loopback server; only the lower bound is asserted.
func TestLatencyWallClock(t *testing.T) {
	t.Parallel()
	const latency = 30 * time.Millisecond
	srv, _ := newTestServer(t, demosite.Config{Latency: latency})
	u := newTestUser(t, srv)
	for _, path := range []string{"/", "/articles", "/static/app.js"} {
		start := time.Now()
		expectStatus(t, u.get(path), http.StatusOK)
		if d := time.Since(start); d < latency {
			t.Errorf("GET %s took %v, want at least %v", path, d, latency)
		}
	}
}

// TestDelay measures delays on the fake clock of a synctest bubble, where they are exact.
func TestDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      demosite.Config
		path     string
		min, max time.Duration
	}{
		{name: "latency", cfg: demosite.Config{Latency: 50 * time.Millisecond}, path: "/", min: 50 * time.Millisecond, max: 50 * time.Millisecond},
		{name: "latency and jitter", cfg: demosite.Config{Latency: 10 * time.Millisecond, Jitter: 20 * time.Millisecond, Seed: 3}, path: "/articles", min: 10 * time.Millisecond, max: 30 * time.Millisecond},
		{name: "jitter only", cfg: demosite.Config{Jitter: time.Second}, path: "/login", min: 0, max: time.Second},
		{name: "static assets are delayed", cfg: demosite.Config{Latency: time.Second}, path: "/static/logo.svg", min: time.Second, max: time.Second},
		{name: "healthz is not", cfg: demosite.Config{Latency: time.Hour, Capacity: 1}, path: "/healthz", min: 0, max: 0},
		{name: "not found is", cfg: demosite.Config{Latency: time.Second}, path: "/nope", min: time.Second, max: time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				site := demosite.New(tc.cfg)
				var spread time.Duration // of jittered delays, to see jitter act
				var first time.Duration
				for i := range 20 {
					start := time.Now()
					serve(site, t.Context(), http.MethodGet, tc.path)
					d := time.Since(start)
					if d < tc.min || d > tc.max {
						t.Fatalf("request %d took %v, want %v..%v", i, d, tc.min, tc.max)
					}
					if i == 0 {
						first = d
					}
					spread = max(spread, (d - first).Abs())
				}
				if tc.cfg.Jitter > 0 && spread == 0 {
					t.Error("jitter never changed the delay")
				}
			})
		})
	}
}

func TestErrorRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		rate                 float64
		seed                 int64
		paths                []string
		n                    int // requests per path
		wantMin, wantMax     int // number of 500s
		wantHealthyAndStatic bool
	}{
		{name: "always", rate: 1, paths: []string{"/", "/articles", "/login", "/api/articles/" + unknownID, "/nope"}, n: 20, wantMin: 100, wantMax: 100},
		{name: "never", rate: 0, paths: []string{"/", "/articles"}, n: 200, wantMin: 0, wantMax: 0},
		// 1000 fair coin flips land in 400..600 with probability 1-1e-9; with a fixed seed the result never changes anyway.
		{name: "half with seed", rate: 0.5, seed: 42, paths: []string{"/"}, n: 1000, wantMin: 400, wantMax: 600},
		{name: "tenth with seed", rate: 0.1, seed: 7, paths: []string{"/articles"}, n: 1000, wantMin: 50, wantMax: 150},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			site := demosite.New(demosite.Config{ErrorRate: tc.rate, Seed: tc.seed})
			failed := 0
			for _, path := range tc.paths {
				for range tc.n {
					rec := serve(site, t.Context(), http.MethodGet, path)
					if rec.Code == http.StatusInternalServerError {
						failed++
						if strings.HasPrefix(path, "/api/") && rec.Header().Get("Content-Type") != jsonType {
							t.Fatalf("API error Content-Type = %q", rec.Header().Get("Content-Type"))
						}
					}
				}
			}
			if failed < tc.wantMin || failed > tc.wantMax {
				t.Errorf("%d requests failed, want %d..%d", failed, tc.wantMin, tc.wantMax)
			}
			st := site.Stats()
			if st.Errors != int64(failed) {
				t.Errorf("Stats.Errors = %d, want %d", st.Errors, failed)
			}
			for _, path := range []string{"/healthz", "/static/style.css", "/static/app.js", "/static/logo.svg"} {
				if rec := serve(site, t.Context(), http.MethodGet, path); rec.Code != http.StatusOK {
					t.Errorf("GET %s = %d, want 200 whatever the error rate", path, rec.Code)
				}
			}
		})
	}
}

func TestErrorRateSeedRepeats(t *testing.T) {
	t.Parallel()
	outcomes := func() string {
		site := demosite.New(demosite.Config{ErrorRate: 0.5, Jitter: time.Nanosecond, Seed: 99})
		var b strings.Builder
		for range 64 {
			if serve(site, t.Context(), http.MethodGet, "/").Code == http.StatusOK {
				b.WriteByte('.')
			} else {
				b.WriteByte('x')
			}
		}
		return b.String()
	}
	if a, b := outcomes(), outcomes(); a != b {
		t.Errorf("same seed, different outcomes:\n%s\n%s", a, b)
	}
}

func TestFailedRequestChangesNothing(t *testing.T) {
	t.Parallel()
	site := demosite.New(demosite.Config{ErrorRate: 1})
	for range 5 {
		serve(site, t.Context(), http.MethodGet, "/")
		serve(site, t.Context(), http.MethodGet, "/login")
	}
	if st := site.Stats(); st.Visits != 0 || st.Sessions != 0 || st.Requests != 10 {
		t.Errorf("stats = %+v; want no visits, no sessions, 10 requests", st)
	}
}

// TestCapacityWallClock checks queueing on a real loopback server; only the lower bound is asserted.
func TestCapacityWallClock(t *testing.T) {
	t.Parallel()
	const latency, requests = 50 * time.Millisecond, 4
	srv, site := newTestServer(t, demosite.Config{Latency: latency, Capacity: 1})
	start := time.Now()
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			resp, err := srv.Client().Get(srv.URL + "/")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	if d := time.Since(start); d < requests*latency {
		t.Errorf("%d requests took %v with one slot, want at least %v", requests, d, requests*latency)
	}
	if st := site.Stats(); st.PeakQueued < 1 || st.PeakInFlight != 1 || st.Queued != 0 || st.InFlight != 0 {
		t.Errorf("stats = %+v; want queueing, one in flight at most, nothing left", st)
	}
}

// TestCapacity checks queueing on the fake clock, where it is exact.
func TestCapacity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		capacity     int
		requests     int
		wantDuration time.Duration // with 50ms latency
		wantPeakQ    int
	}{
		{name: "one slot", capacity: 1, requests: 4, wantDuration: 200 * time.Millisecond, wantPeakQ: 3},
		{name: "two slots", capacity: 2, requests: 5, wantDuration: 150 * time.Millisecond, wantPeakQ: 3},
		{name: "enough slots", capacity: 8, requests: 8, wantDuration: 50 * time.Millisecond, wantPeakQ: 0},
		{name: "unlimited", capacity: 0, requests: 100, wantDuration: 50 * time.Millisecond, wantPeakQ: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				site := demosite.New(demosite.Config{Latency: 50 * time.Millisecond, Capacity: tc.capacity})
				start := time.Now()
				var wg sync.WaitGroup
				for range tc.requests {
					wg.Go(func() { serve(site, context.Background(), http.MethodGet, "/") })
				}
				synctest.Wait()
				if st := site.Stats(); tc.capacity > 0 && (st.InFlight != tc.capacity || st.Queued != tc.requests-tc.capacity) {
					t.Errorf("while busy: InFlight, Queued = %d, %d; want %d, %d", st.InFlight, st.Queued, tc.capacity, tc.requests-tc.capacity)
				}
				wg.Wait()
				if d := time.Since(start); d != tc.wantDuration {
					t.Errorf("took %v, want %v", d, tc.wantDuration)
				}
				st := site.Stats()
				if st.PeakQueued != tc.wantPeakQ || st.Visits != int64(tc.requests) || st.Queued != 0 || st.InFlight != 0 {
					t.Errorf("stats = %+v; want PeakQueued %d, Visits %d, nothing left", st, tc.wantPeakQ, tc.requests)
				}
			})
		})
	}
}

func TestCancelReleasesSlot(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		site := demosite.New(demosite.Config{Latency: time.Hour, Capacity: 1})
		// start serves GET / in the background with a context the caller cancels.
		start := func() (cancel func(), done <-chan *httptest.ResponseRecorder) {
			ctx, cancel := context.WithCancel(context.Background())
			ch := make(chan *httptest.ResponseRecorder, 1)
			go func() { ch <- serve(site, ctx, http.MethodGet, "/") }()
			synctest.Wait()
			return cancel, ch
		}
		check := func(step string, inFlight, queued int, canceled int64) {
			t.Helper()
			st := site.Stats()
			if st.InFlight != inFlight || st.Queued != queued || st.Canceled != canceled {
				t.Fatalf("%s: InFlight, Queued, Canceled = %d, %d, %d; want %d, %d, %d", step, st.InFlight, st.Queued, st.Canceled, inFlight, queued, canceled)
			}
		}

		cancelA, doneA := start()
		check("A holds the slot", 1, 0, 0)
		cancelB, doneB := start()
		check("B queues", 1, 1, 0)

		cancelB()
		synctest.Wait()
		check("B gave up", 1, 0, 1)
		if rec := <-doneB; rec.Code != http.StatusServiceUnavailable {
			t.Errorf("canceled request got %d", rec.Code)
		}

		cancelA()
		synctest.Wait()
		check("A gave up", 0, 0, 2)
		<-doneA

		cancelC, doneC := start()
		check("C got the released slot", 1, 0, 2)
		cancelC()
		<-doneC
		if v := site.Stats().Visits; v != 0 {
			t.Errorf("Visits = %d, want 0: no request was served", v)
		}
	})
}
