package stats_test

import (
	"fmt"
	"time"

	"github.com/ampload/amp/stats"
)

// A worker goroutine records each finished task with its own Recorder; a
// snapshot merges everything at any moment.
func ExampleCollector() {
	c := stats.NewCollector(stats.Config{})
	ep := c.Endpoint("GET", "/articles/{id}")
	rec := c.NewRecorder() // one per goroutine
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for i := range 100 {
		sent := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		s := stats.Sample{
			Intended: sent.Add(-2 * time.Millisecond), // the plan wanted it 2 ms earlier
			Sent:     sent,
			Done:     sent.Add(time.Duration(10+i) * time.Millisecond),
			Status:   200,
		}
		if i%25 == 0 {
			s.Status, s.Failure = 503, "HTTP 503"
		}
		rec.Record(ep, &s)
	}
	r := c.Snapshot()
	fmt.Printf("%d requests, %d failures, p50 %.1f ms, p99 %.1f ms (service p99 %.1f ms)\n",
		r.Requests, r.Failures, r.Latency.P50, r.Latency.P99, r.Service.P99)
	// Output: 100 requests, 4 failures, p50 61.0 ms, p99 110.0 ms (service p99 108.0 ms)
}

func ExampleNamer() {
	n, err := stats.NewNamer([]string{`^/search\?=/search`})
	if err != nil {
		panic(err)
	}
	for _, u := range []string{
		"https://shop.example/articles/123?ref=home",
		"/users/123e4567-e89b-12d3-a456-426614174000/avatar.png",
		"/search?q=shoes",
	} {
		fmt.Println(n.Name("GET", u))
	}
	// Output:
	// /articles/{id}
	// /users/{uuid}/avatar.png
	// /search
}

func ExampleParseThreshold() {
	for _, expr := range []string{"GET /articles/{id}: p(99)<800", "p95<500"} {
		th, err := stats.ParseThreshold(expr)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s %s: p(%g) %s %g ms\n", th.Method, th.Name, th.P, th.Op, th.Value)
	}
	// Output:
	// GET /articles/{id}: p(99) < 800 ms
	// invalid threshold "p95<500": unknown aggregation "p95" (did you mean p(95)?); want avg, min, max, med, p(N), rate, rps, count, failures, differs or failed_checks
}

// Results of the processes of one distributed run merge exactly.
func ExampleMerge() {
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	part := func(n int, d time.Duration) *stats.Result {
		c := stats.NewCollector(stats.Config{Start: t0})
		ep := c.Endpoint("GET", "/")
		r := c.NewRecorder()
		for i := range n {
			s := stats.Sample{Sent: t0.Add(time.Duration(i) * time.Millisecond), Status: 200}
			s.Done = s.Sent.Add(d)
			r.Record(ep, &s)
		}
		return c.Snapshot()
	}
	all, err := stats.Merge(part(90, 10*time.Millisecond), part(10, 500*time.Millisecond))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d requests, p50 %g ms, p95 %g ms\n", all.Requests, all.Latency.P50, all.Latency.P95)
	// Output: 100 requests, p50 10.007 ms, p95 500 ms
}
