package watch_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/stats/prom"
	"github.com/ampload/amp/stats/watch"
)

// Two shards' /metrics, scraped and merged into one view.
func ExampleScraper() {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	var urls []string
	for shard := range 2 {
		c := stats.NewCollector(stats.Config{})
		c.SetConfig(map[string]any{stats.ConfigRunID: "4f1c"})
		ep, rec := c.Endpoint("GET", "/"), c.NewRecorder()
		for i := range 3 + shard {
			sent := t0.Add(time.Duration(i) * 100 * time.Millisecond)
			rec.Record(ep, &stats.Sample{Sent: sent, Done: sent.Add(20 * time.Millisecond), Status: 200})
		}
		rec.Close()
		srv := httptest.NewServer(prom.Handler(c))
		defer srv.Close()
		urls = append(urls, srv.URL+"/metrics")
	}
	v := (&watch.Scraper{URLs: urls}).Scrape(context.Background())
	fmt.Printf("%d shards up, run %s: %.0f requests in %v, %.1f/s\n", v.Up(), v.Runs[0], v.Requests, v.Duration(), v.RPS())
	// Output: 2 shards up, run 4f1c: 7 requests in 320ms, 21.9/s
}
