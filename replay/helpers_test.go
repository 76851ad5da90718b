package replay

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/stats"
)

// recordingTransport records every exchange a net/http client makes, the way
// the recording proxy would, into capture.Exchanges.
type recordingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	exs  []*capture.Exchange
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	e := &capture.Exchange{Client: "127.0.0.1:50000", Start: time.Now()}
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	h := capture.Headers{{Name: "Host", Value: req.URL.Host}}
	h = append(h, capture.HeadersFromMap(req.Header)...)
	e.Request = capture.Request{Method: req.Method, URL: req.URL.String(), Proto: "HTTP/1.1", Header: h, Body: body, BodySize: int64(len(body))}
	resp, err := rt.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	e.TTFB = time.Since(e.Start)
	rbody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rbody))
	e.Duration = time.Since(e.Start)
	e.Response = capture.Response{Status: resp.StatusCode, Proto: resp.Proto, Header: capture.HeadersFromMap(resp.Header), Body: rbody, BodySize: int64(len(rbody))}
	rt.mu.Lock()
	rt.exs = append(rt.exs, e)
	rt.mu.Unlock()
	return resp, nil
}

// newDemo starts a demo site on loopback.
func newDemo(t testing.TB, cfg demosite.Config) (*httptest.Server, *demosite.Site) {
	t.Helper()
	site := demosite.New(cfg)
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	return srv, site
}

var (
	csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	csrfMeta  = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)
)

// recordFlow drives the blog flow of the demo site at base with a net/http
// client (login, new article form, create, view, API read, API comment, the
// counter) and returns it as a one-session recording. extra, when set, adds a
// request to another host (an analytics beacon) after the login.
func recordFlow(t testing.TB, base string, extra string) *capture.Recording {
	t.Helper()
	rt := &recordingTransport{next: http.DefaultTransport}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Transport: rt, Jar: jar}
	get := func(path string) string {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return string(b)
	}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		resp, err := client.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
		return resp
	}
	token := func(page string) string {
		t.Helper()
		m := csrfInput.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no csrf token in %.200s", page)
		}
		return m[1]
	}
	page := get("/login")
	post("/login", url.Values{"username": {"alice"}, "password": {"secret"}, "csrf_token": {token(page)}})
	if extra != "" {
		if resp, err := client.Get(extra); err == nil {
			resp.Body.Close()
		}
	}
	page = get("/articles/new")
	resp := post("/articles", url.Values{"title": {"Hello amp"}, "body": {"recorded once, replayed many times"}, "csrf_token": {token(page)}})
	articlePath := resp.Request.URL.Path // after the 303
	if !strings.HasPrefix(articlePath, "/articles/") {
		t.Fatalf("created article at %q", articlePath)
	}
	id := strings.TrimPrefix(articlePath, "/articles/")
	page = get("/articles/" + id)
	meta := csrfMeta.FindStringSubmatch(page)
	if meta == nil {
		t.Fatal("no csrf meta tag on the article page")
	}
	get("/api/articles/" + id)
	req, _ := http.NewRequest("POST", base+"/api/articles/"+id+"/comments", strings.NewReader(`{"text":"first!"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", meta[1])
	cresp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cresp.Body.Close()
	if cresp.StatusCode != 201 {
		t.Fatalf("comment: %d", cresp.StatusCode)
	}
	get("/")

	for _, e := range rt.exs {
		e.Session = "1"
	}
	return &capture.Recording{Header: capture.FileHeader{Source: "test"}, Sessions: capture.GroupSessions(rt.exs)}
}

// runReplay plans rec with cfg, replays it into a fresh collector and returns
// the result.
func runReplay(t testing.TB, rec *capture.Recording, cfg Config) (*stats.Result, *Player) {
	t.Helper()
	namer, err := stats.NewNamer(nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(rec, cfg, namer.Name)
	if err != nil {
		t.Fatal(err)
	}
	col := stats.NewCollector(stats.Config{})
	p, err := NewPlayer(plan, cfg, col)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	return col.Snapshot(), p
}

// describeFailures lists a result's failures by endpoint and reason.
func describeFailures(r *stats.Result) string {
	var b strings.Builder
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "%s %s: %s ×%d; ", e.Method, e.Name, e.Reason, e.Count)
	}
	return b.String()
}
