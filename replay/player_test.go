package replay

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/stats"
	"go.uber.org/goleak"
)

// fastConfig replays as fast as the target answers.
func fastConfig(host string) Config {
	cfg := DefaultConfig()
	cfg.Host = host
	cfg.Think = Think{Mode: ThinkNone}
	cfg.Rate = 5000
	cfg.StopTimeout = 5 * time.Second
	cfg.Timeout = 10 * time.Second
	return cfg
}

// TestReplayDemositeFlow replays a recorded login → new article → create →
// view → API comment flow at 200 users against a fresh demo site, where every
// token and id differs from the recording.
func TestReplayDemositeFlow(t *testing.T) {
	t.Parallel()
	recSrv, _ := newDemo(t, demosite.Config{})
	rec := recordFlow(t, recSrv.URL, "")
	tasks := len(rec.Sessions[0].Exchanges)

	target, site := newDemo(t, demosite.Config{})
	cfg := fastConfig(target.URL)
	cfg.Users, cfg.Iterations = 200, 400
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 {
		t.Fatalf("%d failures in %d requests: %s", res.Failures, res.Requests, describeFailures(res))
	}
	if want := int64(400 * tasks); res.Requests != want {
		t.Fatalf("%d requests, want %d (400 sessions of %d tasks)", res.Requests, want, tasks)
	}
	st := site.Stats()
	if st.Articles < 400 || st.Comments < 400 {
		t.Fatalf("the target holds %d articles and %d comments, want ≥ 400 each", st.Articles, st.Comments)
	}
	if res.Users != 200 {
		t.Errorf("peak users %d, want 200", res.Users)
	}

	// Without correlation the recorded tokens and ids are stale.
	cfg.NoCorrelate = true
	cfg.Users, cfg.Iterations = 20, 20
	res, _ = runReplay(t, rec, cfg)
	// Endpoint names template the ids ("/articles/{hex}"): compare up to the brace.
	failed := func(method, namePrefix, reason string) bool {
		for _, e := range res.Errors {
			if e.Method == method && strings.HasPrefix(e.Name, namePrefix) && e.Reason == reason && e.Count > 0 {
				return true
			}
		}
		return false
	}
	for _, want := range [][3]string{
		{"POST", "/login", "HTTP 403 (recorded 303)"},          // the login form's CSRF token
		{"POST", "/articles", "HTTP 403 (recorded 303)"},       // the new-article form's token
		{"GET", "/articles/{", "HTTP 404 (recorded 200)"},      // the article id from Location
		{"GET", "/api/articles/{", "HTTP 404 (recorded 200)"},  // the same id in the API
		{"POST", "/api/articles/{", "HTTP 403 (recorded 201)"}, // the X-CSRF-Token header
	} {
		if !failed(want[0], want[1], want[2]) {
			t.Errorf("--no-correlate: no %v among %s", want, describeFailures(res))
		}
	}
}

// TestReplaySkipsUnmappedHosts: a recorded request to an analytics host is
// counted as skipped and never sent.
func TestReplaySkipsUnmappedHosts(t *testing.T) {
	t.Parallel()
	var beacons atomic.Int64
	analytics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { beacons.Add(1) }))
	defer analytics.Close()
	recSrv, _ := newDemo(t, demosite.Config{})
	rec := recordFlow(t, recSrv.URL, analytics.URL+"/collect?v=1")
	if beacons.Load() != 1 {
		t.Fatalf("the recording should hold one beacon, the server saw %d", beacons.Load())
	}

	target, _ := newDemo(t, demosite.Config{})
	cfg := fastConfig(target.URL)
	cfg.Users, cfg.Iterations = 10, 30
	res, _ := runReplay(t, rec, cfg)
	if n := beacons.Load(); n != 1 {
		t.Fatalf("the analytics host got %d requests during the replay", n-1)
	}
	host := strings.TrimPrefix(analytics.URL, "http://")
	if got := res.Skipped["unmapped host "+host]; got != 30 {
		t.Fatalf("skipped %v, want 30 for %s", res.Skipped, host)
	}
	if res.Failures != 0 {
		t.Fatalf("failures: %s", describeFailures(res))
	}

	// Mapped with --map, it is sent.
	cfg.Map = []HostMap{{From: host, To: analytics.URL}}
	runReplay(t, rec, cfg)
	if n := beacons.Load(); n != 31 {
		t.Fatalf("with --map the analytics host got %d requests, want 30", n-1)
	}
}

