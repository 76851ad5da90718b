package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/web"
)

// recordedHost is the host the test recordings were "made" on; the replay
// maps it to the demo site with --host.
const recordedHost = "shop.example"

// newRunFunc is what the CLI gives the Server: it prepares the replay of a
// start from rec.
func newRunFunc(rec *capture.Recording) func(cfg replay.Config) (*replay.Run, error) {
	return func(cfg replay.Config) (*replay.Run, error) {
		namer, err := stats.NewNamer(nil)
		if err != nil {
			return nil, err
		}
		return replay.NewRun(context.Background(), rec, cfg, replay.RunOptions{Name: namer.Name})
	}
}

// browseRecording returns a recording of n visitors browsing the shop with
// GET requests: home, article list, a stylesheet, the login page and an
// article that the demo site does not have (recorded 200, replayed 404: a
// failure); each request 10 ms long, 200 ms apart.
func browseRecording(n int) *capture.Recording {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	paths := []string{"/", "/articles", "/static/style.css", "/login", "/articles/4242"}
	var exs []*capture.Exchange
	for s := range n {
		start := t0.Add(time.Duration(s) * 700 * time.Millisecond)
		for i, p := range paths {
			exs = append(exs, &capture.Exchange{
				Session:  fmt.Sprintf("visitor-%d", s+1),
				Client:   fmt.Sprintf("10.0.0.%d:5%04d", s+1, s),
				Start:    start.Add(time.Duration(i) * 200 * time.Millisecond),
				TTFB:     8 * time.Millisecond,
				Duration: 10 * time.Millisecond,
				Request: capture.Request{Method: "GET", URL: "http://" + recordedHost + p, Proto: "HTTP/1.1",
					Header: capture.Headers{{Name: "Host", Value: recordedHost}, {Name: "User-Agent", Value: "test-browser/1.0"}}, BodySize: 0},
				Response: capture.Response{Status: 200, Proto: "HTTP/1.1", Header: capture.Headers{{Name: "Content-Type", Value: "text/html"}}, BodySize: 1000},
			})
		}
	}
	return &capture.Recording{Header: capture.FileHeader{Source: "test", Created: t0}, Sessions: capture.GroupSessions(exs)}
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// recordLogin drives the demo site at base through a login and a new
// article (CSRF tokens, a session cookie, a server-chosen article id) and
// returns the exchanges as one session, spaced 300 ms apart.
func recordLogin(t testing.TB, base string) []*capture.Exchange {
	t.Helper()
	rt := &testenv.RecordingTransport{Session: "editor-1", Client: "10.0.1.1:40000", RecordedHost: recordedHost}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Transport: rt, Jar: jar}
	do := func(method, path string, form url.Values) string {
		t.Helper()
		var resp *http.Response
		var err error
		if form == nil {
			resp, err = client.Get(base + path)
		} else {
			resp, err = client.PostForm(base+path, form)
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
		}
		return string(b)
	}
	token := func(page string) string {
		t.Helper()
		m := csrfInput.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no csrf token in %.200s", page)
		}
		return m[1]
	}
	page := do("GET", "/login", nil)
	do("POST", "/login", url.Values{"username": {"alice"}, "password": {"secret"}, "csrf_token": {token(page)}})
	page = do("GET", "/articles/new", nil)
	do("POST", "/articles", url.Values{"title": {"Hello amp"}, "body": {"recorded once, replayed many times"}, "csrf_token": {token(page)}})
	do("GET", "/", nil)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 300_000_000, time.UTC)
	exs := rt.Exchanges()
	for i, e := range exs {
		e.Start = t0.Add(time.Duration(i) * 300 * time.Millisecond)
	}
	return exs
}

// demoRecording returns a recording of the demo site at base: n browsing
// visitors and one editor who logs in and posts an article.
func demoRecording(t testing.TB, base string, n int) *capture.Recording {
	t.Helper()
	rec := browseRecording(n)
	var exs []*capture.Exchange
	for _, s := range rec.Sessions {
		exs = append(exs, s.Exchanges...)
	}
	exs = append(exs, recordLogin(t, base)...)
	rec.Sessions = capture.GroupSessions(exs)
	return rec
}

// quickDemo is a demo site that answers in 2–7 ms, without errors.
func quickDemo() demosite.Config {
	return demosite.Config{Latency: 2 * time.Millisecond, Jitter: 5 * time.Millisecond, Seed: 1}
}

// newDemo starts the demo site on loopback.
func newDemo(t testing.TB, cfg demosite.Config) (string, *demosite.Site) {
	t.Helper()
	site := demosite.New(cfg)
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	return srv.URL, site
}

// newTestServer serves a web.Server for a recording of the quick demo site
// with defaults pointing at it, and closes both at the end of the test.
func newTestServer(t testing.TB, mod func(*web.Config)) (*web.Server, *httptest.Server, string) {
	t.Helper()
	demoURL, _ := newDemo(t, quickDemo())
	rec := demoRecording(t, demoURL, 3)
	def := replay.DefaultConfig()
	def.Host = demoURL
	def.StopTimeout = 2 * time.Second
	def.Timeout = 5 * time.Second
	cfg := web.Config{Defaults: def, Recording: rec, Path: "shop.amp", NewRun: newRunFunc(rec)}
	if mod != nil {
		mod(&cfg)
	}
	s := web.New(cfg)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close) // after s.Close: event streams end first
	t.Cleanup(s.Close)
	return s, srv, demoURL
}

// waitFor calls cond every 50 ms until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// locustHeader is the first line of Locust's _stats.csv with its default
// percentiles.
const locustHeader = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"

// bufioLines returns a function reading r line by line; ok is false at the
// end.
func bufioLines(r io.Reader) func() (string, bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	return func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		return sc.Text(), true
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "\r")
}
