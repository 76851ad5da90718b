package har_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/har"
	"github.com/ampload/amp/internal/testenv"
)

func readHAR(t *testing.T, path string) *har.Log {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := har.Read(f)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return l
}

// sessions groups exchanges as amp import does and counts the sessions.
func sessions(exs []*capture.Exchange) int {
	g := capture.NewGrouper(capture.GroupConfig{})
	for _, e := range exs {
		g.Assign(e)
	}
	return g.Sessions()
}

// TestSharedHARs imports every HAR of ../shared/testdata/har with the entry
// counts of SOURCES.md and a few checks of each.
func TestSharedHARs(t *testing.T) {
	dir := testenv.SharedTestdata(t, "har")
	tests := []struct {
		file            string
		entries, pages  int
		methods         map[string]int
		check           func(t *testing.T, exs []*capture.Exchange)
		minSess, maxSes int
	}{
		{file: "harviewer__multiple-pages.har", entries: 9, pages: 3, methods: map[string]int{"GET": 3, "POST": 6},
			check: func(t *testing.T, exs []*capture.Exchange) {
				// POST bodies given only as params: rebuilt as sent (the
				// recorded bodySize is 34).
				for _, e := range exs {
					if e.Request.Method == "POST" && (e.Request.BodySize != 34 || !strings.HasPrefix(string(e.Request.Body), "date=")) {
						t.Errorf("POST body %q", e.Request.Body)
					}
				}
			},
			// Three pages without cookies: three users.
			minSess: 3, maxSes: 3},
		{file: "harviewer__noPages.har", entries: 87, methods: map[string]int{"GET": 86, "POST": 1},
			check: func(t *testing.T, exs []*capture.Exchange) {
				if i := slices.IndexFunc(exs, func(e *capture.Exchange) bool { return e.Response.Status == 302 }); i < 0 {
					t.Error("no 302")
				}
			},
			minSess: 1, maxSes: 87},
		{file: "harviewer__issue-61_chrome51.har", entries: 27, pages: 3, methods: map[string]int{"GET": 27},
			check: func(t *testing.T, exs []*capture.Exchange) {
				for _, e := range exs {
					if e.Response.Status != 200 && e.Response.Status != 304 {
						t.Errorf("status %d", e.Response.Status)
					}
				}
			},
			minSess: 1, maxSes: 3},
		{file: "pagexray__304.har", entries: 270, pages: 9, methods: map[string]int{"GET": 256, "POST": 14},
			check: func(t *testing.T, exs []*capture.Exchange) {
				// chrome-har writes JSON bodies as indexed params; rebuilt to
				// the recorded size.
				for _, e := range exs {
					if e.Request.Method == "POST" && (len(e.Request.Body) == 0 || e.Request.Body[0] != '[') {
						t.Errorf("POST body %.40q", e.Request.Body)
					}
				}
				if e := exs[slices.IndexFunc(exs, func(e *capture.Exchange) bool { return e.Request.Method == "POST" })]; e.Request.BodySize != 841 {
					t.Errorf("first POST body: %d bytes, recorded 841", e.Request.BodySize)
				}
			},
			minSess: 1, maxSes: 9},
		{file: "pagexray__www.nytimes.com.har", entries: 328, pages: 2, methods: map[string]int{"GET": 327, "OPTIONS": 1},
			check: func(t *testing.T, exs []*capture.Exchange) {
				// httpVersion "me:" and "" are unknown; "1.1" is HTTP/1.1.
				protos := map[string]int{}
				for _, e := range exs {
					protos[e.Request.Proto]++
				}
				if protos["HTTP/1.1"] == 0 || protos[""] == 0 {
					t.Errorf("protocols %v", protos)
				}
			},
			// First and repeat view; third-party session cookies (84
			// hosts) split a few requests into sessions of their own.
			minSess: 2, maxSes: 6},
		{file: "mitmproxy__firefox.har", entries: 14, pages: 1, methods: map[string]int{"GET": 14},
			check: func(t *testing.T, exs []*capture.Exchange) {
				if i := slices.IndexFunc(exs, func(e *capture.Exchange) bool { return e.Request.Proto == "HTTP/3" }); i < 0 {
					t.Error("no HTTP/3 entry")
				}
			},
			minSess: 1, maxSes: 1},
		{file: "mitmproxy__with-bom.har", entries: 1, methods: map[string]int{"POST": 1},
			check: func(t *testing.T, exs []*capture.Exchange) {
				if e := exs[0]; len(e.Request.Body) != 1310 || e.Request.Proto != "HTTP/2.0" || e.Response.Status != 200 {
					t.Errorf("body %d bytes, proto %q, status %d", len(e.Request.Body), e.Request.Proto, e.Response.Status)
				}
			},
			minSess: 1, maxSes: 1},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.har"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("%d HAR files, %d rows", len(files), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			l := readHAR(t, filepath.Join(dir, tc.file))
			exs, st := l.Exchanges(har.Config{Name: tc.file})
			if st.Entries != tc.entries || st.Exchanges != tc.entries || st.Pages != tc.pages || st.Skipped != 0 || len(exs) != tc.entries {
				t.Fatalf("stats %+v, %d exchanges; want %d entries, %d pages", st, len(exs), tc.entries, tc.pages)
			}
			methods := map[string]int{}
			for i, e := range exs {
				methods[e.Request.Method]++
				if e.Start.IsZero() || i > 0 && e.Start.Before(exs[i-1].Start) || !strings.HasPrefix(e.Request.URL, "http") ||
					!strings.HasPrefix(e.Client, "har/"+tc.file) || e.Duration < e.TTFB {
					t.Errorf("exchange %d: start %v, url %q, client %q, ttfb %v, duration %v", i, e.Start, e.Request.URL, e.Client, e.TTFB, e.Duration)
				}
				for _, h := range e.Request.Header {
					if strings.HasPrefix(h.Name, ":") {
						t.Errorf("pseudo header %q kept", h.Name)
					}
				}
			}
			if fmt.Sprint(methods) != fmt.Sprint(tc.methods) {
				t.Errorf("methods %v, want %v", methods, tc.methods)
			}
			if n := sessions(exs); n < tc.minSess || n > tc.maxSes {
				t.Errorf("%d sessions, want %d..%d", n, tc.minSess, tc.maxSes)
			}
			tc.check(t, exs)
		})
	}
}

