package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"

	"github.com/ampload/amp/demosite"
)

// TestReplayValidate: --validate replays each distinct session once and
// exits 0 when everything matches, 99 when a response differs; the pass runs
// before a load unless --no-validate; --save-rules and --rules round-trip.
func TestReplayValidate(t *testing.T) {
	srv := httptest.NewServer(demosite.New(demosite.Config{}))
	defer srv.Close()
	rec := writeDemoRecording(t)

	r := runAmp(t, "replay", rec, "--host", srv.URL, "--validate")
	if r.code != 0 || !strings.Contains(r.stdout, "validation: 2 distinct sessions replayed once (5 requests)") || !strings.Contains(r.stdout, "0 requests differ") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "replaying ") {
		t.Errorf("--validate started the load:\n%s", r.stdout)
	}

	// A target that answers every request with 404 differs everywhere.
	gone := httptest.NewServer(http.NotFoundHandler())
	defer gone.Close()
	r = runAmp(t, "replay", rec, "--host", gone.URL, "--validate")
	if r.code != 99 || !strings.Contains(r.stdout, "differs  #1 GET /: HTTP 404 (recorded 200)") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}

	// Before a load, by default.
	r = runAmp(t, "replay", rec, "--host", srv.URL, "--iterations", "4", "--think", "none", "--quiet")
	if r.code != 0 || !strings.Contains(r.stdout, "validation: 2 distinct sessions") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = runAmp(t, "replay", rec, "--host", srv.URL, "--iterations", "4", "--think", "none", "--quiet", "--no-validate")
	if r.code != 0 || strings.Contains(r.stdout, "validation:") {
		t.Fatalf("--no-validate: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}

	rules := filepath.Join(t.TempDir(), "rules.json")
	r = runAmp(t, "replay", rec, "--host", srv.URL, "--validate", "--save-rules", rules)
	if r.code != 0 {
		t.Fatalf("--save-rules: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(rules); err != nil {
		t.Fatal(err)
	}
	r = runAmp(t, "replay", rec, "--host", srv.URL, "--iterations", "2", "--think", "none", "--quiet", "--rules", rules)
	if r.code != 0 || !strings.Contains(r.stdout, "rules: "+rules+" added 0 rules") || strings.Contains(r.stdout, "validation:") {
		t.Fatalf("--rules: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, bad := range [][]string{
		{"--validate", "--no-validate"},
		{"--validate", "--dry-run"},
		{"--rules", rules, "--save-rules", rules + ".2"},
		{"--save-rules", rules}, // exists
		{"--rules", rec},        // not a rules file
	} {
		args := append([]string{"replay", rec, "--host", srv.URL}, bad...)
		r = runAmp(t, args...)
		if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q", bad, r.code, r.stderr)
		}
	}
}

// TestSessionsClientValues: a value the client made shows in
// --correlations as made afresh, with where it recurs.
func TestSessionsClientValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.amp")
	w, err := capture.Create(path, capture.FileHeader{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i, u := range []string{"/pages/new?title=Note-3f2b8c1e-9a4d-4e7b-8f1a-2c3d4e5f6a7b", "/pages/Note-3f2b8c1e-9a4d-4e7b-8f1a-2c3d4e5f6a7b"} {
		e := &capture.Exchange{Session: "1", Start: t0.Add(time.Duration(i) * time.Second), Duration: time.Millisecond,
			Request:  capture.Request{Method: "GET", URL: "http://wiki.example" + u, Proto: "HTTP/1.1"},
			Response: capture.Response{Status: 200, Proto: "HTTP/1.1"}}
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := runAmp(t, "sessions", path, "--correlations")
	if r.code != 0 || !strings.Contains(r.stdout, `"3f2b8c1e-9a4d-4e7b-8f…" made by the client (uuid): fresh per user and session`) ||
		!strings.Contains(r.stdout, "sent in #2 GET /pages/Note-3f2b8c1e-9a4d-4e7b-8f1a-2c3d4e5f6a7b: text") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = runAmp(t, "replay", path, "--host", "http://127.0.0.1:1", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "title                  made by the client (uuid): fresh per user and session  (1 session, 2 uses)") {
		t.Fatalf("--dry-run: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
}
