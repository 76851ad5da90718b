package stats_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

func TestWindowPercentiles(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{})
	ep := c.Endpoint("GET", "/")
	rec := c.NewRecorder()
	base := time.Unix(1_700_000_000, 0)
	// Second 0: 100 tasks of 10 ms; second 1: 100 of 100 ms; second 2: 100
	// of 1 s, which count in second 3, when they are done.
	for sec, d := range []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second} {
		for i := range 100 {
			sent := base.Add(time.Duration(sec)*time.Second + time.Duration(i)*time.Millisecond)
			rec.Record(ep, &stats.Sample{Sent: sent, Done: sent.Add(d), Status: 200})
		}
	}
	rec.Flush()
	res := c.Snapshot()
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := stats.DecodeResult(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t0 := base.Unix()
	for name, r := range map[string]*stats.Result{"snapshot": res, "read back": back} {
		got := r.WindowPercentiles(t0, t0+2, 50, 95, 100) // seconds 0 and 1 only
		if got[0] < 9.9 || got[0] > 10.1 || got[1] < 99 || got[1] > 101 {
			t.Errorf("%s, seconds 0–1: p50 %v, p95 %v; want 10 ms and 100 ms", name, got[0], got[1])
		}
		if got[2] != 100 {
			t.Errorf("%s, seconds 0–1: p100 %v, want the exact maximum 100 ms", name, got[2])
		}
		if got := r.WindowPercentiles(t0+2, t0+4, 50); got[0] < 990 || got[0] > 1010 {
			t.Errorf("%s, seconds 2–3: p50 %v, want 1000 ms", name, got[0])
		}
		if got := r.WindowPercentiles(t0+10, t0+20, 50, 95); got[0] != 0 || got[1] != 0 {
			t.Errorf("%s, an empty window: %v, want zeros", name, got)
		}
	}
	if got := res.WindowPercentiles(t0, t0+4); len(got) != 0 {
		t.Errorf("no percentiles asked: %v", got)
	}
}
