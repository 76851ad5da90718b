package watch_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/stats/prom"
	"github.com/ampload/amp/stats/watch"
	"github.com/chromedp/chromedp"
)

// liveOf returns a Live holding two scrapes of a shard with an endpoint
// named like an attack on the page, and the shard's collector.
func liveOf(t *testing.T) *watch.Live {
	t.Helper()
	c := stats.NewCollector(stats.Config{})
	c.SetConfig(map[string]any{stats.ConfigRunID: "web1"})
	ep := c.Endpoint("GET", `/<img src=x onerror="document.title='owned'">`)
	rec := c.NewRecorder()
	t0 := time.Now().Add(-2 * time.Second)
	put := func(n int, status int, failure string) {
		for range n {
			rec.Record(ep, &stats.Sample{Sent: t0, Done: t0.Add(30 * time.Millisecond), Status: status, Failure: failure})
		}
		rec.Flush()
	}
	srv := httptest.NewServer(prom.Handler(c))
	defer srv.Close()
	sc := &watch.Scraper{URLs: []string{srv.URL}}
	live := &watch.Live{}
	put(4, 200, "")
	first := sc.Scrape(t.Context())
	live.Update(first, nil)
	put(2, 500, "HTTP 500")
	live.Update(sc.Scrape(t.Context()), first)
	return live
}

// TestLiveJSON: /view.json holds the merged figures and the history; the
// page is one file with no external URL.
func TestLiveJSON(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(liveOf(t).Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/view.json")
	if err != nil {
		t.Fatal(err)
	}
	var s watch.Snapshot
	err = json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests != 6 || s.Failures != 2 || s.ShardsUp != 1 || len(s.History) != 2 || len(s.Endpoints) != 1 ||
		s.Reasons["HTTP 500"] != 2 || s.Runs[0] != "web1" || s.P95MS < 29 || s.P95MS > 31 {
		t.Fatalf("snapshot %+v", s)
	}
	resp, err = http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(page), "<title>amp watch</title>") {
		t.Fatalf("page: %s %.200s", resp.Header.Get("Content-Type"), page)
	}
	if n := strings.Count(string(page), "http"); n != strings.Count(string(page), "http://www.w3.org/2000/svg") {
		t.Error("the page names an external URL")
	}
}

// TestLivePageInChromium: the page loaded in headless Chromium shows the
// current figures without a console error, draws its charts, and shows an
// endpoint's name as text, not as HTML.
func TestLivePageInChromium(t *testing.T) {
	srv := httptest.NewServer(liveOf(t).Handler())
	defer srv.Close()
	actx, _ := testenv.Browser(t, 60*time.Second, chromedp.WindowSize(1280, 900))
	problems := &testenv.PageProblems{}
	bctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(problems.Listen))
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById("requests").textContent === "6"`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("the page did not show 6 requests: %v", err)
	}
	str := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	num := func(expr string) int {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	shards, endpoint, title := str(`document.getElementById("shards").textContent`), str(`document.querySelector("#eps td").textContent`), str(`document.title`)
	imgs, points := num(`document.querySelectorAll("img").length`), num(`document.querySelector("#c-rps polyline").getAttribute("points").split(" ").length`)
	width := num(`document.documentElement.scrollWidth`)
	if shards != "1/1 shards up" || !strings.HasPrefix(endpoint, "GET /<img") || imgs != 0 || title != "amp watch" || points != 2 || width > 1280 {
		t.Errorf("shards %q, endpoint %q, %d img, title %q, %d chart points, width %d", shards, endpoint, imgs, title, points, width)
	}
	if p := problems.List(); len(p) > 0 {
		t.Errorf("page problems: %v", p)
	}
}
