package proxy_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/proxy"
)

func TestReverseDemosite(t *testing.T) {
	site := httptest.NewServer(demosite.New(demosite.Config{}))
	defer site.Close()
	cfg := proxy.DefaultConfig()
	cfg.Target = site.URL
	tr := newTestRecorder(t, cfg)
	base := "http://" + tr.Addr
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Log in through the proxy: the redirect must point back at the proxy.
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	token := between(string(page), `name="csrf_token" value="`, `"`)
	if cookie == "" || token == "" {
		t.Fatalf("login page without session or token: %q", page)
	}
	form := url.Values{"csrf_token": {token}, "username": {"ada"}, "password": {"pw"}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", strings.Split(cookie, ";")[0])
	req.Header.Set("Origin", base) // as a browser on the recorder's address sends them
	req.Header.Set("Referer", base+"/login?next=%2Farticles")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, site.URL) {
		t.Errorf("redirect %q leads away from the proxy", loc)
	}
	rec := tr.Stop(t)
	if rec.Exchanges() != 2 || len(rec.Sessions) != 1 {
		t.Fatalf("recorded %d exchanges in %d sessions, want 2 in 1", rec.Exchanges(), len(rec.Sessions))
	}
	e := rec.Sessions[0].Exchanges[1]
	if e.Request.URL != site.URL+"/login" || e.Request.Method != "POST" || string(e.Request.Body) != form.Encode() {
		t.Errorf("recorded %s %s %q", e.Request.Method, e.Request.URL, e.Request.Body)
	}
	if h := e.Request.Header.Get("Host"); h != strings.TrimPrefix(site.URL, "http://") {
		t.Errorf("recorded Host %q, want the target's", h)
	}
	// Origin and Referer name the target, as for a browser talking to it
	// directly: apps that check them against their Host accept the request,
	// and a replay against the target sends what the target expects.
	if got := e.Request.Header.Get("Origin"); got != site.URL {
		t.Errorf("recorded Origin %q, want the target's %q", got, site.URL)
	}
	if got, want := e.Request.Header.Get("Referer"), site.URL+"/login?next=%2Farticles"; got != want {
		t.Errorf("recorded Referer %q, want %q", got, want)
	}
	if e.Response.Status != http.StatusSeeOther || e.Response.Header.Get("Location") != "/articles" {
		t.Errorf("recorded response %d Location %q", e.Response.Status, e.Response.Header.Get("Location"))
	}
}

func TestReverseLocationRewrite(t *testing.T) {
	up := newUpstream(t, false)
	cfg := proxy.DefaultConfig()
	cfg.Target = up.URL + "/" // a base path of "/" changes nothing
	tr := newTestRecorder(t, cfg)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + tr.Addr + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.Header.Get("Location"), "http://"+tr.Addr+"/hello"; got != want {
		t.Errorf("client got Location %q, want %q", got, want)
	}
	// The host name the client used is kept, so its cookies keep applying.
	_, port, _ := net.SplitHostPort(tr.Addr)
	resp, err = c.Get("http://localhost:" + port + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.Header.Get("Location"), "http://localhost:"+port+"/hello"; got != want {
		t.Errorf("client got Location %q, want %q", got, want)
	}
	rec := tr.Stop(t)
	for _, e := range byURL(rec, "/redirect") {
		if got := e.Response.Header.Get("Location"); got != up.URL+"/hello" {
			t.Errorf("recorded Location %q, want the upstream's %q", got, up.URL+"/hello")
		}
	}
}

func TestFiltersAndRedaction(t *testing.T) {
	up := newUpstream(t, false)
	cfg := proxy.DefaultConfig()
	cfg.ExcludePaths = []string{`^/echo$`, `x{1,3}`}
	cfg.SkipStatic = true
	cfg.RedactHeaders = []string{"authorization", "Set-Cookie"}
	tr := newTestRecorder(t, cfg)
	c := tr.proxyClient(nil)
	get := func(url string, h ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	get(up.URL+"/hello", "Authorization", "Bearer secret")
	for _, p := range []string{"/echo", "/xx", "/app.js", "/logo.PNG"} { // skipped, yet served
		if resp := get(up.URL + p); resp.StatusCode == 0 {
			t.Errorf("%s not served", p)
		}
	}
	// A static type known only from the response.
	img := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/webp")
		w.Header().Set("Set-Cookie", "session=s3cret")
		_, _ = w.Write([]byte("RIFF"))
	}))
	defer img.Close()
	get(img.URL + "/avatar")

	// Host filters.
	cfg2 := proxy.DefaultConfig()
	cfg2.IncludeHosts = []string{"localhost"}
	tr2 := newTestRecorder(t, cfg2)
	c2 := tr2.proxyClient(nil)
	for _, u := range []string{up.URL + "/hello?ip", strings.Replace(up.URL, "127.0.0.1", "localhost", 1) + "/hello?name"} {
		resp, err := c2.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	rec := tr.Stop(t)
	if rec.Exchanges() != 1 {
		for _, e := range exchanges(rec) {
			t.Logf("recorded %s", e.Request.URL)
		}
		t.Fatalf("recorded %d exchanges, want only /hello", rec.Exchanges())
	}
	e := one(t, rec, "/hello")
	if got := e.Request.Header.Get("Authorization"); got != proxy.Redacted {
		t.Errorf("Authorization recorded as %q", got)
	}
	if st := tr.Stats(); st.Skipped != 5 {
		t.Errorf("skipped %d, want 5", st.Skipped)
	}
	rec2 := tr2.Stop(t)
	if rec2.Exchanges() != 1 || len(byURL(rec2, "/hello?name")) != 1 {
		t.Errorf("include-host localhost recorded %d exchanges", rec2.Exchanges())
	}
}

