package stats_test

import (
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

// BenchmarkRecord records b.N samples split over 1 or 8 goroutines, each
// with its own Recorder, as replay's workers do; ns/op is the wall time per
// sample. The goal: < 50 ns and no allocation with 8 goroutines at once.
func BenchmarkRecord(b *testing.B) {
	for _, goroutines := range []int{1, 8} {
		b.Run(fmt.Sprintf("goroutines=%d", goroutines), func(b *testing.B) {
			c := stats.NewCollector(stats.Config{})
			eps := []stats.Endpoint{c.Endpoint("GET", "/"), c.Endpoint("GET", "/articles/{id}"), c.Endpoint("POST", "/login")}
			samples := benchSamples()
			recs := make([]*stats.Recorder, goroutines)
			for i := range recs {
				recs[i] = c.NewRecorder()
			}
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			for g, r := range recs {
				n := b.N / goroutines
				if g < b.N%goroutines {
					n++
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range n {
						r.Record(eps[i%len(eps)], &samples[i&1023])
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			if got := c.Snapshot().Requests; got != int64(b.N) {
				b.Fatalf("%d samples recorded, want %d", got, b.N)
			}
		})
	}
}

// BenchmarkSessionDone counts session ends from 8 goroutines; 0 allocs.
func BenchmarkSessionDone(b *testing.B) {
	c := stats.NewCollector(stats.Config{})
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.SessionDone(i%10 == 0)
			i++
		}
	})
	b.StopTimer()
	if got := c.Snapshot().Sessions.Total(); got != int64(b.N) {
		b.Fatalf("%d sessions counted, want %d", got, b.N)
	}
}

func benchSamples() []stats.Sample {
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	samples := make([]stats.Sample, 1024)
	rng := rand.New(rand.NewSource(1))
	for i := range samples {
		sent := t0.Add(time.Duration(i) * 3 * time.Millisecond)
		lat := time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond))
		samples[i] = stats.Sample{Intended: sent.Add(-time.Duration(rng.Intn(1000)) * time.Microsecond), Sent: sent, Done: sent.Add(lat), Status: 200, Bytes: 1234}
		if i%50 == 0 {
			samples[i].Status, samples[i].Failure = 500, "HTTP 500"
		}
	}
	return samples
}

// BenchmarkSnapshot takes a snapshot of an hour-long run of 20 endpoints
// (what the live console does every 2 s).
func BenchmarkSnapshot(b *testing.B) {
	c := hourCollector()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res := c.Snapshot(); res.Requests != 3600*50 {
			b.Fatal(res.Requests)
		}
	}
}

// BenchmarkWindowPercentiles computes p50 and p95 of the last 10 s of an
// hour-long run (what the web UI does every second).
func BenchmarkWindowPercentiles(b *testing.B) {
	res := hourCollector().Snapshot()
	to := res.Series[len(res.Series)-1].T + 1
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if ps := res.WindowPercentiles(to-10, to, 50, 95); ps[0] <= 0 || ps[1] < ps[0] {
			b.Fatal(ps)
		}
	}
}

// hourCollector holds an hour-long run of 20 endpoints, 50 tasks a second.
func hourCollector() *stats.Collector {
	c := stats.NewCollector(stats.Config{})
	var eps []stats.Endpoint
	for i := range 20 {
		eps = append(eps, c.Endpoint("GET", fmt.Sprintf("/e%d", i)))
	}
	r := c.NewRecorder()
	rng := rand.New(rand.NewSource(1))
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for sec := 0; sec < 3600; sec++ {
		for i := 0; i < 50; i++ {
			sent := t0.Add(time.Duration(sec)*time.Second + time.Duration(i)*20*time.Millisecond)
			s := stats.Sample{Sent: sent, Done: sent.Add(time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond))), Status: 200}
			r.Record(eps[i%len(eps)], &s)
		}
	}
	return c
}
