package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
)

// TestReplayOnDemandSavesFacts: the first replay of a recording without
// the replay's facts finds them and saves them beside it; amp index then
// finds them there and surveys nothing, and a replay from that index sends
// every recorded request.
func TestReplayOnDemandSavesFacts(t *testing.T) {
	path := writeDemoRecording(t)
	side := capture.SidecarPath(path)
	if _, err := os.Stat(side); err == nil {
		t.Fatal("a new recording has an index beside it")
	}
	r := runAmp(t, "replay", path, "--host", "http://127.0.0.1:1", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "2 sessions, 5 requests") {
		t.Fatalf("dry run: %+v", r)
	}
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	facts := replay.FileFacts(f)
	f.Close()
	if facts == nil || facts.Tasks != 5 || len(facts.Shapes) != 2 {
		t.Fatalf("facts saved by the dry run: %+v", facts)
	}
	r = runAmp(t, "index", path)
	if r.code != 0 || strings.Contains(r.stdout, "facts") || !strings.Contains(r.stdout, "is intact") {
		t.Fatalf("index after the replay: %+v", r)
	}

	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { n.Add(1) }))
	defer srv.Close()
	r = runAmp(t, "replay", path, "--host", srv.URL, "--users", "2", "--iterations", "2", "--think", "none", "-q", "--no-validate", "--checks", "status")
	if r.code != 0 || n.Load() != 5 {
		t.Fatalf("replay from the saved facts: %d requests; %+v", n.Load(), r)
	}
}

// TestIndexSavesFacts: amp index surveys a recording that has no facts and
// says so.
func TestIndexSavesFacts(t *testing.T) {
	path := writeDemoRecording(t)
	r := runAmp(t, "index", path)
	if r.code != 0 || !strings.Contains(r.stdout, "the replay's facts (") || !strings.Contains(r.stdout, "2 session shapes") {
		t.Fatalf("index: %+v", r)
	}
}