// syntheticRecording builds n one-user sessions of k GET tasks each, starting
// gap apart, each task 10 ms after the previous.
func syntheticRecording(host string, n, k int, gap time.Duration) *capture.Recording {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var exs []*capture.Exchange
	for s := 0; s < n; s++ {
		for i := 0; i < k; i++ {
			exs = append(exs, &capture.Exchange{
				Session:  fmt.Sprint(s + 1),
				Start:    t0.Add(time.Duration(s)*gap + time.Duration(i)*10*time.Millisecond),
				Duration: time.Millisecond,
				Request:  capture.Request{Method: "GET", URL: fmt.Sprintf("http://%s/healthz?s=%d&i=%d", host, s, i)},
				Response: capture.Response{Status: 200},
			})
		}
	}
	return &capture.Recording{Sessions: capture.GroupSessions(exs)}
}

func TestReplayTimelineMultiple(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	rec := syntheticRecording("shop.example", 40, 3, 10*time.Millisecond) // 120 requests over 0.4 s
	tests := []struct {
		multiple, speed float64
		want            int64
	}{
		{multiple: 3, speed: 1, want: 360},
		{multiple: 2.5, speed: 2, want: 300},
	}
	for _, tc := range tests {
		cfg := fastConfig(srv.URL)
		cfg.Timeline, cfg.Multiple, cfg.Speed = true, tc.multiple, tc.speed
		before := hits.Load()
		res, _ := runReplay(t, rec, cfg)
		if res.Requests != tc.want || hits.Load()-before != tc.want {
			t.Errorf("--multiple %v --speed %v: %d requests recorded, %d served, want %d",
				tc.multiple, tc.speed, res.Requests, hits.Load()-before, tc.want)
		}
		if res.Failures != 0 {
			t.Errorf("failures: %s", describeFailures(res))
		}
	}
}

// TestReplayTargetDies kills the target mid-run: the run ends on time, the
// failures are connection errors, and no goroutine is left behind.
func TestReplayTargetDies(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var served atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served.Add(1) })}
	go srv.Serve(ln)
	var once sync.Once
	kill := func() { once.Do(func() { srv.Close() }) }
	defer kill()

	rec := syntheticRecording("shop.example", 5, 4, 100*time.Millisecond)
	cfg := fastConfig("http://" + ln.Addr().String())
	cfg.Users, cfg.Duration, cfg.StopTimeout = 20, 1500*time.Millisecond, 500*time.Millisecond
	namer, _ := stats.NewNamer(nil)
	plan, err := NewPlan(rec, cfg, namer.Name)
	if err != nil {
		t.Fatal(err)
	}
	col := stats.NewCollector(stats.Config{})
	p, err := NewPlayer(plan, cfg, col)
	if err != nil {
		t.Fatal(err)
	}
	go func() { // kill the target once it has served some load
		deadline := time.Now().Add(5 * time.Second)
		for served.Load() < 200 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		kill()
	}()
	start := time.Now()
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > cfg.Duration+cfg.StopTimeout+2*time.Second {
		t.Fatalf("the run took %v, want about %v", took, cfg.Duration)
	}
	res := col.Snapshot()
	var connErrors int64
	for _, e := range res.Errors {
		switch e.Reason {
		case "connection refused", "connection reset", "connection closed early", "broken pipe":
			connErrors += e.Count
		default:
			t.Errorf("unexpected failure %q ×%d", e.Reason, e.Count)
		}
	}
	if served.Load() < 200 || connErrors == 0 || res.Requests <= served.Load() {
		t.Fatalf("served %d, requests %d, connection errors %d", served.Load(), res.Requests, connErrors)
	}
}

// pipeListener serves in-memory connections, so a test can run a target and
// the player inside one synctest bubble.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func (l *pipeListener) dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// pipeTarget serves an empty 200 on in-memory connections for the rest of
// the test, so a Player and its target can share one synctest bubble.
func pipeTarget(t *testing.T) *pipeListener {
	ln := newPipeListener()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln
}

