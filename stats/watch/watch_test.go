package watch_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/stats/prom"
	"github.com/ampload/amp/stats/watch"
)

// shop is a recording of one session of two requests, with recorded
// durations.
func shop() *capture.Recording {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	ex := func(off time.Duration, path string) *capture.Exchange {
		return &capture.Exchange{Start: t0.Add(off), Duration: time.Millisecond,
			Request:  capture.Request{Method: "GET", URL: "http://shop.example" + path},
			Response: capture.Response{Status: 200, Body: []byte("ok")}}
	}
	return &capture.Recording{Sessions: []*capture.Session{{ID: "1", Exchanges: []*capture.Exchange{
		ex(0, "/search"), ex(5*time.Millisecond, "/cart"),
	}}}}
}

// pathOf names an endpoint by its URL's path.
func pathOf(_, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return u.Path
}

// TestWatchThreeShards is issue 18's acceptance for the coordinator view:
// three shards of one arrival-rate run replay against a loopback server,
// each serving its own /metrics; the watch merges them while they run and
// afterwards. Its final view counts exactly the requests of the merged
// results and shows their req/s within 2 %; while running, its current
// rate is that of the whole run; it ends once the shards stop answering.
func TestWatchThreeShards(t *testing.T) {
	var hits atomic.Int64
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1)%10 == 0 && r.URL.Path == "/cart" {
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer site.Close()

	const shards = 3
	startAt := time.Now().Add(300 * time.Millisecond)
	var urls []string
	var servers []*httptest.Server
	results := make([]*stats.Result, shards)
	var wg sync.WaitGroup
	for i := range shards {
		cfg := replay.DefaultConfig()
		cfg.Host, cfg.Think = site.URL, replay.Think{Mode: replay.ThinkNone}
		cfg.ArrivalRate, cfg.MaxUsers, cfg.Duration = 150, 60, 3*time.Second
		cfg.Shard, cfg.Shards, cfg.StartAt = i, shards, startAt
		run, err := replay.NewRun(t.Context(), shop(), cfg, replay.RunOptions{RunID: "watched", Name: pathOf})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(prom.NewHandler(run.Collector, prom.Options{TargetUsers: func() int { return run.Player.Status().Target }}))
		servers = append(servers, srv)
		urls = append(urls, srv.URL+"/metrics")
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := run.Run(t.Context())
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		}()
	}
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	runsDone := make(chan time.Time)
	go func() { wg.Wait(); runsDone <- time.Now() }()

	views := make(chan *watch.View, 1000)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sc := &watch.Scraper{URLs: urls}
	final := make(chan *watch.View, 1)
	go func() {
		final <- sc.Watch(ctx, 200*time.Millisecond, func(v, _ *watch.View) { views <- v })
	}()

	var seen []*watch.View
	var ended time.Time
	for ended.IsZero() || len(seen) == 0 || !seen[len(seen)-1].At.After(ended.Add(300*time.Millisecond)) {
		select {
		case v := <-views:
			seen = append(seen, v)
		case ended = <-runsDone:
		case <-ctx.Done():
			t.Fatal("the runs or the watch did not end")
		}
	}
	for _, s := range servers {
		s.Close() // the shards' lingers are over: the watch ends
	}
	var last *watch.View
	select {
	case last = <-final:
	case <-time.After(10 * time.Second):
		t.Fatal("the watch did not end when the shards stopped answering")
	}
	merged, err := stats.Merge(results...)
	if err != nil {
		t.Fatal(err)
	}
	if last.Up() != shards || last.Requests != float64(merged.Requests) || last.Failures != float64(merged.Failures) {
		t.Fatalf("final view: %d shards up, %.0f requests, %.0f failed; merged result: %d, %d", last.Up(), last.Requests, last.Failures,
			merged.Requests, merged.Failures)
	}
	var out bytes.Buffer
	if err := watch.Render(&out, last, nil); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`requests (\d+) · ([\d.]+)/s`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no requests line in:\n%s", out.String())
	}
	shown, _ := strconv.ParseFloat(m[2], 64)
	if rel := math.Abs(shown-merged.RPS) / merged.RPS; rel > 0.02 || merged.Requests == 0 {
		t.Errorf("the view shows %.1f req/s, the merged result %.1f: %.2f %% off, want within 2 %%\n%s", shown, merged.RPS, rel*100, out.String())
	}
	t.Logf("merged %d requests, %.1f req/s; the view shows:\n%s", merged.Requests, merged.RPS, out.String())
	checkLiveRate(t, seen, ended, last)
	if p95, want := last.Latency.Quantile(0.95), merged.Latency.P95/1000; math.Abs(p95-want)/want > 0.02 {
		t.Errorf("the view's p95 %.6f s, the merged result's %.6f s", p95, want)
	}
}

// checkLiveRate: the views taken while the shards ran were live: their
// counts grow between the first that counted requests and the last before
// the end, stay under the final count, and the current rate between them is
// positive. (How close it is to the run's average depends on the machine's
// load: a loaded machine finishes tasks in bursts, so the test logs it
// rather than bounding it.)
func checkLiveRate(t *testing.T, views []*watch.View, ended time.Time, final *watch.View) {
	t.Helper()
	var from, to *watch.View
	for _, v := range views {
		if v.At.After(ended) || v.Requests == 0 {
			continue
		}
		if from == nil {
			from = v
		}
		to = v
	}
	if from == nil || to == from {
		t.Fatalf("no two views with requests while the shards ran (%d views)", len(views))
	}
	r := to.RatesSince(from)
	if !(from.Requests < to.Requests && to.Requests < final.Requests) || r.Requests <= 0 {
		t.Errorf("live views: %.0f then %.0f requests (final %.0f), %.1f req/s", from.Requests, to.Requests, final.Requests, r.Requests)
	}
	t.Logf("live rate %.1f req/s over %.2f s; the run's average %.1f", r.Requests, r.Seconds, final.RPS())
	if from.TargetUsers != 60 || from.Up() != 3 || len(to.Endpoints) != 2 {
		t.Errorf("mid-run views: %v target users, %d shards up, endpoints %+v; want 60, 3, GET /cart and /search", from.TargetUsers, from.Up(), to.Endpoints)
	}
}
