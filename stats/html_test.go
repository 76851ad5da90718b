package stats_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/stats"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestHTMLContent checks the report's sections without a browser.
func TestHTMLContent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := stats.WriteHTML(&buf, fixture(t)); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	golden(t, "report.html.golden", buf.Bytes())
	for _, want := range []string{
		`<h1 id="title">amp report · shop.amp → http://127.0.0.1:8080</h1>`,
		`id="statuses"`, `<th>no resp</th>`, `<td>156</td><td>12</td><td>4</td><td>4</td><td>25.2 kB</td><td>90.4 kB</td>`,
		`id="bytes-sent">25.2 kB<`, `id="sessions-completed">72<`, `id="sessions-failed">8<`,
		"72 completed, 8 failed", `<details class="endpoint"><summary>GET /articles/{id}`,
		"Response time bands", "≤ 100 ms", "Latency distribution", "Response time against active users",
		`id="verdict"`, "FAIL: 2 of 3 thresholds failed", `id="thresholds"`, `id="requests"`, `id="percentiles"`,
		`id="failures"`, "connection refused", `id="slowdown"`, `id="skipped"`, "unmapped host cdn.example.com",
		`id="config"`, "shop.amp", "Requests per second", "Response times", "Users", "/articles/{id}",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://", "src="} {
		if bad == "http://" {
			page = strings.ReplaceAll(page, "http://www.w3.org/2000/svg", "") // the SVG namespace is a name, not a fetch
			page = strings.ReplaceAll(page, "http://127.0.0.1:8080", "")      // the target, as configuration text
		}
		if strings.Contains(page, bad) {
			t.Errorf("report contains %q: it must be self-contained", bad)
		}
	}
	// 3 line charts, response time against users, the distribution of
	// all requests, and for each of the 3 endpoints 2 line charts of its
	// own (2 lines each) and its distribution
	if n, lines := strings.Count(page, `<svg class="chart"`), strings.Count(page, "<polyline"); n != 5+3*3 || lines != 6+3*4 {
		t.Errorf("%d charts with %d lines, want 14 charts with 18 lines", n, lines)
	}
	if !strings.Contains(page, `aria-label="Requests per second of GET /articles/{id}"`) {
		t.Error("no time series of GET /articles/{id}")
	}
	if thr, charts := strings.Index(page, `id="thresholds"`), strings.Index(page, `id="charts"`); thr < 0 || thr > charts {
		t.Error("the thresholds should come before the charts, at the top")
	}
}

