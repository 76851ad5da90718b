package stats_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

// TestEndpointSeries: each endpoint has its own series, second by second,
// that adds up to its totals and merges exactly.
func TestEndpointSeries(t *testing.T) {
	t.Parallel()
	res := fixture(t)
	for _, e := range res.Endpoints {
		s := e.Series
		if s.Len() != 4 || s.T0 != t0.Unix() {
			t.Fatalf("%s: series of %d seconds from %d, want 4 from %d", e.Label(), s.Len(), s.T0, t0.Unix())
		}
		var n, f int64
		var sum float64
		for i := range s.Requests {
			n, f = n+s.Requests[i], f+s.Failures[i]
			sum += s.AvgMS[i] * float64(s.Requests[i])
			if s.MaxMS[i] > e.Latency.Max {
				t.Errorf("%s: second %d max %v ms over the endpoint's %v", e.Label(), i, s.MaxMS[i], e.Latency.Max)
			}
		}
		if n != e.Requests || f != e.Failures || sum/float64(n)-e.Latency.Avg > 1e-9 || e.Latency.Avg-sum/float64(n) > 1e-9 {
			t.Errorf("%s: series adds up to %d requests, %d failures, avg %v; want %d, %d, %v", e.Label(), n, f, sum/float64(n), e.Requests, e.Failures, e.Latency.Avg)
		}
	}
	// The login fails in the last second only.
	if f := res.Endpoints[2].Series.Failures; f[0] != 0 || f[3] != 4 {
		t.Errorf("POST /login failures by second %v, want [0 0 0 4]", f)
	}
	merged, err := stats.Merge(res, roundTrip(t, res))
	if err != nil {
		t.Fatal(err)
	}
	if got := merged.Endpoints[1].Series.Requests; got[0] != 40 || got[3] != 40 {
		t.Errorf("merged series %v, want twice 20 a second", got)
	}
}

// TestEndpointSeriesRefused: a series whose arrays disagree does not read,
// and a merge that would need more than MaxEndpointSeries seconds is refused.
func TestEndpointSeriesRefused(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := fixture(t).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	ep := doc["endpoints"].([]any)[0].(map[string]any)
	series := ep["series"].(map[string]any)
	series["avg_ms"] = []any{1.0}
	bad, _ := json.Marshal(doc)
	if _, err := stats.DecodeResult(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "endpoint GET /: series: requests, failures, avg_ms and max_ms have 4, 4, 1 and 4 values") {
		t.Errorf("mismatched series: %v", err)
	}

	a := fixture(t)
	later := stats.NewCollector(stats.Config{}) // GET / again, 9 days later
	ep0 := later.Endpoint("GET", "/")
	r := later.NewRecorder()
	s := sample(9*24*time.Hour, 0, time.Millisecond, 200, "")
	r.Record(ep0, &s)
	r.Close()
	if _, err := stats.Merge(a, later.Snapshot()); err == nil || !strings.Contains(err.Error(), "endpoint GET / is over 8 days") {
		t.Errorf("merging series 9 days apart: %v", err)
	}
}
