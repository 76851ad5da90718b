package stats_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", name, got)
	}
}

// fixtureCollector records a small deterministic run of 4 seconds: three
// endpoints, failures of two kinds, a recording to compare with, skipped
// tasks and a ramp of users.
func fixtureCollector() *stats.Collector {
	clock := t0
	c := stats.NewCollector(stats.Config{Start: t0, Now: func() time.Time { return clock }})
	c.SetConfig(map[string]any{"target": "http://127.0.0.1:8080", "users": 10, "recording": "shop.amp"})
	home := c.Endpoint("GET", "/")
	art := c.Endpoint("GET", "/articles/{id}")
	login := c.Endpoint("POST", "/login")
	c.SetRecorded(art, []time.Duration{8 * time.Millisecond, 10 * time.Millisecond, 12 * time.Millisecond, 30 * time.Millisecond})
	c.AddSkipped("unmapped host cdn.example.com", 7)
	r := c.NewRecorder()
	for sec := 0; sec < 4; sec++ {
		clock = t0.Add(time.Duration(sec) * time.Second)
		c.SetUsers(5 * (sec + 1))
		for i := 0; i < 20; i++ {
			off := time.Duration(sec)*time.Second + time.Duration(i)*40*time.Millisecond
			d := time.Duration(5+i) * time.Millisecond
			s := sample(off, 0, d, 200, "")
			s.Bytes, s.BytesSent = int64(1000+i), 120
			r.Record(home, &s)
			s = sample(off+time.Millisecond, time.Duration(i%3)*time.Millisecond, 2*d, 200, "")
			s.BytesSent = 150
			failed := i == 7
			if failed {
				s.Status, s.Failure = 500, "HTTP 500"
			}
			r.Record(art, &s)
			if i%5 == 0 {
				s = sample(off+2*time.Millisecond, 0, 40*time.Millisecond, 302, "")
				s.BytesSent = 300
				if sec == 3 {
					s.Status, s.Failure, s.BytesSent = 0, "connection refused", 0
					failed = true
				}
				r.Record(login, &s)
			}
			c.SessionDone(failed) // each i is one session: 80, 8 of them failed
		}
	}
	r.Flush()
	return c
}

func fixture(t *testing.T) *stats.Result {
	t.Helper()
	r := fixtureCollector().Snapshot()
	var ths []stats.Threshold
	for _, e := range []string{"p(95)<100", "rate<0.01", "GET /articles/{id}: p(99)<30"} {
		th, err := stats.ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	r.CheckThresholds(ths)
	return r
}
