package prom

import (
	"net/http"

	"github.com/ampload/amp/stats"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Buckets returns the upper bounds, in seconds, of the latency histogram.
func Buckets() []float64 {
	return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
}

// Handler returns an http.Handler serving c's metrics in the Prometheus
// exposition format, from a registry of its own.
func Handler(c *stats.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(c))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// Collector is a prometheus.Collector reading a stats.Collector.
type Collector struct {
	c                                  *stats.Collector
	requests, failures, latency, users *prometheus.Desc
	skipped, late                      *prometheus.Desc
}

// NewCollector returns a prometheus.Collector of c's statistics, to
// register in a registry of the caller's.
func NewCollector(c *stats.Collector) *Collector {
	return &Collector{
		c: c,
		requests: prometheus.NewDesc("amp_requests_total", "Tasks finished, by endpoint and HTTP status (0 = transport error).",
			[]string{"method", "name", "status"}, nil),
		failures: prometheus.NewDesc("amp_failures_total", "Tasks failed, by endpoint and reason.",
			[]string{"method", "name", "reason"}, nil),
		latency: prometheus.NewDesc("amp_request_duration_seconds", "Latency from the intended start of each task, by endpoint.",
			[]string{"method", "name"}, nil),
		users:   prometheus.NewDesc("amp_users", "Simulated users running now.", nil, nil),
		skipped: prometheus.NewDesc("amp_skipped_total", "Tasks not sent, by reason.", []string{"reason"}, nil),
		late: prometheus.NewDesc("amp_late_total", "Tasks sent more than 10 ms after their intended start, by endpoint.",
			[]string{"method", "name"}, nil),
	}
}

// Describe sends the metrics' descriptions.
func (p *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.requests, p.failures, p.latency, p.users, p.skipped, p.late} {
		ch <- d
	}
}

// Collect takes a snapshot of the statistics and sends them.
func (p *Collector) Collect(ch chan<- prometheus.Metric) {
	r := p.c.Snapshot()
	bounds := Buckets()
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		for status, n := range e.Statuses {
			ch <- prometheus.MustNewConstMetric(p.requests, prometheus.CounterValue, float64(n), e.Method, e.Name, status)
		}
		ch <- prometheus.MustNewConstMetric(p.late, prometheus.CounterValue, float64(e.Late), e.Method, e.Name)
		buckets := map[float64]uint64{}
		for i, n := range e.LatencyBuckets(bounds) {
			buckets[bounds[i]] = uint64(n)
		}
		sum := e.Latency.Avg * float64(e.Requests) / 1000
		ch <- prometheus.MustNewConstHistogram(p.latency, uint64(e.Requests), sum, buckets, e.Method, e.Name)
	}
	for _, f := range r.Errors {
		ch <- prometheus.MustNewConstMetric(p.failures, prometheus.CounterValue, float64(f.Count), f.Method, f.Name, f.Reason)
	}
	for reason, n := range r.Skipped {
		ch <- prometheus.MustNewConstMetric(p.skipped, prometheus.CounterValue, float64(n), reason)
	}
	ch <- prometheus.MustNewConstMetric(p.users, prometheus.GaugeValue, float64(p.c.Users()))
}

var _ prometheus.Collector = (*Collector)(nil)
