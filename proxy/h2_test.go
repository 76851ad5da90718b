package proxy_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/proxy"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Upstream is a TLS server speaking h2 and HTTP/1.1 that notes the
// protocol of each request.
func h2Upstream(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var protos []string
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("hello " + r.URL.RawQuery))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Set-Cookie", "sid=42; Path=/")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/trailer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(strings.Repeat("x", 3000)))
		w.Header().Set("X-Checksum", "abc")
	})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos = append(protos, r.Proto)
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(protos)
	}
}

// browse makes the requests of the MITM tests with client and returns the
// protocols the client got.
func browse(t *testing.T, client *http.Client, base string) []string {
	t.Helper()
	var got []string
	do := func(method, path string, body []byte) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		if body == nil {
			req.Body = nil
		}
		req.Header.Set("User-Agent", "amp-test") // Go's default names the protocol
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %s", method, path, resp.Status)
		}
		got = append(got, resp.Proto)
	}
	do("GET", "/hello?x=1", nil)
	do("POST", "/echo", pattern(70000))
	do("GET", "/trailer", nil)
	return got
}

// semantic is what an exchange says, whatever the protocol carried it:
// method, URL, status, bodies, trailers and the header fields by lower-case
// name and value, without the framing fields HTTP/2 does without and the
// Date.
func semantic(e *capture.Exchange) string {
	fields := func(h capture.Headers) string {
		var out []string
		for _, f := range h {
			n := strings.ToLower(f.Name)
			switch n {
			case "content-length", "transfer-encoding", "connection", "date", "trailer":
				continue
			}
			out = append(out, n+": "+f.Value)
		}
		slices.Sort(out)
		return strings.Join(out, "\n")
	}
	return fmt.Sprintf("%s %s → %d\n%s\nbody %d %x\n%s\nbody %d %x\ntrailer %s", e.Request.Method, e.Request.URL, e.Response.Status,
		fields(e.Request.Header), len(e.Request.Body), e.Request.Body[:min(len(e.Request.Body), 16)],
		fields(e.Response.Header), len(e.Response.Body), e.Response.Body[:min(len(e.Response.Body), 16)], fields(e.Response.Trailer))
}

// TestMITMHTTP2: a client that wants h2 gets it through the MITM proxy (the
// tunnel's TLS negotiates h2, the upstream is reached over h2 too), and the
// recording holds the same exchanges as that of the same requests over
// HTTP/1.1, with Proto HTTP/2.0 and the response trailers.
func TestMITMHTTP2(t *testing.T) {
	t.Parallel()
	up, protos := h2Upstream(t)
	cfg := proxy.DefaultConfig()
	cfg.UpstreamCA = writeCert(t, up)

	record := func(h2 bool) (*capture.Recording, []string) {
		tr := newTestRecorder(t, cfg)
		client := tr.proxyClient(tr.caPool(t))
		client.Transport.(*http.Transport).ForceAttemptHTTP2 = h2
		got := browse(t, client, up.URL)
		client.CloseIdleConnections()
		return tr.Stop(t), got
	}
	rec1, got1 := record(false)
	n1 := len(protos())
	rec2, got2 := record(true)
	if !slices.Equal(got1, []string{"HTTP/1.1", "HTTP/1.1", "HTTP/1.1"}) || !slices.Equal(got2, []string{"HTTP/2.0", "HTTP/2.0", "HTTP/2.0"}) {
		t.Fatalf("the client got %v over HTTP/1.1, %v with h2", got1, got2)
	}
	if up2 := protos()[n1:]; !slices.Equal(up2, []string{"HTTP/2.0", "HTTP/2.0", "HTTP/2.0"}) {
		t.Fatalf("the upstream saw %v for the h2 client", up2)
	}
	e1, e2 := exchanges(rec1), exchanges(rec2)
	if len(e1) != 3 || len(e2) != 3 {
		t.Fatalf("%d and %d exchanges recorded, want 3 each", len(e1), len(e2))
	}
	for i := range e1 {
		if a, b := semantic(e1[i]), semantic(e2[i]); a != b {
			t.Errorf("exchange %d over HTTP/1.1:\n%s\nover h2:\n%s", i, a, b)
		}
		if e2[i].Request.Proto != "HTTP/2.0" || e2[i].Response.Proto != "HTTP/2.0" {
			t.Errorf("exchange %d over h2 recorded as %s / %s", i, e2[i].Request.Proto, e2[i].Response.Proto)
		}
	}
	if tr := e2[2].Response.Trailer.Get("X-Checksum"); tr != "abc" {
		t.Errorf("the h2 trailer X-Checksum was recorded as %q", tr)
	}
}