// TestHTMLRendersInChromium opens the report in headless Chromium with the
// network emulated offline and checks that the charts render (a non-blank
// screenshot with the series colours), that nothing overflows the 1280 px
// window (the endpoints' sections closed, as by default, and open), that no
// request left the page and that the console stayed free of errors.
func TestHTMLRendersInChromium(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "report.html")
	if _, err := (stats.Files{HTML: path}).Write(fixture(t)); err != nil {
		t.Fatal(err)
	}
	actx, _ := testenv.Browser(t, 60*time.Second, chromedp.WindowSize(1280, 1000))
	problems := &testenv.PageProblems{FileOnly: true}
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(problems.Listen))
	defer bcancel()
	offline := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}},
		})
		return err
	})
	if err := chromedp.Do(bctx, offline, chromedp.Navigate("file://"+path), chromedp.WaitVisible("svg.chart")); err != nil {
		t.Fatal(err)
	}
	type chartInfo struct {
		Width, Height float64
		Points        []int
	}
	charts, err := chromedp.Run(bctx, chromedp.Evaluate[[]chartInfo](`[...document.querySelectorAll("svg.chart")].map(s => {
		const r = s.getBoundingClientRect();
		return {Width: r.width, Height: r.height,
			Points: [...s.querySelectorAll("polyline")].map(p => p.points.numberOfItems)};
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) != 14 {
		t.Fatalf("%d charts rendered, want 14", len(charts))
	}
	for i, c := range charts {
		if i >= 1 && i <= 3 && len(c.Points) == 0 { // after the distribution, the 3 line charts
			t.Errorf("chart %d has no line: %+v", i, c)
		}
		if i < 5 && (c.Width < 400 || c.Height < 100) { // those in the endpoints' closed sections are not laid out
			t.Errorf("chart %d: %+v", i, c)
		}
		for _, n := range c.Points {
			if n != 4 { // one point per second of the 4-second fixture
				t.Errorf("chart %d: a line with %d points, want 4", i, n)
			}
		}
	}
	overflow := `({scroll: document.documentElement.scrollWidth, open: [...document.querySelectorAll("details")].filter(d => d.open).length,
		cut: [...document.querySelectorAll(".scroll")].filter(d => d.scrollWidth > d.clientWidth).map(d => d.firstElementChild.id || d.firstElementChild.className)})`
	type widths struct {
		Scroll, Open int
		Cut          []string // tables wider than their box
	}
	closed, err := chromedp.Run(bctx, chromedp.Evaluate[widths](overflow))
	if err != nil {
		t.Fatal(err)
	}
	opened, err := chromedp.Run(bctx, chromedp.Evaluate[widths](`document.querySelectorAll("details").forEach(d => d.open = true), `+overflow))
	if err != nil {
		t.Fatal(err)
	}
	if closed.Open != 0 || opened.Open != 3 || closed.Scroll > 1280 || opened.Scroll > 1280 || len(opened.Cut) > 0 {
		t.Errorf("at 1280 px: scrollWidth %d with %d sections open, %d with %d open, tables scrolled %q; want ≤ 1280, 0 then 3 open, none scrolled",
			closed.Scroll, closed.Open, opened.Scroll, opened.Open, opened.Cut)
	}
	shot, err := chromedp.Run(bctx, chromedp.Screenshot("#charts svg.chart"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if blue := countColour(img, 0x2b, 0x7b, 0xb9); blue < 200 {
		t.Errorf("the req/s line (#2b7bb9) covers %d pixels of the first chart, want a drawn line", blue)
	}
	if os.Getenv("AMP_KEEP_SCREENSHOT") != "" {
		_ = os.WriteFile("chart.png", shot, 0o644)
	}
	if list := problems.List(); len(list) > 0 {
		t.Errorf("page problems: %v", list)
	}
}

// countColour counts the pixels of img close to the colour (r, g, b).
func countColour(img image.Image, r, g, b uint8) int {
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if near(pr>>8, r) && near(pg>>8, g) && near(pb>>8, b) {
				n++
			}
		}
	}
	return n
}

func near(a uint32, b uint8) bool { return a+24 >= uint32(b) && a <= uint32(b)+24 }

// TestHTMLCapacity: a capacity search's answer, its steps and their chart
// are in the report.
func TestHTMLCapacity(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	res := &stats.Result{Start: t0, Capacity: &stats.Capacity{Users: 55, RPS: 753.5, FailedAt: 60, Ended: "converged", Steps: []stats.CapacityStep{
		{Users: 40, Start: t0, Requests: 7000, RPS: 750, P95MS: 73, Pass: true},
		{Users: 80, Start: t0.Add(10 * time.Second), Requests: 7500, RPS: 754, P95MS: 135, Failed: []string{"p(95)<100: 135 ms, 35.0 ms over the limit (+35%)"}},
	}}}
	var b strings.Builder
	if err := stats.WriteHTML(&b, res); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<strong>55 users, 753.50 req/s</strong>", "60 users failed", "search ended: converged",
		`id="capacity-steps"`, "failed: p(95)&lt;100: 135 ms", "Capacity search: each step"} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

// TestHTMLChecksAndTitle: the checks and differences from the recording
// that responses failed are listed after the thresholds, and the title
// names the recording, the target and the run id.
func TestHTMLChecksAndTitle(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := stats.WriteHTML(&b, ciFixture(t)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		`<title>amp report · shop.amp → http://127.0.0.1:8080 · run 0123456789abcdef · `,
		`id="checks"`, `<code>status == 302</code>`, "observed 3 failed responses", "failed on POST /login (3)",
		`<code>like the recording: status</code>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if th, ck, bands := strings.Index(page, `id="thresholds"`), strings.Index(page, `id="checks"`), strings.Index(page, "Response time bands"); th < 0 || th > ck || ck > bands {
		t.Error("want the thresholds, then the checks, then the bands")
	}
}

// TestHTMLWideRunFits: a run with long endpoint names and a dozen status
// codes still fits 1280 px, every table within its box, sections open.
func TestHTMLWideRunFits(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{Start: t0})
	c.SetConfig(map[string]any{"recording": "a-rather-long-recording-name-from-production-2026-11-30.amp",
		"host": "https://staging-environment-with-a-long-name.internal.example.com:8443", stats.ConfigRunID: "0123456789abcdef"})
	r := c.NewRecorder()
	codes := []int{200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 429, 500, 502, 503, 0}
	for e := range 5 {
		ep := c.Endpoint("POST", "/api/v2/organisations/{id}/projects/{id}/deployments/{id}/logs"+strings.Repeat("x", e))
		for i, code := range codes {
			s := sample(time.Duration(i)*100*time.Millisecond, 0, time.Duration(i+e)*time.Millisecond, code, "")
			if code >= 500 || code == 0 {
				s.Failure = "HTTP 5xx or none, reason long enough to wrap: " + strings.Repeat("detail ", 8)
			}
			s.Bytes, s.BytesSent = 123456789, 98765432
			r.Record(ep, &s)
		}
	}
	r.Close()
	path := filepath.Join(t.TempDir(), "wide.html")
	if _, err := (stats.Files{HTML: path}).Write(c.Snapshot()); err != nil {
		t.Fatal(err)
	}
	actx, _ := testenv.Browser(t, 60*time.Second, chromedp.WindowSize(1280, 1000))
	problems := &testenv.PageProblems{FileOnly: true}
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(problems.Listen))
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible("svg.chart")); err != nil {
		t.Fatal(err)
	}
	type widths struct {
		Scroll int
		Cut    []string
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[widths](`document.querySelectorAll("details").forEach(d => d.open = true),
		({scroll: document.documentElement.scrollWidth,
		  cut: [...document.querySelectorAll(".scroll")].filter(d => d.scrollWidth > d.clientWidth).map(d => d.firstElementChild.id || d.firstElementChild.className)})`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Scroll > 1280 || len(got.Cut) > 0 {
		t.Errorf("at 1280 px the page is %d px wide and these tables scroll: %q", got.Scroll, got.Cut)
	}
	if list := problems.List(); len(list) > 0 {
		t.Errorf("page problems: %v", list)
	}
}
