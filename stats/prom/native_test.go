package prom_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ampload/amp/internal/promtest"
	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/stats/prom"
)

// TestNativeIndexBounds: bucket i of schema s holds (2^((i-1)/2^s), 2^(i/2^s)].
func TestNativeIndexBounds(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		x    float64
		s, i int
	}{{1, 6, 0}, {math.Nextafter(1, 2), 6, 1}, {2, 6, 64}, {0.5, 6, -64}, {0.25, 3, -16}, {math.Nextafter(0.5, 1), 0, 0}} {
		if got := prom.NativeIndex(c.x, c.s); got != c.i {
			t.Errorf("NativeIndex(%g, %d) = %d, want %d", c.x, c.s, got, c.i)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		x := math.Exp(rng.NormFloat64() * 8)
		i := prom.NativeIndex(x, prom.NativeSchema)
		lo, hi := math.Exp2(float64(i-1)/64), math.Exp2(float64(i)/64)
		if !(lo < x && x <= hi) {
			t.Fatalf("NativeIndex(%g) = %d: bucket (%g, %g]", x, i, lo, hi)
		}
	}
}

// skewed records n tasks of two endpoints with seeded latencies: a
// log-normal around 40 ms (a long tail) and a uniform 100–300 ms.
func skewed(c *stats.Collector, n int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	eps := []stats.Endpoint{c.Endpoint("GET", "/search"), c.Endpoint("POST", "/cart")}
	rec := c.NewRecorder()
	defer rec.Close()
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for i := range n {
		d := time.Duration(40e6 * math.Exp(0.8*rng.NormFloat64()))
		ep := eps[0]
		if i%3 == 0 {
			ep, d = eps[1], time.Duration(100e6+rng.Float64()*200e6)
		}
		sent := t0.Add(time.Duration(i) * time.Millisecond)
		rec.Record(ep, &stats.Sample{Sent: sent, Done: sent.Add(d), Status: 200, Bytes: 1000, BytesSent: 200})
	}
}

// skewedN spreads n tasks of skewed latencies over every endpoint of c.
func skewedN(c *stats.Collector, n int) {
	rng := rand.New(rand.NewPCG(9, 10))
	rec := c.NewRecorder()
	defer rec.Close()
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for i := range n {
		d := time.Duration(40e6 * math.Exp(0.8*rng.NormFloat64()))
		sent := t0.Add(time.Duration(i) * time.Millisecond)
		rec.Record(stats.Endpoint(i%50), &stats.Sample{Sent: sent, Done: sent.Add(d), Status: 200})
	}
}

// TestNativeQuantileMatchesAmp is issue 18's acceptance: histogram_quantile
// over the native histogram of a run, scraped in protobuf and parsed by
// Prometheus's scrape parser, evaluated by Prometheus's PromQL engine, is
// within 2 % of amp's own p50, p95 and p99, per endpoint and in total. The
// classic buckets (text scrape) are checked too, more loosely.
func TestNativeQuantileMatchesAmp(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		c := stats.NewCollector(stats.Config{})
		c.SetConfig(map[string]any{stats.ConfigRunID: "r1"})
		skewed(c, 30000, seed)
		srv := httptest.NewServer(prom.Handler(c))
		at := time.Now()
		native, classic := promtest.New(), promtest.New()
		if err := native.Scrape(t.Context(), srv.URL, promtest.AcceptProto, at); err != nil {
			t.Fatal(err)
		}
		if err := classic.Scrape(t.Context(), srv.URL, promtest.AcceptText, at); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if !native.HasHistogram("amp_request_duration_seconds") || classic.HasHistogram("amp_request_duration_seconds") {
			t.Fatalf("native histogram in protobuf %v, in text %v: want only in protobuf",
				native.HasHistogram("amp_request_duration_seconds"), classic.HasHistogram("amp_request_duration_seconds"))
		}
		r := c.Snapshot()
		for _, q := range []float64{0.5, 0.95, 0.99} {
			want := r.Latency.At(q*100) / 1000
			got := quantile(t, native, "histogram_quantile(%g, sum(amp_request_duration_seconds))", q)
			check(t, "native total", q, got, want, 0.02)
			gotClassic := quantile(t, classic, "histogram_quantile(%g, sum by (le) (amp_request_duration_seconds_bucket))", q)
			check(t, "classic total", q, gotClassic, want, 0.05)
			for i := range r.Endpoints {
				e := &r.Endpoints[i]
				got := quantile(t, native, `histogram_quantile(%g, amp_request_duration_seconds{name="`+e.Name+`"})`, q)
				check(t, "native "+e.Name, q, got, e.Latency.At(q*100)/1000, 0.02)
			}
		}
	}
}

func quantile(t *testing.T, s *promtest.Storage, format string, q float64) float64 {
	t.Helper()
	expr := fmtExpr(format, q)
	v, err := s.Query(t.Context(), expr, time.Now())
	if err != nil || len(v) != 1 {
		t.Fatalf("%s: %v %s", expr, err, promtest.String(v))
	}
	return v[0].F
}

func check(t *testing.T, what string, q, got, want, tol float64) {
	t.Helper()
	rel := math.Abs(got-want) / want
	t.Logf("%s p%g: histogram_quantile %.5f s, amp %.5f s (%.2f %%)", what, q*100, got, want, rel*100)
	if !(rel <= tol) {
		t.Errorf("%s p%g: histogram_quantile %.5f s, amp %.5f s: %.2f %% off, want within %g %%", what, q*100, got, want, rel*100, tol*100)
	}
}

func fmtExpr(format string, q float64) string { return fmt.Sprintf(format, q) }
