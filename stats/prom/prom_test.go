package prom_test

import (
	"io"
	"net/http"
	"net/http/httptest"
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
	wantLine(t, body, `amp_requests_total{method="GET",name="/articles/{id}",status="200"} 3`)
	wantLine(t, body, `amp_request_duration_seconds_bucket{method="GET",name="/articles/{id}",le="0.0025"} 0`)
	wantLine(t, body, `amp_request_duration_seconds_bucket{method="GET",name="/articles/{id}",le="0.005"} 3`)
	wantLine(t, body, `amp_request_duration_seconds_count{method="GET",name="/articles/{id}"} 3`)
	wantLine(t, body, `amp_users 4`)
	wantLine(t, body, `amp_late_total{method="GET",name="/articles/{id}"} 0`)

	put(2, 300*time.Millisecond, 500, "HTTP 500")
	c.SetUsers(9)
	c.AddSkipped("unmapped host cdn.example", 2)
	body = scrape(t, srv.URL)
	wantLine(t, body, `amp_requests_total{method="GET",name="/articles/{id}",status="200"} 3`)
	wantLine(t, body, `amp_requests_total{method="GET",name="/articles/{id}",status="500"} 2`)
	wantLine(t, body, `amp_failures_total{method="GET",name="/articles/{id}",reason="HTTP 500"} 2`)
	wantLine(t, body, `amp_request_duration_seconds_bucket{method="GET",name="/articles/{id}",le="0.5"} 3`)
	wantLine(t, body, `amp_request_duration_seconds_count{method="GET",name="/articles/{id}"} 5`)
	wantLine(t, body, `amp_request_duration_seconds_sum{method="GET",name="/articles/{id}"} 2.609`)
	wantLine(t, body, `amp_late_total{method="GET",name="/articles/{id}"} 2`) // the 500s were sent a second late
	wantLine(t, body, `amp_skipped_total{reason="unmapped host cdn.example"} 2`)
	wantLine(t, body, `amp_users 9`)
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
	if !strings.Contains(body, "amp_failures_total") || !strings.Contains(body, "amp_users 0") {
		t.Fatalf("metrics missing:\n%s", body)
	}
}
