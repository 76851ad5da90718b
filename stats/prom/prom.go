package prom

import (
	"net/http"
	"strings"

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
	// A metric that cannot be encoded is left out rather than failing the
	// whole scrape with a 500.
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorHandling: promhttp.ContinueOnError})
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

// Collect takes a snapshot of the statistics and sends them. Label values
// are made valid UTF-8, and a label set is sent once, so that no response
// of the target can make the scrape fail.
func (p *Collector) Collect(ch chan<- prometheus.Metric) {
	r := p.c.Snapshot()
	seen := map[string]bool{}
	send := func(d *prometheus.Desc, kind prometheus.ValueType, v float64, labels ...string) {
		for i, l := range labels {
			labels[i] = stats.CapText(l, 200)
		}
		key := d.String() + "\x00" + strings.Join(labels, "\x00")
		if seen[key] {
			return
		}
		seen[key] = true
		if m, err := prometheus.NewConstMetric(d, kind, v, labels...); err == nil {
			ch <- m
		}
	}
	bounds := Buckets()
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		for status, n := range e.Statuses {
			send(p.requests, prometheus.CounterValue, float64(n), e.Method, e.Name, status)
		}
		send(p.late, prometheus.CounterValue, float64(e.Late), e.Method, e.Name)
		buckets := map[float64]uint64{}
		for i, n := range e.LatencyBuckets(bounds) {
			buckets[bounds[i]] = uint64(n)
		}
		sum := e.Latency.Avg * float64(e.Requests) / 1000
		if m, err := prometheus.NewConstHistogram(p.latency, uint64(e.Requests), sum, buckets,
			stats.CapText(e.Method, 200), stats.CapText(e.Name, 200)); err == nil {
			ch <- m
		}
	}
	for _, f := range r.Errors {
		send(p.failures, prometheus.CounterValue, float64(f.Count), f.Method, f.Name, f.Reason)
	}
	for reason, n := range r.Skipped {
		send(p.skipped, prometheus.CounterValue, float64(n), reason)
	}
	send(p.users, prometheus.GaugeValue, float64(p.c.Users()))
}

var _ prometheus.Collector = (*Collector)(nil)
