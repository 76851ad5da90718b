package replay

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/stats"
)

// newDemo starts a demo site on loopback.
func newDemo(t testing.TB, cfg demosite.Config) (*httptest.Server, *demosite.Site) {
	t.Helper()
	site := demosite.New(cfg)
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	return srv, site
}

// recordFlow drives the blog flow of the demo site at base with a net/http
// client (demosite.Browse: login, new article form, create, view, API read,
// API comment, the counter) and returns it as a one-session recording.
// extra, when set, adds a request to another host (an analytics beacon).
func recordFlow(t testing.TB, base string, extra string) *capture.Recording {
	t.Helper()
	rt := &testenv.RecordingTransport{}
	client := &http.Client{Transport: rt}
	if _, err := demosite.Browse(context.Background(), client, base, 0); err != nil {
		t.Fatal(err)
	}
	if extra != "" {
		resp, err := client.Get(extra)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	return rt.Recording()
}

// runReplay runs rec with cfg (NewRun, without the validation pass) and
// returns the result.
func runReplay(t testing.TB, rec *capture.Recording, cfg Config) (*stats.Result, *Player) {
	t.Helper()
	namer, err := stats.NewNamer(nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := NewRun(t.Context(), rec, cfg, RunOptions{Name: namer.Name})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return res, run.Player
}

// describeFailures lists a result's failures by endpoint and reason.
func describeFailures(r *stats.Result) string {
	var b strings.Builder
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "%s %s: %s ×%d; ", e.Method, e.Name, e.Reason, e.Count)
	}
	return b.String()
}

// runReplayPlan replays a prepared plan into a fresh collector.
func runReplayPlan(t testing.TB, plan *Plan, cfg Config) (*stats.Result, *Player) {
	t.Helper()
	col := stats.NewCollector(stats.Config{})
	p, err := NewPlayer(plan, cfg, col)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	return col.Snapshot(), p
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
