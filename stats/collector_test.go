package stats_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// sample returns a sample sent at offset off that took d, intended late
// earlier.
func sample(off, late, d time.Duration, status int, failure string) stats.Sample {
	sent := t0.Add(off)
	return stats.Sample{Intended: sent.Add(-late), Sent: sent, Done: sent.Add(d), Status: status, Bytes: 100, Failure: failure}
}

// exactPct is the nearest-rank percentile HdrHistogram computes, on exact
// values: rank = round(p/100·n), at least 1.
func exactPct(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	rank := int(p/100*float64(n) + 0.5)
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// TestPercentilesMatchExact records random samples of several shapes and
// checks every reported percentile against the exact percentile of the
// samples, within HdrHistogram's precision (3 significant digits, plus the
// microsecond the histogram truncates to).
func TestPercentilesMatchExact(t *testing.T) {
	t.Parallel()
	shapes := map[string]func(r *rand.Rand) time.Duration{
		"exponential": func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * float64(30*time.Millisecond)) },
		"uniform":     func(r *rand.Rand) time.Duration { return time.Duration(r.Int63n(int64(2 * time.Second))) },
		"bimodal": func(r *rand.Rand) time.Duration {
			if r.Intn(10) == 0 {
				return 900*time.Millisecond + time.Duration(r.Int63n(int64(time.Second)))
			}
			return time.Duration(r.Int63n(int64(5 * time.Millisecond)))
		},
		"lognormal": func(r *rand.Rand) time.Duration {
			return time.Duration(math.Exp(r.NormFloat64()*2 + 12)) // ~160 µs median, long tail to minutes
		},
	}
	for seed := int64(1); seed <= 5; seed++ {
		for name, gen := range shapes {
			rng := rand.New(rand.NewSource(seed))
			n := 1 + rng.Intn(5000)
			c := stats.NewCollector(stats.Config{Percentiles: []float64{1, 10, 25, 50, 66, 75, 90, 95, 99, 99.9, 99.99, 100}})
			ep := c.Endpoint("GET", "/x")
			rec := c.NewRecorder()
			var lats []time.Duration
			for i := 0; i < n; i++ {
				d := min(gen(rng), time.Hour)
				lats = append(lats, d)
				s := sample(time.Duration(i)*time.Millisecond, 0, d, 200, "")
				rec.Record(ep, &s)
			}
			slices.Sort(lats)
			r := c.Snapshot()
			e := r.Endpoints[0]
			if e.Requests != int64(n) {
				t.Fatalf("%s/%d: %d requests, want %d", name, seed, e.Requests, n)
			}
			check := func(what string, got float64, want time.Duration) {
				wantMS := float64(want) / 1e6
				if tol := wantMS*1e-3 + 0.001 + 1e-9; math.Abs(got-wantMS) > tol {
					t.Errorf("%s/%d n=%d: %s = %v ms, exact %v ms (tolerance %v)", name, seed, n, what, got, wantMS, tol)
				}
			}
			for _, p := range e.Latency.Percentiles {
				check(fmt.Sprintf("p%v", p.P), p.MS, exactPct(lats, p.P))
			}
			check("p50", e.Latency.P50, exactPct(lats, 50))
			check("p99", r.Latency.P99, exactPct(lats, 99))
			if e.Latency.Min != float64(lats[0])/1e6 || e.Latency.Max != float64(lats[n-1])/1e6 {
				t.Errorf("%s/%d: min/max %v/%v, want exact %v/%v", name, seed, e.Latency.Min, e.Latency.Max, lats[0], lats[n-1])
			}
			var sum float64
			for _, d := range lats {
				sum += float64(d)
			}
			if want := sum / float64(n) / 1e6; math.Abs(e.Latency.Avg-want) > 1e-6 {
				t.Errorf("%s/%d: avg %v, want %v", name, seed, e.Latency.Avg, want)
			}
		}
	}
}

