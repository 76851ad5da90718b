package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ampload/amp/capture"
	"golang.org/x/net/html"
)

// TestDemo runs amp demo with a short replay: one recorded session with the
// scripted flow, more than 1000 replayed requests without a failure, and an
// HTML report that parses.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	rec, report, result := filepath.Join(dir, "demo.amp"), filepath.Join(dir, "demo-report.html"), filepath.Join(dir, "demo.json")
	r := runAmp(t, "demo", "--duration", "6s", "--users", "100", "--rate", "100", "--pause", "20ms", "--latency", "2ms", "--capacity", "50",
		"-o", rec, "--html", report, "--json", result, "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	recording, err := capture.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(recording.Sessions) != 1 {
		t.Fatalf("%d sessions, want 1", len(recording.Sessions))
	}
	var flow []string
	for _, e := range recording.Sessions[0].Exchanges {
		path := e.Request.Target()
		if strings.HasPrefix(path, "/articles/") && path != "/articles/new" {
			path = "/articles/ID"
		}
		if strings.HasPrefix(path, "/api/articles/") {
			path = strings.Replace(path, path[len("/api/articles/"):len("/api/articles/")+16], "ID", 1)
		}
		flow = append(flow, e.Request.Method+" "+path)
	}
	want := "GET / · GET /static/style.css · GET /login · POST /login · GET /articles · GET /articles/new · POST /articles · " +
		"GET /articles/ID · GET /articles/ID · GET /api/articles/ID · POST /api/articles/ID/comments · GET /"
	if got := strings.Join(flow, " · "); got != want {
		t.Fatalf("recorded flow\n got %s\nwant %s", got, want)
	}
	for _, want := range []string{"3 correlated values", "csrf_token", "header X-Csrf-Token", "Slowdown vs the recording", "report: " + report} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	var res struct{ Requests, Failures int64 }
	data, err := os.ReadFile(result)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if res.Requests <= 1000 || res.Failures != 0 {
		t.Fatalf("replay: %d requests, %d failures; want > 1000 and 0", res.Requests, res.Failures)
	}

	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var svgs int
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "svg" {
			svgs++
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if svgs == 0 {
		t.Fatal("the HTML report has no chart")
	}
}
