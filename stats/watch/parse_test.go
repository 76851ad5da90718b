package watch_test

import (
	"bytes"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/stats/prom"
	"github.com/ampload/amp/stats/watch"
	"github.com/prometheus/common/expfmt"
)

const textMetrics = `# TYPE amp_build_info gauge
amp_build_info{goversion="go1.26.8",revision="",run="r1",version="devel"} 1
# TYPE amp_requests_total counter
amp_requests_total{method="GET",name="/a",run="r1",status="200"} 90
amp_requests_total{method="GET",name="/a",run="r1",status="500"} 10
# TYPE amp_failures_total counter
amp_failures_total{method="GET",name="/a",reason="HTTP 500",run="r1"} 10
# TYPE amp_request_duration_seconds histogram
amp_request_duration_seconds_bucket{method="GET",name="/a",run="r1",le="0.1"} 50
amp_request_duration_seconds_bucket{method="GET",name="/a",run="r1",le="0.2"} 100
amp_request_duration_seconds_bucket{method="GET",name="/a",run="r1",le="+Inf"} 100
amp_request_duration_seconds_sum{method="GET",name="/a",run="r1"} 12
amp_request_duration_seconds_count{method="GET",name="/a",run="r1"} 100
# TYPE amp_users gauge
amp_users{run="r1"} 4
# TYPE amp_run_start_timestamp_seconds gauge
amp_run_start_timestamp_seconds{run="r1"} 1.7646804e+09
# TYPE amp_run_end_timestamp_seconds gauge
amp_run_end_timestamp_seconds{run="r1"} 1.76468041e+09
`

// TestDecodeText: a text-format /metrics (a shard behind something that
// only speaks text) decodes with its classic buckets.
func TestDecodeText(t *testing.T) {
	t.Parallel()
	f, runs, version, err := watch.Decode(strings.NewReader(textMetrics), expfmt.NewFormat(expfmt.TypeTextPlain))
	if err != nil || len(runs) != 1 || runs[0] != "r1" || version != "devel" {
		t.Fatalf("Decode: %v %q %q", err, runs, version)
	}
	if f.Requests != 100 || f.Failures != 10 || f.Users != 4 || f.Reasons["HTTP 500"] != 10 || f.Statuses["500"] != 10 {
		t.Errorf("figures %+v", f)
	}
	if f.Duration() != 10*time.Second || f.RPS() != 10 {
		t.Errorf("duration %v, RPS %g: want 10 s, 10", f.Duration(), f.RPS())
	}
	if q := f.Latency.Quantile(0.75); math.Abs(q-0.15) > 1e-9 {
		t.Errorf("p75 %g, want 0.15", q)
	}
	if _, _, _, err := watch.Decode(strings.NewReader("# TYPE up gauge\nup 1\n"), expfmt.NewFormat(expfmt.TypeTextPlain)); err == nil ||
		!strings.Contains(err.Error(), "not amp's /metrics") {
		t.Errorf("another exporter's metrics: %v", err)
	}
}

// FuzzDecode: whatever a URL serves, Decode returns figures or an error,
// never panics, and the figures render.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(textMetrics), false)
	f.Add([]byte("amp_build_info 1\namp_requests_total{status=\"x\"} NaN\n"), false)
	c := stats.NewCollector(stats.Config{})
	ep := c.Endpoint("GET", "/")
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	c.NewRecorder().Record(ep, &stats.Sample{Sent: t0, Done: t0.Add(time.Millisecond), Status: 200})
	f.Add(protoScrape(c), true)
	f.Fuzz(func(t *testing.T, data []byte, proto bool) {
		format := expfmt.NewFormat(expfmt.TypeTextPlain)
		if proto {
			format = expfmt.NewFormat(expfmt.TypeProtoDelim)
		}
		fig, runs, _, err := watch.Decode(bytes.NewReader(data), format)
		if err != nil {
			return
		}
		v := watch.Merge(time.Now(), []watch.Shard{{URL: "http://x/metrics", Runs: runs, Figures: fig}})
		var out bytes.Buffer
		if err := watch.Render(&out, v, v); err != nil {
			t.Fatal(err)
		}
	})
}

// protoScrape is a protobuf /metrics body of c.
func protoScrape(c *stats.Collector) []byte {
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
	rec := httptest.NewRecorder()
	prom.Handler(c).ServeHTTP(rec, req)
	return rec.Body.Bytes()
}