// TestReverseH2C: the reverse proxy accepts HTTP/2 with prior knowledge and
// records the exchange as HTTP/2.0; the upstream, not a gRPC server, is
// reached over HTTP/1.1.
func TestReverseH2C(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	cfg := proxy.DefaultConfig()
	cfg.Target = up.URL
	tr := newTestRecorder(t, cfg)
	h2c := new(http.Protocols)
	h2c.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: h2c}, Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + tr.Addr + "/hello?q=2")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.Proto != "HTTP/2.0" || string(body) != "hello q=2" {
		t.Fatalf("got %s %q", resp.Proto, body)
	}
	e := one(t, tr.Stop(t), "/hello?q=2")
	u, _ := url.Parse(up.URL)
	if e.Request.Proto != "HTTP/2.0" || e.Response.Proto != "HTTP/1.1" || e.Request.Header.Get("Host") != u.Host || string(e.Response.Body) != "hello q=2" {
		t.Fatalf("recorded %s %s (Host %q) → %s %q", e.Request.Proto, e.Request.URL, e.Request.Header.Get("Host"), e.Response.Proto, e.Response.Body)
	}
}

// chromiumFlow logs in to the demo site at base (https) with headless
// Chromium through the MITM recorder, writes an article and opens it, and
// returns the recording; h2 false starts Chromium with HTTP/2 disabled.
func chromiumFlow(t *testing.T, cfg proxy.Config, base string, h2 bool) *capture.Recording {
	t.Helper()
	tr := newTestRecorder(t, cfg)
	opts := []chromedp.ExecAllocatorOption{chromedp.ProxyServer("http://" + tr.Addr),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.Flag("ignore-certificate-errors", true)} // the recorder's CA is not in Chromium's store
	if !h2 {
		opts = append(opts, chromedp.Flag("disable-http2", true))
	}
	actx, acancel := testenv.Browser(t, 60*time.Second, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "ada"),
		chromedp.SendKeys(`input[name="password"]`, "secret"),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`a[href="/articles/new"]`),
		chromedp.Navigate(base+"/articles/new"),
		chromedp.WaitVisible(`input[name="title"]`),
		chromedp.SendKeys(`input[name="title"]`, "Recorded over h2"),
		chromedp.SendKeys(`textarea[name="body"]`, "A session through the proxy."),
		chromedp.Submit(`input[name="title"]`),
		chromedp.WaitVisible(`article[data-article-id] h1`),
	)
	bcancel()
	acancel()
	if err != nil {
		t.Fatalf("browsing through the proxy (h2 %v): %v", h2, err)
	}
	return tr.Stop(t)
}

