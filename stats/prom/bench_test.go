package prom_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/stats/prom"
)

// BenchmarkScrape is one protobuf scrape (classic and native buckets) of 50
// endpoints holding 300 000 tasks of spread latencies.
func BenchmarkScrape(b *testing.B) {
	c := stats.NewCollector(stats.Config{})
	c.SetConfig(map[string]any{stats.ConfigRunID: "bench"})
	for i := range 50 {
		c.Endpoint("GET", fmt.Sprintf("/e%d", i))
	}
	skewedN(c, 300000)
	h := prom.Handler(c)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		b.SetBytes(int64(rec.Body.Len()))
	}
}
