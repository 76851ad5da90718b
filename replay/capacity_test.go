package replay

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ampload/amp/stats"
)

// TestFindCapacity: against a target that serves 20 requests at once, 20 ms
// each, latency grows by a millisecond a user beyond 20; with p(95)<100 the
// search steps up, narrows in, and answers about 100 users.
func TestFindCapacity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := slotTarget(t, 20, 20*time.Millisecond)
		rec := syntheticRecording("shop.example", 2, 3, time.Second)
		cfg := DefaultConfig()
		cfg.Host = "http://shop.example"
		cfg.Think = Think{Mode: ThinkNone}
		cfg.Users, cfg.StopTimeout = 10, 5*time.Second
		p, col := pipePlayer(t, ln, rec, cfg)
		run := &Run{Plan: p.plan, Collector: col, Player: p, cfg: p.cfg}
		p95, _ := stats.ParseThreshold("p(95)<100")
		rate, _ := stats.ParseThreshold("rate<0.01")
		var steps []CapacityStep
		capa, res, err := run.FindCapacity(context.Background(), CapacityConfig{
			Thresholds: []stats.Threshold{p95, rate}, Start: 10, Hold: 6 * time.Second,
			OnStep: func(s CapacityStep) { steps = append(steps, s) },
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("capacity %d users (%.0f req/s), failed at %d, ended %q; steps %+v", capa.Users, capa.RPS, capa.FailedAt, capa.Ended, capa.Steps)
		if capa.Ended != "converged" || capa.Users < 80 || capa.Users > 105 || capa.FailedAt <= capa.Users {
			t.Fatalf("capacity %+v", capa)
		}
		if len(steps) != len(capa.Steps) || steps[0].Users != 10 || !steps[0].Pass || steps[1].Users != 20 {
			t.Fatalf("steps %+v", steps)
		}
		if res.Requests == 0 {
			t.Fatal("no requests in the run's result")
		}
	})
}

func TestNextStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lo, hi, most, minGap float64
		next                 float64
		ended                string
	}{
		{10, 0, 10000, 1, 20, ""},
		{8000, 0, 10000, 1, 10000, ""},
		{10000, 0, 10000, 1, 0, "max load"},
		{80, 160, 10000, 1, 120, ""},
		{90, 99, 10000, 1, 0, "converged"},
		{0, 10, 10000, 1, 5, ""},
		{0, 1, 10000, 1, 0, "converged"},
		{85, 90, 10000, 1, 0, "converged"},
		{10, 15, 10000, 0.01, 12.5, ""}, // rates are not whole
		{1.5, 1.6, 10000, 0.01, 0, "converged"},
	} {
		if next, ended := nextStep(tc.lo, tc.hi, tc.most, 0.1, tc.minGap); next != tc.next || ended != tc.ended {
			t.Errorf("nextStep(%v, %v, %v, gap %v) = %v %q, want %v %q", tc.lo, tc.hi, tc.most, tc.minGap, next, ended, tc.next, tc.ended)
		}
	}
	if err := CheckCapacityThresholds(nil); err == nil {
		t.Error("no thresholds accepted")
	}
	scoped, _ := stats.ParseThreshold("GET /x: p(95)<100")
	if err := CheckCapacityThresholds([]stats.Threshold{scoped}); err == nil || !strings.Contains(err.Error(), "not one endpoint's") {
		t.Errorf("scoped threshold: %v", err)
	}
}

// TestFindCapacityArrivalRate: with an arrival rate the search steps the
// rate; against a target that serves 1000 requests a second (sessions of
// three), p(95)<100 holds below about 333 sessions a second.
func TestFindCapacityArrivalRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := slotTarget(t, 20, 20*time.Millisecond)
		rec := syntheticRecording("shop.example", 2, 3, time.Second)
		cfg := DefaultConfig()
		cfg.Host = "http://shop.example"
		cfg.Think = Think{Mode: ThinkNone}
		cfg.ArrivalRate, cfg.StopTimeout = 50, 2*time.Second
		p, col := pipePlayer(t, ln, rec, cfg)
		run := &Run{Plan: p.plan, Collector: col, Player: p, cfg: p.cfg}
		p95, _ := stats.ParseThreshold("p(95)<100")
		capa, _, err := run.FindCapacity(context.Background(), CapacityConfig{Thresholds: []stats.Threshold{p95}, Hold: 6 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("capacity %.1f sessions/s (%.0f req/s), failed at %.1f, ended %q, %d steps", capa.ArrivalRate, capa.RPS, capa.FailedAtRate, capa.Ended, len(capa.Steps))
		if capa.Ended != "converged" || capa.ArrivalRate < 200 || capa.ArrivalRate > 340 || capa.Users != 0 ||
			capa.Steps[0].ArrivalRate != 50 || !capa.Steps[0].Pass {
			t.Fatalf("capacity %+v", capa)
		}
	})
}

// slotTarget serves, on in-memory connections, n requests at once, each
// taking d (latency grows with the load beyond n), for the rest of the test.
func slotTarget(t *testing.T, n int, d time.Duration) *pipeListener {
	ln := newPipeListener()
	slots := make(chan struct{}, n)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slots <- struct{}{}
		time.Sleep(d)
		<-slots
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln
}
