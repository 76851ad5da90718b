package replay

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestArrivalTime(t *testing.T) {
	t.Parallel()
	at := func(rate float64, stages []Stage, k int) time.Duration {
		d, ok := ArrivalTime(rate, stages, k)
		if !ok {
			return -1
		}
		return d
	}
	if got := at(20, nil, 0); got != 0 {
		t.Errorf("first arrival at %v", got)
	}
	if got := at(20, nil, 200); got != 10*time.Second {
		t.Errorf("arrival 200 at 20/s: %v, want 10s", got)
	}
	// A ramp from 0 to 10/s over 10 s brings 50 arrivals; then 10/s holds.
	ramp := []Stage{{Duration: 10 * time.Second, Users: 10}}
	if got := at(0, ramp, 50); math.Abs(got.Seconds()-10) > 1e-6 {
		t.Errorf("arrival 50 of the ramp at %v, want 10s", got)
	}
	if got := at(0, ramp, 60); math.Abs(got.Seconds()-11) > 1e-6 {
		t.Errorf("arrival 60 at %v, want 11s (10/s after the ramp)", got)
	}
	// Halfway through the ramp: N(t) = t²/2 → arrival 12.5 at 5 s; arrival 8 at 4 s.
	if got := at(0, ramp, 8); math.Abs(got.Seconds()-4) > 1e-6 {
		t.Errorf("arrival 8 at %v, want 4s", got)
	}
	// A ramp down to 0 ends the arrivals: 20/s to 0 over 2 s is 20 arrivals.
	down := []Stage{{Duration: 2 * time.Second, Users: 0}}
	if got := at(20, down, 19); got <= 0 || got >= 2*time.Second {
		t.Errorf("arrival 19 of the ramp down at %v", got)
	}
	if got := at(20, down, 20); got != -1 {
		t.Errorf("arrival 20 after the rate fell to 0 at %v, want never", got)
	}
	// A step (0s) changes the rate at once.
	step := []Stage{{Duration: 0, Users: 50}, {Duration: time.Minute, Users: 50}}
	if got := at(1, step, 50); got != time.Second {
		t.Errorf("arrival 50 after a step to 50/s at %v, want 1s", got)
	}
	// Times never go backwards.
	stages := []Stage{{10 * time.Second, 30}, {0, 5}, {5 * time.Second, 5}, {10 * time.Second, 0}}
	var prev time.Duration
	for k := 0; ; k++ {
		d, ok := ArrivalTime(2, stages, k)
		if !ok {
			break
		}
		if d < prev || k > 1000 {
			t.Fatalf("arrival %d at %v after %v", k, d, prev)
		}
		prev = d
	}
}

// TestArrivalRateHolds: against a target slower than the arrivals, the
// arrival rate holds (concurrency grows instead), latency counts from each
// intended start, and with MaxUsers the arrivals that find every user busy
// are dropped and counted.
func TestArrivalRateHolds(t *testing.T) {
	for _, maxUsers := range []int{0, 10} {
		synctest.Test(t, func(t *testing.T) {
			ln := newPipeListener()
			var served atomic.Int64
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(2 * time.Second) // 40 users in flight at 20/s
				served.Add(1)
			})}
			go srv.Serve(ln)
			defer srv.Close()
			rec := syntheticRecording("shop.example", 3, 1, time.Second)
			cfg := DefaultConfig()
			cfg.Host = "http://shop.example"
			cfg.ArrivalRate, cfg.MaxUsers, cfg.Duration = 20, maxUsers, 10*time.Second
			cfg.StopTimeout = 5 * time.Second
			p, col := pipePlayer(t, ln, rec, cfg)
			var peak atomic.Int64
			stop := make(chan struct{})
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Millisecond):
						peak.Store(max(peak.Load(), int64(p.Status().Users)))
					}
				}
			}()
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			close(stop)
			res := col.Snapshot()
			started := res.Requests
			t.Logf("max users %d: %d started, %d dropped, peak %d users, p50 %v ms", maxUsers, started, res.Dropped, peak.Load(), res.Latency.P50)
			switch maxUsers {
			case 0:
				// 200 arrivals in 10 s (±2 %), all answered: the ones still in
				// flight at the end finish within the stop timeout.
				if started < 196 || started > 204 || res.Dropped != 0 || res.Failures != 0 {
					t.Fatalf("%d requests, %d dropped, %d failures: %s", started, res.Dropped, res.Failures, describeFailures(res))
				}
				if peak.Load() < 38 || peak.Load() > 42 {
					t.Fatalf("peak %d users, want about 40 (20/s × 2 s)", peak.Load())
				}
			case 10:
				// 10 users, each busy 2 s: about 5 starts a second; the rest dropped.
				if res.Dropped < 140 || started+res.Dropped < 196 || started+res.Dropped > 204 || peak.Load() > 10 {
					t.Fatalf("%d started, %d dropped, peak %d users", started, res.Dropped, peak.Load())
				}
			}
			if p50 := res.Latency.P50; p50 < 1990 || p50 > 2100 {
				t.Fatalf("p50 %v ms, want about 2000 (from each intended start)", p50)
			}
		})
	}
}

func TestArrivalRateConfig(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Host = "http://shop.example"
	cfg.ArrivalRate, cfg.Timeline = 5, true
	cfg.MaxUsers = -1
	err := cfg.Validate()
	for _, want := range []string{"ArrivalRate starts sessions at a rate, Timeline", "MaxUsers -1: is negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want %q", err, want)
		}
	}
	cfg = DefaultConfig()
	cfg.Host, cfg.MaxUsers = "http://shop.example", 5
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "MaxUsers caps the users of the arrival-rate model") {
		t.Errorf("MaxUsers without ArrivalRate: %v", err)
	}
}

// TestArrivalRateShards: the shards of an arrival-rate run share its cap on
// users.
func TestArrivalRateShards(t *testing.T) {
	t.Parallel()
	total := 0
	for shard := range 3 {
		cfg := DefaultConfig()
		cfg.ArrivalRate, cfg.MaxUsers, cfg.Iterations, cfg.Shard, cfg.Shards = 10, 10, 100, shard, 3
		sc := cfg.sharded()
		if sc.MaxUsers < 3 || sc.MaxUsers > 4 || sc.ArrivalRate != 10 {
			t.Errorf("shard %d caps %d users of 10, rate %v", shard, sc.MaxUsers, sc.ArrivalRate)
		}
		total += sc.MaxUsers
	}
	if total != 10 {
		t.Errorf("the shards cap %d users in all, want 10", total)
	}
}