// TestCorrectedAndServiceTime: latency counts from the intended start,
// service time from the actual send.
func TestCorrectedAndServiceTime(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{})
	ep := c.Endpoint("GET", "/")
	r := c.NewRecorder()
	s := sample(0, 400*time.Millisecond, 100*time.Millisecond, 200, "")
	r.Record(ep, &s)
	res := c.Snapshot()
	if res.Latency.Max != 500 || res.Service.Max != 100 {
		t.Fatalf("latency %v ms, service %v ms; want 500 and 100", res.Latency.Max, res.Service.Max)
	}
	if !res.Start.Equal(t0.Add(-400 * time.Millisecond)) {
		t.Errorf("start %v, want the intended start", res.Start)
	}
}

// record records samples into c spread over several recorders and
// goroutines.
func record(c *stats.Collector, samples []stats.Sample, eps []stats.Endpoint) {
	var wg sync.WaitGroup
	const workers = 4
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.NewRecorder()
			defer r.Close()
			for i := w; i < len(samples); i += workers {
				r.Record(eps[i%len(eps)], &samples[i])
			}
		}()
	}
	wg.Wait()
}

func randomSamples(seed int64, n int, off time.Duration) []stats.Sample {
	rng := rand.New(rand.NewSource(seed))
	out := make([]stats.Sample, n)
	reasons := []string{"HTTP 500", "timeout", "connection refused"}
	for i := range out {
		status, failure := 200, ""
		if rng.Intn(20) == 0 {
			failure = reasons[rng.Intn(len(reasons))]
			if failure == "HTTP 500" {
				status = 500
			} else {
				status = 0
			}
		}
		out[i] = sample(off+time.Duration(rng.Int63n(int64(10*time.Second))), time.Duration(rng.Int63n(int64(time.Millisecond))),
			time.Duration(rng.ExpFloat64()*float64(20*time.Millisecond)), status, failure)
		out[i].Bytes = rng.Int63n(10000)
		out[i].BytesSent = rng.Int63n(2000)
	}
	return out
}

// TestMergeEqualsOneCollector: merging the results of two collectors equals
// the result of one collector that recorded all the samples, through JSON.
func TestMergeEqualsOneCollector(t *testing.T) {
	t.Parallel()
	a := randomSamples(1, 3000, 0)
	b := randomSamples(2, 2000, 3*time.Second) // overlapping seconds
	names := [][2]string{{"GET", "/"}, {"GET", "/articles/{id}"}, {"POST", "/login"}}
	run := func(samples ...[]stats.Sample) *stats.Result {
		c := stats.NewCollector(stats.Config{})
		var eps []stats.Endpoint
		for _, n := range names {
			eps = append(eps, c.Endpoint(n[0], n[1]))
		}
		c.SetRecorded(eps[1], []time.Duration{10 * time.Millisecond, 12 * time.Millisecond})
		c.AddSkipped("unmapped host cdn.example", 3)
		for _, s := range samples {
			record(c, s, eps)
		}
		return roundTrip(t, c.Snapshot())
	}
	merged, err := stats.Merge(run(a), run(b))
	if err != nil {
		t.Fatal(err)
	}
	merged = roundTrip(t, merged)
	one := run(a, b)
	one.Skipped["unmapped host cdn.example"] += 3 // recorded once per collector above
	one = roundTrip(t, one)
	delete(merged.Config, "merged_results")
	if diff := jsonDiff(t, merged, one); diff != "" {
		t.Fatalf("merge differs from one collector: %s", diff)
	}
	if merged.Requests != 5000 || len(merged.Series) < 13 {
		t.Errorf("merged: %d requests, %d seconds", merged.Requests, len(merged.Series))
	}
}

func roundTrip(t *testing.T, r *stats.Result) *stats.Result {
	t.Helper()
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	out, err := stats.DecodeResult(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// jsonDiff compares two values through their JSON, floats within 1e-9
// relative, and describes the first difference.
func jsonDiff(t *testing.T, a, b any) string {
	t.Helper()
	var x, y any
	for i, v := range []any{a, b} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, []*any{&x, &y}[i]); err != nil {
			t.Fatal(err)
		}
	}
	return diffAny("", x, y)
}

