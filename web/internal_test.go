package web

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
)

func TestParseTimespan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"", 0, false},                  // no limit
		{"  ", 0, false},                // blank is no limit too
		{"90", 90 * time.Second, false}, // Locust: a bare number is seconds
		{"1.5", 1500 * time.Millisecond, false},
		{"30s", 30 * time.Second, false},
		{"1h20m", 80 * time.Minute, false},
		{"3h30m10s", 3*time.Hour + 30*time.Minute + 10*time.Second, false},
		{"-5", 0, true},
		{"-5s", 0, true},
		{"soon", 0, true},
		{"NaN", 0, true},
		{"1e10", 0, true}, // beyond any sane run
	}
	for _, tc := range tests {
		got, err := parseTimespan(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parseTimespan(%q) = %v, %v; want %v, bad %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestParseStart(t *testing.T) {
	t.Parallel()
	base := replay.DefaultConfig()
	base.Host = "http://127.0.0.1:5000"
	base.Iterations = 100
	base.Map = []replay.HostMap{{From: "cdn.example", To: "http://127.0.0.1:6000"}}

	cfg, err := parseStart(base, url.Values{
		"user_count": {"25"}, "spawn_rate": {"2.5"}, "host": {" http://127.0.0.1:7000 "},
		"run_time": {"5m"}, "speed": {"2"}, "think": {"none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Users != 25 || cfg.Rate != 2.5 || cfg.Host != "http://127.0.0.1:7000" || cfg.Duration != 5*time.Minute ||
		cfg.Speed != 2 || cfg.Think.Mode != replay.ThinkNone || cfg.Iterations != 100 || len(cfg.Map) != 1 {
		t.Errorf("parseStart: %+v", cfg)
	}

	// Fields not sent keep the base; an empty host keeps the base host.
	cfg, err = parseStart(base, url.Values{"host": {""}})
	if err != nil || cfg.Host != base.Host || cfg.Users != base.Users || cfg.Duration != 0 {
		t.Errorf("empty form: %+v, %v", cfg, err)
	}

	// The timeline drops an iteration limit meant for the closed model,
	// unless the form sets one.
	cfg, err = parseStart(base, url.Values{"timeline": {"on"}, "multiple": {"3"}})
	if err != nil || !cfg.Timeline || cfg.Multiple != 3 || cfg.Iterations != 0 {
		t.Errorf("timeline: %+v, %v", cfg, err)
	}
	loop := base
	loop.Timeline, loop.Loop = true, true
	if cfg, _ := parseStart(loop, url.Values{"timeline": {"false"}}); cfg.Loop {
		t.Error("a closed start kept --loop, which needs the timeline")
	}

	// Every problem at once, naming the field.
	_, err = parseStart(base, url.Values{"user_count": {"2.5"}, "spawn_rate": {"fast"}, "duration": {"x"},
		"timeline": {"maybe"}, "speed": {"Inf"}, "think": {"-1s"}})
	for _, want := range []string{`user_count "2.5": want a whole number`, `spawn_rate "fast"`, `duration "x"`,
		`timeline "maybe"`, `speed "Inf"`, `think "-1s"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// FuzzParseStart checks that no form makes parseStart panic, and that what
// it accepts holds the values sent.
func FuzzParseStart(f *testing.F) {
	f.Add("10", "5", "http://127.0.0.1:1", "30s", "false", "1")
	f.Add("", "", "", "", "", "")
	f.Add("-1", "0", "ftp://x", "1h", "on", "0.5")
	f.Add("1e9", "NaN", "<script>", "9999999999", "yes", "-inf")
	f.Fuzz(func(t *testing.T, users, rate, host, runTime, timeline, multiple string) {
		form := url.Values{"user_count": {users}, "spawn_rate": {rate}, "host": {host}, "run_time": {runTime},
			"timeline": {timeline}, "multiple": {multiple}}
		cfg, err := parseStart(replay.DefaultConfig(), form)
		if err != nil {
			return
		}
		if strings.TrimSpace(host) != "" && cfg.Host != strings.TrimSpace(host) {
			t.Errorf("host %q became %q", host, cfg.Host)
		}
		if cfg.Duration < 0 {
			t.Errorf("run_time %q gave a negative duration", runTime)
		}
	})
}

func TestCurrentRates(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	var lc liveCache
	at := func(sec float64, req, fail int64) func(string) (float64, float64, bool) {
		return lc.rates(t0.Add(time.Duration(sec*float64(time.Second))), map[string][2]int64{"": {req, fail}})
	}
	if _, _, ok := at(0, 0, 0)(""); ok {
		t.Error("the first sample has a current rate; it has nothing to compare with")
	}
	// 100 requests a second, 10 failures a second.
	for s := 1; s <= 15; s++ {
		rps, fps, ok := at(float64(s), int64(100*s), int64(10*s))("")
		if !ok || rps != 100 || fps != 10 {
			t.Fatalf("second %d: %v %v %v, want 100 and 10 req/s", s, rps, fps, ok)
		}
	}
	if len(lc.ring) > 12 {
		t.Errorf("the ring keeps %d samples; only the last 10 s are needed", len(lc.ring))
	}
	// The run stops at 1500 requests; the rate decays over the window.
	rps, _, _ := at(20, 1500, 150)("")
	if rps != 50 { // 500 requests (1000 → 1500) over the 10 s since second 10
		t.Errorf("5 s after the stop: %v req/s, want 50", rps)
	}
	if rps, _, _ := at(40, 1500, 150)(""); rps != 0 {
		t.Errorf("long after the stop: %v req/s, want 0", rps)
	}
	// A reset (counts going down) falls back to the averages.
	if _, _, ok := at(41, 3, 0)(""); ok {
		t.Error("counts that went down gave a current rate")
	}
	// An endpoint seen for the first time counts from zero.
	rates := lc.rates(t0.Add(42*time.Second), map[string][2]int64{"": {13, 0}, "GET /x": {10, 0}})
	if rps, _, ok := rates("GET /x"); !ok || rps != 5 { // 10 requests since second 40
		t.Errorf("new endpoint: %v %v, want 5 req/s", rps, ok)
	}
}

func TestViewSince(t *testing.T) {
	t.Parallel()
	v := &liveView{Series: []point{{T: 10}, {T: 11}, {T: 12}, {T: 13}}}
	if got := v.since(0); len(got.Series) != 4 {
		t.Errorf("since 0: %d points, want all 4", len(got.Series))
	}
	if got := v.since(12); len(got.Series) != 2 || got.Series[0].T != 12 {
		t.Errorf("since 12: %+v, want seconds 12 and 13", got.Series)
	}
	if got := v.since(99); len(got.Series) != 0 {
		t.Errorf("since 99: %+v, want none", got.Series)
	}
	if len(v.Series) != 4 {
		t.Error("since changed the cached view")
	}
}

func TestWindowPercentiles(t *testing.T) {
	t.Parallel()
	// Every second has 50 tasks of 1 to 50 ms; the last second has only the
	// two done after the hour.
	res := benchHourResult()
	to := res.Series[len(res.Series)-1].T
	got := windowPercentiles(res, to-10, to)
	if got.P50 < 24.7 || got.P50 > 25.3 || got.P95 < 47.5 || got.P95 > 48.5 {
		t.Errorf("10 whole seconds: %+v, want p50 25 ms and p95 48 ms", got)
	}
	if want := res.WindowPercentiles(to-10, to, 50, 95); got.P50 != round2(want[0]) || got.P95 != round2(want[1]) {
		t.Errorf("10 whole seconds: %+v, want stats' %v rounded", got, want)
	}
	if got := windowPercentiles(res, to+1, to+11); got != (currentPcts{}) {
		t.Errorf("an empty window: %+v, want zeros", got)
	}
}

// TestViewErrorsJSON checks that the failures the page shows carry the
// fields app.js reads, now that they are stats.ErrorStats.
func TestViewErrorsJSON(t *testing.T) {
	t.Parallel()
	col := stats.NewCollector(stats.Config{})
	ep := col.Endpoint("POST", "/login")
	rec := col.NewRecorder()
	sent := time.Unix(1_700_000_000, 0)
	for range 3 {
		rec.Record(ep, &stats.Sample{Sent: sent, Done: sent.Add(time.Millisecond), Status: 500, Failure: "HTTP 500"})
	}
	rec.Flush()
	v := &liveView{Errors: append([]stats.ErrorStats{}, col.Snapshot().Errors...)}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Errors []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Errors) != 1 {
		t.Fatalf("errors: %s, want one reason", b)
	}
	e := got.Errors[0]
	if e["method"] != "POST" || e["name"] != "/login" || e["reason"] != "HTTP 500" || e["count"] != 3.0 {
		t.Errorf("error row %v, want POST /login, HTTP 500, 3 times", e)
	}
	for _, k := range []string{"first_seen", "last_seen"} {
		if s, _ := e[k].(string); s == "" {
			t.Errorf("%s missing in %v", k, e)
		} else if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	t.Parallel()
	loop := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8089}
	all := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 8089}
	tests := []struct {
		local net.Addr
		host  string
		want  bool
	}{
		{loop, "127.0.0.1:8089", true},
		{loop, "localhost:8089", true},
		{loop, "LOCALHOST.", true},
		{loop, "[::1]:8089", true},
		{loop, "amp.localhost:8089", true},
		{loop, "evil.example:8089", false}, // a DNS-rebound name
		{loop, "127.0.0.1.evil.example", false},
		{all, "loadbox.internal:8089", true}, // served on purpose beyond loopback
		{nil, "anything", true},              // no listener information (a test handler)
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = tc.host
		if tc.local != nil {
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, tc.local))
		}
		if got := hostAllowed(r); got != tc.want {
			t.Errorf("local %v, Host %q: allowed %v, want %v", tc.local, tc.host, got, tc.want)
		}
	}
}

// BenchmarkWindowPercentiles computes the view's current percentiles (the
// last 10 s) of an hour-long run, as the view does every second.
func BenchmarkWindowPercentiles(b *testing.B) {
	res := benchHourResult()
	to := res.Series[len(res.Series)-1].T + 1
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if got := windowPercentiles(res, to-10, to); got.P50 <= 0 {
			b.Fatal(got)
		}
	}
}

// benchHourResult is a snapshot of an hour-long run, 50 tasks a second.
func benchHourResult() *stats.Result {
	col := stats.NewCollector(stats.Config{})
	ep := col.Endpoint("GET", "/")
	rec := col.NewRecorder()
	t0 := time.Unix(1_700_000_000, 0)
	for sec := range 3600 {
		for i := range 50 {
			sent := t0.Add(time.Duration(sec)*time.Second + time.Duration(i)*20*time.Millisecond)
			rec.Record(ep, &stats.Sample{Sent: sent, Done: sent.Add(time.Duration(1+i) * time.Millisecond), Status: 200})
		}
	}
	rec.Flush()
	return col.Snapshot()
}

// TestRowMessages: an upgrade endpoint's WebSocket message counts reach the
// page's statistics row.
func TestRowMessages(t *testing.T) {
	s := &stats.Stats{Requests: 2, MessagesSent: 14, MessagesReceived: 8}
	r := newRow("GET", "/chat", "GET /chat", s, func(string) (float64, float64, bool) { return 0, 0, false })
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), `"ws_sent":14,"ws_received":8`) {
		t.Errorf("row JSON %s (%v)", b, err)
	}
}