// TestChromiumHTTP2: headless Chromium negotiates h2 through the MITM
// proxy with an h2 upstream, and the recording holds the same session as
// with HTTP/2 disabled: the same requests in the same order with the same
// statuses and fields (but for Chromium's own h2-only Priority field and
// h1-only Connection field; assets fetched together in either order),
// recorded as HTTP/2.0.
func TestChromiumHTTP2(t *testing.T) {
	testenv.Chromium(t)
	site := httptest.NewUnstartedServer(demosite.New(demosite.Config{}))
	site.EnableHTTP2 = true
	site.StartTLS()
	defer site.Close()
	cfg := proxy.DefaultConfig()
	cfg.UpstreamCA = writeCert(t, site)
	cfg.IncludeHosts = []string{strings.TrimPrefix(site.URL, "https://")}
	ids := regexp.MustCompile(`/articles/[0-9a-zA-Z_-]{6,}`)
	shape := func(rec *capture.Recording, proto string) []string {
		var out []string
		for _, s := range rec.Sessions {
			for _, e := range s.Exchanges {
				if e.Request.Proto != proto || e.Response.Proto != proto {
					t.Errorf("%s %s recorded as %s / %s, want %s", e.Request.Method, e.Request.URL, e.Request.Proto, e.Response.Proto, proto)
				}
				var names []string
				for _, f := range e.Request.Header {
					switch n := strings.ToLower(f.Name); n {
					case "priority", "connection", "content-length":
					default:
						names = append(names, n)
					}
				}
				slices.Sort(names)
				out = append(out, fmt.Sprintf("%s %s → %d [%s]", e.Request.Method, ids.ReplaceAllString(capture.URLTarget(e.Request.URL), "/articles/{id}"),
					e.Response.Status, strings.Join(names, " ")))
			}
		}
		return out
	}
	h1 := shape(chromiumFlow(t, cfg, site.URL, false), "HTTP/1.1")
	h2 := shape(chromiumFlow(t, cfg, site.URL, true), "HTTP/2.0")
	// Pages in order; assets fetched together may end in either order.
	pages := func(all []string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(s string) bool { return strings.HasPrefix(s, "GET /static/") })
	}
	sorted := func(all []string) []string { s := slices.Clone(all); slices.Sort(s); return s }
	if len(pages(h1)) < 6 || !slices.Equal(pages(h1), pages(h2)) || !slices.Equal(sorted(h1), sorted(h2)) {
		t.Fatalf("over HTTP/1.1:\n%s\nover h2:\n%s", strings.Join(h1, "\n"), strings.Join(h2, "\n"))
	}
}

// TestReverseH2FieldOrder: the request fields an HTTP/2 client sent are
// recorded in its order and case, its cookie crumbs joined as net/http
// joins them, like HTTP/1.1 heads (the client here writes its frames by
// hand, so the order is known).
func TestReverseH2FieldOrder(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	cfg := proxy.DefaultConfig()
	cfg.Target = up.URL
	tr := newTestRecorder(t, cfg)
	nc, err := net.Dial("tcp", tr.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(nc, nc)
	_ = fr.WriteSettings()
	sent := [][2]string{{"x-b", "2"}, {"accept", "*/*"}, {"cookie", "a=1"}, {"x-a", "1"}, {"cookie", "b=2"}, {"user-agent", "frames/1"}}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for i, path := range []string{"/hello?first", "/hello?second"} { // the second uses HPACK's dynamic table
		hb.Reset()
		for _, f := range append([][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", tr.Addr}, {":path", path}}, sent...) {
			_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(1 + 2*i), BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	}
	ended := 0
	for ended < 2 {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.DataFrame:
			if f.StreamEnded() {
				ended++
			}
		case *http2.HeadersFrame:
			if f.StreamEnded() {
				ended++
			}
		}
	}
	nc.Close()
	rec := tr.Stop(t)
	u, _ := url.Parse(up.URL)
	want := fmt.Sprintf("host: %s | x-b: 2 | accept: */* | cookie: a=1; b=2 | x-a: 1 | user-agent: frames/1 | ", u.Host)
	for _, path := range []string{"/hello?first", "/hello?second"} {
		e := one(t, rec, path)
		if got := fmtHeaders(e.Request.Header); got != want || e.Request.Proto != "HTTP/2.0" {
			t.Errorf("%s recorded over %s with fields\n got %s\nwant %s", path, e.Request.Proto, got, want)
		}
	}
}