func diffAny(path string, x, y any) string {
	switch xv := x.(type) {
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok || len(xv) != len(yv) {
			return fmt.Sprintf("%s: %v vs %v", path, x, y)
		}
		for k := range xv {
			if d := diffAny(path+"."+k, xv[k], yv[k]); d != "" {
				return d
			}
		}
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			return fmt.Sprintf("%s: len %d vs %v", path, len(xv), y)
		}
		for i := range xv {
			if d := diffAny(fmt.Sprintf("%s[%d]", path, i), xv[i], yv[i]); d != "" {
				return d
			}
		}
	case float64:
		yv, ok := y.(float64)
		if !ok || math.Abs(xv-yv) > 1e-9*math.Max(1, math.Abs(xv)) {
			return fmt.Sprintf("%s: %v vs %v", path, x, y)
		}
	default:
		if x != y {
			return fmt.Sprintf("%s: %v vs %v", path, x, y)
		}
	}
	return ""
}

// TestSnapshotWhileRecording takes snapshots while 8 goroutines record:
// every snapshot is consistent (totals equal the sum of endpoints, counts
// only grow) and the last one holds every sample.
func TestSnapshotWhileRecording(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{})
	eps := []stats.Endpoint{c.Endpoint("GET", "/a"), c.Endpoint("POST", "/b")}
	const workers, per = 8, 3000
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.NewRecorder()
			for i := 0; i < per; i++ {
				s := sample(time.Duration(i)*time.Millisecond, 0, time.Duration(1+i%50)*time.Millisecond, 200, "")
				if i%100 == 0 {
					s.Failure = "timeout"
				}
				r.Record(eps[i%2], &s)
			}
			r.Flush()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var last int64
	for snapshots := 0; ; snapshots++ {
		select {
		case <-done:
			r := c.Snapshot()
			if r.Requests != workers*per || r.Failures != workers*per/100 {
				t.Fatalf("final: %d requests, %d failures", r.Requests, r.Failures)
			}
			return
		default:
		}
		r := c.Snapshot()
		var sum int64
		for _, e := range r.Endpoints {
			sum += e.Requests
		}
		var series int64
		for _, p := range r.Series {
			series += p.Requests
		}
		if sum != r.Requests || series != r.Requests || r.Requests < last {
			t.Fatalf("snapshot %d: total %d, endpoints %d, series %d, previous %d", snapshots, r.Requests, sum, series, last)
		}
		last = r.Requests
	}
}

// TestRecorderBuffersUntilSnapshot: a snapshot sees samples still in a
// recorder's ring, without Flush.
func TestRecorderBuffersUntilSnapshot(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{})
	ep := c.Endpoint("GET", "/")
	r := c.NewRecorder()
	s := sample(0, 0, time.Millisecond, 200, "")
	r.Record(ep, &s)
	if got := c.Snapshot().Requests; got != 1 {
		t.Fatalf("snapshot sees %d requests, want 1", got)
	}
	r.Record(ep, &s)
	r.Close() // folds in and detaches
	if got := c.Snapshot().Requests; got != 2 {
		t.Fatalf("after Close: %d requests, want 2", got)
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	now := t0.Add(10 * time.Second)
	c := stats.NewCollector(stats.Config{Now: func() time.Time { return now }})
	ep := c.Endpoint("GET", "/")
	c.SetRecorded(ep, []time.Duration{time.Millisecond})
	c.SetUsers(3)
	c.AddSkipped("x", 1)
	r := c.NewRecorder()
	s := sample(0, 0, 2*time.Millisecond, 500, "HTTP 500")
	s.BytesSent = 99
	r.Record(ep, &s)
	c.SessionDone(true)
	c.SessionDone(false)
	if got := c.Snapshot().Sessions; got != (stats.SessionCounts{Completed: 1, Failed: 1}) {
		t.Fatalf("sessions before reset %+v, want 1 completed, 1 failed", got)
	}
	c.Reset()
	res := c.Snapshot()
	if res.Requests != 0 || len(res.Errors) != 0 || len(res.Skipped) != 0 || !res.Start.Equal(now) ||
		res.BytesSent != 0 || res.Sessions.Total() != 0 {
		t.Fatalf("after reset: %d requests, %d errors, skipped %v, start %v, %d bytes sent, sessions %+v",
			res.Requests, len(res.Errors), res.Skipped, res.Start, res.BytesSent, res.Sessions)
	}
	s = sample(11*time.Second, 0, 4*time.Millisecond, 200, "")
	r.Record(ep, &s)
	res = c.Snapshot()
	if res.Requests != 1 || res.Endpoints[0].Slowdown == nil || res.Endpoints[0].Slowdown.P50 != 4 || res.Users != 3 {
		t.Fatalf("recording after reset: %+v", res.Stats)
	}
}

