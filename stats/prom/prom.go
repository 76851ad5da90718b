package prom

import (
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ampload/amp/stats"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Buckets returns the upper bounds, in seconds, of the latency histogram's
// classic buckets: ten a decade from 1 ms to 10 s (1, 1.25, 1.5, 2, 2.5, 3,
// 4, 5, 6, 8), so that neighbours are at most 4/3 apart, then 15, 20, 30
// and 60 s. The native histogram (protobuf scrapes) is much finer.
func Buckets() []float64 {
	steps := []float64{1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8}
	var out []float64
	for decade := 0.001; decade < 10; decade *= 10 {
		for _, s := range steps {
			out = append(out, roundBound(s*decade))
		}
	}
	return append(out, 10, 15, 20, 30, 60)
}

// roundBound drops the float noise of a bound (0.0030000000000000005).
func roundBound(f float64) float64 {
	const unit = 1e9
	return float64(int64(f*unit+0.5)) / unit
}

// Options configure what a Handler exports beyond the collector's figures.
// The zero value is ready to use.
type Options struct {
	// TargetUsers returns the number of simulated users asked for
	// (amp_target_users); nil leaves the metric out.
	TargetUsers func() int
}

// Handler returns an http.Handler serving c's metrics in the Prometheus
// exposition format, from a registry of its own.
func Handler(c *stats.Collector) http.Handler { return NewHandler(c, Options{}) }

// NewHandler is Handler with options.
func NewHandler(c *stats.Collector, opts Options) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(c, opts))
	// A metric that cannot be encoded is left out rather than failing the
	// whole scrape with a 500.
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorHandling: promhttp.ContinueOnError})
}

// Collector is a prometheus.Collector reading a stats.Collector.
type Collector struct {
	c     *stats.Collector
	opts  Options
	build [3]string // version, Go version, revision
	d     descs
}

// descs are the descriptions of every metric, each with the run label.
type descs struct {
	requests, failures, latency, late  *prometheus.Desc
	bytesSent, bytesReceived, slowdown *prometheus.Desc
	users, target, skipped, dropped    *prometheus.Desc
	sessions, buildInfo, start, end    *prometheus.Desc
}

func (d *descs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.requests, d.failures, d.latency, d.late, d.bytesSent, d.bytesReceived,
		d.slowdown, d.users, d.target, d.skipped, d.dropped, d.sessions, d.buildInfo, d.start, d.end}
}

func newDescs() descs {
	ep := []string{"run", "method", "name"}
	with := func(extra ...string) []string { return append(append([]string(nil), ep...), extra...) }
	run := []string{"run"}
	return descs{
		requests:      prometheus.NewDesc("amp_requests_total", "Tasks finished, by endpoint and HTTP status (0 = transport error).", with("status"), nil),
		failures:      prometheus.NewDesc("amp_failures_total", "Tasks failed, by endpoint and reason.", with("reason"), nil),
		latency:       prometheus.NewDesc("amp_request_duration_seconds", "Latency from the intended start of each task, by endpoint.", ep, nil),
		late:          prometheus.NewDesc("amp_late_total", "Tasks sent more than 10 ms after their intended start, by endpoint.", ep, nil),
		bytesSent:     prometheus.NewDesc("amp_bytes_sent_total", "Request bytes sent to the target, by endpoint.", ep, nil),
		bytesReceived: prometheus.NewDesc("amp_bytes_received_total", "Response bytes received from the target, by endpoint.", ep, nil),
		slowdown: prometheus.NewDesc("amp_slowdown_ratio", "Replayed service time ÷ recorded duration, by endpoint, of the medians (quantile 0.5) and of p95 (0.95).",
			with("quantile"), nil),
		users:    prometheus.NewDesc("amp_users", "Simulated users running now.", run, nil),
		target:   prometheus.NewDesc("amp_target_users", "Simulated users asked for (the closed model's target; the arrival-rate model's maximum).", run, nil),
		skipped:  prometheus.NewDesc("amp_skipped_total", "Tasks not sent, by reason.", []string{"run", "reason"}, nil),
		dropped:  prometheus.NewDesc("amp_dropped_sessions_total", "Sessions the arrival-rate model could not start: every user it may have was busy.", run, nil),
		sessions: prometheus.NewDesc("amp_sessions_total", "Sessions that ran to their end, by result (completed; failed: one of its requests failed).", []string{"run", "result"}, nil),
		start:    prometheus.NewDesc("amp_run_start_timestamp_seconds", "When the run started (Unix seconds): the intended start of its first task.", run, nil),
		end: prometheus.NewDesc("amp_run_end_timestamp_seconds", "When the last task of the run finished so far (Unix seconds); with the start, the duration its rates are of.",
			run, nil),
		buildInfo: prometheus.NewDesc("amp_build_info", "Always 1: the amp build serving these metrics.",
			[]string{"run", "version", "goversion", "revision"}, nil),
	}
}

