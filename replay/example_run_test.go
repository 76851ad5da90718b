package replay_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
)

// A recorded login replayed as two users, four sessions in all: each user
// logs in with its own session cookie, which the server made afresh, and the
// run's thresholds judge the result.
func ExampleNewRun() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: fmt.Sprint(time.Now().UnixNano())})
			http.Redirect(w, r, "/account", http.StatusSeeOther)
		case "/account":
			if _, err := r.Cookie("sid"); err != nil {
				http.Error(w, "log in first", http.StatusForbidden)
				return
			}
			fmt.Fprint(w, "<title>Your account</title>")
		}
	}))
	defer site.Close()

	// What amp record, import or capture would have written.
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	html := capture.Headers{{Name: "Content-Type", Value: "text/html"}}
	rec := &capture.Recording{Sessions: []*capture.Session{{ID: "1", Exchanges: []*capture.Exchange{
		{Start: t0, Duration: 5 * time.Millisecond,
			Request: capture.Request{Method: "POST", URL: "http://shop.example/login", Body: []byte("user=ann")},
			Response: capture.Response{Status: 303, Header: capture.Headers{
				{Name: "Location", Value: "/account"}, {Name: "Set-Cookie", Value: "sid=1764579600000000000"}}}},
		{Start: t0.Add(time.Second), Duration: 5 * time.Millisecond,
			Request: capture.Request{Method: "GET", URL: "http://shop.example/account",
				Header: capture.Headers{{Name: "Cookie", Value: "sid=1764579600000000000"}}},
			Response: capture.Response{Status: 200, Header: html, Body: []byte("<title>Your account</title>")}},
	}}}}

	cfg := replay.DefaultConfig()
	cfg.Host, cfg.Users, cfg.Iterations, cfg.Think = site.URL, 2, 4, replay.Think{Mode: replay.ThinkNone}
	rate, _ := stats.ParseThreshold("rate<0.01")
	run, err := replay.NewRun(context.Background(), rec, cfg, replay.RunOptions{Thresholds: []stats.Threshold{rate}})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := run.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d requests, %d failed\n", res.Requests, res.Failures)
	for _, th := range res.Thresholds {
		fmt.Printf("%s: pass %v\n", th.Expr, th.Pass)
	}
	// Output:
	// 8 requests, 0 failed
	// rate<0.01: pass true
}
