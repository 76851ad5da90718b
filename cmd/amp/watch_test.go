package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/stats/prom"
	"github.com/ampload/amp/stats/watch"
)

// TestReportWatch: amp report watch reads the shards from a file, shows
// their merged figures live, and ends with the last figures once the
// shards stop answering.
func TestReportWatch(t *testing.T) {
	c := stats.NewCollector(stats.Config{})
	c.SetConfig(map[string]any{stats.ConfigRunID: "w1"})
	ep := c.Endpoint("GET", "/a")
	t0 := time.Now().Add(-time.Second)
	rec := c.NewRecorder()
	for range 3 {
		rec.Record(ep, &stats.Sample{Sent: t0, Done: t0.Add(5 * time.Millisecond), Status: 200})
	}
	rec.Close()
	a, b := httptest.NewServer(prom.Handler(c)), httptest.NewServer(prom.Handler(c))
	list := filepath.Join(t.TempDir(), "shards.txt")
	if err := os.WriteFile(list, []byte("# two shards\n"+a.URL+"/metrics\n"+b.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(t.Context(), []string{"amp", "report", "watch", list, "--interval", "50ms"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "2/2 shards up · run w1") {
		if time.Now().After(deadline) {
			a.Close()
			b.Close()
			t.Fatalf("no view of both shards: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.Close()
	b.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watch did not end when the shards stopped answering")
	}
	out := stdout.String()
	final := out[strings.LastIndex(out, "the shards stopped answering"):]
	for _, want := range []string{"2/2 shards up", "requests 6 ·", "GET /a"} {
		if !strings.Contains(final, want) {
			t.Errorf("the last view lacks %q:\n%s", want, final)
		}
	}
}

// TestReportWatchWeb: with --web the view is in the browser too, and stays
// there with the last figures after the shards stop answering, until Ctrl-C.
func TestReportWatchWeb(t *testing.T) {
	c := stats.NewCollector(stats.Config{})
	ep := c.Endpoint("GET", "/b")
	t0 := time.Now().Add(-time.Second)
	c.NewRecorder().Record(ep, &stats.Sample{Sent: t0, Done: t0.Add(time.Millisecond), Status: 200})
	shard := httptest.NewServer(prom.Handler(c))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"amp", "report", "watch", shard.URL, "--interval", "50ms", "--web", "127.0.0.1:0"}, &stdout, &stderr)
	}()
	page := regexp.MustCompile(`the watch in the browser on (http://127\.0\.0\.1:\d+/)`)
	deadline := time.Now().Add(10 * time.Second)
	for page.FindStringSubmatch(stdout.String()) == nil || !strings.Contains(stdout.String(), "1/1 shards up") {
		if time.Now().After(deadline) {
			shard.Close()
			t.Fatalf("no page address or view: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	shard.Close()
	for !strings.Contains(stdout.String(), "the page keeps them until Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("the watch did not end: %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get(page.FindStringSubmatch(stdout.String())[1] + "view.json")
	if err != nil {
		t.Fatal(err)
	}
	var s watch.Snapshot
	err = json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if err != nil || !s.Done || s.Requests != 1 || s.ShardsUp != 1 {
		t.Fatalf("view.json after the end: %+v %v", s, err)
	}
	cancel() // Ctrl-C
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ctrl-C did not end the watch")
	}
}

func TestReportWatchBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("10.0.0.1:9464\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{bad}, "amp: report watch: " + bad + ":1: \"10.0.0.1:9464\": want an http:// or https:// URL of a shard's /metrics\n"},
		{nil, "amp: report watch: want the /metrics URL of each shard (or files listing them), got none\n"},
		{[]string{"http://127.0.0.1:1", "--interval", "0s"}, "amp: report watch: --interval 0s: want more than 0\n"},
	} {
		var stdout, stderr syncBuffer
		code := run(t.Context(), append([]string{"amp", "report", "watch"}, c.args...), &stdout, &stderr)
		if code != 1 || stderr.String() != c.want {
			t.Errorf("%q: exit %d, stderr %q; want 1, %q", c.args, code, stderr.String(), c.want)
		}
	}
}
