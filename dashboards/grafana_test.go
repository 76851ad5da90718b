package dashboards_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/promtest"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats/prom"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	Type    string `json:"type"`
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // of a collapsed row
}

// exprs returns every query of the panels, by panel title.
func exprs(ps []panel) map[string][]string {
	out := map[string][]string{}
	for _, p := range ps {
		for _, t := range p.Targets {
			out[p.Title] = append(out[p.Title], t.Expr)
		}
		for k, v := range exprs(p.Panels) {
			out[k] = append(out[k], v...)
		}
	}
	return out
}

// TestGrafanaDashboardLayout: panels have unique ids, a data source that is
// the dashboard's variable, and places inside Grafana's 24 columns that do
// not overlap.
func TestGrafanaDashboardLayout(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("grafana/amp.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		dashboard
		UID string `json:"uid"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: want both", d.UID, d.Title)
	}
	ids := map[int]bool{}
	cells := map[[2]int]string{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("%s: gridPos %+v outside 24 columns", p.Title, g)
		}
		if p.Type != "row" && (p.Datasource == nil || p.Datasource.UID != "${datasource}") {
			t.Errorf("%s: data source %+v, want the ${datasource} variable", p.Title, p.Datasource)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := cells[[2]int{x, y}]; ok {
					t.Fatalf("%s overlaps %s at column %d, row %d", p.Title, other, x, y)
				}
				cells[[2]int{x, y}] = p.Title
			}
		}
	}
}

// grafanaVars stands for Grafana's interpolation of the variables the
// dashboard uses, as it happens before a query reaches Prometheus.
func grafanaVars(expr, run string) string {
	return strings.NewReplacer("$__rate_interval", "1m", "$__range", "1m", "$__interval", "15s", "$run", regexp.QuoteMeta(run)).Replace(expr)
}

// TestGrafanaDashboardQueriesAmpMetrics is issue 18's acceptance for the
// dashboard: every PromQL expression of dashboards/grafana/amp.json parses
// with Prometheus's parser, every metric it names is in a real /metrics
// scrape of amp after a short replay against a loopback server, and
// Prometheus's engine answers each with at least one series over two
// scrapes. The native p95 of the run is within 2 % of amp's own.
func TestGrafanaDashboardQueriesAmpMetrics(t *testing.T) {
	data, err := os.ReadFile("grafana/amp.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("grafana/amp.json: %v", err)
	}
	queries := exprs(d.Panels)
	if len(queries) < 10 {
		t.Fatalf("%d panels with queries, want the dashboard's 10 or more", len(queries))
	}
	store, runID, p95 := replayAndScrape(t)
	names := store.Names()
	p := parser.NewParser(parser.Options{})
	for title, list := range queries {
		for _, expr := range list {
			q := grafanaVars(expr, runID)
			ast, err := p.ParseExpr(q)
			if err != nil {
				t.Errorf("%s: %s: %v", title, q, err)
				continue
			}
			for _, name := range metricNames(ast) {
				if !slices.Contains(names, name) {
					t.Errorf("%s: %s names %s, which amp's /metrics lacks (it has %v)", title, expr, name, names)
				}
			}
			v, err := store.Query(t.Context(), q, time.Now())
			if err != nil || len(v) == 0 {
				t.Errorf("%s: %s: no answer from the engine: %v %s", title, q, err, promtest.String(v))
				continue
			}
			for _, s := range v {
				if s.H == nil && (math.IsNaN(s.F) || math.IsInf(s.F, 0)) {
					t.Errorf("%s: %s: %s is %g", title, q, s.Metric, s.F)
				}
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := regexp.MustCompile(`^label_values\((\w+), *(\w+)\)$`).FindStringSubmatch(v.Definition)
		if m == nil || !slices.Contains(names, m[1]) {
			t.Errorf("variable %s: %q: want label_values of a metric amp serves", v.Name, v.Definition)
		}
	}
	got, err := store.Query(t.Context(), fmt.Sprintf(`histogram_quantile(0.95, sum(amp_request_duration_seconds{run="%s"}))`, runID), time.Now())
	if err != nil || len(got) != 1 {
		t.Fatalf("native p95: %v %s", err, promtest.String(got))
	}
	if rel := math.Abs(got[0].F-p95) / p95; rel > 0.02 {
		t.Errorf("native p95 %.6f s, amp's %.6f s: %.2f %% off, want within 2 %%", got[0].F, p95, rel*100)
	}
}

// metricNames returns the metric names the selectors of an expression use.
func metricNames(n parser.Node) []string {
	var out []string
	parser.Inspect(n, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		out = append(out, name)
		return nil
	})
	return out
}

// replayAndScrape replays a small shop against a loopback server (some
// 500s, a request to an unmapped host, recorded durations for the
// slowdown) and scrapes its /metrics in protobuf during the run and after
// it. It returns the scrapes, the run id and amp's p95 in seconds.
func replayAndScrape(t *testing.T) (*promtest.Storage, string, float64) {
	t.Helper()
	var n atomic.Int64
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		time.Sleep(time.Duration(i%4) * 500 * time.Microsecond)
		if r.URL.Path == "/cart" && i%5 == 0 {
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "<title>Shop</title>")
	}))
	defer site.Close()
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	ex := func(off time.Duration, method, url string) *capture.Exchange {
		return &capture.Exchange{Start: t0.Add(off), Duration: 2 * time.Millisecond,
			Request:  capture.Request{Method: method, URL: url},
			Response: capture.Response{Status: 200, Body: []byte("<title>Shop</title>")}}
	}
	rec := &capture.Recording{Sessions: []*capture.Session{{ID: "1", Exchanges: []*capture.Exchange{
		ex(0, "GET", "http://shop.example/search?q=tea"),
		ex(10*time.Millisecond, "GET", "http://cdn.example/app.js"),
		ex(20*time.Millisecond, "POST", "http://shop.example/cart"),
	}}}}
	cfg := replay.DefaultConfig()
	cfg.Host, cfg.Users, cfg.Duration, cfg.Think = site.URL, 3, 2*time.Second, replay.Think{Mode: replay.ThinkNone}
	run, err := replay.NewRun(t.Context(), rec, cfg, replay.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	metrics := httptest.NewServer(prom.NewHandler(run.Collector, prom.Options{TargetUsers: func() int { return run.Player.Status().Target }}))
	defer metrics.Close()
	type outcome struct {
		p95 float64
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := run.Run(t.Context())
		if err != nil {
			done <- outcome{err: err}
			return
		}
		done <- outcome{p95: res.Latency.P95 / 1000}
	}()
	store := promtest.New()
	// Scrape mid-run once every kind of series exists (failures, skips and
	// sessions appear with their first), so that rate() has two samples.
	deadline := time.Now().Add(20 * time.Second)
	for r := run.Collector.Snapshot(); r.Failures == 0 || len(r.Skipped) == 0 || r.Sessions.Total() == 0; r = run.Collector.Snapshot() {
		if time.Now().After(deadline) {
			t.Fatalf("no failures, skips or sessions counted yet: %+v", r.Stats)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := store.Scrape(t.Context(), metrics.URL, promtest.AcceptProto, time.Now()); err != nil {
		t.Fatal(err)
	}
	var out outcome
	select {
	case out = <-done:
	case <-time.After(30 * time.Second):
		run.Player.Kill()
		t.Fatal("the replay did not end")
	}
	if out.err != nil {
		t.Fatal(out.err)
	}
	if err := store.Scrape(t.Context(), metrics.URL, promtest.AcceptProto, time.Now()); err != nil {
		t.Fatal(err)
	}
	return store, run.Collector.Snapshot().RunID(), out.p95
}
