package prom_test

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/stats/prom"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

func wantLine(t *testing.T, body, line string) {
	t.Helper()
	for _, l := range strings.Split(body, "\n") {
		if l == line {
			return
		}
	}
	t.Errorf("no line %q in:\n%s", line, body)
}

// TestScrapeShowsCountersMoving scrapes /metrics twice while recording and
// sees the counters, histogram and user gauge move.
func TestScrapeShowsCountersMoving(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{})
	c.SetConfig(map[string]any{stats.ConfigRunID: "r1"})
	ep := c.Endpoint("GET", "/articles/{id}")
	rec := c.NewRecorder()
	srv := httptest.NewServer(prom.Handler(c))
	defer srv.Close()

	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	put := func(n int, d time.Duration, status int, failure string) {
		for i := 0; i < n; i++ {
			s := stats.Sample{Intended: t0.Add(-time.Duration(status/500) * time.Second), Sent: t0, Done: t0.Add(d), Status: status, Failure: failure}
			rec.Record(ep, &s)
		}
	}
	put(3, 3*time.Millisecond, 200, "")
	c.SetUsers(4)
	body := scrape(t, srv.URL)
	wantLine(t, body, `amp_requests_total{method="GET",name="/articles/{id}",run="r1",status="200"} 3`)
	wantLine(t, body, `amp_request_duration_seconds_bucket{method="GET",name="/articles/{id}",run="r1",le="0.0025"} 0`)
	wantLine(t, body, `amp_request_duration_seconds_bucket{method="GET",name="/articles/{id}",run="r1",le="0.005"} 3`)
	wantLine(t, body, `amp_request_duration_seconds_count{method="GET",name="/articles/{id}",run="r1"} 3`)
	wantLine(t, body, `amp_users{run="r1"} 4`)
	wantLine(t, body, `amp_late_total{method="GET",name="/articles/{id}",run="r1"} 0`)

	put(2, 300*time.Millisecond, 500, "HTTP 500")
	c.SetUsers(9)
	c.AddSkipped("unmapped host cdn.example", 2)
	body = scrape(t, srv.URL)
	wantLine(t, body, `amp_requests_total{method="GET",name="/articles/{id}",run="r1",status="200"} 3`)
	wantLine(t, body, `amp_requests_total{method="GET",name="/articles/{id}",run="r1",status="500"} 2`)
	wantLine(t, body, `amp_failures_total{method="GET",name="/articles/{id}",reason="HTTP 500",run="r1"} 2`)
	wantLine(t, body, `amp_request_duration_seconds_bucket{method="GET",name="/articles/{id}",run="r1",le="0.5"} 3`)
	wantLine(t, body, `amp_request_duration_seconds_count{method="GET",name="/articles/{id}",run="r1"} 5`)
	wantLine(t, body, `amp_request_duration_seconds_sum{method="GET",name="/articles/{id}",run="r1"} 2.609`)
	wantLine(t, body, `amp_late_total{method="GET",name="/articles/{id}",run="r1"} 2`) // the 500s were sent a second late
	wantLine(t, body, `amp_skipped_total{reason="unmapped host cdn.example",run="r1"} 2`)
	wantLine(t, body, `amp_users{run="r1"} 9`)
	if strings.Contains(body, "go_goroutines") {
		t.Error("the handler exposes the global registry's Go metrics; it must use its own registry")
	}
}

// TestScrapeSurvivesGarbage: endpoint names, reasons and skip reasons that
// are invalid UTF-8, or collide once made valid, never turn /metrics into a
// 500 (issue 13).
func TestScrapeSurvivesGarbage(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{})
	eps := []stats.Endpoint{c.Endpoint("GET", "/a\xff"), c.Endpoint("GET", "/a\xfe")} // both become "/a\uFFFD"
	rec := c.NewRecorder()
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for i := range 100 {
		s := stats.Sample{Sent: t0, Done: t0.Add(time.Millisecond), Failure: "bad \xe2\x82" + strings.Repeat("\xff", i)}
		rec.Record(eps[i%2], &s)
	}
	c.AddSkipped("odd \xff", 1)
	c.AddSkipped("odd \xfe", 1)
	srv := httptest.NewServer(prom.Handler(c))
	defer srv.Close()
	body := scrape(t, srv.URL) // fails the test on a status other than 200
	if !strings.Contains(body, "amp_failures_total") || !strings.Contains(body, `amp_users{run=""} 0`) {
		t.Fatalf("metrics missing:\n%s", body)
	}
}

// TestScrapeRunFigures: bytes both ways, sessions by result, the target
// users, dropped sessions, the slowdown against the recording and the build
// are on /metrics, every series with the run label.
func TestScrapeRunFigures(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{})
	c.SetConfig(map[string]any{stats.ConfigRunID: "r2"})
	ep := c.Endpoint("GET", "/")
	c.SetRecorded(ep, []time.Duration{10 * time.Millisecond, 10 * time.Millisecond})
	rec := c.NewRecorder()
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for range 4 {
		rec.Record(ep, &stats.Sample{Sent: t0, Done: t0.Add(20 * time.Millisecond), Status: 200, Bytes: 1500, BytesSent: 300})
	}
	c.SessionDone(false)
	c.SessionDone(false)
	c.SessionDone(true)
	c.AddDropped(5)
	target := 7
	srv := httptest.NewServer(prom.NewHandler(c, prom.Options{TargetUsers: func() int { return target }}))
	defer srv.Close()
	body := scrape(t, srv.URL)
	for _, line := range []string{
		`amp_bytes_sent_total{method="GET",name="/",run="r2"} 1200`,
		`amp_bytes_received_total{method="GET",name="/",run="r2"} 6000`,
		`amp_sessions_total{result="completed",run="r2"} 2`,
		`amp_sessions_total{result="failed",run="r2"} 1`,
		`amp_dropped_sessions_total{run="r2"} 5`,
		`amp_target_users{run="r2"} 7`,
		`amp_request_duration_seconds_bucket{method="GET",name="/",run="r2",le="0.015"} 0`,
		`amp_request_duration_seconds_bucket{method="GET",name="/",run="r2",le="0.02"} 4`,
	} {
		wantLine(t, body, line)
	}
	sd := c.Snapshot().Endpoints[0].Slowdown // twice as slow, within the histograms' 0.1 %
	if sd == nil || math.Abs(sd.P50-2) > 0.005 {
		t.Fatalf("slowdown %+v, want 2", sd)
	}
	wantLine(t, body, fmt.Sprintf(`amp_slowdown_ratio{method="GET",name="/",quantile="0.5",run="r2"} %g`, sd.P50))
	wantLine(t, body, fmt.Sprintf(`amp_slowdown_ratio{method="GET",name="/",quantile="0.95",run="r2"} %g`, sd.P95))
	version, goVersion, _ := prom.BuildInfo()
	if goVersion == "" || !strings.Contains(body, `amp_build_info{goversion="`+goVersion+`",revision="`) ||
		!strings.Contains(body, `run="r2",version="`+version+`"} 1`) {
		t.Errorf("no amp_build_info of %s %s in:\n%s", version, goVersion, body)
	}
	if strings.Contains(body, `run=""`) {
		t.Errorf("a series without the run id:\n%s", body)
	}
}

// TestBucketsAreFine: the classic buckets ascend from 1 ms to 60 s with
// neighbours at most 4/3 apart up to 10 s, so that histogram_quantile over
// them stays honest (the old list jumped from 0.1 to 0.25 s).
func TestBucketsAreFine(t *testing.T) {
	t.Parallel()
	b := prom.Buckets()
	if b[0] != 0.001 || b[len(b)-1] != 60 {
		t.Fatalf("buckets %v: want 0.001 … 60", b)
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] || (b[i] <= 10 && b[i]/b[i-1] > 4.0/3+1e-9) {
			t.Errorf("buckets %g → %g: not ascending within 4/3", b[i-1], b[i])
		}
	}
	if !slices.Contains(b, 0.1) || !slices.Contains(b, 0.125) || !slices.Contains(b, 0.25) {
		t.Errorf("buckets %v: want round bounds (0.1, 0.125, 0.25)", b)
	}
}