// pipePlayer plans rec with cfg, sends every task to ln and returns the
// Player and its collector.
func pipePlayer(t *testing.T, ln *pipeListener, rec *capture.Recording, cfg Config) (*Player, *stats.Collector) {
	t.Helper()
	plan, err := NewPlan(rec, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range plan.Scripts {
		for i := range sc.Tasks {
			sc.Tasks[i].Target.dial = ln.dial
		}
	}
	col := stats.NewCollector(stats.Config{})
	p, err := NewPlayer(plan, cfg, col)
	if err != nil {
		t.Fatal(err)
	}
	return p, col
}

// TestClosedModelSpawnAndResize runs the closed model on a fake clock: users
// start at the spawn rate, and follow SetUsers and SetRate while running.
func TestClosedModelSpawnAndResize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := pipeTarget(t)
		rec := syntheticRecording("shop.example", 3, 5, time.Second)
		cfg := DefaultConfig()
		cfg.Host = "http://shop.example"
		cfg.Users, cfg.Rate = 10, 5
		cfg.Think = Think{Mode: ThinkFixed, Fixed: 100 * time.Millisecond}
		p, col := pipePlayer(t, ln, rec, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()

		users := func() int { synctest.Wait(); return p.Status().Users }
		time.Sleep(time.Second + time.Millisecond) // users start at 0, 0.2, ..., 1.0 s
		if got := users(); got != 6 {
			t.Fatalf("after 1 s at 5 users/s: %d users, want 6", got)
		}
		time.Sleep(2 * time.Second)
		if got := users(); got != 10 {
			t.Fatalf("after 3 s: %d users, want the 10 asked for", got)
		}
		p.SetUsers(3)
		time.Sleep(200 * time.Millisecond) // the others stop after their task
		if got := users(); got != 3 {
			t.Fatalf("after SetUsers(3): %d users", got)
		}
		p.SetRate(20)
		p.SetUsers(13)
		time.Sleep(500*time.Millisecond + time.Millisecond)
		if got := users(); got != 13 {
			t.Fatalf("0.5 s after SetUsers(13) at 20 users/s: %d users", got)
		}
		cancel()
		<-done
		if st := p.Status(); st.State != StateStopped || st.Users != 0 {
			t.Fatalf("after the stop: %+v", st)
		}
		if res := col.Snapshot(); res.Requests == 0 || res.Failures != 0 {
			t.Fatalf("%d requests, %d failures: %s", res.Requests, res.Failures, describeFailures(res))
		}
	})
}

