package stats_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

// TestJourneyEndpoints: endpoints registered per journey add up to one
// endpoint per method and name (their failures too), the totals count every
// request once, and Journeys breaks them down.
func TestJourneyEndpoints(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	c := stats.NewCollector(stats.Config{Start: t0})
	browseHome := c.JourneyEndpoint("browse", "GET", "/")
	checkoutHome := c.JourneyEndpoint("checkout", "GET", "/")
	cart := c.JourneyEndpoint("checkout", "POST", "/cart")
	r := c.NewRecorder()
	rec := func(ep stats.Endpoint, i int, ms int, fail string) {
		s := stats.Sample{Sent: t0.Add(time.Duration(i) * time.Millisecond), Status: 200, Failure: fail}
		s.Done = s.Sent.Add(time.Duration(ms) * time.Millisecond)
		if fail != "" {
			s.Status = 500
		}
		r.Record(ep, &s)
	}
	for i := range 80 {
		rec(browseHome, i, 10, "")
	}
	for i := range 20 {
		rec(checkoutHome, i, 50, map[bool]string{true: "HTTP 500"}[i < 5])
		rec(cart, i, 100, map[bool]string{true: "HTTP 500"}[i < 2])
	}
	rec(browseHome, 99, 10, "HTTP 500")
	r.Flush()
	res := c.Snapshot()
	if res.Requests != 121 || res.Failures != 8 || len(res.Endpoints) != 2 {
		t.Fatalf("totals %d requests, %d failures, %d endpoints", res.Requests, res.Failures, len(res.Endpoints))
	}
	home := res.Endpoints[0]
	if home.Name != "/" || home.Requests != 101 || home.Failures != 6 {
		t.Fatalf("GET / merged: %+v", home.Stats)
	}
	if len(res.Errors) != 2 || res.Errors[0].Name != "/" || res.Errors[0].Count != 6 {
		t.Fatalf("errors %+v", res.Errors)
	}
	if len(res.Journeys) != 2 || res.Journeys[0].Name != "browse" || res.Journeys[0].Requests != 81 ||
		res.Journeys[1].Requests != 40 || res.Journeys[1].Failures != 7 || res.Journeys[1].Latency.P95 < 99 {
		t.Fatalf("journeys %+v", res.Journeys)
	}
	// Without journeys there is no breakdown.
	plain := stats.NewCollector(stats.Config{Start: t0})
	if res := plain.Snapshot(); res.Journeys != nil {
		t.Fatalf("journeys without any: %+v", res.Journeys)
	}
}

// TestJourneysCSV: a run with journeys writes them in a CSV of their own
// beside Locust's four, which stay as they are; a run without writes none.
func TestJourneysCSV(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	c := stats.NewCollector(stats.Config{Start: t0})
	r := c.NewRecorder()
	for i, j := range []string{"browse", "browse", "checkout"} {
		s := stats.Sample{Sent: t0.Add(time.Duration(i) * time.Millisecond), Status: 200}
		s.Done = s.Sent.Add(10 * time.Millisecond)
		r.Record(c.JourneyEndpoint(j, "GET", "/"), &s)
	}
	r.Flush()
	res := c.Snapshot()
	var b strings.Builder
	if err := stats.WriteCSV(&b, res, stats.JourneysCSV); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\r\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "journey,browse,2,0,") || !strings.HasPrefix(lines[2], "journey,checkout,1,0,") ||
		!strings.HasPrefix(lines[3], ",Aggregated,3,0,") {
		t.Fatalf("journeys CSV:\n%s", b.String())
	}
	dir := t.TempDir()
	if _, err := (stats.Files{CSV: filepath.Join(dir, "run")}).Write(res); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run_journeys.csv")); err != nil {
		t.Errorf("no run_journeys.csv: %v", err)
	}
	plain := stats.NewCollector(stats.Config{Start: t0}).Snapshot()
	if _, err := (stats.Files{CSV: filepath.Join(dir, "plain")}).Write(plain); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "plain_journeys.csv")); err == nil {
		t.Error("a run without journeys wrote plain_journeys.csv")
	}
}

// TestJourneysMerge: journeys survive the JSON round trip with their
// histograms, and amp report --merge adds them up.
func TestJourneysMerge(t *testing.T) {
	part := func(n int) *stats.Result {
		t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		c := stats.NewCollector(stats.Config{Start: t0})
		r := c.NewRecorder()
		for i := range n {
			s := stats.Sample{Sent: t0.Add(time.Duration(i) * time.Millisecond), Status: 200}
			s.Done = s.Sent.Add(time.Duration(10+i) * time.Millisecond)
			r.Record(c.JourneyEndpoint("browse", "GET", "/"), &s)
		}
		r.Flush()
		var b strings.Builder
		if err := c.Snapshot().WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		res, err := stats.DecodeResult(strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := part(10), part(30)
	if len(a.Journeys) != 1 || a.Journeys[0].Requests != 10 || a.Journeys[0].Latency.P95 < 18 {
		t.Fatalf("decoded journeys %+v", a.Journeys)
	}
	m, err := stats.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Journeys) != 1 || m.Journeys[0].Requests != 40 || m.Journeys[0].Latency.Max < 39 {
		t.Fatalf("merged journeys %+v", m.Journeys)
	}
}