// NewCollector returns a prometheus.Collector of c's statistics, to
// register in a registry of the caller's.
func NewCollector(c *stats.Collector, opts Options) *Collector {
	v, g, r := BuildInfo()
	return &Collector{c: c, opts: opts, build: [3]string{v, g, r}, d: newDescs()}
}

// BuildInfo returns the version of the amp module ("devel" when built from
// a work tree), the Go version and the VCS revision ("" when the build
// recorded none), from the binary's build information.
func BuildInfo() (version, goVersion, revision string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel", "", ""
	}
	version = info.Main.Version
	if version == "" || version == "(devel)" {
		version = "devel"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return version, info.GoVersion, revision
}

// Describe sends the metrics' descriptions.
func (p *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range p.d.all() {
		ch <- d
	}
}

// sender sends metrics of one scrape: label values made valid UTF-8, the
// run label first, each label set once, so that no response of the target
// can make the scrape fail.
type sender struct {
	ch   chan<- prometheus.Metric
	run  string
	seen map[string]bool
}

// labels caps the label values and returns them with the run label in
// front, or nil when the metric was already sent with them.
func (s *sender) labels(d *prometheus.Desc, values []string) []string {
	out := make([]string, 0, len(values)+1)
	out = append(out, s.run)
	for _, v := range values {
		out = append(out, stats.CapText(v, 200))
	}
	key := d.String() + "\x00" + strings.Join(out, "\x00")
	if s.seen[key] {
		return nil
	}
	s.seen[key] = true
	return out
}

func (s *sender) send(d *prometheus.Desc, kind prometheus.ValueType, v float64, labels ...string) {
	if l := s.labels(d, labels); l != nil {
		if m, err := prometheus.NewConstMetric(d, kind, v, l...); err == nil {
			s.ch <- m
		}
	}
}

// Collect takes a snapshot of the statistics and sends them.
func (p *Collector) Collect(ch chan<- prometheus.Metric) {
	r := p.c.Snapshot()
	s := &sender{ch: ch, run: stats.CapText(r.RunID(), 200), seen: map[string]bool{}}
	d := &p.d
	bounds := Buckets()
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		for status, n := range e.Statuses {
			s.send(d.requests, prometheus.CounterValue, float64(n), e.Method, e.Name, status)
		}
		s.send(d.late, prometheus.CounterValue, float64(e.Late), e.Method, e.Name)
		s.send(d.bytesSent, prometheus.CounterValue, float64(e.BytesSent), e.Method, e.Name)
		s.send(d.bytesReceived, prometheus.CounterValue, float64(e.Bytes), e.Method, e.Name)
		if sd := e.Slowdown; sd != nil {
			s.send(d.slowdown, prometheus.GaugeValue, sd.P50, e.Method, e.Name, "0.5")
			s.send(d.slowdown, prometheus.GaugeValue, sd.P95, e.Method, e.Name, "0.95")
		}
		if l := s.labels(d.latency, []string{e.Method, e.Name}); l != nil {
			if m, err := newHistogram(d.latency, &e.Stats, bounds, r.Start, l); err == nil {
				ch <- m
			}
		}
	}
	for _, f := range r.Errors {
		s.send(d.failures, prometheus.CounterValue, float64(f.Count), f.Method, f.Name, f.Reason)
	}
	for reason, n := range r.Skipped {
		s.send(d.skipped, prometheus.CounterValue, float64(n), reason)
	}
	s.send(d.dropped, prometheus.CounterValue, float64(r.Dropped))
	s.send(d.sessions, prometheus.CounterValue, float64(r.Sessions.Completed), "completed")
	s.send(d.sessions, prometheus.CounterValue, float64(r.Sessions.Failed), "failed")
	s.send(d.users, prometheus.GaugeValue, float64(p.c.Users()))
	if p.opts.TargetUsers != nil {
		s.send(d.target, prometheus.GaugeValue, float64(p.opts.TargetUsers()))
	}
	s.send(d.start, prometheus.GaugeValue, unixSeconds(r.Start))
	s.send(d.end, prometheus.GaugeValue, unixSeconds(r.End))
	s.send(d.buildInfo, prometheus.GaugeValue, 1, p.build[:]...)
}

var _ prometheus.Collector = (*Collector)(nil)

// unixSeconds is t in Unix seconds, to the microsecond.
func unixSeconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }
