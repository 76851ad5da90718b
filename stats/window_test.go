package stats_test

import (
	"math"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

// TestWindow: a window's totals and percentiles are those of its seconds
// only, and thresholds judge it as they judge a whole run.
func TestWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	c := stats.NewCollector(stats.Config{Start: t0})
	ep := c.Endpoint("GET", "/")
	r := c.NewRecorder()
	for i := range 100 {
		fast := stats.Sample{Sent: t0.Add(time.Duration(i) * 5 * time.Millisecond), Status: 200}
		fast.Done = fast.Sent.Add(10 * time.Millisecond)
		r.Record(ep, &fast)
		slow := stats.Sample{Sent: t0.Add(2*time.Second + time.Duration(i)*5*time.Millisecond), Status: 200}
		slow.Done = slow.Sent.Add(200 * time.Millisecond)
		if i%2 == 0 {
			slow.Status, slow.Failure = 500, "HTTP 500"
		}
		r.Record(ep, &slow)
	}
	r.Flush()
	res := c.Snapshot()
	s := t0.Unix()
	first, second := res.Window(s, s+1), res.Window(s+2, s+3)
	if first.Requests != 100 || first.Failures != 0 || math.Abs(first.Latency.P95-10) > 0.2 || first.RPS != 100 {
		t.Errorf("first second: %d requests, %d failures, p95 %v, %v req/s", first.Requests, first.Failures, first.Latency.P95, first.RPS)
	}
	if second.Requests != 100 || second.FailureRate != 0.5 || math.Abs(second.Latency.P50-200) > 2 {
		t.Errorf("third second: %d requests, rate %v, p50 %v", second.Requests, second.FailureRate, second.Latency.P50)
	}
	p95, _ := stats.ParseThreshold("p(95)<100")
	rate, _ := stats.ParseThreshold("rate<0.01")
	for _, tc := range []struct {
		w    *stats.Result
		pass bool
	}{{first, true}, {second, false}, {res.Window(s+5, s+9), false}} {
		pass := true
		for _, v := range tc.w.CheckThresholds([]stats.Threshold{p95, rate}) {
			pass = pass && v.Pass
		}
		if pass != tc.pass {
			t.Errorf("window %v: pass %v, want %v", tc.w.Start, pass, tc.pass)
		}
	}
}
