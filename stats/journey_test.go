package stats_test

import (
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