// BenchmarkUserDo is one task of a simulated user end to end: building the
// request bytes, the round trip, judging and recording the sample.
func BenchmarkUserDo(b *testing.B) {
	tg := cannedServer(b, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: sid=abc123; Path=/\r\nContent-Length: 12\r\n\r\nhello, world")
	rec := syntheticRecording("shop.example", 1, 1, time.Second)
	rec.Sessions[0].Exchanges[0].Request.Header = capture.Headers{
		{Name: "Host", Value: "shop.example"}, {Name: "User-Agent", Value: "Mozilla/5.0"},
		{Name: "Accept", Value: "*/*"}, {Name: "Cookie", Value: "sid=recorded; theme=dark"},
	}
	cfg := fastConfig("http://" + tg.Addr)
	namer, _ := stats.NewNamer(nil)
	plan, err := NewPlan(rec, cfg, namer.Name)
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewPlayer(plan, cfg, stats.NewCollector(stats.Config{}))
	if err != nil {
		b.Fatal(err)
	}
	u := newUser(p, 0)
	defer u.closeConns()
	sc := plan.Scripts[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u.do(sc, &sc.Tasks[0], time.Time{})
	}
}

// TestReplayMaxConns: with --max-conns users share a capped set of
// connections, and every request still succeeds.
func TestReplayMaxConns(t *testing.T) {
	t.Parallel()
	var open, peak atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			n := open.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	rec := syntheticRecording("shop.example", 4, 3, 10*time.Millisecond)
	cfg := fastConfig(srv.URL)
	cfg.Users, cfg.Iterations, cfg.MaxConns = 20, 200, 2
	res, _ := runReplay(t, rec, cfg)
	if res.Requests != 600 || res.Failures != 0 {
		t.Fatalf("%d requests, %d failures: %s", res.Requests, res.Failures, describeFailures(res))
	}
	if p := peak.Load(); p > 2 {
		t.Fatalf("the target saw %d connections at once, want at most 2", p)
	}
}

// BenchmarkPlayer replays b.N one-request sessions with 50 users and no
// think time: the whole closed-model path (spawning, scheduling, the client,
// statistics). AMP_BENCH_TARGET names an external target (e.g. the shared
// bench target pinned to another core); otherwise a canned loopback server.
func BenchmarkPlayer(b *testing.B) {
	target := os.Getenv("AMP_BENCH_TARGET")
	if target == "" {
		target = "http://" + cannedServer(b, "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\ncount: 1000000").Addr
	}
	rec := syntheticRecording("shop.example", 1, 1, time.Second)
	rec.Sessions[0].Exchanges[0].Request.URL = "http://shop.example/"
	cfg := fastConfig(target)
	cfg.Users, cfg.Rate, cfg.Iterations = 50, 1e6, b.N
	namer, _ := stats.NewNamer(nil)
	plan, err := NewPlan(rec, cfg, namer.Name)
	if err != nil {
		b.Fatal(err)
	}
	col := stats.NewCollector(stats.Config{})
	p, err := NewPlayer(plan, cfg, col)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if res := col.Snapshot(); res.Requests != int64(b.N) || res.Failures != 0 {
		b.Fatalf("%d requests, %d failures", res.Requests, res.Failures)
	}
}

// tokenAPI is a JSON API with bearer-token logins: POST /api/login answers
// {"token": random}; GET /api/orders/{id} needs "Authorization: Bearer"
// with a token it issued, and POST /api/orders returns a random order id.
func tokenAPI(t *testing.T) *httptest.Server {
	var mu sync.Mutex
	tokens, orders := map[string]bool{}, map[string]bool{}
	random := func() string { return fmt.Sprintf("%x", time.Now().UnixNano()*7919+int64(len(tokens)+len(orders))) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/login" {
			tok := "eyJ" + random()
			tokens[tok] = true
			fmt.Fprintf(w, `{"user":"ada","token":"%s","expires_in":3600}`, tok)
			return
		}
		if !tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		switch {
		case r.Method == "POST" && r.URL.Path == "/api/orders":
			id := "ord_" + random()
			orders[id] = true
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"order":{"id":"%s","items":2}}`, id)
		case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/api/orders/") && orders[strings.TrimPrefix(r.URL.Path, "/api/orders/")]:
			fmt.Fprint(w, `{"status":"paid"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestReplayBearerTokenAndJSONIds: a token from a JSON login response sent
// back in the Authorization header, and an id from a JSON body sent back in
// a path, are correlated.
func TestReplayBearerTokenAndJSONIds(t *testing.T) {
	t.Parallel()
	api := tokenAPI(t)
	rt := &testenv.RecordingTransport{}
	client := &http.Client{Transport: rt}
	do := func(method, path, token, body string) string {
		req, _ := http.NewRequest(method, api.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 400 {
			t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
		}
		return string(b)
	}
	tok := regexp.MustCompile(`"token":"([^"]+)"`).FindStringSubmatch(do("POST", "/api/login", "", `{"user":"ada","password":"x"}`))[1]
	id := regexp.MustCompile(`"id":"([^"]+)"`).FindStringSubmatch(do("POST", "/api/orders", tok, `{"items":[1,2]}`))[1]
	do("GET", "/api/orders/"+id, tok, "")
	rec := rt.Recording()

	cfg := fastConfig(tokenAPI(t).URL) // another server: other tokens and ids
	cfg.Users, cfg.Iterations = 5, 20
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 || res.Requests != 60 {
		t.Fatalf("%d requests, %d failures: %s", res.Requests, res.Failures, describeFailures(res))
	}
	cfg.NoCorrelate = true
	if res, _ := runReplay(t, rec, cfg); res.Failures != 40 {
		t.Fatalf("without correlation %d failures, want the 40 authorized requests: %s", res.Failures, describeFailures(res))
	}
}
