package replay

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/stats"
)

// TestRunAbortOnFail: a failing threshold stops a run that would otherwise
// last until its context ends; without AbortOnFail the threshold only
// judges.
func TestRunAbortOnFail(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	rec := &capture.Recording{Sessions: []*capture.Session{session(ex("GET", srv.URL+"/", nil, "", 200, htmlType, "<title>Home</title>"))}}
	th, err := stats.ParseThreshold("rate<0.01")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig(srv.URL)
	cfg.Users = 2
	run, err := NewRun(t.Context(), rec, cfg, RunOptions{Thresholds: []stats.Threshold{th}, AbortOnFail: true, AbortEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run.Run(t.Context()) // no duration, no iterations: only the abort ends it
	if err != nil {
		t.Fatal(err)
	}
	if got := run.Aborted(); len(got) != 1 || got[0] != "rate<0.01" {
		t.Fatalf("aborted by %q", got)
	}
	if len(res.Thresholds) != 1 || res.Thresholds[0].Pass || res.Failures == 0 {
		t.Fatalf("thresholds %+v, %d failures", res.Thresholds, res.Failures)
	}

	cfg.Iterations = 3
	run, err = NewRun(t.Context(), rec, cfg, RunOptions{Thresholds: []stats.Threshold{th}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err = run.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if run.Aborted() != nil || res.Requests != 3 || res.Thresholds[0].Pass {
		t.Fatalf("without AbortOnFail: aborted %q, %d requests, thresholds %+v", run.Aborted(), res.Requests, res.Thresholds)
	}
}

// TestRunConnCap: more users than the open-file limit allows share
// connections, and the Run says so.
func TestRunConnCap(t *testing.T) {
	t.Parallel()
	rec := &capture.Recording{Sessions: []*capture.Session{session(ex("GET", "http://shop.example/", nil, "", 200, htmlType, "<title>Home</title>"))}}
	cfg := fastConfig("http://127.0.0.1:1")
	cfg.Users = 5000
	run, err := NewRun(t.Context(), rec, cfg, RunOptions{FileLimit: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if cc := run.ConnCap; cc == nil || cc.Users != 5000 || cc.Limit != 1024 || cc.PerTarget != 24 || run.Config().MaxConns != 24 {
		t.Fatalf("conn cap %+v, MaxConns %d", cc, run.Config().MaxConns)
	}
	if run, _ = NewRun(t.Context(), rec, cfg, RunOptions{}); run.ConnCap != nil || run.Config().MaxConns != 0 {
		t.Fatalf("without a file limit: %+v", run.ConnCap)
	}
}
