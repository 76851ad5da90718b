package web_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/web"
)

// TestBrowserSnapshot replays the demo site until it stops, then loads the
// page with ?snapshot=1 in headless Chromium: with no event stream, the page
// draws the current figures at once and says so (data-snapshot="ready"),
// so a screenshot after load shows them: the thresholds passing and
// failing, the status codes with the recording's missing article as 404,
// the sessions and bytes. A chart saves as a PNG of its pixels. The
// screenshot is saved to $TMPDIR/amp-web-snapshot.png.
func TestBrowserSnapshot(t *testing.T) {
	t.Parallel()
	var ths []stats.Threshold
	for _, e := range []string{"p(95)<5000", "rate<0.001"} {
		th, err := stats.ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	var checks []replay.Check
	for _, e := range []string{`GET /articles: status == 200`, `GET /login: body contains "no such text"`} {
		ck, err := replay.ParseCheck(e)
		if err != nil {
			t.Fatal(err)
		}
		checks = append(checks, ck)
	}
	var def replay.Config
	s, srv, _ := newTestServer(t, func(c *web.Config) {
		c.Defaults.Users, c.Defaults.Rate, c.Defaults.Iterations = 3, 10, 12
		c.Defaults.Checks = checks
		c.Thresholds = ths
		def = c.Defaults
	})
	if err := s.Start(def); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the replay did not end")
	}
	res := s.Result()
	if res.Requests == 0 || res.Statuses["404"] == 0 || res.Sessions.Total() != 12 {
		t.Fatalf("the run: %d requests, statuses %v, sessions %+v; want requests, 404s and 12 sessions", res.Requests, res.Statuses, res.Sessions)
	}

	actx, _ := testenv.Browser(t, 60*time.Second, chromedp.WindowSize(1280, 1400))
	problems := &testenv.PageProblems{}
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(problems.Listen))
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/?snapshot=1")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.documentElement.dataset.snapshot === "ready"`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the snapshot did not draw: %v", err)
	}
	type page struct {
		Requests, Sessions, Snapshot string
		Thresholds                   [][]string
		StatusHead                   []string
		Total                        []string
		Lines                        int
		Dialog                       bool
		Width                        int
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[page](`(() => {
		const cells = (tr) => [...tr.children].map((c) => c.textContent.trim());
		return {
			Requests: document.querySelector("#kpi-requests").textContent,
			Sessions: document.querySelector("#kpi-sessions-sub").textContent,
			Snapshot: document.documentElement.dataset.snapshot,
			Thresholds: [...document.querySelectorAll("#thresholds-table tbody tr")].map(cells),
			StatusHead: cells(document.querySelector("#statuses-table thead tr")),
			Total: cells(document.querySelector("#statuses-table tfoot tr")),
			Lines: [...document.querySelectorAll("#chart-rps svg path.series")].filter((p) => (p.getAttribute("d").match(/L/g) || []).length >= 1).length,
			Dialog: document.querySelector("#start-dialog").open,
			Width: document.documentElement.scrollWidth,
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d", res.Requests); strings.ReplaceAll(got.Requests, ",", "") != want {
		t.Errorf("the page shows %s requests, the run made %s", got.Requests, want)
	}
	if want := fmt.Sprintf("%d completed · %d failed", res.Sessions.Completed, res.Sessions.Failed); got.Sessions != want {
		t.Errorf("sessions %q, want %q", got.Sessions, want)
	}
	for _, row := range got.Thresholds[min(4, len(got.Thresholds)):] { // then the differences from the recording seen
		if !strings.HasPrefix(row[1], "like the recording: ") {
			t.Errorf("an unexpected row %q after the checks", row)
		}
	}
	if len(got.Thresholds) < 4 || got.Thresholds[0][0] != "pass" || got.Thresholds[0][1] != "p(95)<5000" ||
		got.Thresholds[1][0] != "FAIL" || got.Thresholds[1][1] != "rate<0.001" ||
		got.Thresholds[2][0] != "pass" || got.Thresholds[2][1] != "GET /articles: status == 200" ||
		got.Thresholds[3][0] != "FAIL" || got.Thresholds[3][1] != `GET /login: body contains "no such text"` || !strings.Contains(got.Thresholds[3][2], "failed on GET /login (") {
		t.Errorf("thresholds and checks shown %q, want p(95)<5000 passing, rate<0.001 failing, then the status check passing and the body check failing on GET /login", got.Thresholds)
	}
	i404 := -1
	for i, h := range got.StatusHead {
		if h == "404" {
			i404 = i
		}
	}
	if i404 < 0 || len(got.Total) != len(got.StatusHead) || got.Total[i404] != fmt.Sprint(res.Statuses["404"]) ||
		got.Total[len(got.Total)-1] != stats.FormatBytes(res.Bytes) || got.Total[len(got.Total)-2] != stats.FormatBytes(res.BytesSent) {
		t.Errorf("status table head %q, totals %q; want a 404 column with %d and bytes %s sent, %s received",
			got.StatusHead, got.Total, res.Statuses["404"], stats.FormatBytes(res.BytesSent), stats.FormatBytes(res.Bytes))
	}
	if got.Lines == 0 || got.Dialog || got.Width > 1280 {
		t.Errorf("snapshot: %d chart lines, start form open %v, width %d; want lines, no form, ≤ 1280 px", got.Lines, got.Dialog, got.Width)
	}

	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	// The FAIL of the threshold and the failing KPIs are red (#dc2626), the
	// pass green (#16a34a): the screenshot has both.
	if red, green := countColour(img, 0xdc, 0x26, 0x26), countColour(img, 0x16, 0xa3, 0x4a); red < 50 || green < 20 {
		t.Errorf("the screenshot has %d red and %d green pixels: are the thresholds drawn?", red, green)
	}
	path := filepath.Join(os.TempDir(), "amp-web-snapshot.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the snapshot: %s", path)

	// A chart as PNG: twice the chart's size, with its blue req/s line.
	dataURL, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.ampChartPNG("rps")`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	b64, ok := strings.CutPrefix(dataURL, "data:image/png;base64,")
	if !ok {
		t.Fatalf("the chart PNG is %.40q, want a PNG data URL", dataURL)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	chart, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if w := chart.Bounds().Dx(); w < 600 || countColour(chart, 0x25, 0x63, 0xeb) < 100 {
		t.Errorf("chart PNG %v wide with %d blue pixels: want the drawn chart at twice its size", w, countColour(chart, 0x25, 0x63, 0xeb))
	}
	if list := problems.List(); len(list) > 0 {
		t.Errorf("page problems: %v", list)
	}
}

// countColour counts the pixels of img close to the colour (r, g, b).
func countColour(img image.Image, r, g, b uint8) int {
	near := func(a uint32, b uint8) bool { return a+24 >= uint32(b) && a <= uint32(b)+24 }
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

// tokenRecording is one session whose first response gives a long token
// that 8 later requests, each to another endpoint, send back: a correlation
// with a long example and many uses.
func tokenRecording() *capture.Recording {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	token := strings.Repeat("f3a9c27b", 10)
	exs := []*capture.Exchange{{
		Session: "api-1", Start: t0, Duration: 5 * time.Millisecond,
		Request: capture.Request{Method: "POST", URL: "http://" + recordedHost + "/api/session", Proto: "HTTP/1.1"},
		Response: capture.Response{Status: 200, Proto: "HTTP/1.1", Header: capture.Headers{{Name: "Content-Type", Value: "application/json"}},
			Body: []byte(`{"access_token":"` + token + `"}`), BodySize: int64(20 + len(token))},
	}}
	for i := range 8 {
		exs = append(exs, &capture.Exchange{
			Session: "api-1", Start: t0.Add(time.Duration(i+1) * 100 * time.Millisecond), Duration: 5 * time.Millisecond,
			Request: capture.Request{Method: "GET", URL: fmt.Sprintf("http://%s/api/reports/quarterly-revenue-%d", recordedHost, i), Proto: "HTTP/1.1",
				Header: capture.Headers{{Name: "Authorization", Value: "Bearer " + token}}},
			Response: capture.Response{Status: 200, Proto: "HTTP/1.1", BodySize: 0},
		})
	}
	return &capture.Recording{Header: capture.FileHeader{Source: "test", Created: t0}, Sessions: capture.GroupSessions(exs)}
}

// TestBrowserCorrelationsLayout: a correlation with a long example and
// many uses leaves every column of the Correlations tab readable at
// 1280 px, where its "Found at" column used to wrap a character or two
// per line.
func TestBrowserCorrelationsLayout(t *testing.T) {
	t.Parallel()
	_, srv, _ := newTestServer(t, func(c *web.Config) { c.Recording = tokenRecording() })
	actx, _ := testenv.Browser(t, 60*time.Second, chromedp.WindowSize(1280, 900))
	problems := &testenv.PageProblems{}
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(problems.Listen))
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/?snapshot=1#correlations")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelectorAll("#corr-table tbody tr").length > 0`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("no correlation listed: %v", err)
	}
	type cell struct {
		Text  string
		Width float64
		Lines int // line boxes of its text
	}
	cells, err := chromedp.Run(bctx, chromedp.Evaluate[[]cell](`[...document.querySelectorAll("#corr-table tbody td")].map((c) => {
		const range = document.createRange();
		range.selectNodeContents(c);
		const tops = [...range.getClientRects()].map((r) => r.top).sort((a, b) => a - b);
		const lines = tops.filter((t, i) => i === 0 || t - tops[i - 1] > 6).length; // a pill's box and its text are one line
		return {Text: c.textContent, Width: c.getBoundingClientRect().width, Lines: lines};
	})`))
	if err != nil {
		t.Fatal(err)
	}
	var source *cell
	for i := range cells {
		if strings.Contains(cells[i].Text, "access_token") && strings.Contains(cells[i].Text, "JSON") {
			source = &cells[i]
		}
	}
	if source == nil {
		t.Fatalf("no \"Found at\" cell naming the JSON field among %+v", cells)
	}
	// 13 px monospace: a readable column is 20 characters or more wide, and
	// "JSON $.access_token" fits on a line or two.
	if source.Width < 150 || source.Lines > 2 {
		t.Errorf("the \"Found at\" cell %q is %.0f px wide on %d lines: squeezed", source.Text, source.Width, source.Lines)
	}
	for _, c := range cells {
		if c.Lines > 10 {
			t.Errorf("the cell %q takes %d lines", c.Text, c.Lines)
		}
	}
	width, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 1280 {
		t.Errorf("the page is %d px wide at 1280 (%v)", width, err)
	}
	if list := problems.List(); len(list) > 0 {
		t.Errorf("page problems: %v", list)
	}
}
