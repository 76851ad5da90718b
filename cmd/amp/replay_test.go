package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/stats"
)

// writeDemoRecording writes a recording of two users browsing the demo site
// (recorded against host shop.example) and returns its path.
func writeDemoRecording(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shop.amp")
	w, err := capture.Create(path, capture.FileHeader{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for s, paths := range [][]string{{"/", "/articles", "/static/style.css"}, {"/articles", "/login"}} {
		for i, p := range paths {
			e := &capture.Exchange{
				Session: fmt.Sprint(s + 1), Client: "10.0.0.1:1234", Start: t0.Add(time.Duration(i) * 50 * time.Millisecond),
				Duration: 5 * time.Millisecond,
				Request:  capture.Request{Method: "GET", URL: "http://shop.example" + p, Proto: "HTTP/1.1", Header: capture.Headers{{Name: "Host", Value: "shop.example"}}},
				Response: capture.Response{Status: 200, Proto: "HTTP/1.1"},
			}
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplayCommand(t *testing.T) {
	srv := httptest.NewServer(demosite.New(demosite.Config{}))
	defer srv.Close()
	rec := writeDemoRecording(t)
	out := filepath.Join(t.TempDir(), "result.json")

	// Flags after the file, thresholds that pass.
	r := runAmp(t, "replay", rec, "--host", srv.URL, "--users", "5", "--rate", "100", "--iterations", "20",
		"--think", "none", "--quiet", "--json", out, "--fail-if", "rate<0.01", "--fail-if", "p(95)<5000")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	var res struct {
		Requests  int64   `json:"requests"`
		Failures  int64   `json:"failures"`
		RPS       float64 `json:"rps"`
		LatencyMS struct {
			P50, P95, P99, Max float64
		} `json:"latency_ms"`
		Endpoints []struct {
			Method, Name       string
			Requests, Failures int64
		} `json:"endpoints"`
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	// 20 sessions alternate between the two recorded ones: 10×3 + 10×2 tasks.
	if res.Requests != 50 || res.Failures != 0 || res.RPS <= 0 || res.LatencyMS.Max <= 0 || len(res.Endpoints) != 4 {
		t.Fatalf("result: %+v", res)
	}

	// A shard runs its part: 5 of the 20 sessions.
	r = runAmp(t, "replay", rec, "--host", srv.URL, "--iterations", "20", "--think", "none", "--quiet",
		"--shard", "1/4", "--start-at", time.Now().Add(-time.Second).UTC().Format(time.RFC3339), "--json", out)
	if r.code != 0 || !strings.Contains(r.stdout, "shard 1 of 4") {
		t.Fatalf("shard: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	data, _ = os.ReadFile(out)
	res.Requests = 0
	if err := json.Unmarshal(data, &res); err != nil || res.Requests < 10 || res.Requests > 15 {
		t.Fatalf("shard 1/4 of 20 sessions sent %d requests, want 5 sessions' worth (10..15): %v", res.Requests, err)
	}

	// Stages ramp the users and end the run after the last one.
	r = runAmp(t, "replay", rec, "--host", srv.URL, "--stages", "300ms:4,300ms:4,300ms:0", "--think", "50ms", "--quiet", "--json", out)
	if r.code != 0 || !strings.Contains(r.stdout, "stages: 300ms:4,300ms:4,300ms:0, 900ms in all") {
		t.Fatalf("stages: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	data, _ = os.ReadFile(out)
	var staged struct {
		Requests int64 `json:"requests"`
		Users    int   `json:"users"`
	}
	if err := json.Unmarshal(data, &staged); err != nil || staged.Users != 4 || staged.Requests == 0 {
		t.Fatalf("stages: peak %d users, %d requests: %v", staged.Users, staged.Requests, err)
	}

	// A threshold that fails exits 99 and says which.
	r = runAmp(t, "replay", rec, "--host", srv.URL, "--iterations", "4", "--think", "none", "--quiet", "--fail-if", "p(95)<0")
	if r.code != 99 || !strings.Contains(r.stderr, "p(95)<0") {
		t.Fatalf("failing threshold: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestReplayCommandUsageErrors(t *testing.T) {
	rec := writeDemoRecording(t)
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"replay", rec}, want: "--host is required"},
		{args: []string{"replay", rec, "--host", "ftp://x"}, want: `scheme "ftp" is not http or https`},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--think", "often"}, want: `--think "often"`},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--fail-if", "p(95)<<3"}, want: "--fail-if"},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--speed", "0", "--users", "0"}, want: "--users 0"},
		{args: []string{"replay", "missing.amp", "--host", "http://127.0.0.1:1"}, want: "missing.amp: no such file"},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--map", "nohost"}, want: "--map"},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--shard", "4/4"}, want: "--shard 4/4: want I/N with 0 <= I < N"},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--shard", "one"}, want: `--shard "one"`},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--start-at", "noon"}, want: `--start-at "noon"`},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--stages", "1m"}, want: `--stages "1m": want DURATION:USERS`},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--header", "NoColon"}, want: `--header "NoColon": want "Name: value"`},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--header", "Content-Length: 5"}, want: "amp sets Content-Length itself"},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--stages", "1s:5", "--timeline"}, want: "--stages ramps the closed model"},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--check", "status = 200"}, want: `--check "status = 200": want status == N`},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--check", "GET /nope: status == 200"}, want: `--check "GET /nope: status == 200": no endpoint "GET /nope" in the recording`},
		{args: []string{"replay", rec, "--host", "http://127.0.0.1:1", "--checks", "strict"}, want: `--checks "strict": want auto or status`},
	}
	for _, tc := range tests {
		r := runAmp(t, tc.args...)
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("amp %v: exit %d, stderr %q; want one line with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestSessionsCorrelations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "login.amp")
	w, err := capture.Create(path, capture.FileHeader{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for _, e := range []*capture.Exchange{
		{Session: "1", Start: t0, Request: capture.Request{Method: "GET", URL: "http://shop.example/login"},
			Response: capture.Response{Status: 200, Body: []byte(`<form><input type="hidden" name="csrf_token" value="T0k3nABC123"></form>`)}},
		{Session: "1", Start: t0.Add(time.Second), Request: capture.Request{Method: "POST", URL: "http://shop.example/login",
			Header: capture.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}},
			Body:   []byte("username=alice&csrf_token=T0k3nABC123")},
			Response: capture.Response{Status: 303, Header: capture.Headers{{Name: "Location", Value: "/orders/98765"}}}},
		{Session: "1", Start: t0.Add(2 * time.Second), Request: capture.Request{Method: "GET", URL: "http://shop.example/orders/98765"},
			Response: capture.Response{Status: 200}},
	} {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := runAmp(t, "sessions", path, "--correlations")
	for _, want := range []string{
		`csrf_token     "T0k3nABC123"            from #1 GET /login: form field "csrf_token"`,
		"sent in #2 POST /login: body",
		`from #2 POST /login: Location path segment 2 of /orders/*`,
		"sent in #3 GET /orders/98765: path",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--correlations output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runAmp(t, "sessions", path, "--correlations", "--json")
	var out struct {
		Sessions []struct {
			Correlations []struct {
				Name, Value string
				Source      struct{ Task int }
				Uses        []struct{ Task int }
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if c := out.Sessions[0].Correlations; len(c) != 2 || c[0].Value != "T0k3nABC123" || c[1].Value != "98765" || c[1].Uses[0].Task != 2 {
		t.Fatalf("json correlations: %+v", c)
	}
}

// TestReplayFromURL reads the recording over HTTP, as a Kubernetes pod does.
func TestReplayFromURL(t *testing.T) {
	rec := writeDemoRecording(t)
	files := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(rec))))
	defer files.Close()
	target := httptest.NewServer(demosite.New(demosite.Config{}))
	defer target.Close()

	// A token in the URL is never printed: pod logs are read by many.
	r := runAmp(t, "replay", files.URL+"/"+filepath.Base(rec)+"?token=s3cr3t-t0ken", "--host", target.URL, "--iterations", "2", "--think", "none", "--quiet")
	if r.code != 0 || !strings.Contains(r.stdout, "2 sessions, 5 requests") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cr3t") {
		t.Fatalf("the URL's token was printed:\n%s\n%s", r.stdout, r.stderr)
	}
	r = runAmp(t, "replay", files.URL+"/nothing.amp", "--host", target.URL)
	if r.code != 1 || !strings.Contains(r.stderr, "/nothing.amp: HTTP 404 Not Found") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("missing URL: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestReplayWebAutostart: --web serves the UI (Locust's API included) and,
// with --autostart, replays at once and exits when the replay ends.
func TestReplayWebAutostart(t *testing.T) {
	target := httptest.NewServer(demosite.New(demosite.Config{}))
	defer target.Close()
	rec := writeDemoRecording(t)
	out := filepath.Join(t.TempDir(), "web.json")
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(t.Context(), []string{"amp", "replay", rec, "--host", target.URL, "--web=127.0.0.1:0", "--autostart",
			"--users", "4", "--think", "50ms", "--duration", "3s", "--json", out}, &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`web UI on (http://127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(10 * time.Second)
	for addr.FindStringSubmatch(stdout.String()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no UI address printed: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	base := addr.FindStringSubmatch(stdout.String())[1]
	var locust struct {
		State     string  `json:"state"`
		UserCount int     `json:"user_count"`
		FailRatio float64 `json:"fail_ratio"`
		Stats     []any   `json:"stats"`
	}
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/stats/requests")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&locust)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if locust.UserCount > 0 && len(locust.Stats) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if locust.State != "running" && locust.State != "spawning" {
		t.Errorf("state %q while replaying", locust.State)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("amp replay --web --autostart did not exit after the replay")
	}
	data, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(data), `"requests"`) {
		t.Fatalf("result: %v %.200s", err, data)
	}
}

// TestReplayMetrics scrapes --metrics during a replay, from the console and
// from the web UI: the request counter and the user gauge move.
func TestReplayMetrics(t *testing.T) {
	t.Run("console", func(t *testing.T) { testReplayMetrics(t, "--quiet") })
	t.Run("web", func(t *testing.T) { testReplayMetrics(t, "--web=127.0.0.1:0", "--autostart") })
}

func testReplayMetrics(t *testing.T, mode ...string) {
	target := httptest.NewServer(demosite.New(demosite.Config{}))
	defer target.Close()
	rec := writeDemoRecording(t)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(t.Context(), append([]string{"amp", "replay", rec, "--host", target.URL, "--metrics", "127.0.0.1:0",
			"--users", "3", "--think", "20ms", "--duration", "3s", "--metrics-linger", "0"}, mode...), &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`Prometheus metrics on (http://127\.0\.0\.1:\d+/metrics)`)
	deadline := time.Now().Add(10 * time.Second)
	for addr.FindStringSubmatch(stdout.String()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no metrics address printed: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	url := addr.FindStringSubmatch(stdout.String())[1]
	requests := regexp.MustCompile(`(?m)^amp_requests_total\{method="GET",name="/articles",run="[0-9a-f]+",status="200"\} (\d+)`)
	users3 := regexp.MustCompile(`(?m)^amp_users\{run="[0-9a-f]+"\} 3$`)
	scrape := func() (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		m := requests.FindStringSubmatch(string(body))
		if m == nil {
			return 0, string(body)
		}
		n, _ := strconv.Atoi(m[1])
		return n, string(body)
	}
	// Poll (bounded) until the run has counted requests with all users up,
	// then until the counter moves again.
	first, body := scrape()
	for (first == 0 || !users3.MatchString(body)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		first, body = scrape()
	}
	if first == 0 || !users3.MatchString(body) {
		t.Fatalf("no requests or users on /metrics:\n%s", body)
	}
	second, body := scrape()
	for second <= first && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		second, body = scrape()
	}
	if second <= first {
		t.Fatalf("the counter did not move from %d:\n%s", first, body)
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// TestReplayMetricsLinger: after the run, --metrics-linger keeps /metrics
// up with the final figures (the requests of the JSON result, the sessions,
// the target users, the build), and Ctrl-C ends the wait at once.
func TestReplayMetricsLinger(t *testing.T) {
	target := httptest.NewServer(demosite.New(demosite.Config{}))
	defer target.Close()
	rec := writeDemoRecording(t)
	out := filepath.Join(t.TempDir(), "res.json")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"amp", "replay", rec, "--host", target.URL, "--metrics", "127.0.0.1:0", "--metrics-linger", "1m",
			"--users", "2", "--think", "10ms", "--duration", "1s", "--quiet", "--json", out}, &stdout, &stderr)
	}()
	linger := regexp.MustCompile(`(http://127\.0\.0\.1:\d+/metrics) stays up for 1m0s \(--metrics-linger\)`)
	deadline := time.Now().Add(20 * time.Second)
	for linger.FindStringSubmatch(stdout.String()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no linger line: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(linger.FindStringSubmatch(stdout.String())[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	res, err := stats.ReadResult(out)
	if err != nil {
		t.Fatal(err)
	}
	var scraped int64
	for _, m := range regexp.MustCompile(`(?m)^amp_requests_total\{.*\} (\d+)$`).FindAllStringSubmatch(string(body), -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		scraped += n
	}
	if scraped == 0 || scraped != res.Requests {
		t.Errorf("the lingering /metrics counts %d requests, the result %d:\n%s", scraped, res.Requests, body)
	}
	run := res.RunID()
	for _, line := range []string{
		fmt.Sprintf(`amp_target_users{run="%s"} 2`, run),
		fmt.Sprintf(`amp_users{run="%s"} 0`, run),
		fmt.Sprintf(`amp_sessions_total{result="completed",run="%s"} %d`, run, res.Sessions.Completed),
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("no %q in:\n%s", line, body)
		}
	}
	if !strings.Contains(string(body), "amp_build_info{") {
		t.Errorf("no amp_build_info in:\n%s", body)
	}
	cancel() // Ctrl-C
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ctrl-C did not end the linger")
	}
}

// TestReplayWebPolicy: --web honours --abort-on-fail (a failing threshold
// stops the UI's replay long before its duration) and refuses --dry-run
// without sending anything.
func TestReplayWebPolicy(t *testing.T) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer target.Close()
	rec := writeDemoRecording(t)

	r := runAmp(t, "replay", rec, "--host", target.URL, "--web=127.0.0.1:0", "--dry-run")
	if r.code != 1 || !strings.Contains(r.stderr, "--dry-run has no effect here") || hits.Load() != 0 {
		t.Fatalf("--web --dry-run: exit %d, %d requests sent, stderr %q", r.code, hits.Load(), r.stderr)
	}

	done := make(chan result, 1)
	go func() {
		done <- runAmp(t, "replay", rec, "--host", target.URL, "--web=127.0.0.1:0", "--autostart", "--no-validate",
			"--users", "2", "--think", "20ms", "--duration", "10m", "--fail-if", "rate<0.01", "--abort-on-fail")
	}()
	select {
	case r := <-done:
		if r.code != exitThreshold || !strings.Contains(r.stderr, "rate<0.01") || hits.Load() == 0 {
			t.Fatalf("exit %d after %d requests; stdout %q stderr %q", r.code, hits.Load(), r.stdout, r.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("--web --abort-on-fail: the failing replay was not stopped")
	}
}

// TestReplayHeader: --header fields reach the target on every request.
func TestReplayHeader(t *testing.T) {
	var marked, total atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		if r.Header.Get("X-Load-Test") == "amp, run 7" && r.Header.Get("User-Agent") == "amp-loadtest" {
			marked.Add(1)
		}
	}))
	defer srv.Close()
	rec := writeDemoRecording(t)
	r := runAmp(t, "replay", rec, "--host", srv.URL, "--iterations", "4", "--think", "none", "--quiet",
		"--header", "X-Load-Test: amp, run 7", "--header", "User-Agent: amp-loadtest")
	if r.code != 0 || total.Load() == 0 || marked.Load() != total.Load() {
		t.Fatalf("exit %d: %d of %d requests carried the headers; %s", r.code, marked.Load(), total.Load(), r.stderr)
	}
}

func TestReplayDryRun(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	rec := writeDemoRecording(t)
	r := runAmp(t, "replay", rec, "--host", srv.URL, "--dry-run")
	if r.code != 0 || hits.Load() != 0 {
		t.Fatalf("exit %d, %d requests sent: %s", r.code, hits.Load(), r.stderr)
	}
	for _, want := range []string{"2 sessions, 5 requests", "shop.example", "→ " + srv.URL + " (HTTP/1.1)", "GET /articles", "nothing was sent",
		"5 of 5 requests compared with their recording"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--dry-run output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The protocol each target is spoken to in.
	r = runAmp(t, "replay", rec, "--host", srv.URL, "--h2c", "--dry-run")
	if want := "→ " + srv.URL + " (h2c)"; r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("--h2c --dry-run: exit %d, output lacks %q:\n%s", r.code, want, r.stdout)
	}
}

// TestReplayChecks: a response unlike its recording fails as "differs",
// which --fail-if 'differs==0' turns into exit 99; --no-checks judges by
// status class; --check assertions are reported and listed by --dry-run.
func TestReplayChecks(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/login" {
			http.Redirect(w, r, "/", http.StatusFound) // recorded: 200
		}
	}))
	defer srv.Close()
	rec := writeDemoRecording(t)
	base := []string{"replay", rec, "--host", srv.URL, "--iterations", "2", "--think", "none", "--quiet"}
	r := runAmp(t, append(base, "--fail-if", "differs==0")...)
	if r.code != 99 || !strings.Contains(r.stdout, "differs: status 302, recorded 200") || !strings.Contains(r.stderr, "differs==0") {
		t.Fatalf("exit %d, want 99 with the difference reported\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = runAmp(t, append(base, "--no-checks", "--fail-if", "differs==0", "--fail-if", "rate==0")...)
	if r.code != 0 || strings.Contains(r.stdout, "differs:") {
		t.Fatalf("--no-checks: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = runAmp(t, append(base, "--checks", "status", "--check", "GET /login: status == 200", "--fail-if", "failed_checks==0")...)
	if r.code != 99 || !strings.Contains(r.stdout, `check "GET /login: status == 200" failed (e.g. "status 302")`) {
		t.Fatalf("--check: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	sent := hits.Load()
	r = runAmp(t, "replay", rec, "--host", srv.URL, "--dry-run", "--check", "GET /articles: body contains Total", "--check", "status in 200,302")
	if r.code != 0 || hits.Load() != sent || !strings.Contains(r.stdout, "--check GET /articles: body contains Total") ||
		!regexp.MustCompile(`--check status in 200,302 +on 5 requests`).MatchString(r.stdout) {
		t.Fatalf("--dry-run: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
}

// TestReplayArrivalRate: --arrival-rate starts sessions at a rate, says so,
// and the result names the model.
func TestReplayArrivalRate(t *testing.T) {
	target := httptest.NewServer(demosite.New(demosite.Config{}))
	defer target.Close()
	rec := writeDemoRecording(t)
	out := filepath.Join(t.TempDir(), "r.json")
	r := runAmp(t, "replay", rec, "--host", target.URL, "--arrival-rate", "20", "--max-users", "50", "--iterations", "30",
		"--think", "none", "--quiet", "--json", out)
	if r.code != 0 || !strings.Contains(r.stdout, "arrival rate: 20 sessions a second, each a new user (at most 50 users") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	res, err := stats.ReadResult(out)
	if err != nil {
		t.Fatal(err)
	}
	// 30 arrivals of the recording's sessions (2 sessions, 5 requests).
	if res.Config["model"] != "arrival-rate" || res.Requests != 75 || res.Failures != 0 {
		t.Fatalf("model %v, %d requests, %d failures", res.Config["model"], res.Requests, res.Failures)
	}
}

// TestReplayFindCapacity: against a demo site serving 4 requests at once,
// 20 ms each, a search with p(95)<100 steps up, narrows in and answers.
func TestReplayFindCapacity(t *testing.T) {
	target := httptest.NewServer(demosite.New(demosite.Config{Capacity: 4, Latency: 20 * time.Millisecond}))
	defer target.Close()
	rec := writeDemoRecording(t)
	out := filepath.Join(t.TempDir(), "capacity.json")
	r := runAmp(t, "replay", rec, "--host", target.URL, "--find-capacity", "--fail-if", "p(95)<100", "--fail-if", "rate<0.01",
		"--users", "2", "--max-users", "8", "--step-duration", "3s", "--think", "none", "--no-validate", "--json", out)
	if r.code != 0 || !strings.Contains(r.stdout, "CAPACITY: 8 users") || !strings.Contains(r.stdout, "it held at the most the search may try") || !strings.Contains(r.stdout, "     4 users") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	res, err := stats.ReadResult(out)
	if err != nil {
		t.Fatal(err)
	}
	if capa := res.Capacity; capa == nil || capa.Users != 8 || len(capa.Steps) != 3 || capa.Ended != "max load" {
		t.Fatalf("capacity in the result: %+v", capa)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--find-capacity"}, "--find-capacity: --fail-if a capacity search needs thresholds"},
		{[]string{"--find-capacity", "--fail-if", "GET /: p(95)<100"}, "not one endpoint's"},
		{[]string{"--find-capacity", "--fail-if", "p(95)<100", "--timeline"}, "--find-capacity has no effect here"},
		{[]string{"--step-duration", "5s"}, "--step-duration has no effect here"},
		{[]string{"--find-capacity", "--fail-if", "p(95)<100", "--step-duration", "1s"}, "--step-duration 1s is too short"},
	} {
		r := runAmp(t, append([]string{"replay", rec, "--host", target.URL}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestReplayJourneys: two recordings weighted 3:1 start their sessions in
// that proportion; --mix weights one recording's sessions by name, and
// --session picks one.
func TestReplayJourneys(t *testing.T) {
	var hits sync.Map
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := hits.LoadOrStore(r.URL.Path, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	}))
	defer target.Close()
	rec := writeDemoRecording(t) // sessions home→articles (3 requests) and articles→login (2)
	count := func(p string) int64 {
		n, ok := hits.Load(p)
		if !ok {
			return 0
		}
		return n.(*atomic.Int64).Swap(0)
	}
	other := filepath.Join(t.TempDir(), "other.amp")
	if err := os.Link(rec, other); err != nil {
		t.Fatal(err)
	}
	r := runAmp(t, "replay", rec+":3", other+":1", "--host", target.URL, "--iterations", "400", "--think", "none", "--quiet",
		"--no-validate", "--checks", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "journeys: shop 75% (2 sessions), other 25% (2 sessions)") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// 400 sessions, each recording's two in turn: /login is in one session of each.
	if n := count("/login"); n != 200 {
		t.Errorf("/login %d times, want 200 (half the sessions of both journeys)", n)
	}
	count("/articles")
	count("/")

	r = runAmp(t, "replay", rec, "--host", target.URL, "--mix", "home*=1", "--iterations", "20", "--think", "none", "--quiet",
		"--no-validate", "--checks", "status")
	if r.code != 0 || count("/") != 20 || count("/login") != 0 {
		t.Fatalf("--mix home*=1: exit %d %s", r.code, r.stderr)
	}
	r = runAmp(t, "replay", rec, "--host", target.URL, "--session", "2", "--iterations", "10", "--think", "none", "--quiet",
		"--no-validate", "--checks", "status")
	if r.code != 0 || count("/login") != 10 || count("/") != 0 {
		t.Fatalf("--session 2: exit %d %s", r.code, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{rec, "--mix", "nothing*=1"}, "--mix nothing*: no session's name matches it"},
		{[]string{rec, "--session", "9"}, "--session 9: the recording has sessions 1 to 2"},
		{[]string{rec + ":5"}, "a weight needs another recording"},
		{[]string{rec, other, "--mix", "home*=1"}, "--mix weights the sessions of one recording"},
		{[]string{rec, "--mix", "home*=0"}, "--mix \"home*=0\": want NAME=WEIGHT"},
	} {
		r := runAmp(t, append(append([]string{"replay"}, tc.args...), "--host", target.URL, "--no-validate")...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestReplayWebFindCapacity: --web shows a capacity search's steps as they
// end, and the command answers when it is over.
func TestReplayWebFindCapacity(t *testing.T) {
	target := httptest.NewServer(demosite.New(demosite.Config{Capacity: 4, Latency: 20 * time.Millisecond}))
	defer target.Close()
	rec := writeDemoRecording(t)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(t.Context(), []string{"amp", "replay", rec, "--host", target.URL, "--web=127.0.0.1:0", "--autostart", "--find-capacity",
			"--fail-if", "p(95)<100", "--users", "2", "--max-users", "8", "--step-duration", "3s", "--think", "none", "--no-validate"}, &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`web UI on (http://127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(20 * time.Second)
	for addr.FindStringSubmatch(stdout.String()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no UI address printed: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	base := addr.FindStringSubmatch(stdout.String())[1]
	var st struct {
		Capacity *struct {
			Steps []struct {
				Users int  `json:"users"`
				Pass  bool `json:"pass"`
			} `json:"steps"`
		} `json:"capacity"`
	}
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/api/state")
		if err != nil {
			break // the search ended and the UI with it
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err == nil && st.Capacity != nil && len(st.Capacity.Steps) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Capacity == nil || len(st.Capacity.Steps) == 0 || st.Capacity.Steps[0].Users != 2 {
		t.Fatalf("the page's state shows no capacity step: %+v", st.Capacity)
	}
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(stdout.String(), "CAPACITY: 8 users") {
			t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("amp replay --web --find-capacity --autostart did not end")
	}
}

// TestReplayFindCapacityArrivalRate: with --arrival-rate the search steps
// the rate, and --duration bounds it with the best answer so far.
func TestReplayFindCapacityArrivalRate(t *testing.T) {
	target := httptest.NewServer(demosite.New(demosite.Config{Capacity: 4, Latency: 20 * time.Millisecond}))
	defer target.Close()
	rec := writeDemoRecording(t)
	r := runAmp(t, "replay", rec, "--host", target.URL, "--find-capacity", "--fail-if", "p(95)<100", "--arrival-rate", "5",
		"--step-duration", "3s", "--duration", "7s", "--think", "none", "--no-validate")
	if r.code != 0 || !strings.Contains(r.stdout, "doubling the arrival rate") || !strings.Contains(r.stdout, "5.00 sessions/s") ||
		!strings.Contains(r.stdout, "CAPACITY: ") || !strings.Contains(r.stdout, "sessions a second") || !strings.Contains(r.stdout, "--duration ended the search") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestReplayCommandH2C: amp replay --h2c reaches a server that speaks only
// cleartext HTTP/2, and every request arrives as HTTP/2.0; without the flag
// the same replay fails (the server refuses HTTP/1.1). (The validation
// pass adds requests of its own.)
func TestReplayCommandH2C(t *testing.T) {
	var h2, other atomic.Int64
	site := demosite.New(demosite.Config{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Proto == "HTTP/2.0" {
			h2.Add(1)
		} else {
			other.Add(1)
		}
		site.ServeHTTP(w, r)
	}))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	rec := writeDemoRecording(t)
	out := filepath.Join(t.TempDir(), "result.json")
	var res struct {
		Requests int64 `json:"requests"`
		Failures int64 `json:"failures"`
	}
	for _, h2c := range []bool{true, false} {
		args := []string{"replay", rec, "--host", srv.URL, "--users", "5", "--iterations", "10", "--think", "none", "--quiet", "--json", out,
			"--no-default-thresholds"}
		if h2c {
			args = append(args, "--h2c")
		}
		r := runAmp(t, args...)
		data, _ := os.ReadFile(out)
		if err := json.Unmarshal(data, &res); r.code != 0 || err != nil {
			t.Fatalf("--h2c %v: exit %d, %v\n%s\n%s", h2c, r.code, err, r.stdout, r.stderr)
		}
		if want := int64(25); res.Requests != want || h2c && (res.Failures != 0 || h2.Load() < want || other.Load() != 0) || !h2c && res.Failures != want {
			t.Fatalf("--h2c %v: %d requests, %d failures; the server saw %d over HTTP/2, %d otherwise", h2c, res.Requests, res.Failures, h2.Load(), other.Load())
		}
	}
}