// TestExchange checks the conversion of one entry field by field.
func TestExchange(t *testing.T) {
	const doc = `{"log": {"version": "1.2", "creator": {"name": "test", "version": "1"},
	"pages": [{"id": "p1", "startedDateTime": "2026-03-01T10:00:00.000Z", "title": "shop"}],
	"entries": [
	 {"pageref": "p1", "startedDateTime": "2026-03-01T10:00:01.000+01:00", "time": 121,
	  "request": {"method": "POST", "url": "https://shop.test/cart?id=3", "httpVersion": "h2",
	   "headers": [{"name": ":authority", "value": "shop.test"}, {"name": "User-Agent", "value": "ua"}],
	   "cookies": [{"name": "sid", "value": "abc"}, {"name": "theme", "value": "dark"}],
	   "postData": {"mimeType": "application/octet-stream", "text": "AAEC", "encoding": "base64"}, "bodySize": 3},
	  "response": {"status": "201", "httpVersion": "HTTP/2.0",
	   "headers": [{"name": "Content-Encoding", "value": "br"}, {"name": "Set-Cookie", "value": "sid=abc"}],
	   "content": {"size": 11, "mimeType": "text/plain", "text": "aGVsbG8gd29ybGQ=", "encoding": "base64"}},
	  "timings": {"blocked": 10, "dns": -1, "connect": 5, "send": 1, "wait": 100, "receive": 5}},
	 {"startedDateTime": "2026-03-01T09:00:00Z", "time": 3,
	  "request": {"method": "GET", "url": "http://shop.test/", "httpVersion": "HTTP/1.1", "headers": []},
	  "response": {"status": 0, "httpVersion": "", "headers": [], "content": {"size": 0}, "_error": "net::ERR_BLOCKED_BY_CLIENT"},
	  "timings": {}},
	 {"startedDateTime": "not a time", "request": {"method": "GET", "url": "http://shop.test/x"}, "response": {"status": 200}},
	 {"startedDateTime": "2026-03-01T09:00:00Z", "request": {"method": "GET", "url": "data:,x"}, "response": {"status": 200}}
	]}}`
	l, err := har.Read(strings.NewReader("\xef\xbb\xbf" + doc))
	if err != nil {
		t.Fatal(err)
	}
	exs, st := l.Exchanges(har.Config{Name: "t.har", MaxBody: 5})
	if st != (har.Stats{Entries: 4, Pages: 1, Exchanges: 2, NoResponse: 1, Skipped: 2}) {
		t.Fatalf("stats %+v", st)
	}
	failed, e := exs[0], exs[1] // ordered by start
	if failed.Flags != capture.FlagNoResponse|capture.FlagFailed || failed.Error != "net::ERR_BLOCKED_BY_CLIENT" ||
		failed.Duration != 3*time.Millisecond || failed.Client != "har/t.har" {
		t.Errorf("failed entry: %+v", failed)
	}
	start := time.Date(2026, 3, 1, 9, 0, 1, 15e6, time.UTC) // + blocked + connect
	sum := sha256.Sum256([]byte("hello world"))
	if !e.Start.Equal(start) || e.TTFB != 101*time.Millisecond || e.Duration != 106*time.Millisecond ||
		e.Client != "har/t.har#p1" || e.Request.Proto != "HTTP/2.0" || e.Request.URL != "https://shop.test/cart?id=3" ||
		!bytes.Equal(e.Request.Body, []byte{0, 1, 2}) || e.Request.Header.Get("Cookie") != "sid=abc; theme=dark" ||
		e.Request.Header.Get(":authority") != "" || e.Response.Status != 201 || string(e.Response.Body) != "hello" ||
		e.Response.BodySize != 11 || !bytes.Equal(e.Response.BodyHash, sum[:]) || e.Response.Header.Get("Content-Encoding") != "" ||
		e.Flags != capture.FlagResponseTruncated {
		t.Errorf("entry: %+v", e)
	}
}