// TestRedactionKeepsSessions checks that grouping sees header values before
// they are redacted: two users told apart by Authorization stay apart.
func TestRedactionKeepsSessions(t *testing.T) {
	up := newUpstream(t, false)
	cfg := proxy.DefaultConfig()
	cfg.RedactHeaders = []string{"Authorization"}
	tr := newTestRecorder(t, cfg)
	c := tr.proxyClient(nil)
	for i := range 4 {
		req, _ := http.NewRequest("GET", up.URL+"/hello", nil)
		req.Header.Set("Authorization", []string{"Bearer alice", "Bearer bob"}[i%2])
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	rec := tr.Stop(t)
	if len(rec.Sessions) != 2 {
		t.Errorf("%d sessions, want 2", len(rec.Sessions))
	}
	for _, e := range exchanges(rec) {
		if e.Request.Header.Get("Authorization") != proxy.Redacted {
			t.Errorf("Authorization %q not redacted", e.Request.Header.Get("Authorization"))
		}
	}
}

// TestStopFinishesInFlight stops the recorder while a slow response is in
// flight: the client still gets all of it and it is recorded.
func TestStopFinishesInFlight(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("first "))
		w.(http.Flusher).Flush()
		close(started)
		<-release
		_, _ = w.Write([]byte("last"))
	}))
	defer slow.Close()
	cfg := proxy.DefaultConfig()
	cfg.Target = slow.URL
	tr := newTestRecorder(t, cfg)
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + tr.Addr + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	var rec *capture.Recording
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rec = tr.Stop(t)
	}()
	// New connections are refused once stopping has begun.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", tr.Addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(time.Millisecond) // polling for the listener to close, not timing anything
	}
	close(release)
	wg.Wait()
	if body := <-got; body != "first last" {
		t.Errorf("client got %q", body)
	}
	if e := one(t, rec, "/slow"); string(e.Response.Body) != "first last" || e.Flags != 0 {
		t.Errorf("recorded %q flags %v", e.Response.Body, e.Flags)
	}
}

// TestClientGoesAway records a download the client abandons as incomplete.
func TestClientGoesAway(t *testing.T) {
	up := newUpstream(t, false)
	cfg := proxy.DefaultConfig()
	cfg.Target = up.URL
	tr := newTestRecorder(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+tr.Addr+"/big", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	rec := tr.Stop(t)
	e := one(t, rec, "/big")
	if e.Flags&capture.FlagIncomplete == 0 || !strings.Contains(e.Error, "client went away") || e.Response.BodySize >= 5<<20 {
		t.Errorf("abandoned download recorded with flags %v, error %q, %d bytes", e.Flags, e.Error, e.Response.BodySize)
	}
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

// TestRequestLoop sends a request for the recorder's own address through it:
// a 502 naming the loop, not an endless chain of connections.
func TestRequestLoop(t *testing.T) {
	tr := newTestRecorder(t, proxy.DefaultConfig())
	_, port, _ := net.SplitHostPort(tr.Addr)
	resp, err := tr.proxyClient(nil).Get("http://localhost:" + port + "/again")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "loop") {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	rec := tr.Stop(t)
	if e := one(t, rec, "/again"); e.Flags&capture.FlagFailed == 0 {
		t.Errorf("loop recorded with flags %v", e.Flags)
	}
}

// TestStopNow cuts the wait for an exchange that would not finish: Serve
// returns, and the exchange is counted as lost.
func TestStopNow(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("first "))
		w.(http.Flusher).Flush()
		close(started)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer stuck.Close()
	cfg := proxy.DefaultConfig()
	cfg.Target = stuck.URL
	cfg.StopTimeout = time.Hour
	tr := newTestRecorder(t, cfg)
	go func() {
		resp, err := http.Get("http://" + tr.Addr + "/stuck")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	<-started
	stopped := make(chan *capture.Recording, 1)
	go func() { stopped <- tr.Stop(t) }()
	waitUntil(t, "the stop to begin", func() bool {
		c, err := net.Dial("tcp", tr.Addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	tr.StopNow()
	rec := <-stopped
	if rec.Exchanges() != 0 {
		t.Errorf("%d exchanges recorded, want the cut one left out", rec.Exchanges())
	}
	waitUntil(t, "the cut exchange to be counted", func() bool { return tr.Stats().Lost == 1 })
}

// waitUntil polls f until it is true, failing after 10 s.
func waitUntil(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling, not timing
	}
}