// TestSeriesUsersAndGaps: the series covers every second from the start,
// carries users forward and counts samples in the second of their Done.
func TestSeriesUsersAndGaps(t *testing.T) {
	t.Parallel()
	now := t0
	c := stats.NewCollector(stats.Config{Start: t0, Now: func() time.Time { return now }})
	ep := c.Endpoint("GET", "/")
	c.SetUsers(2)
	now = t0.Add(3 * time.Second)
	c.SetUsers(6)
	r := c.NewRecorder()
	for _, off := range []time.Duration{100 * time.Millisecond, 1900 * time.Millisecond, 4500 * time.Millisecond} {
		s := sample(off, 0, 200*time.Millisecond, 200, "") // done 0.3 s, 2.1 s, 4.7 s
		r.Record(ep, &s)
	}
	res := c.Snapshot()
	var got []string
	for _, p := range res.Series {
		got = append(got, fmt.Sprintf("%d:%d/%d", p.Elapsed, p.Users, p.Requests))
	}
	if want := "0:2/1 1:2/0 2:2/1 3:6/0 4:6/1"; strings.Join(got, " ") != want {
		t.Errorf("series %q, want %q", strings.Join(got, " "), want)
	}
	if res.Users != 6 || res.Series[0].T != t0.Unix() {
		t.Errorf("peak users %d, first second %d", res.Users, res.Series[0].T)
	}
}

func FuzzDecodeResult(f *testing.F) {
	// a small whole result (the golden one is large and slows minimising)
	c := stats.NewCollector(stats.Config{Percentiles: []float64{50, 99}})
	r := c.NewRecorder()
	for i, ep := range []stats.Endpoint{c.Endpoint("GET", "/"), c.Endpoint("GET", "/a")} {
		s := sample(time.Duration(i)*time.Second, time.Millisecond, 3*time.Millisecond, 500, "HTTP 500")
		r.Record(ep, &s)
	}
	var small bytes.Buffer
	if err := c.Snapshot().WriteJSON(&small); err != nil {
		f.Fatal(err)
	}
	f.Add(small.Bytes())
	f.Add([]byte(`{"version":1,"requests":0}`))
	f.Add([]byte(`{"version":1,"requests":1,"endpoints":[{"method":"GET","name":"/","requests":1,"latency_hdr":"HISTFAAAAB","service_hdr":"x"}]}`))
	f.Add([]byte(`{"version":1,"requests":1,"series":[{"t":1,"hdr":"HISTFAAAACR42pJpmSzMwMDAxQABzFCaEURcm7yEwf4DRGCFMQMAAAD//w=="}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := stats.DecodeResult(bytes.NewReader(b))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := r.WriteJSON(&buf); err != nil {
			t.Fatalf("a result that reads must write: %v", err)
		}
		if _, err := stats.DecodeResult(&buf); err != nil {
			t.Fatalf("a written result must read back: %v", err)
		}
	})
}
