package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/stats"
)

// writeResult writes a result JSON of n requests to GET /articles/{id}
// taking base, base+1ms, ... and returns its path.
func writeResult(t *testing.T, name string, n int, base time.Duration, failEvery int) string {
	t.Helper()
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	c := stats.NewCollector(stats.Config{Start: t0})
	c.SetConfig(map[string]any{"target": "http://127.0.0.1:5000"})
	ep := c.Endpoint("GET", "/articles/{id}")
	home := c.Endpoint("GET", "/")
	r := c.NewRecorder()
	for i := 0; i < n; i++ {
		sent := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		s := stats.Sample{Sent: sent, Done: sent.Add(base + time.Duration(i%20)*time.Millisecond), Status: 200, Bytes: 512, BytesSent: 100}
		failed := failEvery > 0 && i%failEvery == 0
		if failed {
			s.Status, s.Failure = 500, "HTTP 500"
		}
		r.Record(ep, &s)
		s = stats.Sample{Sent: sent, Done: sent.Add(5 * time.Millisecond), Status: 200, BytesSent: 80}
		r.Record(home, &s)
		c.SessionDone(failed) // each i is a session of two requests
	}
	path := filepath.Join(t.TempDir(), name)
	if _, err := (stats.Files{JSON: path}).Write(c.Snapshot()); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportRenders(t *testing.T) {
	res := writeResult(t, "run.json", 200, 20*time.Millisecond, 0)
	dir := t.TempDir()
	r := runAmp(t, "report", res, "--csv", filepath.Join(dir, "csv", "run"), "--html", filepath.Join(dir, "r.html"), "--json", filepath.Join(dir, "again.json"))
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{"GET      /articles/{id}", "Aggregated", "Response time percentiles", "OK: 400 requests, 0.00% failed",
		"result: " + filepath.Join(dir, "again.json"), "report: " + filepath.Join(dir, "r.html"), "csv: " + filepath.Join(dir, "csv", "run") + "_stats.csv"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, f := range []string{"csv/run_stats.csv", "csv/run_stats_history.csv", "csv/run_failures.csv", "csv/run_exceptions.csv", "r.html"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	again, err := stats.ReadResult(filepath.Join(dir, "again.json"))
	if err != nil || again.Requests != 400 {
		t.Fatalf("re-written JSON: %v, %+v", err, again)
	}
	// --quiet prints only the files written
	r = runAmp(t, "report", res, "-q", "--json", filepath.Join(dir, "q.json"))
	if r.code != 0 || strings.Contains(r.stdout, "Aggregated") || !strings.Contains(r.stdout, "result: ") {
		t.Errorf("quiet: %+v", r)
	}
}

func TestReportThresholds(t *testing.T) {
	res := writeResult(t, "run.json", 200, 20*time.Millisecond, 10) // p95 ~ 39 ms, 5% failures of the articles
	r := runAmp(t, "report", res, "--fail-if", "p(95)<1000", "--fail-if", "rate<0.5")
	if r.code != 0 || !strings.Contains(r.stdout, "PASS: all 2 thresholds held") {
		t.Errorf("passing thresholds: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "checked.json")
	r = runAmp(t, "report", res, "--fail-if", "p(95)<1000", "--fail-if", "GET /articles/{id}: p(95)<30", "--json", out)
	if r.code != exitThreshold {
		t.Fatalf("failing threshold: exit %d, want 99; %s", r.code, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "amp: report: 1 of 2 thresholds failed: GET /articles/{id}: p(95)<30: ") ||
		!strings.Contains(r.stderr, "ms over the limit") {
		t.Errorf("stderr %q: want one line naming the threshold and by how much it failed", r.stderr)
	}
	if !strings.Contains(r.stdout, "FAIL  GET /articles/{id}: p(95)<30") {
		t.Errorf("report does not list the failed threshold:\n%s", r.stdout)
	}
	checked, err := stats.ReadResult(out) // the verdicts are in the JSON written
	if err != nil || len(checked.Thresholds) != 2 || checked.Thresholds[1].Pass {
		t.Errorf("thresholds in --json: %v %+v", err, checked)
	}
	// malformed: a usage error naming the expression
	r = runAmp(t, "report", res, "--fail-if", "p95<500")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 ||
		!strings.Contains(r.stderr, `report: --fail-if: invalid threshold "p95<500": unknown aggregation "p95" (did you mean p(95)?)`) {
		t.Errorf("malformed threshold: %+v", r)
	}
}

func TestReportCompare(t *testing.T) {
	base := writeResult(t, "monday.json", 200, 20*time.Millisecond, 0)
	slow := writeResult(t, "tuesday.json", 200, 60*time.Millisecond, 0)
	r := runAmp(t, "report", base, slow)
	if r.code != 0 || !strings.Contains(r.stdout, "REGRESSION: 1 of 2 endpoints worse (GET /articles/{id} p") ||
		!strings.Contains(r.stdout, "monday.json") || !strings.Contains(r.stdout, "| worse") {
		t.Errorf("compare: %+v", r)
	}
	r = runAmp(t, "report", base, slow, "--fail-on-regression")
	if r.code != exitThreshold || !strings.Contains(r.stderr, "tuesday.json regressed against") {
		t.Errorf("--fail-on-regression: %+v", r)
	}
	r = runAmp(t, "report", slow, base, "--fail-on-regression")
	if r.code != 0 || !strings.Contains(r.stdout, "IMPROVED") {
		t.Errorf("the other way round: %+v", r)
	}
	r = runAmp(t, "report", base, slow, "--fail-if", "p(99)<50")
	if r.code != exitThreshold || !strings.Contains(r.stdout, "Thresholds (new run)") {
		t.Errorf("thresholds on the new run: %+v", r)
	}
}

func TestReportMerge(t *testing.T) {
	a := writeResult(t, "a.json", 100, 20*time.Millisecond, 0)
	b := writeResult(t, "b.json", 150, 20*time.Millisecond, 10)
	out := filepath.Join(t.TempDir(), "all.json")
	r := runAmp(t, "report", "--merge", a, b, "--json", out, "-q")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	m, err := stats.ReadResult(out)
	if err != nil || m.Requests != 2*(100+150) {
		t.Fatalf("merged: %v, %d requests", err, m.Requests)
	}
	// Bytes, status codes and sessions add up exactly.
	if m.BytesSent != 180*(100+150) || m.Bytes != 512*(100+150) || m.Statuses["500"] != 15 || m.Statuses["200"] != 2*250-15 ||
		m.Sessions != (stats.SessionCounts{Completed: 250 - 15, Failed: 15}) {
		t.Errorf("merged: %d bytes sent, %d received, statuses %v, sessions %+v", m.BytesSent, m.Bytes, m.Statuses, m.Sessions)
	}
	// One part twice would double its counts.
	if r := runAmp(t, "report", "--merge", a, b, a, "--json", out, "-q"); r.code != 1 || !strings.Contains(r.stderr, "are the same result") {
		t.Errorf("a part twice: %+v", r)
	}

	// The spelling of the sharding workflow: amp report merge ... -o FILE.
	out2 := filepath.Join(t.TempDir(), "all2.json")
	r = runAmp(t, "report", "merge", a, b, "-o", out2, "-q")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if m, err := stats.ReadResult(out2); err != nil || m.Requests != 2*(100+150) {
		t.Fatalf("report merge: %v, %+v", err, m)
	}
}

func TestReportUsageErrors(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notJSON, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := writeResult(t, "run.json", 10, time.Millisecond, 0)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no argument", []string{"report"}, "report: want a result file (or two to compare), got 0 arguments"},
		{"three files", []string{"report", res, res, res}, "report: want one result, or two to compare, got 3 files"},
		{"missing file", []string{"report", filepath.Join(dir, "nope.json")}, "nope.json: no such file"},
		{"not a result", []string{"report", notJSON}, "notes.txt: not an amp result (invalid JSON"},
		{"files when comparing", []string{"report", res, res, "--html", "x.html"}, "report: --html renders one result"},
		{"regression of one", []string{"report", res, "--fail-on-regression"}, "--fail-on-regression needs two results"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runAmp(t, tc.args...)
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("code %d, stderr %q; want exit 1 and one line with %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

// TestReportOfAReplay replays a recording against the demo site with
// --json, then re-renders and compares the result with amp report.
func TestReportOfAReplay(t *testing.T) {
	srv := httptest.NewServer(demosite.New(demosite.Config{}))
	defer srv.Close()
	dir := t.TempDir()
	rec := filepath.Join(dir, "shop.amp")
	w, err := capture.Create(rec, capture.FileHeader{Source: "test", Created: time.Unix(1_700_000_000, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for i, p := range []string{"/", "/articles", "/login", "/articles"} {
		e := &capture.Exchange{
			Session: "1", Client: "10.0.0.1:1234", Start: t0.Add(time.Duration(i) * 50 * time.Millisecond), Duration: 5 * time.Millisecond,
			Request:  capture.Request{Method: "GET", URL: "http://shop.example" + p, Proto: "HTTP/1.1", Header: capture.Headers{{Name: "Host", Value: "shop.example"}}},
			Response: capture.Response{Status: 200, Proto: "HTTP/1.1"},
		}
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var results []string
	for i := range 2 {
		out := filepath.Join(dir, fmt.Sprintf("run%d.json", i))
		r := runAmp(t, "replay", rec, "--host", srv.URL, "--users", "2", "--iterations", "5", "--think", "none", "--quiet", "--json", out)
		if r.code != 0 {
			t.Fatalf("replay: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		results = append(results, out)
	}
	html := filepath.Join(dir, "run.html")
	r := runAmp(t, "report", results[0], "--html", html, "--fail-if", "rate<0.01", "--fail-if", "GET /articles: count==10")
	if r.code != 0 || !strings.Contains(r.stdout, "GET      /articles ") || !strings.Contains(r.stdout, "PASS: all 2 thresholds held; 20 requests") {
		t.Fatalf("report of a replay: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if data, err := os.ReadFile(html); err != nil || !strings.Contains(string(data), `<svg class="chart"`) {
		t.Errorf("html: %v", err)
	}
	r = runAmp(t, "report", results[0], results[1])
	if r.code != 0 || !strings.Contains(r.stdout, "GET      /login") {
		t.Errorf("compare two replays: %+v", r)
	}
}

// TestReportBands: --bands sets the HTML report's latency bands; a bad
// value is one line naming the flag.
func TestReportBands(t *testing.T) {
	res := writeResult(t, "run.json", 50, 20*time.Millisecond, 0)
	page := filepath.Join(t.TempDir(), "report.html")
	r := runAmp(t, "report", res, "--quiet", "--bands", "10ms,30ms", "--html", page)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"≤ 10 ms", "10–30 ms", "&gt; 30 ms"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the report lacks the band %q", want)
		}
	}
	r = runAmp(t, "report", res, "--bands", "1200ms,800ms", "--html", page)
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 ||
		!strings.Contains(r.stderr, `report: --bands: invalid latency bands "1200ms,800ms": the limits must ascend (800ms after 1.2s)`) {
		t.Errorf("descending bands: %+v", r)
	}
}