// TestReadErrors checks that bad files fail with a clear message.
func TestReadErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"log": {"entries": [}`, "invalid JSON at byte 22"},
		{`{"data": []}`, "not a HAR file"},
		{`{"log": {"entries": [{"time": {}}]}}`, "is not a number"},
		{``, "invalid JSON"},
	}
	for _, tc := range tests {
		_, err := har.Read(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// FuzzRead checks that no input makes Read or Exchanges panic.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"log": {"version": "1.2", "entries": [{"startedDateTime": "2026-03-01T09:00:00Z", "request": {"method": "POST", "url": "http://x/", "postData": {"mimeType": "multipart/form-data; boundary=b", "params": [{"name": "a", "value": 1, "fileName": "f"}]}}, "response": {"status": 200, "content": {"text": "!!", "encoding": "base64"}}}]}}`))
	f.Add([]byte(`{"log": {"entries": [{"startedDateTime": "2026-03-01T09:00:00.1-07:00", "request": {"method": "POST", "url": "https://x/", "postData": {"mimeType": "application/json", "params": [{"name": "0", "value": {"a": [1]}}, {"name": "1", "value": "s"}]}}, "response": {"status": "0"}, "time": "12.5"}]}}`))
	f.Add([]byte(chromeWS))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := har.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		exs, st := l.Exchanges(har.Config{Name: "fuzz", MaxBody: 16})
		if len(exs) != st.Exchanges || st.Exchanges+st.Skipped != st.Entries {
			t.Fatalf("stats %+v for %d exchanges", st, len(exs))
		}
		for _, e := range exs {
			if n := len(e.WS); n > 0 && (e.TTFB > e.WS[0].Offset || e.Duration < e.WS[n-1].Offset) {
				t.Fatalf("a WebSocket's time to first byte %v or duration %v outside its messages (%v to %v)", e.TTFB, e.Duration, e.WS[0].Offset, e.WS[n-1].Offset)
			}
		}
	})
}

// TestImportSinkError checks that Import stops at the sink's first error and
// counts the exchanges written before it.
func TestImportSinkError(t *testing.T) {
	entry := `{"startedDateTime": "2026-03-01T10:00:0%dZ", "request": {"method": "GET", "url": "http://x/%d"}, "response": {"status": 200}}`
	doc := `{"log": {"entries": [` + fmt.Sprintf(entry, 2, 2) + "," + fmt.Sprintf(entry, 1, 1) + "," + fmt.Sprintf(entry, 3, 3) + `]}}`
	full := errors.New("disk full")
	var urls []string
	st, err := har.Import(strings.NewReader(doc), har.Config{Name: "x.har"}, capture.SinkFunc(func(e *capture.Exchange) error {
		if len(urls) == 2 {
			return full
		}
		urls = append(urls, e.Request.URL)
		return nil
	}))
	if !errors.Is(err, full) || st.Exchanges != 2 || st.Entries != 3 || !slices.Equal(urls, []string{"http://x/1", "http://x/2"}) {
		t.Errorf("Import = %+v, %v after %q; want 2 of 3 written in start order, then the sink's error", st, err, urls)
	}
	if _, err := har.Import(strings.NewReader(`{"data": []}`), har.Config{}, capture.SinkFunc(func(*capture.Exchange) error { return nil })); !errors.Is(err, har.ErrNotHAR) {
		t.Errorf("Import of a non-HAR = %v, want ErrNotHAR", err)
	}
}
